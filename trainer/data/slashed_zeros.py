"""Slashed zeros (Ø, ϕ) for training: a way of writing zero that many people use and MNIST lacks.

A network trained on MNIST alone reads a slashed zero as 4, 8 or 9. Each epoch, a share of the
training zeros gets a straight slash through its centre — from near-diagonal (Ø) to near-vertical
(ϕ), running past the ring by a random amount, as wide as MNIST's strokes — and is then shrunk so
that its ink fits MNIST's 20-pixel box again and recentred on its centre of mass, exactly as a
slashed zero drawn in the app comes out of the stroke function.
"""

from __future__ import annotations

import math

import numpy as np

from trainer.data.augment import warp_image

SIDE = 28
INK_BOX = 20.0
INK_THRESHOLD = 0.1
#: Slash angle from the horizontal, degrees (Ø is about 55°, ϕ nearly 90°).
ANGLE_RANGE = (50.0, 88.0)
#: How far the slash runs: its half-length over the ring's half-extent along it (real ϕ-like
#: zeros on small rings run to almost twice it).
OVERSHOOT_RANGE = (1.0, 1.8)
#: Stroke width of the slash in pixels (MNIST strokes are about 2.2 px wide).
WIDTH_RANGE = (1.8, 2.6)

ROWS, COLS = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)


def slash_zeros(images: np.ndarray, labels: np.ndarray, share: float, seed: int) -> int:
    """Slash a random ``share`` of the zeros among ``images`` (n, 784), in place.

    Returns how many images were changed. Deterministic for a given seed.
    """
    if share <= 0.0:
        return 0
    rng = np.random.default_rng(seed)
    zeros = np.flatnonzero(labels == 0)
    chosen = zeros[rng.random(len(zeros)) < share]
    for index in chosen:
        images[index] = slashed(images[index], rng)
    return len(chosen)


def slashed(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One zero (784,) with a random slash, renormalised to MNIST's box and centre."""
    picture = image.reshape(SIDE, SIDE).astype(np.float64)
    ink = picture > INK_THRESHOLD
    if not ink.any():
        return image
    centre_r, centre_c = ROWS[ink].mean(), COLS[ink].mean()
    angle = math.radians(rng.uniform(*ANGLE_RANGE))
    direction_c, direction_r = math.cos(angle), -math.sin(angle)  # up and to the right
    along = (COLS[ink] - centre_c) * direction_c + (ROWS[ink] - centre_r) * direction_r
    half_length = np.abs(along).max() * rng.uniform(*OVERSHOOT_RANGE)
    start = (centre_r - half_length * direction_r, centre_c - half_length * direction_c)
    end = (centre_r + half_length * direction_r, centre_c + half_length * direction_c)
    return refit(np.maximum(picture, segment(start, end, rng.uniform(*WIDTH_RANGE))))


def refit(picture: np.ndarray) -> np.ndarray:
    """A digit with a stroke added, shrunk to fit MNIST's 20-pixel box again and recentred."""
    rows, cols = np.nonzero(picture > INK_THRESHOLD)
    extent = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
    scale = min(1.0, INK_BOX / extent)
    return warp_image(picture.astype(np.float32).reshape(-1), scale=(scale, scale))


def segment(start, end, width: float) -> np.ndarray:
    """An anti-aliased straight stroke (coverage ramps over one pixel at the edge)."""
    (r0, c0), (r1, c1) = start, end
    dr, dc = r1 - r0, c1 - c0
    length_sq = max(dr * dr + dc * dc, 1e-12)
    t = np.clip(((ROWS - r0) * dr + (COLS - c0) * dc) / length_sq, 0.0, 1.0)
    distance = np.hypot(ROWS - (r0 + t * dr), COLS - (c0 + t * dc))
    return np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)
