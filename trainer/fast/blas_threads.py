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

import functools

import threadpoolctl


@functools.cache
def _blas_libraries() -> threadpoolctl.ThreadpoolController:
    """The BLAS libraries loaded: NumPy's, and SciPy's that compiled code calls (imported here
    first, as Numba imports it only when it compiles or loads a kernel using it)."""
    import scipy.linalg.cython_blas  # noqa: F401

    return threadpoolctl.ThreadpoolController().select(user_api="blas")


def libraries() -> list[str]:
    """The file names of the BLAS libraries ``at_most`` changes (none found: it changes nothing)."""
    return [library["filepath"].rsplit("/", 1)[-1] for library in _blas_libraries().info()]


def at_most(threads: int | None):
    """A context manager: within its block, BLAS's products run on at most ``threads`` threads
    (None: as many as before); the number before is set back when the block ends."""
    return _blas_libraries().limit(limits=threads)
