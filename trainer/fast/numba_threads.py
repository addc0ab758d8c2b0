"""Numba's threads for training's parallel kernels: a threading layer that is safe, and how many.

Training splits the input layer's two products over the cores (``sparse_input``'s
``rows_times_split_by_columns`` and ``add_transposed_times_split_by_pixels``). Numba runs such
kernels on a *threading layer*, and its fallback layer, ``workqueue``, aborts the whole process
when two Python threads run parallel kernels at the same time — the app predicts on one thread
while it trains on another, and tests run workers. GNU OpenMP (``omp``) and TBB allow it. So:

* :func:`configure_numba_threads` (before Numba is imported) makes Numba try ``omp`` first, then
  ``tbb``, and ``workqueue`` last, unless the user has chosen a layer or an order; and it makes
  the threads of OpenMP and of OpenBLAS wait for their next work the way that suits a batch's
  many short parallel regions on two cores (``THREAD_ENVIRONMENT``).
* :func:`parallel_threads` is how many threads the parallel kernels may be given: Numba's
  threads when the layer that loaded is ``omp`` or ``tbb``, else 1, and the callers then run the
  one-core kernels instead (so a missing OpenMP library costs speed, never a crash).
"""

from __future__ import annotations

import functools
import os

#: Numba's threading layers that allow parallel kernels on several Python threads at once.
THREAD_SAFE_LAYERS = ("omp", "tbb")

#: Set unless the user has set them. Read when each library loads (OpenBLAS with NumPy): they must
#: be set before.
#:
#: A batch used to alternate between the input layer's products on OpenMP's threads and the
#: other layers' on OpenBLAS's (now it holds OpenBLAS to one thread: ``blas_threads``), and
#: NumPy's products outside training still run on OpenBLAS's. By default both pools' idle threads
#: spin for a long while after their work (libgomp 300 000 turns of its wait loop, ~6 ms on this
#: machine; OpenBLAS 2**28 cycles), taking the core the other pool needs next: measured here a
#: ``keras`` epoch took 5.1 s with libgomp spinning, 1.8–2.0 s sleeping at once, 1.6–1.7 s with
#: OpenBLAS's threads sleeping too (1.8–1.9 s on one core). Hence ``passive`` and OpenBLAS's
#: shortest timeout.
#:
#: But a batch now starts and ends about ten parallel regions on OpenMP's threads alone, and a
#: thread that sleeps at each one's start or end barrier (``passive`` alone) takes tens of
#: microseconds to wake, more when the virtual machine's core halted meanwhile. So libgomp's
#: threads spin for ``GOMP_SPINCOUNT`` turns first (each turn one ``pause``; 100 000 took 2 ms
#: here), enough to bridge the gaps inside and between batches, and sleep after that: when
#: training stops, or its batches keep to one core beside the next epoch's images
#: (``epoch_images``). libgomp never spins while it runs more threads than the process may use
#: cores (two Python threads running parallel kernels at once): with ``passive`` its count for
#: that case stays 0. Measured on the ``default`` preset, five-epoch runs with and without
#: alternating, three each: epochs that made the next one's images took 3.8–4.4 s (median 4.0)
#: against 4.1–5.5 s (median 4.7), the last epoch, which makes none, 3.5 s against 3.8–4.6 s.
#: While other programs keep the cores busy, spinning costs far more than it saves; training then
#: keeps its batches to one thread (``core_share``).
THREAD_ENVIRONMENT = {
    "OMP_WAIT_POLICY": "passive",
    "GOMP_SPINCOUNT": "100000",
    "OPENBLAS_THREAD_TIMEOUT": "4",
}
#: The names of THREAD_ENVIRONMENT that trainer set (the user had not).
SET_BY_TRAINER: list[str] = []


def configure_numba_threads() -> None:
    """Prefer the thread-safe layers; must run before Numba is first imported.

    ``NUMBA_THREADING_LAYER`` (a named layer) or ``NUMBA_THREADING_LAYER_PRIORITY`` set by the user
    win. Numba's own default order is tbb, omp, workqueue; TBB is rarely installed.
    """
    if "NUMBA_THREADING_LAYER" not in os.environ:
        os.environ.setdefault("NUMBA_THREADING_LAYER_PRIORITY", "omp tbb workqueue")
    for name, value in THREAD_ENVIRONMENT.items():
        if name not in os.environ:
            os.environ[name] = value
            SET_BY_TRAINER.append(name)


@functools.cache
def parallel_threads() -> int:
    """How many threads training's parallel kernels may use: 1 when the threading layer that
    Numba loaded is not thread-safe (or there is one core), and they must not be used."""
    import numba

    threads = numba.get_num_threads()  # loads the threading layer
    return threads if numba.threading_layer() in THREAD_SAFE_LAYERS else 1
