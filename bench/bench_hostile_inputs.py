"""Time and peak memory of the real commands on the hostile inputs of issue 17 (docs/hardening.md).

    python bench/bench_hostile_inputs.py [--only WORD] [--big]

Builds each crafted input in a temporary folder (the builders are ``tests/hostile_inputs.py``,
shared with the fault tests), runs ``digitpad-eval`` / ``digitpad-train`` on it as a user would
(``python -m …``) and prints: exit status, wall time, the process's own peak RSS (VmHWM), and the
last line it printed on stderr. ``--big`` adds the largest cases of the issue (a 10-million-entry
zip of 470 MB, a 200 MB strokes file), which take minutes to build and run. A run of
``digitpad-eval`` on the real pen-digits-dev file is the yardstick for a legitimate input.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hostile_inputs import (  # noqa: E402
    metadata_text,
    model_arrays,
    run_measured,
    write_gzip_bomb,
    write_metadata_model,
    write_model,
    write_strokes,
    write_zip_with_entries,
)

PEN_DIGITS = ROOT.parent / "shared/data/pen-digits-dev.jsonl.gz"
NO_MNIST = ["--mnist-dir", "/nonexistent", "--no-download"]


def cases(folder: Path, big: bool):
    """(name, builder returning the command's arguments) for each case, cheapest first."""

    def model(file, arrays):
        return [
            "-m",
            "trainer.cli.eval_cli",
            "--model",
            str(write_model(folder / file, arrays)),
            *NO_MNIST,
        ]

    def meta(file, **changes):
        path = write_metadata_model(folder / file, metadata_text(**changes))
        return ["-m", "trainer.cli.eval_cli", "--model", str(path), *NO_MNIST]

    def eval_strokes(path):
        return ["-m", "trainer.cli.eval_cli", "--strokes", str(path)]

    def train(*args):
        return ["-m", "trainer.cli.train_cli", "--preset", "default", *args]

    def absurd():
        arrays = model_arrays([784, 30, 10])
        arrays["w0"] = np.full((784, 30), 3e38, np.float32)
        return model("3e38.npz", arrays)

    def zip_of(entries):
        path = write_zip_with_entries(folder / "entries.npz", entries)
        return ["-m", "trainer.cli.eval_cli", "--model", str(path), *NO_MNIST]

    def empty():
        (folder / "empty.jsonl").write_text("")
        return eval_strokes(folder / "empty.jsonl")

    def mnist_bomb():
        bomb = write_gzip_bomb(folder / "bomb.gz", 1024)
        (folder / "mnist").mkdir()
        for name in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        ):
            (folder / "mnist" / f"{name}.gz").symlink_to(bomb)
        return ["-m", "trainer.cli.eval_cli", "--mnist-dir", str(folder / "mnist"), "--no-download"]

    def fifo():
        os.mkfifo(folder / "fifo.npz")
        return train("--out", str(folder / "fifo.npz"))

    if PEN_DIGITS.exists():
        yield "legitimate: eval on pen-digits-dev (5 159 digits)", lambda: eval_strokes(PEN_DIGITS)
    yield "zip of 1 million entries", lambda: zip_of(1_000_000)
    if big:
        yield "zip of 10 million entries", lambda: zip_of(10_000_000)
    yield "999 one-unit layers", lambda: model("999.npz", model_arrays([784, *[1] * 999, 10]))
    yield "300 one-unit layers", lambda: model("300.npz", model_arrays([784, *[1] * 300, 10]))
    yield "weights of 3e38", absurd
    yield "5 000-digit integer in the metadata", lambda: meta("int.npz", epochs="9" * 5000)
    yield "lone surrogate in the name", lambda: meta("sur.npz", name='"\\ud800"')
    yield "metadata nested 480 deep", lambda: meta("deep.npz", more="[" * 480 + "]" * 480)
    yield (
        "1 MB gzip expanding to 1 GiB",
        lambda: eval_strokes(write_gzip_bomb(folder / "bomb.jsonl.gz", 1024)),
    )
    yield "--strokes /dev/zero", lambda: eval_strokes("/dev/zero")
    yield "empty strokes file", empty
    yield "30 MB strokes file", lambda: eval_strokes(write_strokes(folder / "30.jsonl", 30))
    if big:
        yield "200 MB strokes file", lambda: eval_strokes(write_strokes(folder / "200.jsonl", 200))
    yield "--hidden 40 × 8192", lambda: train("--hidden", ",".join(["8192"] * 40), *NO_MNIST)
    yield (
        "--hidden 8192,8192 --batch-size 60000",
        lambda: train("--hidden", "8192,8192", "--batch-size", "60000", *NO_MNIST),
    )
    yield (
        "--validation-share 0.99999999",
        lambda: train("--validation-share", "0.99999999", *NO_MNIST),
    )
    yield "--validation-share 1e-9", lambda: train("--validation-share", "1e-9", *NO_MNIST)
    yield "--out on a FIFO", fifo
    yield "MNIST folder of 1 MB gzips expanding to 1 GiB", mnist_bomb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the cases whose name contains this")
    parser.add_argument("--big", action="store_true", help="add the largest cases (minutes)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        print(f"{'case':<52} {'exit':>4} {'seconds':>8} {'peak MB':>8}  last line on stderr")
        for name, build in cases(folder, args.big):
            if args.only and args.only not in name:
                continue
            command = build()
            done = run_measured(command, timeout=900)
            peak = "killed" if done.peak_mb is None else f"{done.peak_mb:.0f}"
            last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or [""])[
                -1
            ]
            print(
                f"{name:<52} {done.returncode:>4} {done.seconds:>8.2f} {peak:>8}  {last[:110]}",
                flush=True,
            )
            shutil.rmtree(folder)
            folder.mkdir()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
