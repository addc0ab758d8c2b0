"""``digitpad-eval``: measure a model on MNIST's test set or on digits stored as strokes.

    digitpad-eval                                   # the shipped model on MNIST test
    digitpad-eval --model mine.npz --json
    digitpad-eval --strokes ../shared/data/pen-digits-dev.jsonl.gz

With ``--strokes`` every digit goes through the app's own stroke function
(``trainer.strokes.strokes_to_input``), so what is measured is what a user drawing it would get. Reports
accuracy overall, per source and per label, and the confusion matrix; with ``--json`` the last line
is a JSON object with ``accuracy``, ``n``, ``per_source``, ``per_label`` and ``confusion``.

``accuracy`` is the best guess among the ten digits. What the app would answer (``trainer.core.verdict``)
is reported too: ``rejected`` (share of the digits that get no digit verdict: "not sure" or "not a
digit") and ``accepted_accuracy`` (share of the digits with a verdict that are read right). A
strokes file may also hold records whose label is not a digit (e.g. letters): they are left out of
the figures above and reported as ``non_digit_n`` and ``non_digit_rejected`` (share with no digit
verdict). Strokes are judged as drawn at a readable size (their units are not screen pixels).

Exit status: 0 measured, 2 unreadable model or data (an empty strokes file too), 130 interrupted
(see ``trainer.cli.terminal``). Names and sources from the files are printed with their control
characters escaped. A strokes file is read and measured a chunk of records at a time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Iterator

import numpy as np
from digitpad.assets import shipped_model_path  # the app's model: the default --model

from trainer.cli.terminal import EXIT_BAD_INPUT, printable, run_cli
from trainer.core.evaluation import confusion_matrix, format_confusion_matrix
from trainer.core.verdict import decide
from trainer.data.mnist import MnistError, load_mnist_test
from trainer.data.pen_digits import PenDigitsError, iter_pen_digits
from trainer.model_io import ModelFileError, load_model
from trainer.strokes.strokes_to_input import StrokeError, strokes_to_input

NO_INK = -1
#: Digits of a strokes file converted and measured at a time.
CHUNK = 2048


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitpad-eval", description="Measure a DigitPad model's accuracy."
    )
    parser.add_argument("--model", metavar="PATH", help="model file (default: the shipped model)")
    parser.add_argument(
        "--strokes",
        metavar="FILE",
        help="digits stored as strokes (.jsonl or .jsonl.gz) instead of MNIST test",
    )
    parser.add_argument("--mnist-dir", metavar="DIR", help="folder with the MNIST files")
    parser.add_argument(
        "--no-download",
        action="store_true",
        help="fail instead of downloading MNIST when it is not found",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    model_path = args.model or shipped_model_path()
    try:
        network, metadata = load_model(model_path)
        if args.strokes:
            labels, predicted, sources, accepted = stroke_predictions(network, args.strokes)
        else:
            images, labels = load_mnist_test(args.mnist_dir, download=not args.no_download)
            predicted, accepted = predictions(network, images), accepted_as_digits(network, images)
            sources = ["mnist-test"] * len(labels)
    except (ModelFileError, MnistError, PenDigitsError) as error:
        print(f"digitpad-eval: {printable(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    is_digit = np.array([_is_digit(label) for label in labels], dtype=bool)
    digit_rows = np.flatnonzero(is_digit)
    labels = np.array([labels[i] for i in digit_rows], dtype=np.int64)
    predicted, sources = predicted[digit_rows], [sources[i] for i in digit_rows]
    report = summarise(labels, predicted, sources)
    report.update(verdict_figures(labels, predicted, accepted[is_digit], accepted[~is_digit]))
    report["model"] = str(model_path)
    report["data"] = args.strokes or "mnist-test"
    name = printable(metadata.get("name", model_path), one_line=True)
    print(
        f"model {name} on {printable(report['data'], one_line=True)}: "
        f"accuracy {report['accuracy']:.2%} of {report['n']}"
    )
    for source, entry in report["per_source"].items():
        source = printable(source, one_line=True)
        print(f"  {source:<24} {entry['accuracy']:7.2%}  (n={entry['n']})")
    print(
        "per label: "
        + "  ".join(
            f"{label}: {entry['accuracy']:.1%}" for label, entry in report["per_label"].items()
        )
    )
    print(format_confusion_matrix(np.array(report["confusion"])))
    if report["no_ink"]:
        print(f"{report['no_ink']} digits had no ink and count as errors")
    print(
        f"the app gives no digit verdict for {report['rejected']:.2%} of the digits; "
        f"{report['accepted_accuracy']:.2%} of the others are read right"
    )
    if report["non_digit_n"]:
        print(
            f"{report['non_digit_n']} records are not digits: {report['non_digit_rejected']:.2%} "
            f"get no digit verdict"
        )
    if args.json:
        print(json.dumps(report))
    return 0


def predictions(network, inputs: np.ndarray) -> np.ndarray:
    """The network's best digit for each input row; NO_INK (always an error) for an all-zero one."""
    predicted = network.predict(inputs) if len(inputs) else np.zeros(0, dtype=np.int64)
    predicted[inputs.max(axis=1, initial=0.0) == 0.0] = NO_INK
    return predicted


def stroke_predictions(network, path) -> tuple[list, np.ndarray, list[str], np.ndarray]:
    """Labels (digits or other labels, e.g. letters), predictions, sources and whether the app
    would give a digit verdict, for every record of a strokes file, converted and predicted a chunk
    at a time (memory does not grow with the file's size beyond these lists)."""
    labels, predicted, sources, accepted = [], [], [], []
    for chunk_labels, inputs, chunk_sources in stroke_chunks(path, any_label=True):
        labels += chunk_labels
        sources += chunk_sources
        predicted.append(predictions(network, inputs))
        accepted.append(accepted_as_digits(network, inputs))
    if not labels:
        raise PenDigitsError(f"{path}: the file holds no digits")
    return labels, np.concatenate(predicted), sources, np.concatenate(accepted)


def stroke_inputs(path) -> tuple[list[int], np.ndarray, list[str]]:
    """Every digit of a strokes file through the stroke function, all at once."""
    labels, rows, sources = [], [], []
    for chunk_labels, inputs, chunk_sources in stroke_chunks(path):
        labels += chunk_labels
        sources += chunk_sources
        rows.append(inputs)
    return labels, np.concatenate(rows or [np.zeros((0, 784), np.float32)]), sources


def stroke_chunks(
    path, size: int = CHUNK, any_label: bool = False
) -> Iterator[tuple[list, np.ndarray, list[str]]]:
    """(labels, inputs, sources) of up to ``size`` records at a time, through the stroke
    function; a drawing without ink becomes an all-zero input (see :func:`predictions`).
    ``any_label``: also records labelled with something else than a digit (label kept)."""
    labels, rows, sources = [], [], []
    for count, digit in enumerate(iter_pen_digits(path, any_label), start=1):
        try:
            image = strokes_to_input(digit.strokes)
        except StrokeError as error:
            raise PenDigitsError(f"{path}: digit {digit.id or count}: {error}") from error
        labels.append(digit.label)
        sources.append(digit.source or "unknown")
        rows.append(np.zeros(784, np.float32) if image is None else image)
        if len(rows) == size:
            yield labels, np.array(rows, dtype=np.float32), sources
            labels, rows, sources = [], [], []
    if rows:
        yield labels, np.array(rows, dtype=np.float32), sources


def _is_digit(label) -> bool:
    return isinstance(label, (int, np.integer)) and 0 <= label <= 9


def accepted_as_digits(network, inputs: np.ndarray) -> np.ndarray:
    """For each input, whether the app would show a digit verdict for it (an empty one: no)."""
    if not len(inputs):
        return np.zeros(0, dtype=bool)
    accepted = np.array([decide(p).digit is not None for p in network.predict_proba(inputs)])
    return accepted & (inputs.max(axis=1) > 0.0)


def verdict_figures(labels, predicted, accepted, non_digit_accepted) -> dict:
    """``rejected`` and ``accepted_accuracy`` of the digits, ``non_digit_*`` of the rest."""
    right = labels == predicted
    return {
        "rejected": float(1.0 - accepted.mean()) if len(accepted) else 0.0,
        "accepted_accuracy": float(right[accepted].mean()) if accepted.any() else 0.0,
        "non_digit_n": int(len(non_digit_accepted)),
        "non_digit_rejected": (
            float(1.0 - non_digit_accepted.mean()) if len(non_digit_accepted) else 0.0
        ),
    }


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
        "per_source": {
            source: {"accuracy": float(hits[idx].mean()), "n": len(idx)}
            for source, idx in sorted(per_source.items())
        },
        "per_label": {
            str(label): {
                "accuracy": float(hits[labels == label].mean()),
                "n": int((labels == label).sum()),
            }
            for label in range(10)
            if (labels == label).any()
        },
        "confusion": confusion_matrix(labels[inked], predicted[inked]).tolist(),
        "no_ink": int((~inked).sum()),
    }


if __name__ == "__main__":
    sys.exit(run_cli("digitpad-eval", "trainer.cli.eval_cli"))
