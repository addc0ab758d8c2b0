"""Accuracy of models on MNIST test and on real pen digits, for the figures in the README.

    python bench/bench_accuracy.py --train nielsen keras keras+augment   # train presets, then measure
    python bench/bench_accuracy.py --train nielsen --seeds 0 1 2         # one run per seed
    python bench/bench_accuracy.py --model assets/model.npz              # measure a model file

Training goes through ``digitpad-train`` exactly as a user runs it (one subprocess per preset,
``--json``); pen digits go through the app's own stroke function via ``digitpad-eval``'s
functions. ``uqb`` writers slash their zeros (Ø), a style MNIST lacks, so its figure is also given
without its zeros.

A single run's test accuracy moves with the seed (Nielsen's 784-30-10 net by ±0.4 %); with
several ``--seeds`` each run is listed, then their mean, best and worst.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from trainer.cli.eval_cli import NO_INK, stroke_inputs, summarise
from trainer.model_io import load_model

PEN_DIGITS = Path(__file__).resolve().parents[2] / "shared/data/pen-digits-dev.jsonl.gz"
SLASHED_ZERO_SOURCE = "unipen-1a/uqb"


def pen_report(model_path: Path, pen_file: Path) -> dict:
    network, _ = load_model(model_path)
    labels, inputs, sources = stroke_inputs(pen_file)
    labels = np.asarray(labels)
    predicted = network.predict(inputs)
    predicted[inputs.max(axis=1) == 0.0] = NO_INK
    report = summarise(labels, predicted, sources)
    keep = [i for i, s in enumerate(sources) if not (s == SLASHED_ZERO_SOURCE and labels[i] == 0)]
    without = summarise(labels[keep], predicted[keep], [sources[i] for i in keep])
    report["uqb_without_zeros"] = without["per_source"].get(SLASHED_ZERO_SOURCE)
    return report


def train_preset(name: str, out: Path, seed: int) -> dict:
    preset, _, extra = name.partition("+")
    command = [
        sys.executable,
        "-m",
        "trainer.cli.train_cli",
        "--preset",
        preset,
        "--json",
        "--quiet",
        "--out",
        str(out),
        "--seed",
        str(seed),
    ]
    if extra == "augment":
        command.append("--augment")
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "test_accuracy": summary["test_accuracy"],
        "seconds": summary["seconds"],
        "epochs": len(summary["epochs"]),
        "seconds_per_epoch": float(np.mean([e["seconds"] for e in summary["epochs"]])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", nargs="*", default=[], metavar="PRESET[+augment]")
    parser.add_argument("--model", nargs="*", default=[], type=Path)
    parser.add_argument("--seeds", nargs="+", default=[0], type=int)
    parser.add_argument("--pen-digits", type=Path, default=PEN_DIGITS)
    args = parser.parse_args()
    rows, spreads = [], []
    with tempfile.TemporaryDirectory() as folder:
        for name in args.train:
            accuracies = []
            for seed in args.seeds:
                out = Path(folder) / f"{name}-{seed}.npz"
                trained = train_preset(name, out, seed)
                accuracies.append(trained["test_accuracy"])
                rows.append(
                    (
                        f"{name} (seed {seed})",
                        trained["test_accuracy"],
                        pen_report(out, args.pen_digits),
                        f"{trained['epochs']} epochs, {trained['seconds']:.0f} s "
                        f"({trained['seconds_per_epoch']:.2f} s/epoch)",
                    )
                )
            if len(accuracies) > 1:
                spreads.append(
                    f"{name}, seeds {' '.join(map(str, args.seeds))}: MNIST test mean "
                    f"{np.mean(accuracies):.2%}, best {max(accuracies):.2%}, worst "
                    f"{min(accuracies):.2%}"
                )
        for path in args.model:
            _, metadata = load_model(path)
            rows.append(
                (
                    str(path),
                    metadata.get("metrics", {}).get("mnist_test_accuracy"),
                    pen_report(path, args.pen_digits),
                    metadata.get("name", ""),
                )
            )
    for name, mnist_accuracy, pen, note in rows:
        print(
            f"\n{name}: MNIST test {mnist_accuracy:.2%}; pen-digits-dev {pen['accuracy']:.2%} "
            f"of {pen['n']}  [{note}]"
        )
        for source, entry in pen["per_source"].items():
            print(f"    {source:<18} {entry['accuracy']:7.2%}  (n={entry['n']})")
        if pen["uqb_without_zeros"]:
            entry = pen["uqb_without_zeros"]
            print(f"    {'uqb without zeros':<18} {entry['accuracy']:7.2%}  (n={entry['n']})")
    for line in spreads:
        print(f"\n{line}")


if __name__ == "__main__":
    main()
