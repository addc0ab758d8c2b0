"""Things that are not digits, synthesised for training the eleventh output, "not a digit".

Nothing here is data: every negative is drawn by code from a seed, so ``digitpad-train`` and the
app's Retrain dialog make exactly the same negatives without a network or any file. Three families:

* **letters** that look like no digit (E F H K M N P R U V W X Y C a c d e f h j k m n p r u v w x),
  from a small stroke-skeleton "font" (with other forms of some letters, :data:`VARIANTS`, and the
  "a" also from ranges, :data:`GENERATED_FORMS`) drawn with random slant, rotation, width, jitter,
  misplaced strokes and strokes that run on or stop short, the letters most often mistaken for
  digits more often (:data:`LETTER_WEIGHTS`). Letters that people write like digits
  (O o D Q I l i J L T t Z z S s G b B g q A y) are deliberately absent: trained as "not a
  digit" they would teach the network to reject real 0, 1, 2, 5, 6, 7, 9 (see
  docs/ARCHITECTURE.md, "Not a digit");
* **scribbles**: random walks, cursive loops, zig-zags, hatching, spirals and filled blobs;
* **overlapping digits**: two MNIST training digits of different classes laid over each other
  with an offset, shrunk back into MNIST's 20-pixel box.

Letters and scribbles are strokes and go through :func:`trainer.strokes.strokes_to_input.strokes_to_input`,
exactly like a drawing in the app. Marks far too small to read are not trained here: the stroke
function blows every mark up to a 20-pixel figure, so a tick looks like a real "1" to the network;
the app recognises them by their size on screen instead (``trainer.core.verdict``).

:data:`HELD_OUT_KINDS` (asterisks, waves, grids) are never used in training: the benchmark measures
them to see whether the rejection generalises beyond the kinds the network was shown.
"""

from __future__ import annotations

import math

import numpy as np

from trainer.data.augment import warp_image
from trainer.strokes.strokes_to_input import strokes_to_input

#: Class index of "not a digit" in an 11-output network.
NOT_A_DIGIT = 10

SIDE = 28
INK_BOX = 20.0
INK_THRESHOLD = 0.1


def _arc(cx, cy, rx, ry, start_deg, stop_deg, n=12):
    """Points along an elliptic arc; angles counter-clockwise on screen (y grows downwards)."""
    angles = np.radians(np.linspace(start_deg, stop_deg, n))
    return [(cx + rx * math.cos(a), cy - ry * math.sin(a)) for a in angles]


#: Stroke skeletons in a box of height 1 (y down); lowercase letters sit in y ∈ [0.5, 1].
LETTERS: dict[str, list[list[tuple[float, float]]]] = {
    "E": [[(0.7, 0), (0, 0), (0, 1), (0.7, 1)], [(0, 0.5), (0.55, 0.5)]],
    "F": [[(0.7, 0), (0, 0), (0, 1)], [(0, 0.5), (0.55, 0.5)]],
    "H": [[(0, 0), (0, 1)], [(0.7, 0), (0.7, 1)], [(0, 0.5), (0.7, 0.5)]],
    "K": [[(0, 0), (0, 1)], [(0.7, 0), (0, 0.55), (0.7, 1)]],
    "M": [[(0, 1), (0, 0), (0.4, 0.6), (0.8, 0), (0.8, 1)]],
    "N": [[(0, 1), (0, 0), (0.7, 1), (0.7, 0)]],
    "P": [[(0, 1), (0, 0)] + _arc(0.35, 0.25, 0.35, 0.25, 90, -90) + [(0, 0.5)]],
    "R": [
        [(0, 1), (0, 0)] + _arc(0.35, 0.25, 0.35, 0.25, 90, -90) + [(0, 0.5)],
        [(0.3, 0.5), (0.7, 1)],
    ],
    "U": [[(0, 0), (0, 0.65)] + _arc(0.35, 0.65, 0.35, 0.35, 180, 360) + [(0.7, 0)]],
    "V": [[(0, 0), (0.35, 1), (0.7, 0)]],
    "W": [[(0, 0), (0.2, 1), (0.45, 0.3), (0.7, 1), (0.9, 0)]],
    "X": [[(0, 0), (0.7, 1)], [(0.7, 0), (0, 1)]],
    "Y": [[(0, 0), (0.35, 0.5), (0.7, 0)], [(0.35, 0.5), (0.35, 1)]],
    "C": [_arc(0.4, 0.5, 0.4, 0.5, 50, 310, 16)],
    "a": [_arc(0.27, 0.75, 0.27, 0.25, 20, 370, 16), [(0.55, 0.5), (0.55, 1)]],
    "c": [_arc(0.25, 0.75, 0.25, 0.25, 50, 310)],
    "d": [_arc(0.27, 0.75, 0.27, 0.25, 20, 370, 16), [(0.55, 0), (0.55, 1)]],
    "f": [_arc(0.4, 0.15, 0.18, 0.15, 20, 180, 8) + [(0.22, 1)], [(0, 0.45), (0.45, 0.45)]],
    "p": [
        [(0, 0.5), (0, 1.4)],
        [(0, 0.55)] + _arc(0.22, 0.73, 0.25, 0.2, 90, -90, 10) + [(0, 0.93)],
    ],
    "r": [[(0, 0.5), (0, 1)], [(0, 0.72)] + _arc(0.25, 0.72, 0.25, 0.2, 170, 45, 6)],
    "e": [[(0, 0.72), (0.5, 0.72)] + _arc(0.25, 0.75, 0.25, 0.25, 8, 300, 14)],
    "h": [[(0, 0), (0, 1)], [(0, 0.75)] + _arc(0.25, 0.75, 0.25, 0.22, 170, 0, 8) + [(0.5, 1)]],
    "k": [[(0, 0), (0, 1)], [(0.45, 0.5), (0, 0.8), (0.45, 1)]],
    "m": [
        [(0, 0.5), (0, 1)],
        [(0, 0.7)] + _arc(0.2, 0.72, 0.2, 0.2, 170, 0, 8) + [(0.4, 1)],
        [(0.4, 0.72)] + _arc(0.6, 0.72, 0.2, 0.2, 170, 0, 8) + [(0.8, 1)],
    ],
    "n": [[(0, 0.5), (0, 1)], [(0, 0.75)] + _arc(0.25, 0.75, 0.25, 0.22, 170, 0, 8) + [(0.5, 1)]],
    "u": [[(0, 0.5), (0, 0.8)] + _arc(0.25, 0.8, 0.25, 0.2, 180, 360, 8) + [(0.5, 0.5), (0.5, 1)]],
    "v": [[(0, 0.5), (0.25, 1), (0.5, 0.5)]],
    "w": [[(0, 0.5), (0.15, 1), (0.35, 0.65), (0.55, 1), (0.7, 0.5)]],
    "x": [[(0, 0.5), (0.5, 1)], [(0.5, 0.5), (0, 1)]],
    "j": [
        [(0.3, 0.5), (0.3, 1.2)] + _arc(0.15, 1.2, 0.15, 0.2, 0, -180, 8),
        [(0.3, 0.3), (0.31, 0.31)],
    ],
}
#: Other ways people write some letters, drawn as often as the form in :data:`LETTERS`. Real pen
#: letters showed them: a one-stroke "a" whose bowl runs into its stem and a tail, or with a flat
#: top (read as 9 otherwise), cursive "u"/"U" with a lead-in and a tail (read as 4), a "d" and an
#: "h" in one stroke, a cursive "e" (a small loop) and an open print one (read as 2 or 8), a
#: cursive "n" with its slanting upstroke (read as 7), an "r" with a rounded shoulder (read as 1).
VARIANTS: dict[str, list[list[list[tuple[float, float]]]]] = {
    "a": [
        # one stroke: in at the top right, round the bowl, up past it, down the stem, a flick out
        [
            [(0.55, 0.58)]
            + _arc(0.3, 0.75, 0.27, 0.23, 60, 370, 14)
            + [(0.58, 0.48), (0.57, 0.95), (0.65, 1.0), (0.76, 0.9)]
        ],
        # a wide, flat bowl begun by a hook above its right side, the stem run out into a long
        # joining stroke towards the next letter
        [
            [(0.72, 0.56), (0.62, 0.5)]
            + _arc(0.33, 0.77, 0.32, 0.2, 80, 350, 14)
            + [(0.64, 0.6), (0.62, 0.94), (0.7, 1.0), (0.82, 0.96), (0.95, 0.82)]
        ],
        [_arc(0.28, 0.75, 0.27, 0.25, 30, 370, 16) + [(0.55, 0.55), (0.55, 0.95), (0.68, 0.88)]],
        # a flat top: left along it, round the bowl, back up to its corner, down the stem
        [
            [(0.6, 0.5), (0.12, 0.52), (0.02, 0.72), (0.1, 0.95), (0.35, 0.98), (0.58, 0.75)]
            + [(0.6, 0.48), (0.6, 0.94), (0.74, 1.0)]
        ],
    ],
    "u": [
        [
            [(-0.1, 0.62), (0, 0.5), (0, 0.8)]
            + _arc(0.25, 0.8, 0.25, 0.2, 180, 360, 8)
            + [(0.5, 0.5), (0.5, 0.95), (0.62, 0.88)]
        ],
        [[(0, 0.5)] + _arc(0.25, 0.78, 0.25, 0.22, 180, 360, 8) + [(0.5, 0.5), (0.55, 0.98)]],
    ],
    "U": [
        [
            [(-0.1, 0.1), (0, 0), (0, 0.65)]
            + _arc(0.35, 0.65, 0.35, 0.35, 180, 360)
            + [(0.7, 0), (0.7, 0.95), (0.85, 0.88)]
        ],
    ],
    "d": [
        [
            _arc(0.27, 0.75, 0.27, 0.25, 30, 370, 16)
            + [(0.55, 0.6), (0.55, 0), (0.55, 1), (0.68, 0.92)]
        ]
    ],
    "e": [
        # cursive: up from the lower left into a small loop, round its back and out to the right
        [
            [(0.0, 0.95), (0.36, 0.74)]
            + _arc(0.26, 0.66, 0.13, 0.14, -30, 180, 10)
            + _arc(0.3, 0.76, 0.17, 0.23, 180, 315, 8)
            + [(0.55, 0.9)]
        ],
        # print, narrow and upright, the bar high and the mouth wide open
        [[(0.02, 0.68), (0.4, 0.68)] + _arc(0.21, 0.75, 0.2, 0.25, 15, 290, 14)],
    ],
    "h": [
        [
            [(0, 0), (0, 1), (0, 0.8)]
            + _arc(0.25, 0.75, 0.25, 0.22, 170, 0, 8)
            + [(0.5, 1), (0.6, 0.95)]
        ]
    ],
    "n": [
        [
            [(-0.1, 0.6), (0, 0.5), (0, 1), (0, 0.75)]
            + _arc(0.25, 0.75, 0.25, 0.22, 170, 0, 8)
            + [(0.5, 1), (0.6, 0.95)]
        ],
        # cursive: a slanting upstroke from the line, down the first leg, then the arch
        [
            [(-0.18, 0.98), (0.02, 0.52), (0.04, 0.98), (0.08, 0.78)]
            + _arc(0.3, 0.75, 0.22, 0.22, 165, 5, 8)
            + [(0.52, 0.98), (0.64, 0.9)]
        ],
    ],
    "r": [
        # one stroke: up the stem, back a little and a rounded shoulder out to the right
        [[(0, 1), (0, 0.5), (0, 0.64)] + _arc(0.2, 0.7, 0.2, 0.17, 175, 25, 8)],
    ],
}


def _densify(stroke: np.ndarray, step: float) -> np.ndarray:
    """The polyline resampled every ``step`` along its length (pens report many close points)."""
    if len(stroke) < 2:
        return stroke
    lengths = np.hypot(*np.diff(stroke, axis=0).T)
    along = np.concatenate([[0.0], np.cumsum(lengths)])
    samples = np.linspace(0.0, along[-1], max(2, int(along[-1] / step) + 1))
    return np.column_stack(
        [np.interp(samples, along, stroke[:, 0]), np.interp(samples, along, stroke[:, 1])]
    )


def _wobble(stroke: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """Smooth hand tremor: low-pass filtered noise added along the stroke (a dot stays put)."""
    noise = rng.normal(0.0, amount, stroke.shape)
    kernel = np.ones(5) / 5.0
    if len(stroke) < len(kernel):
        return stroke
    smooth = np.column_stack([np.convolve(noise[:, k], kernel, mode="same") for k in (0, 1)])
    return stroke + smooth


def _hand(strokes, rng: np.random.Generator, *, misplace: float = 0.04):
    """Strokes as a hand would draw them: slanted, rotated, stretched, wobbly, in screen pixels."""
    slant = rng.uniform(-0.35, 0.35)
    angle = math.radians(rng.uniform(-12.0, 12.0))
    stretch = rng.uniform(0.65, 1.4)
    size = rng.uniform(60.0, 200.0)
    cos, sin = math.cos(angle), math.sin(angle)
    drawn = []
    for stroke in strokes:
        points = np.asarray(stroke, dtype=np.float64) + rng.normal(0.0, misplace, 2)
        points = points + rng.normal(0.0, 0.02, points.shape)
        x = (points[:, 0] - slant * (points[:, 1] - 0.5)) * stretch
        y = points[:, 1]
        points = np.column_stack([cos * x - sin * y, sin * x + cos * y])
        points = _wobble(_densify(points, 0.02), rng, 0.01)
        drawn.append(points * size)
    return drawn


#: How far a letter's stroke may run on past either end, and stop short of it, in letter heights
#: (stopping short less far: an "a" whose stem stopped short would be an "o", a digit-like letter).
OVERSHOOT, SHORTFALL = 0.15, 0.07


def _run_on_or_stop_short(stroke, rng: np.random.Generator) -> np.ndarray:
    """The stroke with each end run on by up to :data:`OVERSHOOT` or cut short by up to
    :data:`SHORTFALL`: hands overshoot a stroke's mark or stop short of it (an "a" whose stem
    rises above its bowl or hangs below it, an "n" whose arch starts low). Dots and short flicks
    are left as they are."""
    points = np.asarray(stroke, dtype=np.float64)
    if len(points) < 2 or np.hypot(*np.diff(points, axis=0).T).sum() < 2 * OVERSHOOT:
        return points
    for _ in range(2):  # the last end, then (reversed) the first
        points = _move_end(points, rng.uniform(-SHORTFALL, OVERSHOOT))[::-1]
    return points


def _move_end(points: np.ndarray, distance: float) -> np.ndarray:
    """The polyline run on straight by ``distance`` past its last point, or cut that much short."""
    if distance >= 0.0:
        direction = points[-1] - points[-2]
        length = math.hypot(*direction)
        if length == 0.0:
            return points
        return np.vstack([points, points[-1] + direction * (distance / length)])
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    keep = along[-1] + distance
    k = int(np.searchsorted(along, keep))  # along[k - 1] < keep <= along[k]
    share = (keep - along[k - 1]) / (along[k] - along[k - 1])
    return np.vstack([points[:k], points[k - 1] + share * (points[k] - points[k - 1])])


def _random_a_form(rng: np.random.Generator):
    """A single-storey "a" built from ranges instead of one skeleton: a bowl of any size and
    opening, a stem from its top (or above it) down to the line, a tail of any length, in one
    stroke or two. Real "a"s vary far more than a few fixed forms, and the network reads the ones
    outside them as 9 or 2 (the commonest letter it accepts)."""
    rx, ry = rng.uniform(0.16, 0.32), rng.uniform(0.14, 0.26)
    cx, cy = rx, 1.0 - ry
    bowl = _arc(cx, cy, rx, ry, rng.uniform(15.0, 80.0), rng.uniform(330.0, 385.0), 14)
    stem_x = cx + rx * rng.uniform(0.9, 1.15)
    stem_top = cy - ry * rng.uniform(0.9, 1.5)
    foot = (stem_x + rng.uniform(-0.03, 0.08), 1.0 - rng.uniform(0.0, 0.06))
    tail_length, tail_angle = rng.uniform(0.05, 0.3), math.radians(rng.uniform(-20.0, 70.0))
    tail = (
        foot[0] + tail_length * math.cos(tail_angle),
        foot[1] - tail_length * math.sin(tail_angle),
    )
    stem = [(stem_x, stem_top), foot, tail]
    if rng.random() < 0.5:
        return [bowl + stem]
    return [bowl, stem]


#: Letters also drawn from a generator of forms (half the time), not only from fixed skeletons.
GENERATED_FORMS = {"a": _random_a_form}


def letter_strokes(letter: str, rng: np.random.Generator):
    """One hand-drawn instance of a letter of :data:`LETTERS`, in one of its forms
    (:data:`VARIANTS`, :data:`GENERATED_FORMS`), its strokes running on or stopping short."""
    if letter in GENERATED_FORMS and rng.random() < 0.5:
        form = GENERATED_FORMS[letter](rng)
    else:
        forms = [LETTERS[letter], *VARIANTS.get(letter, ())]
        form = forms[rng.integers(len(forms))]
    return _hand([_run_on_or_stop_short(stroke, rng) for stroke in form], rng)


#: How often each letter is drawn, relative to the others (1 unless said). The letters that the
#: network confused most with digits on the dev writers' real letters (a as 9, u and U as 4, d as
#: 2, f and j as 1 or 5) are drawn more often, and "a" most: it is also among the commonest letters.
LETTER_WEIGHTS = {"a": 8.0, "u": 3.0, "U": 2.0, "d": 2.0, "f": 2.0, "j": 2.0, "Y": 2.0, "n": 2.0}
_LETTER_ORDER = list(LETTERS)
_LETTER_P = np.array([LETTER_WEIGHTS.get(letter, 1.0) for letter in _LETTER_ORDER])
_LETTER_P /= _LETTER_P.sum()


def _random_letter_name(rng) -> str:
    return _LETTER_ORDER[rng.choice(len(_LETTER_ORDER), p=_LETTER_P)]


def _random_letter(rng):
    return letter_strokes(_random_letter_name(rng), rng)


def _random_walk(rng):
    heading = rng.uniform(0, 2 * math.pi)
    turn = rng.uniform(0.3, 1.2)
    points = [(0.0, 0.0)]
    for _ in range(rng.integers(20, 45)):
        heading += rng.normal(0.0, turn)
        x, y = points[-1]
        points.append((x + math.cos(heading), y + math.sin(heading)))
    return _hand([np.array(points) / 6.0], rng, misplace=0.0)


def _loops(rng):
    """Cursive loops (ℓℓℓ, eee): a prolate trochoid of 3–7 turns."""
    turns = rng.integers(3, 8)
    t = np.linspace(0, 2 * math.pi * turns, 30 * turns)
    advance = rng.uniform(0.15, 0.5)
    height = rng.uniform(0.6, 1.6)
    points = np.column_stack([advance * t - np.sin(t), -height * np.cos(t)])
    return _hand([points / 4.0], rng, misplace=0.0)


def _zigzag(rng):
    corners = rng.integers(6, 14)
    xs = np.arange(corners) * rng.uniform(0.15, 0.6) + rng.normal(0, 0.05, corners)
    ys = (np.arange(corners) % 2) + rng.normal(0, 0.1, corners)
    points = np.column_stack([xs, ys])
    if rng.random() < 0.5:
        points = points[:, ::-1]
    return _hand([points], rng, misplace=0.0)


def _hatching(rng):
    """3–9 parallel lines, as separate strokes or as one back-and-forth stroke."""
    lines = rng.integers(3, 10)
    spacing = rng.uniform(0.08, 0.3)
    ends = []
    for k in range(lines):
        start, stop = rng.uniform(-0.2, 0.1), rng.uniform(0.9, 1.2)
        ends.append([(start, k * spacing), (stop, k * spacing)][:: 1 if k % 2 == 0 else -1])
    if rng.random() < 0.5:
        strokes = [np.concatenate(ends)]
    else:
        strokes = [np.array(end) for end in ends]
    angle = rng.uniform(0, math.pi)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    return _hand([np.asarray(s) @ rotation.T for s in strokes], rng, misplace=0.0)


def _spiral(rng):
    turns = rng.uniform(2.0, 4.5)
    t = np.linspace(0, 2 * math.pi * turns, int(40 * turns))
    radius = t / t[-1] + rng.uniform(0.0, 0.2)
    direction = 1 if rng.random() < 0.5 else -1
    points = np.column_stack([radius * np.cos(direction * t), radius * np.sin(t)])
    return _hand([points], rng, misplace=0.0)


def _blob(rng):
    """A filled-in patch: a dense back-and-forth scribble inside an ellipse."""
    count = rng.integers(25, 80)
    angles = rng.uniform(0, 2 * math.pi, count)
    radii = np.sqrt(rng.uniform(0, 1, count))
    points = np.column_stack(
        [radii * np.cos(angles) * rng.uniform(0.5, 1.0), radii * np.sin(angles)]
    )
    return _hand([points], rng, misplace=0.0)


def _asterisk(rng):
    """Held out of training: 3–5 lines through one centre."""
    lines = rng.integers(3, 6)
    angles = np.arange(lines) * math.pi / lines + rng.normal(0, 0.1, lines)
    return _hand(
        [[(-math.cos(a), -math.sin(a)), (math.cos(a), math.sin(a))] for a in angles],
        rng,
        misplace=0.05,
    )


def _wave(rng):
    """Held out of training: a sine wave of 2.5–5 periods."""
    periods = rng.uniform(2.5, 5.0)
    t = np.linspace(0, 2 * math.pi * periods, int(30 * periods))
    points = np.column_stack([t / (2 * math.pi) * rng.uniform(0.3, 0.8), np.sin(t) * 0.4])
    return _hand([points], rng, misplace=0.0)


def _grid(rng):
    """Held out of training: 3–4 lines one way crossed by 3–4 the other (a noughts grid, #)."""
    strokes = []
    for k in range(rng.integers(3, 5)):
        strokes.append([(k / 3, -0.1), (k / 3, 1.1)])
    for k in range(rng.integers(3, 5)):
        strokes.append([(-0.1, k / 3), (1.1, k / 3)])
    return _hand(strokes, rng, misplace=0.03)


#: Stroke generators used in training; each takes a Generator and returns strokes in screen px.
SCRIBBLE_KINDS = {
    "random walk": _random_walk,
    "loops": _loops,
    "zig-zag": _zigzag,
    "hatching": _hatching,
    "spiral": _spiral,
    "blob": _blob,
}
#: Generators never used in training, for the benchmark.
HELD_OUT_KINDS = {"asterisk": _asterisk, "wave": _wave, "grid": _grid}

#: Share of each family among the training negatives.
LETTER_SHARE, OVERLAP_SHARE = 0.55, 0.15


def negative_images(
    count: int, seed: int, digits: np.ndarray | None = None, digit_labels: np.ndarray | None = None
) -> np.ndarray:
    """``count`` negatives (count, 784) float32, the same for the same arguments.

    ``digits``/``digit_labels``: MNIST training digits for the overlapping-digit family; without
    them that family is replaced by scribbles.
    """
    rng = np.random.default_rng([seed, 0x4E0])
    out = np.zeros((count, SIDE * SIDE), np.float32)
    scribbles = list(SCRIBBLE_KINDS.values())
    for index in range(count):
        family = rng.random()
        if family < OVERLAP_SHARE and digits is not None and len(digits) > 1:
            out[index] = overlapping_digits(digits, digit_labels, rng)
            continue
        if family < OVERLAP_SHARE + LETTER_SHARE:
            strokes = _random_letter(rng)
        else:
            strokes = scribbles[rng.integers(len(scribbles))](rng)
        out[index] = strokes_to_input(strokes)
    return out


def overlapping_digits(digits: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
    """Two digits of different classes overlaid with an offset, fitted back into the 20-px box."""
    first = rng.integers(len(digits))
    second = rng.integers(len(digits))
    while labels[second] == labels[first]:
        second = rng.integers(len(digits))
    offset = rng.uniform(3.0, 9.0) * np.array(
        [math.cos(a := rng.uniform(0, 2 * math.pi)), math.sin(a)]
    )
    moved = warp_image(digits[second], translation=(float(offset[0]), float(offset[1])))
    combined = np.maximum(digits[first].reshape(SIDE, SIDE), moved.reshape(SIDE, SIDE))
    rows, cols = np.nonzero(combined > INK_THRESHOLD)
    extent = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
    scale = min(1.0, INK_BOX / extent)
    return warp_image(combined.reshape(-1), scale=(scale, scale))
