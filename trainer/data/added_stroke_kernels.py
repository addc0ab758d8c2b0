"""The compiled part of slashed zeros and flagged ones: a straight stroke drawn onto a digit, and
the digit shrunk back into MNIST's 20-pixel box and recentred.

Every epoch adds strokes to about three thousand of the ``default`` preset's training images, in
the thread that makes the next epoch's images while training keeps to the other core
(``epoch_images.py``), so every second spent here is a second of training on one core. Written
with NumPy, a few dozen operations on small arrays per image, the slashes took 0.18–0.34 s an
epoch and the flags 0.19–0.27 s; compiled, 0.06–0.09 s and 0.11–0.22 s (four epochs each). The
flags' test of how far a stem leans stays in NumPy (``flagged_ones._lean``): ``np.cov`` sums
through BLAS, in an order that cannot be copied, and it only decides which ones get a flag.

The numbers are NumPy's, bit for bit (the shipped model is trained on them): the same float64
operations in the same order; means summed the way NumPy sums (:func:`numpy_sum`: pairwise,
eight running sums); ``math.hypot`` is the C library's ``hypot``, as ``np.hypot`` is; and clipping
and maxima pick the same operand on ties as ``np.clip`` and ``np.maximum``.
``tests/test_added_strokes.py`` checks them against the NumPy code they replaced.

Images are flat rows of 784 pixels; a pixel's coordinates are its 0-based ``(row, col)``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trainer.data.added_strokes import INK_BOX, INK_THRESHOLD
from trainer.data.augment_grid import PIXELS, SIDE
from trainer.data.distortions import Warp, affine_inverse
from trainer.data.warp_kernels import warp_single

#: NumPy's pairwise summation adds runs of up to this many values with eight running sums.
_PAIRWISE_BLOCK = 128
#: Room in :func:`numpy_sum`'s stacks: halving a run adds two entries, so this holds any length.
_STACK = 256
_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def numpy_sum(values, start, count):
    """values[start:start + count].sum() as NumPy computes it for a contiguous float64 array, so
    that the same numbers give the same sum to the last bit.

    NumPy halves a run (at a multiple of eight) until it is at most 128 long, adds such a run with
    eight running sums (:func:`_block_sum`), and adds the halves' sums. Its recursion is unrolled
    here with explicit stacks (a version that called itself crashed once Numba loaded it from its
    cache): runs still to add or to combine, and the sums waiting for their right half's.
    """
    starts = np.empty(_STACK, np.int64)
    counts = np.empty(_STACK, np.int64)
    halved = np.empty(_STACK, np.bool_)
    sums = np.empty(_STACK, np.float64)
    runs, waiting = 1, 0
    starts[0], counts[0], halved[0] = start, count, False
    while runs:
        runs -= 1
        first, length = starts[runs], counts[runs]
        if halved[runs]:  # both halves are summed: combine them, left + right
            waiting -= 1
            sums[waiting - 1] = sums[waiting - 1] + sums[waiting]
        elif length <= _PAIRWISE_BLOCK:
            sums[waiting] = _block_sum(values, first, length)
            waiting += 1
        else:
            half = length // 2
            half -= half % 8
            halved[runs] = True  # combine after both halves (pushed above it) are summed
            starts[runs + 1], counts[runs + 1], halved[runs + 1] = (
                first + half,
                length - half,
                False,
            )
            starts[runs + 2], counts[runs + 2], halved[runs + 2] = first, half, False
            runs += 3
    return sums[0]


@njit(**_JIT)
def _block_sum(values, start, count):
    """NumPy's sum of a run of at most 128 values: one by one below eight, else eight running
    sums over the whole groups of eight, combined pairwise, then the rest one by one."""
    if count < 8:
        total = 0.0
        for i in range(start, start + count):
            total += values[i]
        return total
    sums = values[start : start + 8].copy()
    i = start + 8
    whole = start + count - count % 8
    while i < whole:
        for k in range(8):
            sums[k] += values[i + k]
        i += 8
    total = ((sums[0] + sums[1]) + (sums[2] + sums[3])) + (
        (sums[4] + sums[5]) + (sums[6] + sums[7])
    )
    while i < start + count:
        total += values[i]
        i += 1
    return total


@njit(**_JIT)
def ink_coordinates(picture):
    """The rows and columns (float64) of the inked pixels of ``picture``, in reading order."""
    count = 0
    for i in range(PIXELS):
        count += picture[i] > INK_THRESHOLD
    rows = np.empty(count, np.float64)
    cols = np.empty(count, np.float64)
    k = 0
    for i in range(PIXELS):
        if picture[i] > INK_THRESHOLD:
            rows[k] = i // SIDE
            cols[k] = i % SIDE
            k += 1
    return rows, cols


@njit(**_JIT)
def mean(values):
    """``values.mean()`` as NumPy computes it."""
    return numpy_sum(values, 0, values.size) / values.size


@njit(**_JIT)
def _clip_unit(x):
    """``np.clip(x, 0.0, 1.0)`` for a float that is not NaN."""
    x = x if x > 0.0 else 0.0
    return x if x < 1.0 else 1.0


@njit(**_JIT)
def add_segment(picture, start, end, width):
    """picture ⊔= an anti-aliased straight stroke from ``start`` to ``end`` (row, col), ``width``
    pixels wide, whose coverage ramps over one pixel at its edge (float64 picture, in place)."""
    r0, c0 = start
    r1, c1 = end
    dr, dc = r1 - r0, c1 - c0
    length_sq = max(dr * dr + dc * dc, 1e-12)
    for i in range(PIXELS):
        row, col = float(i // SIDE), float(i % SIDE)
        t = _clip_unit(((row - r0) * dr + (col - c0) * dc) / length_sq)
        distance = math.hypot(row - (r0 + t * dr), col - (c0 + t * dc))
        coverage = _clip_unit(width / 2 + 0.5 - distance)
        # np.maximum(picture, coverage): the picture's value on a tie
        picture[i] = picture[i] if picture[i] >= coverage else coverage


@njit(**_JIT)
def refit(picture):
    """The float64 ``picture`` with a stroke added, shrunk to fit MNIST's 20-pixel box again and
    recentred on its centre of mass, as float32 (``augment.warp_image`` with that scale)."""
    top, bottom, left, right = SIDE, -1, SIDE, -1
    for i in range(PIXELS):
        if picture[i] > INK_THRESHOLD:
            row, col = i // SIDE, i % SIDE
            top, bottom = min(top, row), max(bottom, row)
            left, right = min(left, col), max(right, col)
    extent = max(bottom - top, right - left) + 1
    scale = min(1.0, INK_BOX / extent)
    out = np.empty(PIXELS, np.float32)
    warp = Warp(affine_inverse(0.0, scale, scale, 0.0), 0.0, 0.0, False, True, 0.02)
    warp_single(picture.astype(np.float32), out, warp)
    return out


@njit(**_JIT)
def slashed(image, direction, overshoot, width):
    """A zero (784,) with a slash through the centre of its ink along ``direction`` (a unit
    vector, (col, row)), reaching ``overshoot`` times as far each way as the ink's farthest pixel
    along it, refitted (see ``slashed_zeros.py``). The image must have ink."""
    picture = image.astype(np.float64)
    rows, cols = ink_coordinates(picture)
    centre_r, centre_c = mean(rows), mean(cols)
    direction_c, direction_r = direction
    farthest = 0.0
    for k in range(rows.size):
        along = (cols[k] - centre_c) * direction_c + (rows[k] - centre_r) * direction_r
        farthest = max(farthest, abs(along))
    half_length = farthest * overshoot
    start = (centre_r - half_length * direction_r, centre_c - half_length * direction_c)
    end = (centre_r + half_length * direction_r, centre_c + half_length * direction_c)
    add_segment(picture, start, end, width)
    return refit(picture)


@njit(**_JIT)
def flagged(image, width, length_share, direction, foot_share):
    """A one (784,) with a flag from the top of its stem, ``length_share`` of the stem's height
    long, along ``direction`` (a unit vector, (down, left)), and a level foot under the stem
    reaching ``foot_share`` of its height to each side (none if 0), ``width`` pixels wide,
    refitted (see ``flagged_ones.py``). The image must have ink."""
    picture = image.astype(np.float64)
    rows, cols = ink_coordinates(picture)
    top, bottom = rows.min(), rows.max()
    height = bottom - top + 1.0
    start = (top + 0.5, mean(cols[rows <= top + 1.0]))
    length = height * length_share
    down, left = direction
    add_segment(picture, start, (start[0] + length * down, start[1] - length * left), width)
    if foot_share > 0.0:
        foot_row, foot_col = bottom - 0.5, mean(cols[rows >= bottom - 1.0])
        half = height * foot_share
        add_segment(picture, (foot_row, foot_col - half), (foot_row, foot_col + half), width)
    return refit(picture)


@njit(**_JIT)
def has_ink(image):
    """Whether any pixel of ``image`` is ink (compared in float64, as the strokes' code does)."""
    for i in range(PIXELS):
        if np.float64(image[i]) > INK_THRESHOLD:
            return True
    return False
