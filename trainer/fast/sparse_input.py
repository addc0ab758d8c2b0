"""The input layer's products over the inked pixels only.

An MNIST image has about 150 non-zero pixels of 784. Training compresses its images once (once per
epoch when they are augmented) into ``SparseRows`` — each row's non-zero values and their column
indices, as in the CSR format — and the input layer then works on those alone:

    forward   zᵢ = Σₖ xᵢₖ W[k, :]              over the inked pixels k of sample i
    backward  ∂C/∂W[k, :] = Σᵢ xᵢₖ δᵢ          touching only the rows of inked pixels

For narrow layers (Nielsen's 30 units) both keep a block of 32 columns in registers (four
``simd.Lanes``) while they run through a row's pixels, instead of loading and storing a row of
sums per pixel. Rows longer than ``REGISTER_COLUMNS`` stream through memory instead: there the loop
vectoriser runs at full speed, and one pass over a sample's pixels per 32 columns would cost more.

Training's batches may spread both products over the cores (``rows_times_split_by_rows``,
``add_transposed_times_split_by_pixels``): each output element is then computed by the same
operations in the same order as on one core, so the trained weights stay the same bit for bit.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from trainer.fast import simd

#: The compressed rows of a matrix: row r's values are values[indptr[r]:indptr[r + 1]], in the
#: columns indices[indptr[r]:indptr[r + 1]].
SparseRows = namedtuple("SparseRows", ["indptr", "indices", "values"])

#: Layers up to this wide keep their sums in registers (forward product measured here: 30 units
#: 1.6× as fast as streaming, 100 units 1.1×, 512 units 0.95×).
REGISTER_COLUMNS = 128
_BLOCK = 4 * simd.LANES
_JIT = dict(cache=True, nogil=True, error_model="numpy")
_PARALLEL_JIT = dict(_JIT, parallel=True)


@njit(**_JIT)
def compress_rows(matrix):
    """The non-zero entries of each row of a 2-D array, as ``SparseRows``."""
    n, width = matrix.shape
    indptr = np.zeros(n + 1, dtype=np.int64)
    for r in range(n):
        count = 0
        for k in range(width):
            count += matrix[r, k] != 0.0
        indptr[r + 1] = indptr[r] + count
    indices = np.empty(indptr[n], dtype=np.int32)
    values = np.empty(indptr[n], dtype=matrix.dtype)
    for r in range(n):
        t = indptr[r]
        for k in range(width):
            if matrix[r, k] != 0.0:
                indices[t] = k
                values[t] = matrix[r, k]
                t += 1
    return SparseRows(indptr, indices, values)


@njit(**_JIT)
def rows_times(sparse, rows, w, out):
    """out[i] = (row rows[i] of ``sparse``) @ w, for each i < len(rows)."""
    _rows_times_span(sparse, rows, w, out, 0, rows.shape[0])


@njit(**_PARALLEL_JIT)
def rows_times_split_by_rows(sparse, rows, w, out, parts):
    """``rows_times`` on several cores: the batch's rows split into ``parts`` runs of rows, one
    per thread (``parts`` = Numba's threads: each gets one run, as large as the others).

    Each row's sums are computed exactly as ``rows_times`` computes them (the same products added
    in the same order), so the result is the same bit for bit, whatever ``parts`` is.
    """
    n = rows.shape[0]
    for part in prange(parts):
        _rows_times_span(sparse, rows, w, out, part * n // parts, (part + 1) * n // parts)


@njit(**_JIT)
def _rows_times_span(sparse, rows, w, out, first, stop):
    """out[i] = (row rows[i] of ``sparse``) @ w, for first <= i < stop."""
    for i in range(first, stop):
        r = rows[i]
        _row_times(sparse.indices, sparse.values, sparse.indptr[r], sparse.indptr[r + 1], w, out[i])


@njit(**_JIT)
def add_transposed_times(sparse, rows, delta, scale, target):
    """target += scale · Xᵀ delta, where X's row i is row rows[i] of ``sparse``.

    With scale 1 on a zeroed target this is the input layer's weight gradient; with scale −η/m on
    the weights themselves it is an SGD step that changes only the rows of inked pixels.
    """
    _add_transposed_times_pixels(sparse, rows, delta, scale, target, 0, target.shape[0])


@njit(**_PARALLEL_JIT)
def add_transposed_times_split_by_pixels(sparse, rows, delta, scale, target, parts):
    """``add_transposed_times`` on several cores: target's rows (one per input pixel) split into
    ``parts`` runs, one per thread; each thread goes through the whole batch and adds the inked
    pixels of its own run only.

    Each element's sum over the batch's samples is then built by one thread, with the same
    operations in the same order as on one core, so the result is the same bit for bit. Split by
    samples instead, the threads' partial sums would have to be added in an order of their own.
    Split by columns, both threads write into every row of target, and that measured 1.2–2.3×
    *slower* than one core here. Split by pixels, each core works on its own half of target
    (1.25 of 2.5 MB for 800 units), which fits in its 2 MB L2 cache: probably why 128 × 800 took
    0.8 ms instead of 2.2 ms, more than twice as fast.
    """
    pixels = target.shape[0]
    for part in prange(parts):
        first, stop = part * pixels // parts, (part + 1) * pixels // parts
        _add_transposed_times_pixels(sparse, rows, delta, scale, target, first, stop)


@njit(**_JIT)
def _add_transposed_times_pixels(sparse, rows, delta, scale, target, first, stop):
    """``add_transposed_times`` on the rows [first, stop) of target (those pixels) only."""
    for i in range(rows.shape[0]):
        r = rows[i]
        _add_scaled_outer(
            sparse.indices,
            sparse.values,
            sparse.indptr[r],
            sparse.indptr[r + 1],
            delta[i],
            scale,
            target,
            first,
            stop,
        )


@njit(**_JIT)
def _row_times(indices, values, start, stop, w, out_row):
    """out_row = Σₜ values[t] · w[indices[t], :] for t in [start, stop)."""
    cols = w.shape[1]
    if cols < simd.LANES or cols > REGISTER_COLUMNS:
        out_row[:] = 0.0
        for t in range(start, stop):
            k, value = indices[t], values[t]
            for j in range(cols):
                out_row[j] += value * w[k, j]
        return
    flat = w.reshape(-1)
    last = cols - simd.LANES  # the last vector of a row starts here, overlapping the one before
    for block in range(0, cols, _BLOCK):
        o0, o1 = min(block, last), min(block + 8, last)
        o2, o3 = min(block + 16, last), min(block + 24, last)
        s0, s1, s2, s3 = simd.zeros(w), simd.zeros(w), simd.zeros(w), simd.zeros(w)
        for t in range(start, stop):
            base, value = indices[t] * cols, values[t]
            s0 = simd.multiply_add(s0, value, simd.load(flat, base + o0))
            s1 = simd.multiply_add(s1, value, simd.load(flat, base + o1))
            s2 = simd.multiply_add(s2, value, simd.load(flat, base + o2))
            s3 = simd.multiply_add(s3, value, simd.load(flat, base + o3))
        # Overlapping vectors hold the same sums, added in the same order: storing both is exact.
        simd.store(out_row, o0, s0)
        simd.store(out_row, o1, s1)
        simd.store(out_row, o2, s2)
        simd.store(out_row, o3, s3)


@njit(**_JIT)
def _add_scaled_outer(indices, values, start, stop, delta_row, scale, target, first, end):
    """target[indices[t], :] += values[t] · (scale · delta_row) for t in [start, stop), for the
    pixels first <= indices[t] < end only."""
    cols = target.shape[1]
    if cols < simd.LANES or cols > REGISTER_COLUMNS:
        scaled = np.empty(cols, dtype=target.dtype)  # in the target's precision, like the vectors
        for j in range(cols):
            scaled[j] = scale * delta_row[j]
        for t in range(start, stop):
            k, value = indices[t], values[t]
            if first <= k < end:
                for j in range(cols):
                    target[k, j] += value * scaled[j]
        return
    flat = target.reshape(-1)
    last = cols - simd.LANES
    none = simd.zeros(target)
    for block in range(0, cols, _BLOCK):
        o0, o1 = min(block, last), min(block + 8, last)
        o2, o3 = min(block + 16, last), min(block + 24, last)
        # A vector moved left to end at the row's end adds zero to the columns it overlaps.
        d0 = simd.multiply_add(none, scale, simd.load_from_lane(delta_row, o0, block - o0))
        d1 = simd.multiply_add(none, scale, simd.load_from_lane(delta_row, o1, block + 8 - o1))
        d2 = simd.multiply_add(none, scale, simd.load_from_lane(delta_row, o2, block + 16 - o2))
        d3 = simd.multiply_add(none, scale, simd.load_from_lane(delta_row, o3, block + 24 - o3))
        for t in range(start, stop):
            if not first <= indices[t] < end:
                continue
            base, value = indices[t] * cols, values[t]
            # All loads before any store: a load overlapping a store still in flight would wait
            # for it to retire. Stores go right to left, so an overlapped column keeps the value
            # of the vector that was not moved.
            r0, r1 = simd.load(flat, base + o0), simd.load(flat, base + o1)
            r2, r3 = simd.load(flat, base + o2), simd.load(flat, base + o3)
            simd.store(flat, base + o3, simd.multiply_add(r3, value, d3))
            simd.store(flat, base + o2, simd.multiply_add(r2, value, d2))
            simd.store(flat, base + o1, simd.multiply_add(r1, value, d1))
            simd.store(flat, base + o0, simd.multiply_add(r0, value, d0))
