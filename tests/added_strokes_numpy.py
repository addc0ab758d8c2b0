"""Slashed zeros and flagged ones in plain NumPy: the code the compiled kernels
(``trainer/data/added_stroke_kernels.py``) replaced, kept as the reference they must match bit for
bit (``test_added_strokes.py``). Same draws from ``rng``, in the same order."""

import math

import numpy as np

from trainer.data.added_strokes import COLS, INK_BOX, INK_THRESHOLD, ROWS, WIDTH_RANGE
from trainer.data.augment import warp_image
from trainer.data.flagged_ones import ANGLE_RANGE as FLAG_ANGLE_RANGE
from trainer.data.flagged_ones import FOOT_RANGE, FOOT_SHARE, LENGTH_RANGE, MAX_LEAN_DEG, _lean
from trainer.data.slashed_zeros import ANGLE_RANGE as SLASH_ANGLE_RANGE
from trainer.data.slashed_zeros import OVERSHOOT_RANGE


def slashed(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    picture = image.reshape(ROWS.shape).astype(np.float64)
    ink = picture > INK_THRESHOLD
    if not ink.any():
        return image
    centre_r, centre_c = ROWS[ink].mean(), COLS[ink].mean()
    angle = math.radians(rng.uniform(*SLASH_ANGLE_RANGE))
    direction_c, direction_r = math.cos(angle), -math.sin(angle)
    along = (COLS[ink] - centre_c) * direction_c + (ROWS[ink] - centre_r) * direction_r
    half_length = np.abs(along).max() * rng.uniform(*OVERSHOOT_RANGE)
    start = (centre_r - half_length * direction_r, centre_c - half_length * direction_c)
    end = (centre_r + half_length * direction_r, centre_c + half_length * direction_c)
    return refit(np.maximum(picture, segment(start, end, rng.uniform(*WIDTH_RANGE))))


def flagged(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    picture = image.reshape(ROWS.shape).astype(np.float64)
    ink = picture > INK_THRESHOLD
    if ink.sum() < 2 or _lean(ROWS[ink], COLS[ink]) > math.tan(math.radians(MAX_LEAN_DEG)):
        return image
    top, bottom = ROWS[ink].min(), ROWS[ink].max()
    height = bottom - top + 1.0
    width = rng.uniform(*WIDTH_RANGE)
    start = (top + 0.5, COLS[ink & (ROWS <= top + 1.0)].mean())
    angle = math.radians(rng.uniform(*FLAG_ANGLE_RANGE))
    length = height * rng.uniform(*LENGTH_RANGE)
    end = (start[0] + length * math.sin(angle), start[1] - length * math.cos(angle))
    picture = np.maximum(picture, segment(start, end, width))
    if rng.random() < FOOT_SHARE:
        foot_row, foot_col = bottom - 0.5, COLS[ink & (ROWS >= bottom - 1.0)].mean()
        half = height * rng.uniform(*FOOT_RANGE)
        foot = segment((foot_row, foot_col - half), (foot_row, foot_col + half), width)
        picture = np.maximum(picture, foot)
    return refit(picture)


def refit(picture: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(picture > INK_THRESHOLD)
    extent = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
    scale = min(1.0, INK_BOX / extent)
    return warp_image(picture.astype(np.float32).reshape(-1), scale=(scale, scale))


def segment(start, end, width: float) -> np.ndarray:
    (r0, c0), (r1, c1) = start, end
    dr, dc = r1 - r0, c1 - c0
    length_sq = max(dr * dr + dc * dc, 1e-12)
    t = np.clip(((ROWS - r0) * dr + (COLS - c0) * dc) / length_sq, 0.0, 1.0)
    distance = np.hypot(ROWS - (r0 + t * dr), COLS - (c0 + t * dc))
    return np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)
