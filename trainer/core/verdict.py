"""What the app answers for a drawing: a digit, "not sure", "not a digit", or "too small".

One small pure function, :func:`decide`, from the network's output (10 digit probabilities, plus
"not a digit" for an 11-output model) and the drawing's size on screen to a :class:`Verdict`. The
app's panel shows it, ``MainWindow.verdict()`` reports its digit, and ``digitpad-eval`` and
``bench/bench_not_a_digit.py`` measure exactly this decision.

* TOO_SMALL: the ink's longer side on screen is under :data:`MIN_INK_PIXELS`. The stroke function
  blows every mark up to a 20-pixel figure, so a click or a tick would otherwise read as a confident
  "1" or "7"; no network can tell a 6-pixel tick from a real 1 once both are scaled: size
  decides.
* NOT_A_DIGIT: the "not a digit" output is at least :data:`NOT_A_DIGIT_THRESHOLD`, or above the
  best digit's. Both thresholds were tuned on the letters of half the pen-letters-dev writers (the
  other half is held out for the benchmark) against the digits the app may refuse (2 % of
  pen-digits-dev, 1 % of MNIST test) and the accuracy of the digits it accepts (98.5 %), keeping a
  little inside each (docs/ARCHITECTURE.md, "Not a digit").
* NOT_SURE: the best digit's probability is under :data:`NOT_SURE_THRESHOLD`.
* DIGIT: otherwise.

A 10-output model (saved before "not a digit" existed) is never NOT_A_DIGIT: it behaves as before.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

#: Below this best digit probability the verdict is "not sure".
NOT_SURE_THRESHOLD = 0.45
#: From this "not a digit" probability on, the verdict is "not a digit" (tuned, see above).
NOT_A_DIGIT_THRESHOLD = 0.18
#: A drawing whose ink spans fewer screen pixels than this (longer side) is too small to read.
MIN_INK_PIXELS = 12.0
DIGITS = 10


class State(enum.Enum):
    DIGIT = "digit"
    NOT_SURE = "not sure"
    NOT_A_DIGIT = "not a digit"
    TOO_SMALL = "too small"


@dataclass(frozen=True)
class Verdict:
    state: State
    best_guess: int  # the most probable of the ten digits
    confidence: float  # its probability
    not_a_digit: float  # the "not a digit" probability (0 for a 10-output model)
    text: str  # the large text: the digit, "?", or a sign for "no digit"
    detail: str  # one line under it (no-break spaces: "(55 %)" never wraps alone)

    @property
    def digit(self) -> int | None:
        """The digit verdict, or None for every state without one."""
        return self.best_guess if self.state is State.DIGIT else None


def ink_extent(strokes) -> float:
    """The longer side of the drawing's bounding box, in the strokes' units (screen pixels)."""
    points = [point for stroke in strokes for point in stroke]
    if not points:
        return 0.0
    array = np.asarray(points, dtype=np.float64)
    return float((array.max(axis=0) - array.min(axis=0)).max())


def decide(
    probabilities, ink_pixels: float | None = None, *, threshold: float = NOT_SURE_THRESHOLD
) -> Verdict:
    """The verdict for the network's outputs; ``ink_pixels`` None: size unknown, big enough."""
    p = np.nan_to_num(
        np.asarray(probabilities, dtype=np.float64).reshape(-1), nan=0.0, posinf=1.0, neginf=0.0
    )
    best = int(np.argmax(p[:DIGITS]))
    confidence = float(p[best])
    rejection = float(p[DIGITS]) if p.shape[0] > DIGITS else 0.0
    if ink_pixels is not None and ink_pixels < MIN_INK_PIXELS:
        return Verdict(
            State.TOO_SMALL, best, confidence, rejection, "…", "Too small to read – keep drawing"
        )
    if rejection >= NOT_A_DIGIT_THRESHOLD or rejection > confidence:
        return Verdict(
            State.NOT_A_DIGIT,
            best,
            confidence,
            rejection,
            "✗",
            f"Not a digit ({100 * rejection:.0f}\u00a0%)",
        )
    if confidence < threshold:
        return Verdict(
            State.NOT_SURE,
            best,
            confidence,
            rejection,
            "?",
            f"Not sure – best guess {best}\u00a0({100 * confidence:.0f}\u00a0%)",
        )
    return Verdict(
        State.DIGIT,
        best,
        confidence,
        rejection,
        str(best),
        f"{100 * confidence:.1f}\u00a0% confident",
    )
