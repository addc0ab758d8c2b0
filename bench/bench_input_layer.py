"""The input layer's two sparse products alone, on one thread and on two.

    python bench/bench_input_layer.py [--mnist-dir DIR] [--calls 300]

For batches of 128 real MNIST training images and layers of 30 to 800 units, times
``sparse_input.rows_times`` (z = X W¹) and ``add_transposed_times`` (Xᵀδ¹ written over the
gradient), on the calling thread and split over two threads as training splits them; the calls
alternate, so a change in machine load hits all alike. Prints the median and the fastest call of
each, in ms. These are the figures behind ``input_layer.TWO_THREADS_MIN_WORK``: a second thread is
worth waking only when it saves more than the wake-up costs.
"""

from __future__ import annotations

import argparse
import time

# trainer first: importing it points Numba's cache at the user's folder (see bench_training_speed).
from trainer.fast import aligned, numba_threads, sparse_input  # isort: skip
import numpy as np  # isort: skip

WIDTHS = (30, 100, 256, 512, 800)
BATCH = 128


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist-dir", default=None)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()

    from trainer.data.mnist import load_mnist

    images = np.ascontiguousarray(load_mnist(args.mnist_dir).train_images[:20000], np.float32)
    compressed = sparse_input.compress_rows(images)
    threads = numba_threads.parallel_threads()
    rng = np.random.default_rng(0)
    print(f"batches of {BATCH} MNIST images, {args.calls} calls each; ms: median (fastest)")
    print(f"  {'units':>5}  {'forward, 1 thread':>18}  {f'{threads} threads':>16}", end="")
    print(f"  {'backward, 1 thread':>19}  {f'{threads} threads':>16}")
    for units in WIDTHS:
        w = (rng.standard_normal((784, units)) * 0.05).astype(np.float32)
        rows = rng.permutation(len(images))[:BATCH].astype(np.int64)
        # z, δ and the gradient start on a cache line, as in training's workspace (aligned.py)
        delta = aligned.zeros((BATCH, units), np.float32)
        delta[...] = rng.standard_normal((BATCH, units))
        z = aligned.zeros((BATCH, units), np.float32)
        gradient = aligned.zeros((784, units), np.float32)

        def backward(parts):  # written over the gradient, as training does
            if parts == 1:
                sparse_input.add_transposed_times(compressed, rows, delta, 1.0, gradient, True)
            else:
                sparse_input.add_transposed_times_split_by_pixels(
                    compressed, rows, delta, 1.0, gradient, parts, True
                )

        calls = (
            lambda: sparse_input.rows_times(compressed, rows, w, z),
            lambda: sparse_input.rows_times_split_by_columns(compressed, rows, w, z, threads),
            lambda: backward(1),
            lambda: backward(threads),
        )
        times = _alternating(calls, args.calls)
        print(f"  {units:>5}" + "".join(f"  {_ms(t):>16}" for t in times))


def _alternating(calls, count: int) -> list[list[float]]:
    """Seconds of each of ``count`` calls of every function, the functions taking turns."""
    for call in calls:
        call()  # compile, or load from the cache
    seconds = [[] for _ in calls]
    for _ in range(count):
        for call, spent in zip(calls, seconds):
            started = time.perf_counter()
            call()
            spent.append(time.perf_counter() - started)
    return seconds


def _ms(seconds: list[float]) -> str:
    return f"{np.median(seconds) * 1e3:.3f} ({min(seconds) * 1e3:.3f})"


if __name__ == "__main__":
    main()
