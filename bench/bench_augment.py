"""Times trainer.data.augment.augment_images on 54 000 real MNIST training images.

    python bench/bench_augment.py [--mnist-dir DIR] [--repeats 5] [--picture docs/augmentation.png]

MNIST is read from --mnist-dir, else $DIGITPAD_MNIST_DIR, else DigitPad's download cache
(``train-images-idx3-ubyte.gz``). Reports CPU and wall seconds per call (after a warm-up call
that also loads or compiles the Numba kernels), single-threaded and with ``parallel=True``, for
the default parameters and for the affine part alone, plus the number of resampling passes.

--picture writes the overview grid of docs/augmentation.png: in each row an MNIST digit (left
of the blue bar) and augmented variants of it with the default parameters.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import struct
import sys
import time
from pathlib import Path

import numpy as np
from png_writer import write_png

from trainer.data.augment import AugmentParams, augment_images, augment_images_with_stats

N_IMAGES = 54_000


def mnist_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("DIGITPAD_MNIST_DIR"):
        return Path(os.environ["DIGITPAD_MNIST_DIR"])
    from trainer.paths import mnist_cache_dir

    return mnist_cache_dir()


def read_images(path: Path, count: int) -> np.ndarray:
    """The first ``count`` images of an MNIST IDX image file as (count, 784) float32 in [0, 1]."""
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051 or (rows, cols) != (28, 28):
            raise SystemExit(f"{path}: not an MNIST image file")
        count = min(count, n)
        pixels = np.frombuffer(f.read(count * 784), dtype=np.uint8)
    return (pixels.reshape(count, 784).astype(np.float32) / 255.0).copy()


def time_call(fn, repeats: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return walls, cpus


def fmt(values: list[float]) -> str:
    return f"min {min(values):.3f}  median {float(np.median(values)):.3f}"


def picture(images: np.ndarray, path: Path, *, variants: int = 9, zoom: int = 3) -> None:
    """One row per digit: the original, a blue bar, then `variants` augmented copies."""
    # the first training image of each class 0..9, then a second 7 and a second 4
    picks = [1, 3, 5, 7, 2, 0, 13, 15, 17, 4, 29, 9]
    gap = 3
    tile = 28 * zoom
    n_rows = len(picks)
    width = tile * (variants + 1) + gap * (variants + 1) + 2 * gap
    height = n_rows * tile + (n_rows - 1) * gap
    canvas = np.full((height, width, 3), 150, dtype=np.uint8)
    for row, index in enumerate(picks):
        source = np.repeat(images[index : index + 1], variants, axis=0)
        augmented = np.empty_like(source)
        augment_images(source, augmented, seed=2024 + row)
        tiles = [images[index]] + list(augmented)
        y = row * (tile + gap)
        x = 0
        for k, img in enumerate(tiles):
            grey = (255 * (1.0 - img.reshape(28, 28))).round().astype(np.uint8)
            block = np.kron(grey, np.ones((zoom, zoom), dtype=np.uint8))
            canvas[y : y + tile, x : x + tile] = block[:, :, None]
            x += tile + gap
            if k == 0:
                canvas[y : y + tile, x - gap : x + 2 * gap] = (40, 90, 200)
                x += 2 * gap
    write_png(path, canvas)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist-dir")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--picture", type=Path, help="write the overview PNG here")
    args = parser.parse_args(argv)

    path = mnist_dir(args.mnist_dir) / "train-images-idx3-ubyte.gz"
    if not path.exists():
        print(f"MNIST training images not found: {path}", file=sys.stderr)
        return 1
    images = read_images(path, N_IMAGES)
    out = np.empty_like(images)
    n = len(images)
    print(
        f"{n} MNIST images from {path}; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}"
    )

    if args.picture:
        picture(images, args.picture)
        print(f"wrote {args.picture}")

    cases = [
        ("default params      ", AugmentParams(), False),
        ("default, parallel   ", AugmentParams(), True),
        ("affine only         ", AugmentParams(elastic_probability=0.0), False),
    ]
    for label, params, parallel in cases:
        w0 = time.perf_counter()
        augment_images(images[:1024], out[:1024], 0, params, parallel=parallel)  # warm-up
        warm = time.perf_counter() - w0
        seeds = iter(range(1, 10_000))
        walls, cpus = time_call(
            lambda: augment_images(images, out, next(seeds), params, parallel=parallel),
            args.repeats,
        )
        print(
            f"{label} wall s: {fmt(walls)}   cpu s: {fmt(cpus)}   "
            f"({1e6 * min(walls) / n:.1f} µs/image; warm-up call {warm:.2f} s)"
        )
    passes = augment_images_with_stats(images, out, 1)
    counts = np.bincount(passes, minlength=5)
    print(
        f"resampling passes per image (default params): mean {passes.mean():.2f}, "
        + ", ".join(f"{k}: {c}" for k, c in enumerate(counts) if c)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
