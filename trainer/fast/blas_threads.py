"""How many threads BLAS's products run on, changed for a while: the hidden layers' products
(``np.dot`` in compiled code, which Numba sends to SciPy's OpenBLAS) and NumPy's.

Training's batches run on one core while the next epoch's images are made on the other
(``training``, ``epoch_images``): each of OpenBLAS's products and of the input layer's split
products ends at a barrier, and a thread that waits there for a core busy making images stalls
the whole batch. Measured on the ``default`` preset (five epochs, runs alternating in one
process): epochs made beside the images took 5.1–5.5 s on one core against 5.8–6.4 s on two.

OpenBLAS splits a product over its threads by rows and columns of the result, never along the
sums, so every number is the same bit for bit on one thread or two (``tests/test_two_cores.py``).
"""

from __future__ import annotations

import contextlib
import functools

import threadpoolctl


@functools.cache
def _blas_libraries() -> tuple[threadpoolctl.ThreadpoolController, dict[str, int]]:
    """The BLAS libraries loaded (NumPy's, and SciPy's that compiled code calls: imported here
    first, as Numba imports it only when it compiles or loads a kernel using it), and how many
    threads each had when first looked at."""
    import scipy.linalg.cython_blas  # noqa: F401

    libraries = threadpoolctl.ThreadpoolController().select(user_api="blas")
    return libraries, {library["filepath"]: library["num_threads"] for library in libraries.info()}


def libraries() -> list[str]:
    """The file names of the BLAS libraries ``at_most`` changes (none found: it changes nothing)."""
    return [path.rsplit("/", 1)[-1] for path in _blas_libraries()[1]]


@contextlib.contextmanager
def at_most(threads: int | None):
    """Within the block, BLAS's products run on at most ``threads`` threads (None: no change).

    Afterwards they run on as many as when first looked at, not as many as just before: two
    blocks overlapping on two threads (a retraining and a fine-tune at once) could otherwise
    leave BLAS on one thread for good.
    """
    if threads is None:
        yield
        return
    libraries, usual = _blas_libraries()
    libraries.limit(limits=threads)
    try:
        yield
    finally:
        libraries.limit(limits=usual)
