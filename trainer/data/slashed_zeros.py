"""Slashed zeros (Ø, ϕ) for training: a way of writing zero that many people use and MNIST lacks.

A network trained on MNIST alone reads a slashed zero as 4, 8 or 9. Each epoch, a share of the
training zeros gets a straight slash through its centre — from near-diagonal (Ø) to near-vertical
(ϕ), running past the ring by a random amount, as wide as MNIST's strokes — and is then shrunk so
that its ink fits MNIST's 20-pixel box again and recentred on its centre of mass, exactly as a
slashed zero drawn in the app comes out of the stroke function (``added_strokes.py``).
"""

from __future__ import annotations

import math
import threading

import numpy as np

from trainer.data import added_stroke_kernels
from trainer.data.added_strokes import WIDTH_RANGE, change_a_share

#: Slash angle from the horizontal, degrees (Ø is about 55°, ϕ nearly 90°).
ANGLE_RANGE = (50.0, 88.0)
#: How far the slash runs: its half-length over the ring's half-extent along it (real ϕ-like
#: zeros on small rings run to almost twice it).
OVERSHOOT_RANGE = (1.0, 1.8)


def slash_zeros(
    images: np.ndarray,
    labels: np.ndarray,
    share: float,
    seed: int,
    stop: threading.Event | None = None,
) -> int:
    """Slash a random ``share`` of the zeros among ``images`` (n, 784), in place.

    Returns how many images were changed. Deterministic for a given seed. Stops early once
    ``stop`` is set (``added_strokes.change_a_share``).
    """
    rng = np.random.default_rng(seed)
    return change_a_share(images, labels, 0, share, rng, slashed, stop)


def slashed(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One zero (784,) with a random slash, renormalised to MNIST's box and centre (drawn by
    ``added_stroke_kernels.slashed``)."""
    if not added_stroke_kernels.has_ink(image):
        return image
    angle = math.radians(rng.uniform(*ANGLE_RANGE))
    direction = (math.cos(angle), -math.sin(angle))  # (col, row): up and to the right
    overshoot, width = rng.uniform(*OVERSHOOT_RANGE), rng.uniform(*WIDTH_RANGE)
    return added_stroke_kernels.slashed(image, direction, overshoot, width)
