"""Learn my handwriting: the issue-13 protocol that simulates users teaching DigitPad.

    python bench/bench_personal.py                       # every writer with >= 40 digits
    python bench/bench_personal.py --writers 8           # the first 8 of them, for quick tuning
    python bench/bench_personal.py --cli --writers 3     # through the digitpad-train command

For every writer of the pen-digits file with at least ``--min-digits`` digits, the first
``--taught`` drawings of each digit (file order) are "taught": the model is fine-tuned on them
with the ``personal`` preset, by the function ``digitpad-train --from … --my-digits … --preset
personal`` calls (or, with ``--cli``, by that very command in a subprocess). The writer's other
drawings are the test. Prints the pooled error (best guess among the ten digits, as
``digitpad-eval`` counts accuracy) before and after and its reduction, the change of
each writer's accuracy (the worst ones), per institution, the uqb writers' zeros, MNIST test
accuracy before and after (each writer's model), and the fine-tune's wall time (median).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
from digitpad.assets import shipped_model_path

from trainer.config import PRESETS
from trainer.core.evaluation import evaluate
from trainer.core.personal import fine_tune, personal_set
from trainer.data.mnist import load_mnist
from trainer.data.pen_digits import read_pen_digits, write_pen_digits
from trainer.model_io import load_model
from trainer.strokes.strokes_to_input import strokes_to_input

PEN_DIGITS = Path(__file__).resolve().parents[2] / "shared/data/pen-digits-dev.jsonl.gz"
SLASHED_ZERO_SOURCE = "unipen-1a/uqb"


def writers_of(digits, min_digits: int, taught: int) -> dict[str, tuple[list, list]]:
    """writer -> (taught drawings, test drawings), for writers with at least min_digits."""
    by_writer = defaultdict(list)
    for digit in digits:
        by_writer[digit.writer].append(digit)
    split = {}
    for writer, own in by_writer.items():
        if len(own) < min_digits:
            continue
        seen, teach, test = defaultdict(int), [], []
        for digit in own:
            (teach if seen[digit.label] < taught else test).append(digit)
            seen[digit.label] += 1
        split[writer] = (teach, test)
    return split


def predictions(network, drawings) -> tuple[np.ndarray, np.ndarray]:
    """The best guess among the ten digits (what ``digitpad-eval`` counts as accuracy), and
    whether "not a digit" is the model's top output (for an 11-output model)."""
    rows = [strokes_to_input(d.strokes) for d in drawings]
    inputs = np.array([np.zeros(784, np.float32) if r is None else r for r in rows], np.float32)
    probabilities = network.predict_proba(inputs)
    return probabilities[:, :10].argmax(axis=1), probabilities.argmax(axis=1) >= 10


def fine_tuned_in_process(model_path, teach, mnist, config):
    network, _ = load_model(model_path)
    started = time.perf_counter()
    mine = personal_set(teach, network.layer_sizes[-1])
    result = fine_tune(network, mine, mnist, config)
    seconds = time.perf_counter() - started
    if not result.usable:
        raise RuntimeError(result.message)
    return network, seconds, evaluate(network, mnist.test_images, mnist.test_labels).accuracy


def fine_tuned_by_command(model_path, teach, folder: Path, overrides: list[str]):
    taught_file, out = folder / "taught.jsonl", folder / "out.npz"
    write_pen_digits(taught_file, teach)
    command = [
        sys.executable,
        "-m",
        "trainer.cli.train_cli",
        "--from",
        str(model_path),
        "--my-digits",
        str(taught_file),
        "--preset",
        "personal",
        "--out",
        str(out),
        "--json",
        "--quiet",
        *overrides,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    network, _ = load_model(out)
    return network, summary["seconds"], summary["test_accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=shipped_model_path())
    parser.add_argument("--pen-digits", type=Path, default=PEN_DIGITS)
    parser.add_argument("--min-digits", type=int, default=40)
    parser.add_argument("--taught", type=int, default=3)
    parser.add_argument("--writers", type=int, default=0, help="only the first N writers")
    parser.add_argument(
        "--only",
        nargs="*",
        default=[],
        metavar="WRITER",
        help="only these writers (e.g. the hardest ones, for quick tuning)",
    )
    parser.add_argument("--cli", action="store_true", help="fine-tune through digitpad-train")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="FIELD=VALUE",
        help="override fields of the personal preset (tuning), e.g. epochs=4",
    )
    args = parser.parse_args()
    changes = {}
    for item in args.set:
        field, _, value = item.partition("=")
        changes[field] = type(getattr(PRESETS["personal"], field))(value)
    config = PRESETS["personal"].replace(**changes).validate()
    overrides = [
        f"--{'subset' if f == 'train_subset' else f.replace('_', '-')}={v}"
        for f, v in changes.items()
    ]
    mnist = load_mnist()
    base, _ = load_model(args.model)
    base_mnist = evaluate(base, mnist.test_images, mnist.test_labels).accuracy
    split = writers_of(read_pen_digits(args.pen_digits), args.min_digits, args.taught)
    writers = [w for w in sorted(split) if not args.only or w in args.only][: args.writers or None]
    print(f"{len(writers)} writers, personal preset {config.to_dict()}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for writer in writers:
            teach, test = split[writer]
            labels = np.array([d.label for d in test])
            guess, refused_before = predictions(base, test)
            before = guess == labels
            if args.cli:
                tuned, seconds, mnist_after = fine_tuned_by_command(
                    args.model, teach, Path(folder), overrides
                )
            else:
                tuned, seconds, mnist_after = fine_tuned_in_process(
                    args.model, teach, mnist, config
                )
            guess, refused_after = predictions(tuned, test)
            after = guess == labels
            zeros = labels == 0
            rows.append(
                {
                    "writer": writer,
                    "source": test[0].source,
                    "n": len(test),
                    "before": int(before.sum()),
                    "after": int(after.sum()),
                    "refused_before": int(refused_before.sum()),
                    "refused_after": int(refused_after.sum()),
                    "zeros": int(zeros.sum()),
                    "zeros_before": int(before[zeros].sum()),
                    "zeros_after": int(after[zeros].sum()),
                    "seconds": seconds,
                    "mnist_after": mnist_after,
                }
            )
            print(
                f"  {writer:<32} n={len(test):3d} errors {len(test) - before.sum():2d} -> "
                f"{len(test) - after.sum():2d}  MNIST {mnist_after:.2%}  {seconds:.1f} s",
                flush=True,
            )
    report(rows, base_mnist)


def report(rows: list[dict], base_mnist: float) -> None:
    n = sum(r["n"] for r in rows)
    errors_before = sum(r["n"] - r["before"] for r in rows)
    errors_after = sum(r["n"] - r["after"] for r in rows)
    print(
        f"\npooled error on {n} test drawings of {len(rows)} writers: "
        f"{errors_before / n:.2%} ({errors_before}) -> {errors_after / n:.2%} ({errors_after}); "
        f"reduction {1 - errors_after / max(errors_before, 1):.0%}"
    )
    print(
        "  (errors: the best guess among the ten digits is wrong, as digitpad-eval counts; "
        f'"not a digit" the top output: {sum(r["refused_before"] for r in rows)} -> '
        f"{sum(r['refused_after'] for r in rows)} of the test digits)"
    )
    changes = sorted(((r["after"] - r["before"]) / r["n"], r["writer"]) for r in rows)
    print(
        "worst per-writer accuracy changes: " + ", ".join(f"{w} {c:+.1%}" for c, w in changes[:5])
    )
    print(
        f"writers whose accuracy fell by more than 2 points: {sum(c < -0.02 for c, _ in changes)}"
    )
    by_source = defaultdict(list)
    for r in rows:
        by_source[r["source"]].append(r)
    for source, group in sorted(by_source.items()):
        m = sum(r["n"] for r in group)
        print(
            f"    {source:<18} {sum(r['before'] for r in group) / m:7.2%} -> "
            f"{sum(r['after'] for r in group) / m:7.2%}  (n={m}, {len(group)} writers)"
        )
    uqb = [r for r in rows if r["source"] == SLASHED_ZERO_SOURCE]
    if uqb:
        print(
            f"uqb zeros read: {sum(r['zeros_before'] for r in uqb)} -> "
            f"{sum(r['zeros_after'] for r in uqb)} of {sum(r['zeros'] for r in uqb)}"
        )
    after = [r["mnist_after"] for r in rows]
    print(
        f"MNIST test accuracy: {base_mnist:.2%} -> median {statistics.median(after):.2%}, "
        f"worst {min(after):.2%} (largest fall {(base_mnist - min(after)) * 100:.2f} points)"
    )
    seconds = [r["seconds"] for r in rows]
    print(
        f"fine-tune wall time: median {statistics.median(seconds):.1f} s, max {max(seconds):.1f} s"
    )


if __name__ == "__main__":
    main()
