"""``digitpad-eval``: measure a model on MNIST's test set or on digits stored as strokes.

    digitpad-eval                                   # the shipped model on MNIST test
    digitpad-eval --model mine.npz --json
    digitpad-eval --strokes ../shared/data/pen-digits-dev.jsonl.gz

With ``--strokes`` every digit goes through the app's own stroke function
(``trainer.strokes_to_input``), so what is measured is what a user drawing it would get. Reports
accuracy overall, per source and per label, and the confusion matrix; with ``--json`` the last line
is a JSON object with ``accuracy``, ``n``, ``per_source``, ``per_label`` and ``confusion``.
Exit status: 0 measured, 2 unreadable model or data.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

import numpy as np

from trainer.evaluation import confusion_matrix, format_confusion_matrix
from trainer.mnist import MnistError, load_mnist
from trainer.model_io import ModelFileError, load_model
from trainer.paths import shipped_model_path
from trainer.pen_digits import NOT_A_DIGIT, PenDigitsError, read_pen_digits
from trainer.strokes_to_input import StrokeError, strokes_to_input

NO_INK = -1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="digitpad-eval",
                                     description="Measure a DigitPad model's accuracy.")
    parser.add_argument("--model", metavar="PATH", help="model file (default: the shipped model)")
    parser.add_argument("--strokes", metavar="FILE",
                        help="digits stored as strokes (.jsonl or .jsonl.gz) instead of MNIST test")
    parser.add_argument("--mnist-dir", metavar="DIR", help="folder with the MNIST files")
    parser.add_argument("--no-download", action="store_true",
                        help="fail instead of downloading MNIST when it is not found")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    model_path = args.model or shipped_model_path()
    try:
        network, metadata = load_model(model_path)
        if args.strokes:
            labels, inputs, sources = stroke_inputs(args.strokes)
        else:
            mnist = load_mnist(args.mnist_dir, download=not args.no_download)
            labels, inputs = mnist.test_labels, mnist.test_images
            sources = ["mnist-test"] * len(labels)
        labels = np.asarray(labels, dtype=np.int64)
    except (ModelFileError, MnistError, PenDigitsError) as error:
        print(f"digitpad-eval: {error}", file=sys.stderr)
        return 2
    predicted = network.predict(inputs) if len(labels) else np.zeros(0, dtype=np.int64)
    predicted[inputs.max(axis=1, initial=0.0) == 0.0] = NO_INK
    report = summarise(labels, predicted, sources)
    report["model"] = str(model_path)
    report["data"] = args.strokes or "mnist-test"
    print(f"model {metadata.get('name', model_path)} on {report['data']}: "
          f"accuracy {report['accuracy']:.2%} of {report['n']}")
    for source, entry in report["per_source"].items():
        print(f"  {source:<24} {entry['accuracy']:7.2%}  (n={entry['n']})")
    print("per label: " + "  ".join(f"{label}: {entry['accuracy']:.1%}"
                                    for label, entry in report["per_label"].items()))
    print(format_confusion_matrix(np.array(report["confusion"])))
    if report["no_ink"]:
        print(f"{report['no_ink']} digits had no ink and count as errors")
    if args.json:
        print(json.dumps(report))
    return 0


def stroke_inputs(path) -> tuple[list[int], np.ndarray, list[str]]:
    """Every digit of a strokes file through the stroke function; a digit without ink becomes an
    all-zero input, which ``main`` marks as the prediction NO_INK (always an error). Drawings
    labelled "not-a-digit" (in a DigitPad collection) are no digits and are left out."""
    labels, rows, sources = [], [], []
    for digit in read_pen_digits(path):
        if digit.label == NOT_A_DIGIT:
            continue
        try:
            image = strokes_to_input(digit.strokes)
        except StrokeError as error:
            raise PenDigitsError(f"{path}: digit {digit.id or len(labels) + 1}: {error}") from error
        labels.append(digit.label)
        sources.append(digit.source or "unknown")
        rows.append(np.zeros(784, np.float32) if image is None else image)
    return labels, np.array(rows, dtype=np.float32).reshape(-1, 784), sources


def summarise(labels: np.ndarray, predicted: np.ndarray, sources: list[str]) -> dict:
    """Accuracy overall, per source and per label, and the confusion matrix, as plain data.

    A prediction of NO_INK counts as an error and is left out of the confusion matrix.
    """
    hits = labels == predicted
    inked = predicted != NO_INK
    n = len(labels)
    per_source: dict[str, list[int]] = defaultdict(list)
    for index, source in enumerate(sources):
        per_source[source].append(index)
    return {
        "accuracy": float(hits.mean()) if n else 0.0,
        "n": n,
        "per_source": {source: {"accuracy": float(hits[idx].mean()), "n": len(idx)}
                       for source, idx in sorted(per_source.items())},
        "per_label": {str(label): {"accuracy": float(hits[labels == label].mean()),
                                   "n": int((labels == label).sum())}
                      for label in range(10) if (labels == label).any()},
        "confusion": confusion_matrix(labels[inked], predicted[inked]).tolist(),
        "no_ink": int((~inked).sum()),
    }


if __name__ == "__main__":
    sys.exit(main())
