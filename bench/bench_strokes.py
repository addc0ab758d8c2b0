"""How fast strokes become pixels: strokes_to_input over 1000 real pen digits.

    python bench/bench_strokes.py [--data PATH] [--n 1000] [--repeat 3]
    python bench/bench_strokes.py --picture docs/pen-vs-mnist.png [--mnist-dir DIR]

Prints the first call (Numba compile, or loading its on-disk cache), then the median and p99 of the
steady-state time per drawing (every digit timed separately, ``--repeat`` passes; wall clock and the
thread's CPU time, which a busy machine does not inflate), the number of points per drawing, and the
time for one 100 000-point scribble.

``--picture`` instead writes a PNG comparing, for each label 0–9, two pen digits (their strokes as
drawn, then the 28×28 network input) with a real MNIST training digit of the same label.
"""

from __future__ import annotations

import argparse
import gzip
import math
import sys
import time
from pathlib import Path

import numpy as np
from png_writer import write_png

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared/data/pen-digits-dev.jsonl.gz"
DEFAULT_MNIST = ROOT.parent / "shared/data/mnist"


def _load(path: Path):
    from trainer.data.pen_digits import read_pen_digits

    if not path.exists():
        sys.exit(f"pen-digit file not found: {path} (use --data)")
    return read_pen_digits(path)


def bench(args) -> None:
    from trainer.strokes.strokes_to_input import PREPROCESSING_VERSION, strokes_to_input

    digits = _load(args.data)
    step = max(1, len(digits) // args.n)
    sample = digits[::step][: args.n]  # spread over all institutions (the file is grouped by them)
    points = np.array([sum(len(s) for s in d.strokes) for d in sample])

    t0 = time.perf_counter()
    strokes_to_input(sample[0].strokes)
    first = time.perf_counter() - t0
    for d in sample[:50]:  # warm-up
        strokes_to_input(d.strokes)

    times, cpu = [], []
    for _ in range(args.repeat):
        for d in sample:
            c0 = time.thread_time_ns()
            t0 = time.perf_counter()
            strokes_to_input(d.strokes)
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time_ns() - c0)
    us = np.array(times) * 1e6
    cpu_us = np.array(cpu) / 1e3

    rng = np.random.default_rng(0)
    t = np.linspace(0, 40 * math.pi, 100_000)
    scribble = [
        np.column_stack(
            [
                300 + 200 * np.cos(t) + rng.normal(0, 2, t.size),
                300 + 250 * np.sin(1.3 * t) + rng.normal(0, 2, t.size),
            ]
        )
    ]
    scribble_list = [[(float(x), float(y)) for x, y in scribble[0]]]
    strokes_to_input(scribble)
    t0 = time.perf_counter()
    strokes_to_input(scribble)
    big_arr = time.perf_counter() - t0
    t0 = time.perf_counter()
    strokes_to_input(scribble_list)
    big_list = time.perf_counter() - t0

    print(
        f"strokes_to_input ({PREPROCESSING_VERSION}) on {len(sample)} pen digits from {args.data.name}"
    )
    print(
        f"points per drawing: median {np.median(points):.0f}, p99 {np.percentile(points, 99):.0f}, "
        f"max {points.max()}, strokes given as tuples of (x, y) tuples"
    )
    print(f"first call (JIT compile or cache load): {first * 1e3:.1f} ms")
    print(
        f"steady state over {us.size} calls: median {np.median(us):.0f} us, "
        f"p99 {np.percentile(us, 99):.0f} us, max {us.max():.0f} us (wall clock)"
    )
    print(
        f"                              CPU time: median {np.median(cpu_us):.0f} us, "
        f"p99 {np.percentile(cpu_us, 99):.0f} us (excludes time the OS gave to other processes)"
    )
    print(
        f"100 000-point scribble: {big_arr * 1e3:.1f} ms as an (n, 2) array, "
        f"{big_list * 1e3:.1f} ms as a list of tuples"
    )
    _strokes_to_probabilities(sample)


def _strokes_to_probabilities(sample) -> None:
    """What the app does per update: strokes → 784 inputs → the shipped model's 10 outputs."""
    from digitpad.assets import shipped_model_path

    from trainer.model_io import load_model
    from trainer.strokes.strokes_to_input import strokes_to_input

    network, metadata = load_model(shipped_model_path())
    for d in sample[:50]:
        network.predict_proba(strokes_to_input(d.strokes))
    times = []
    for d in sample:
        t0 = time.perf_counter()
        network.predict_proba(strokes_to_input(d.strokes))
        times.append(time.perf_counter() - t0)
    us = np.array(times) * 1e6
    print(
        f"strokes → 10 probabilities with the shipped model "
        f"({'-'.join(map(str, network.layer_sizes))}): median {np.median(us):.0f} us, "
        f"p99 {np.percentile(us, 99):.0f} us"
    )


# ---------------------------------------------------------------------------------------------
# The picture


def _draw_strokes(strokes, side: int, width: float) -> np.ndarray:
    """The strokes as drawn: fitted into side×side keeping the aspect ratio, thin pen, no centring."""
    from trainer.strokes.stroke_kernels import render

    pts = [np.asarray(s, dtype=np.float64) for s in strokes if len(s)]
    allp = np.concatenate(pts)
    mn, ext = allp.min(0), np.ptp(allp, 0)
    scale = (side - 4 * width) / max(ext.max(), 1e-9)
    xs = np.concatenate([(p[:, 0] - mn[0] - ext[0] / 2) * scale for p in pts])
    ys = np.concatenate([(p[:, 1] - mn[1] - ext[1] / 2) * scale for p in pts])
    starts = np.cumsum([0] + [len(p) for p in pts]).astype(np.int64)
    out = np.zeros((side, side))
    render(xs, ys, starts, side / 2 - 0.5, side / 2 - 0.5, width / 2, 1.0, out)
    return out


def picture(args) -> None:
    from trainer.strokes.strokes_to_input import strokes_to_input

    digits = _load(args.data)
    with gzip.open(args.mnist_dir / "train-images-idx3-ubyte.gz") as f:
        mnist = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(args.mnist_dir / "train-labels-idx1-ubyte.gz") as f:
        mnist_labels = np.frombuffer(f.read(), np.uint8, offset=8)

    zoom, gap = 4, 6
    cell = 28 * zoom
    # per row: [strokes | input] [strokes | input] | MNIST
    panels_per_row = 5
    width = panels_per_row * cell + 10 * gap
    height = 10 * cell + 11 * gap
    canvas = np.full((height, width), 90, np.uint8)

    def put(img01: np.ndarray, row: int, x: int) -> None:
        big = np.kron(img01, np.ones((zoom, zoom))) if img01.shape[0] == 28 else img01
        y = gap + row * (cell + gap)
        canvas[y : y + cell, x : x + cell] = np.clip(big * 255 + 0.5, 0, 255).astype(np.uint8)

    for label in range(10):
        of_label = [d for d in digits if d.label == label]
        chosen = [of_label[len(of_label) // 5], of_label[(3 * len(of_label)) // 5]]
        x = gap
        for d in chosen:
            put(_draw_strokes(d.strokes, cell, 3.0), label, x)
            x += cell + gap
            put(strokes_to_input(d.strokes).reshape(28, 28), label, x)
            x += cell + 3 * gap
        put(mnist[np.flatnonzero(mnist_labels == label)[0]] / 255.0, label, x)
    write_png(args.picture, canvas)
    print(
        f"wrote {args.picture} ({width}x{height}): per label, 2 x (pen strokes, 28x28 input), "
        f"then an MNIST training digit"
    )


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", type=Path, default=DEFAULT_DATA)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--picture", type=Path, help="write the pen-vs-MNIST PNG here instead")
    p.add_argument("--mnist-dir", type=Path, default=DEFAULT_MNIST)
    args = p.parse_args(argv)
    if args.picture:
        picture(args)
    else:
        bench(args)


if __name__ == "__main__":
    main()
