"""How often the app gives no digit verdict for things that are not digits, and still reads digits.

    python bench/bench_not_a_digit.py --model assets/model.npz
    python bench/bench_not_a_digit.py --model m.npz --letters tuning     # the writers for tuning
    python bench/bench_not_a_digit.py --model assets/model.npz --png docs/not-a-digit.png

Everything is the app's decision exactly: the stroke function, the network, ``trainer.core.verdict``.

* letters by held-out writers (``pen-letters-dev``, split by writer: a hash of the writer's name
  puts every writer in the tuning half or the held-out half); only letters that look like no digit
  are counted, the ones people write like digits (:data:`DIGIT_LIKE`) are left out;
* scribbles from ``trainer.data.negatives`` drawn from another random stream than training's, including
  kinds never used in training (``HELD_OUT_KINDS``);
* tiny marks (clicks, ticks, wiggles of 0–11 screen pixels) with their size on screen;
* pen-digits-dev: share without a digit verdict, accuracy of the accepted, best-guess accuracy;
* MNIST test: best-guess accuracy and share without a digit verdict;
* the median time from strokes to verdict (stroke function + network + decision), one drawing at
  a time as the app does.

Pen letters and digits are recorded in tablet units, not screen pixels: they are judged as drawn
at a readable size (``ink_pixels=None``); only the tiny marks are judged by their size on screen.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from trainer.core.verdict import decide, ink_extent
from trainer.data import negatives
from trainer.data.mnist import load_mnist
from trainer.data.pen_digits import read_pen_digits
from trainer.model_io import load_model
from trainer.strokes.strokes_to_input import strokes_to_input

DATA = Path(__file__).resolve().parents[2] / "shared/data"
#: Letters that people write like digits (O/o/D/Q like 0, I/l/i/J/T/t like 1 or 7, Z/z like 2,
#: S/s like 5, G/b like 6, B like 8, g/q/y like 9, A like 4): no verdict rule can be asked to
#: refuse them, so they are not measured (and never trained as negatives).
DIGIT_LIKE = frozenset("OoDQIliJLTtZzSsGbBgqAy")
SCRIBBLE_SEED = 2026
SCRIBBLES_PER_KIND = 300


def held_out_writer(writer: str | None) -> bool:
    """Half the writers, fixed by a hash of the name: True for the held-out half."""
    return hashlib.sha256((writer or "").encode()).digest()[0] % 2 == 1


def verdicts(network, strokes_list, ink=None) -> list:
    inputs = np.array([strokes_to_input(s) for s in strokes_list], dtype=np.float32)
    probabilities = network.predict_proba(inputs)
    sizes = ink if ink is not None else [None] * len(strokes_list)
    return [decide(p, size) for p, size in zip(probabilities, sizes)]


def no_digit_share(results) -> float:
    return float(np.mean([r.digit is None for r in results])) if results else float("nan")


def letters_report(network, path: Path, half: str):
    records = [
        r
        for r in read_pen_digits(path, any_label=True)
        if r.label not in DIGIT_LIKE and held_out_writer(r.writer) == (half == "held-out")
    ]
    results = verdicts(network, [r.strokes for r in records])
    per_letter = defaultdict(list)
    for record, result in zip(records, results):
        per_letter[record.label].append(result)
    writers = len({r.writer for r in records})
    return records, results, per_letter, writers


def scribbles(seed: int):
    rng = np.random.default_rng([seed, 0x5C1B])
    kinds = {**negatives.SCRIBBLE_KINDS, **negatives.HELD_OUT_KINDS}
    return {name: [make(rng) for _ in range(SCRIBBLES_PER_KIND)] for name, make in kinds.items()}


def tiny_marks(seed: int):
    """Clicks, straight ticks and wiggles whose ink spans 0–11 screen pixels."""
    rng = np.random.default_rng([seed, 0x71A7])
    marks = []
    for _ in range(300):
        x, y = rng.uniform(50, 400, 2)
        marks.append([[(x, y)]])
        length, angle = rng.uniform(1, 11.5), rng.uniform(0, 2 * np.pi)
        marks.append([[(x, y), (x + length * np.cos(angle), y + length * np.sin(angle))]])
        points = rng.uniform(0, rng.uniform(2, 11.5), (8, 2)) + (x, y)
        marks.append([[tuple(p) for p in points]])
    return marks


def timing(network, strokes_list) -> float:
    seconds = []
    for strokes in strokes_list:
        start = time.perf_counter()
        decide(network.predict_proba(strokes_to_input(strokes)), ink_extent(strokes))
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--letters", choices=("held-out", "tuning"), default="held-out")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--png", type=Path, help="also draw letters and scribbles with verdicts")
    parser.add_argument("--skip-mnist", action="store_true")
    args = parser.parse_args()
    network, metadata = load_model(args.model)
    print(f"model {metadata.get('name', args.model)}: {network.layer_sizes[-1]} outputs")

    records, results, per_letter, writers = letters_report(
        network, args.data / "pen-letters-dev.jsonl.gz", args.letters
    )
    print(
        f"\nletters that look like no digit, {args.letters} writers ({writers} writers, "
        f"{len(records)} letters): no digit verdict {no_digit_share(results):.1%}"
    )
    print(
        "  "
        + "  ".join(f"{letter} {no_digit_share(r):.0%}" for letter, r in sorted(per_letter.items()))
    )
    states = Counter(r.state.value for r in results)
    print(f"  states: {dict(states)}")

    kinds = scribbles(SCRIBBLE_SEED)
    by_kind = {name: verdicts(network, drawn) for name, drawn in kinds.items()}
    trained = [r for name, rs in by_kind.items() if name in negatives.SCRIBBLE_KINDS for r in rs]
    held = [r for name, rs in by_kind.items() if name in negatives.HELD_OUT_KINDS for r in rs]
    print(
        f"\nscribbles (seed {SCRIBBLE_SEED}, {SCRIBBLES_PER_KIND} per kind): no digit verdict "
        f"{no_digit_share(trained + held):.1%} (kinds used in training "
        f"{no_digit_share(trained):.1%}, kinds never trained {no_digit_share(held):.1%})"
    )
    print("  " + "  ".join(f"{name} {no_digit_share(rs):.1%}" for name, rs in by_kind.items()))

    marks = tiny_marks(SCRIBBLE_SEED)
    mark_results = verdicts(network, marks, [ink_extent(m) for m in marks])
    digit_verdicts = sum(r.digit is not None for r in mark_results)
    print(f"\ntiny marks (0–11.5 px on screen): {len(marks)}, digit verdicts {digit_verdicts}")

    digits = read_pen_digits(args.data / "pen-digits-dev.jsonl.gz")
    digit_results = verdicts(network, [d.strokes for d in digits])
    labels = np.array([d.label for d in digits])
    guesses = np.array([r.best_guess for r in digit_results])
    accepted = np.array([r.digit is not None for r in digit_results])
    print(
        f"\npen-digits-dev ({len(digits)}): no digit verdict {1 - accepted.mean():.2%}, accepted "
        f"read right {(guesses[accepted] == labels[accepted]).mean():.2%}, best guess "
        f"{(guesses == labels).mean():.2%}"
    )

    if not args.skip_mnist:
        mnist = load_mnist(None, download=False)
        probabilities = network.predict_proba(mnist.test_images)
        mnist_results = [decide(p) for p in probabilities]
        best = np.array([r.best_guess for r in mnist_results])
        print(
            f"MNIST test: best guess {(best == mnist.test_labels).mean():.2%}, no digit verdict "
            f"{no_digit_share(mnist_results):.2%}"
        )

    median = timing(network, [d.strokes for d in digits[:1000]])
    print(f"\nstrokes -> verdict: median {1000 * median:.3f} ms (1000 pen digits, one at a time)")

    if args.png:
        from verdict_sheet import draw_sheet

        sample = np.random.default_rng(1)
        letter_picks = [
            (records[i].strokes, results[i]) for i in sample.choice(len(records), 24, replace=False)
        ]
        scribble_picks = [(kinds[name][k], by_kind[name][k]) for name in kinds for k in range(2)]
        draw_sheet(args.png, letter_picks + scribble_picks[:24])
        print(f"\nwrote {args.png}")


if __name__ == "__main__":
    main()
