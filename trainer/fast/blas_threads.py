"""How many threads BLAS's products run on, changed for a while: the hidden layers' products
(``np.dot`` in compiled code, which Numba sends to SciPy's OpenBLAS) and NumPy's.

Training's chunks of batches and validation hold BLAS to one thread (``training``, ``evaluation``):

* On two cores, the batches share the other layers' products out over their own threads
  (``split_products``, ``backprop.layer_backward``), each BLAS call on the thread that makes it,
  so that all of a batch's parallel work runs on one pool of threads instead of two
  (``split_products`` says why).
* Beside the next epoch's images (``epoch_images``), the batches keep to one core: each parallel
  product ends at a barrier, and a thread that waits there for a core busy making images stalls
  the whole batch. Measured on the ``default`` preset (five epochs, runs alternating in one
  process): epochs made beside the images took 5.1–5.5 s on one core against 5.8–6.4 s on two;
  per batch, ``python bench/bench_training_speed.py --beside-images-only``.

OpenBLAS splits a product over its threads by rows and columns of the result, never along the
sums, so every number is the same bit for bit on one thread or two (``tests/test_two_cores.py``).
"""

from __future__ import annotations

import contextlib
import functools
import threading

import threadpoolctl

#: Blocks on different threads take turns (see ``at_most``); re-entrant for nested blocks.
_one_block_at_a_time = threading.RLock()


@functools.cache
def _blas_libraries() -> threadpoolctl.ThreadpoolController:
    """The BLAS libraries loaded: NumPy's, and SciPy's that compiled code calls (imported here
    first, as Numba imports it only when it compiles or loads a kernel using it)."""
    import scipy.linalg.cython_blas  # noqa: F401

    return threadpoolctl.ThreadpoolController().select(user_api="blas")


def libraries() -> list[str]:
    """The file names of the BLAS libraries ``at_most`` changes (none found: it changes nothing)."""
    return [library["filepath"].rsplit("/", 1)[-1] for library in _blas_libraries().info()]


@contextlib.contextmanager
def at_most(threads: int | None):
    """Within the block, BLAS's products run on at most ``threads`` threads (None: no change);
    afterwards on as many as before.

    OpenBLAS has one thread count for the whole process, and threadpoolctl lets only the thread
    inside a block change it. So blocks on different threads take turns — a second training's
    block waits for the first's chunk of batches to end — rather than overlap, where the one to
    end last would put back the single thread the other had set.
    """
    if threads is None:
        yield
        return
    with _one_block_at_a_time, _blas_libraries().limit(limits=threads):
        yield
