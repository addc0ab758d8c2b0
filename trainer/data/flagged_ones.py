"""Flagged ones for training: the "1" with a long flag (and often a foot) that many Europeans
write and MNIST lacks.

A network trained on MNIST reads a 1 whose flag is long and nearly level as 7, and one that also
stands on a foot as 2 (the commonest mistakes on real pen digits). Each epoch, a share of the
training ones gets a flag: a straight stroke from the top of the stem down to the left, 10–45°
below the horizontal, a quarter to half the stem's height long, as wide as MNIST's strokes; half
of them also get a foot, a level stroke centred under the stem. The image is then shrunk so that
its ink fits MNIST's 20-pixel box again and recentred on its centre of mass, as a drawing from the
app is.

What keeps such a 1 apart from a 7 is its upright stem, so only ones whose stem leans less than
:data:`MAX_LEAN_DEG` get a flag (a flag on a stem leaning right would draw a 7).
"""

from __future__ import annotations

import math
import threading

import numpy as np

from trainer.data import added_stroke_kernels
from trainer.data.added_strokes import COLS, INK_THRESHOLD, ROWS, WIDTH_RANGE, change_a_share

#: The flag's angle below the horizontal, degrees.
ANGLE_RANGE = (10.0, 45.0)
#: The flag's length over the stem's height.
LENGTH_RANGE = (0.25, 0.5)
#: The share of flagged ones that also get a foot, and its half-width over the stem's height.
FOOT_SHARE, FOOT_RANGE = 0.5, (0.15, 0.3)
#: Ones whose stem leans more than this from the vertical are left as they are.
MAX_LEAN_DEG = 20.0


def flag_ones(
    images: np.ndarray,
    labels: np.ndarray,
    share: float,
    seed: int,
    stop: threading.Event | None = None,
) -> int:
    """Give a flag to a random ``share`` of the ones among ``images`` (n, 784), in place.

    Returns how many images were changed. Deterministic for a given seed. Stops early once
    ``stop`` is set (``added_strokes.change_a_share``).
    """
    rng = np.random.default_rng([seed, 0xF1A6])
    return change_a_share(images, labels, 1, share, rng, flagged, stop)


def flagged(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One "1" (784,) with a random flag, renormalised to MNIST's box and centre (drawn by
    ``added_stroke_kernels.flagged``); unchanged if its stem leans too far."""
    picture = image.reshape(ROWS.shape).astype(np.float64)
    ink = picture > INK_THRESHOLD
    if ink.sum() < 2 or _lean(ROWS[ink], COLS[ink]) > math.tan(math.radians(MAX_LEAN_DEG)):
        return image
    width = rng.uniform(*WIDTH_RANGE)
    angle = math.radians(rng.uniform(*ANGLE_RANGE))
    length_share = rng.uniform(*LENGTH_RANGE)
    foot_share = rng.uniform(*FOOT_RANGE) if rng.random() < FOOT_SHARE else 0.0
    direction = (math.sin(angle), math.cos(angle))  # (down, left) along the flag
    return added_stroke_kernels.flagged(image, width, length_share, direction, foot_share)


def _lean(rows: np.ndarray, cols: np.ndarray) -> float:
    """How far the ink's main axis leans from the vertical: |columns moved per row|."""
    spread = rows.var()
    return math.inf if spread == 0.0 else abs(np.cov(rows, cols, bias=True)[0, 1] / spread)
