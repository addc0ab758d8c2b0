"""The input layer's products over the inked pixels only.

An MNIST image has about 150 non-zero pixels of 784. Training compresses its images once (once per
epoch when they are augmented) into ``SparseRows`` — each row's non-zero values and their column
indices, as in the CSR format — and the input layer then works on those alone:

    forward   zᵢ = Σₖ xᵢₖ W[k, :]              over the inked pixels k of sample i
    backward  ∂C/∂W[k, :] = Σᵢ xᵢₖ δᵢ          touching only the rows of inked pixels

Both go through the columns in blocks of ``BLOCK`` (four ``simd.Lanes``), whose sums stay in
registers while a loop adds up their terms, and both are shaped so that what that loop reads
stays in the core's caches:

* Forward, a batch's samples run through a block one after the other (two at a time, below).
  For a large batch the block of W is first copied into a buffer of its own (``_pack_columns``:
  784 × 64 values, 200 KB, contiguous), so that an inked pixel's 64 weights are 256 adjacent
  bytes of a buffer that stays in the L2 cache rather than a piece of one 3.2 KB row of a 2.5 MB
  matrix.
* Backward, a large batch's inked pixels are first regrouped by pixel (``_by_pixel``: the
  batch's columns, as in the CSC format), so that each row of the target is read once per block,
  its sums built in registers over the samples that ink that pixel, and written once — instead of
  read and written once per sample. Small batches (Nielsen's 10 samples) run through the samples
  instead (``_add_scaled_outer``): there regrouping costs more than it saves.
  Measured here on 128 MNIST images and 800 units (one core, fastest of 300 calls), both take
  about half as long as the row by row kernels they replaced: forward 1.6 → 0.7 ms, backward
  1.5 → 0.7 ms. Inside a training epoch, where W¹ and the batch's images come from memory, the
  gain is smaller (``bench/bench_training_speed.py``).
* Both run two sums through a block side by side — two samples forward, two pixels' rows
  backward — so that eight vectors of sums are in flight instead of four: an addition waits for
  the one before it on the same sum, and the other four keep the core busy meanwhile.
* The weight gradient is written over its array (``overwrite``): each thread's rows start from
  zero in registers, instead of one core zeroing the 1.6–2.5 MB array before the sums are added.
* The buffers both read vectors from start on a cache line (``aligned.py``: the packed blocks of
  W, the scaled δ, and training's workspace, whose rows hold z¹, δ¹ and the gradient), so that no
  64-byte vector straddles two lines, and the hottest loops index with unsigned integers, for
  which Numba emits no code for negative indices. Against the version before, alternating in one
  process on 128 MNIST images, one thread: forward 1.26 → 0.81 ms (800 units) and 0.75 → 0.48 ms
  (512), backward 1.01 → 0.80 and 0.60 → 0.50 ms; on two threads forward 0.73 → 0.62 and
  0.48 → 0.43 ms, backward 0.87 → 0.70 and 0.58 → 0.49 ms (medians).

Whichever way, every output element is the sum of the same products added in the same order —
forward over a sample's pixels in increasing order, backward over the batch's samples in order —
so all ways give the same numbers bit for bit. Training's batches spread both products over the
cores (``rows_times_split_by_columns``, ``add_transposed_times_split_by_pixels``), each thread
computing whole output elements of its own, which keeps that true on any number of threads.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange

from trainer.fast import aligned, simd

#: The compressed rows of a matrix: row r's values are values[indptr[r]:indptr[r + 1]], in the
#: columns indices[indptr[r]:indptr[r + 1]].
SparseRows = namedtuple("SparseRows", ["indptr", "indices", "values"])

#: Columns per block: four vectors of sums, held in registers.
BLOCK = 4 * simd.LANES
#: Where a block's four vectors start within it (in a buffer that holds the block alone).
_IN_BLOCK = (0, simd.LANES, 2 * simd.LANES, 3 * simd.LANES)
#: Batches of at least this many samples copy W's blocks (forward) and regroup their pixels
#: (backward) first; smaller ones read W and write the target where they are.
PACKED_MIN_ROWS = 32
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
    total = indptr[n]
    # Without a branch: every entry is written where the next non-zero one goes, and the place
    # moves on only past a non-zero one (a zero's write is overwritten, or lands in the spare
    # element at the end). A branch per entry mispredicted at the edges of every stroke.
    indices = np.empty(total + 1, dtype=np.int32)
    values = np.empty(total + 1, dtype=matrix.dtype)
    for r in range(n):
        t = indptr[r]
        for k in range(width):
            v = matrix[r, k]
            indices[t] = k
            values[t] = v
            t += v != 0.0
    return SparseRows(indptr, indices[:total], values[:total])


@njit(**_JIT)
def rows_times(sparse, rows, w, out):
    """out[i] = (row rows[i] of ``sparse``) @ w, for each i < len(rows)."""
    _rows_times_blocks(sparse, rows, w, out, 0, _blocks(w.shape[1]))


@njit(**_PARALLEL_JIT)
def rows_times_split_by_columns(sparse, rows, w, out, parts):
    """``rows_times`` on several cores: the blocks of columns split into ``parts`` runs, one per
    thread (``parts`` = Numba's threads; ``_blocks_of_part`` says which).

    Each thread computes whole columns of ``out``, exactly as ``rows_times`` computes them, so
    the result is the same bit for bit, whatever ``parts`` is. Split by rows instead, each thread
    would have to copy every block of W for itself.
    """
    for part in prange(parts):
        first, stop = _blocks_of_part(w.shape[1], part, parts)
        _rows_times_blocks(sparse, rows, w, out, first, stop)


@njit(**_JIT)
def add_transposed_times(sparse, rows, delta, scale, target, overwrite=False):
    """target += scale · Xᵀ delta, where X's row i is row rows[i] of ``sparse``; with
    ``overwrite``, target = scale · Xᵀ delta (what was in target is never read).

    With scale 1 and ``overwrite`` this is the input layer's weight gradient; with scale −η/m on
    the weights themselves it is an SGD step that changes only the rows of inked pixels.
    """
    _add_transposed_times_pixels(sparse, rows, delta, scale, target, 0, target.shape[0], overwrite)


@njit(**_PARALLEL_JIT)
def add_transposed_times_split_by_pixels(
    sparse, rows, delta, scale, target, parts, overwrite=False
):
    """``add_transposed_times`` on several cores: target's rows (one per input pixel) split into
    ``parts`` runs, one per thread; each thread adds the inked pixels of its own run only (and
    with ``overwrite`` zeroes its run's other rows: the gradient is never zeroed on one core).

    Each element's sum over the batch's samples is then built by one thread, with the same
    operations in the same order as on one core, so the result is the same bit for bit. Split by
    samples instead, the threads' partial sums would have to be added in an order of their own.
    """
    pixels = target.shape[0]
    for part in prange(parts):
        first, stop = part * pixels // parts, (part + 1) * pixels // parts
        _add_transposed_times_pixels(sparse, rows, delta, scale, target, first, stop, overwrite)


@njit(**_JIT)
def _blocks(cols):
    """How many blocks of BLOCK columns cover ``cols`` columns."""
    return (cols + BLOCK - 1) // BLOCK


@njit(**_JIT)
def _blocks_of_part(cols, part, parts):
    """The blocks [first, stop) of a row of ``cols`` columns that thread ``part`` of ``parts``
    computes: runs of whole blocks, as even as they can be, and no column written by two threads.
    So a last block narrower than a vector goes with the block before it, into which its vectors
    reach (``_vector_starts``), and a row narrower than a vector (one block, done element by
    element) goes to one thread whole."""
    blocks = _blocks(cols)
    units = blocks - 1 if 0 < cols % BLOCK < simd.LANES and blocks > 1 else blocks
    first, stop = part * units // parts, (part + 1) * units // parts
    return first, blocks if stop == units else stop


@njit(**_JIT)
def _vector_starts(block, cols):
    """Where the four vectors of the block starting at column ``block`` start. A vector that
    would run past the row's end is moved left to end at it, overlapping the one before."""
    last = cols - simd.LANES
    return (
        min(block, last),
        min(block + simd.LANES, last),
        min(block + 2 * simd.LANES, last),
        min(block + 3 * simd.LANES, last),
    )


@njit(**_JIT)
def _rows_times_blocks(sparse, rows, w, out, first_block, stop_block):
    """``rows_times`` for the blocks of columns [first_block, stop_block) only."""
    pixels, cols = w.shape
    if cols < simd.LANES:
        if first_block < stop_block:
            _rows_times_narrow(sparse, rows, w, out)
        return
    packed = rows.shape[0] >= PACKED_MIN_ROWS
    buffer = aligned.empty(pixels * BLOCK if packed else 0, w.dtype)
    for b in range(first_block, stop_block):
        o0, o1, o2, o3 = _vector_starts(b * BLOCK, cols)
        if packed:  # pixel k's weights of this block are buffer[k * BLOCK:(k + 1) * BLOCK]
            _pack_columns(w, o0, o1, o2, o3, buffer)
            source, stride = buffer, BLOCK
            p0, p1, p2, p3 = _IN_BLOCK
        else:  # ... or where they are, in W's row k
            source, stride = w.reshape(-1), cols
            p0, p1, p2, p3 = o0, o1, o2, o3
        offsets, starts, m = (p0, p1, p2, p3), (o0, o1, o2, o3), rows.shape[0]
        # Two samples at a time: eight independent sums in flight instead of four, which keeps the
        # core's adders busy while each sum waits for its previous addition.
        for i in range(0, m - 1, 2):
            t, t_end = sparse.indptr[rows[i]], sparse.indptr[rows[i] + 1]
            u, u_end = sparse.indptr[rows[i + 1]], sparse.indptr[rows[i + 1] + 1]
            sums_t, sums_u = _zero_sums(w), _zero_sums(w)
            for _ in range(min(t_end - t, u_end - u)):
                sums_t = _add_pixel(sums_t, sparse, t, source, stride, offsets)
                sums_u = _add_pixel(sums_u, sparse, u, source, stride, offsets)
                t, u = t + 1, u + 1
            sums_t = _add_pixels(sums_t, sparse, t, t_end, source, stride, offsets)
            sums_u = _add_pixels(sums_u, sparse, u, u_end, source, stride, offsets)
            _store_vectors(out[i], 0, starts, sums_t)
            _store_vectors(out[i + 1], 0, starts, sums_u)
        if m % 2:
            r = rows[m - 1]
            sums = _add_pixels(
                _zero_sums(w),
                sparse,
                sparse.indptr[r],
                sparse.indptr[r + 1],
                source,
                stride,
                offsets,
            )
            _store_vectors(out[m - 1], 0, starts, sums)


@njit(**_JIT)
def _zero_sums(like):
    """A block's four vectors of sums, all zero."""
    return simd.zeros(like), simd.zeros(like), simd.zeros(like), simd.zeros(like)


@njit(**_JIT)
def _add_pixel(sums, sparse, t, source, stride, offsets):
    """``sums`` plus the inked pixel t's value times its weights of the block: the four vectors
    at ``offsets`` in its row of ``source`` (rows ``stride`` apart)."""
    at = np.uint64(t)  # an unsigned index: no code for negative ones in the hottest loop
    return _plus_scaled(sums, sparse.values[at], source, sparse.indices[at] * stride, offsets)


@njit(**_JIT)
def _plus_scaled(sums, value, source, base, offsets):
    """``sums`` (four vectors) plus ``value`` times the four vectors of ``source`` that start at
    base + ``offsets``."""
    s0, s1, s2, s3 = sums
    p0, p1, p2, p3 = offsets
    return (
        simd.multiply_add(s0, value, simd.load(source, base + p0)),
        simd.multiply_add(s1, value, simd.load(source, base + p1)),
        simd.multiply_add(s2, value, simd.load(source, base + p2)),
        simd.multiply_add(s3, value, simd.load(source, base + p3)),
    )


@njit(**_JIT)
def _add_pixels(sums, sparse, start, stop, source, stride, offsets):
    """``_add_pixel`` for the inked pixels [start, stop), in order."""
    for t in range(start, stop):
        sums = _add_pixel(sums, sparse, t, source, stride, offsets)
    return sums


@njit(**_JIT)
def _pack_columns(matrix, o0, o1, o2, o3, buffer):
    """buffer[r * BLOCK:(r + 1) * BLOCK] = the four vectors of matrix's row r that start at the
    columns o0..o3, for every row r."""
    for r in range(matrix.shape[0]):
        row = matrix[r]
        vectors = simd.load(row, o0), simd.load(row, o1), simd.load(row, o2), simd.load(row, o3)
        _store_vectors(buffer, r * BLOCK, _IN_BLOCK, vectors)


@njit(**_JIT)
def _rows_times_narrow(sparse, rows, w, out):
    """``rows_times`` for rows narrower than a vector, one element at a time."""
    out[:] = 0.0
    for i in range(rows.shape[0]):
        r = rows[i]
        for t in range(sparse.indptr[r], sparse.indptr[r + 1]):
            k, value = sparse.indices[t], sparse.values[t]
            for j in range(w.shape[1]):
                out[i, j] += value * w[k, j]


@njit(**_JIT)
def _add_transposed_times_pixels(sparse, rows, delta, scale, target, first, end, overwrite):
    """``add_transposed_times`` on the rows [first, end) of target (those pixels) only."""
    cols = target.shape[1]
    large = cols >= simd.LANES and rows.shape[0] >= PACKED_MIN_ROWS
    if overwrite and not large:
        target[first:end] = 0.0
    if large:
        _add_by_pixel(sparse, rows, delta, scale, target, first, end, overwrite)
    elif cols < simd.LANES:
        _add_transposed_times_narrow(sparse, rows, delta, scale, target, first, end)
    else:
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
                end,
            )


@njit(**_JIT)
def _by_pixel(sparse, rows, first, end):
    """The batch's inked pixels in [first, end) regrouped by pixel: pixel k's samples (positions
    in the batch, in increasing order) and values are samples[s:e] and values[s:e], where
    s, e = starts[k - first], starts[k - first + 1]."""
    starts = np.zeros(end - first + 1, dtype=np.int64)
    for i in range(rows.shape[0]):
        for t in range(sparse.indptr[rows[i]], sparse.indptr[rows[i] + 1]):
            if first <= sparse.indices[t] < end:
                starts[sparse.indices[t] - first + 1] += 1
    for k in range(end - first):
        starts[k + 1] += starts[k]
    filled = starts[:-1].copy()
    samples = np.empty(starts[-1], dtype=np.int32)  # batch positions: half the bytes of int64
    values = np.empty(starts[-1], dtype=sparse.values.dtype)
    for i in range(rows.shape[0]):
        for t in range(sparse.indptr[rows[i]], sparse.indptr[rows[i] + 1]):
            k = sparse.indices[t] - first
            if 0 <= k < end - first:
                samples[filled[k]] = i
                values[filled[k]] = sparse.values[t]
                filled[k] += 1
    return starts, samples, values


@njit(**_JIT)
def _add_by_pixel(sparse, rows, delta, scale, target, first, end, overwrite):
    """``add_transposed_times`` on the pixels [first, end), one row of target at a time: each
    block of the row is loaded once (with ``overwrite``: starts from zero, and a pixel no sample
    inks gets zeros), gets the products of every sample that inks the pixel added in the batch's
    order, and is stored once."""
    m, cols = delta.shape[0], target.shape[1]
    starts, samples, values = _by_pixel(sparse, rows, first, end)
    flat = target.reshape(-1)
    scaled = aligned.empty(m * BLOCK, target.dtype)  # scale · δ's block, a row per sample
    for b in range(_blocks(cols)):
        vectors = _vector_starts(b * BLOCK, cols)
        o0, o1, o2, o3 = vectors
        for i in range(m):
            _store_vectors(
                scaled,
                i * BLOCK,
                _IN_BLOCK,
                _scaled_vectors(delta[i], scale, b * BLOCK, o0, o1, o2, o3),
            )
        # Two pixels at a time: eight independent sums in flight instead of four.
        for k in range(first, end - 1, 2):
            p, p_end = starts[k - first], starts[k + 1 - first]
            q, q_end = p_end, starts[k + 2 - first]
            sums_p = _row_block(flat, k * cols, b * BLOCK, vectors, overwrite)
            sums_q = _row_block(flat, (k + 1) * cols, b * BLOCK, vectors, overwrite)
            for _ in range(min(p_end - p, q_end - q)):
                sums_p = _add_sample(sums_p, samples, values, p, scaled)
                sums_q = _add_sample(sums_q, samples, values, q, scaled)
                p, q = p + 1, q + 1
            sums_p = _add_samples(sums_p, samples, values, p, p_end, scaled)
            sums_q = _add_samples(sums_q, samples, values, q, q_end, scaled)
            _store_vectors(flat, k * cols, vectors, sums_p)
            _store_vectors(flat, (k + 1) * cols, vectors, sums_q)
        if (end - first) % 2:
            k = end - 1
            sums = _row_block(flat, k * cols, b * BLOCK, vectors, overwrite)
            sums = _add_samples(
                sums, samples, values, starts[k - first], starts[k + 1 - first], scaled
            )
            _store_vectors(flat, k * cols, vectors, sums)


@njit(**_JIT)
def _row_block(flat, base, block, vectors, overwrite):
    """The four vectors at ``vectors`` of the row starting at flat[base], the block starting at
    column ``block``: as they are, or with ``overwrite`` zero (a vector moved left to end at the
    row's end keeps the columns of the block before, which are done)."""
    o0, o1, o2, o3 = vectors
    if overwrite:
        lanes = simd.LANES
        return (
            _zero_start(flat, base, o0, block),
            _zero_start(flat, base, o1, block + lanes),
            _zero_start(flat, base, o2, block + 2 * lanes),
            _zero_start(flat, base, o3, block + 3 * lanes),
        )
    return (
        simd.load(flat, base + o0),
        simd.load(flat, base + o1),
        simd.load(flat, base + o2),
        simd.load(flat, base + o3),
    )


@njit(**_JIT)
def _zero_start(flat, base, start, place):
    """A vector of zeros for the columns from ``place`` on, for the vector of the row at flat[base]
    that starts at column ``start``: one moved left (start < place) keeps the columns before
    ``place``, which the block before has done. Only such a vector reads the row: the others
    would wait for memory for nothing."""
    if start == place:
        return simd.zeros(flat)
    return simd.load_before_lane(flat, base + start, place - start)


@njit(**_JIT)
def _add_sample(sums, samples, values, p, scaled):
    """``sums`` plus ``values[p]`` times the scaled δ block of sample ``samples[p]`` (its row
    of ``scaled``)."""
    at = np.uint64(p)  # an unsigned index: no code for negative ones in the hottest loop
    return _plus_scaled(sums, values[at], scaled, samples[at] * BLOCK, _IN_BLOCK)


@njit(**_JIT)
def _add_samples(sums, samples, values, start, stop, scaled):
    """``_add_sample`` for the pixel's samples [start, stop), in the batch's order."""
    for p in range(start, stop):
        sums = _add_sample(sums, samples, values, p, scaled)
    return sums


@njit(**_JIT)
def _store_vectors(flat, base, starts, vectors):
    """Stores four ``vectors`` at flat[base + starts[k]], right to left. Where a vector was moved
    left to end at a row's end and overlaps the one before, that one's value stays: in the
    backward product the moved vector added zeros there (``_scaled_vectors``), in the forward one
    both hold the same sums."""
    o0, o1, o2, o3 = starts
    v0, v1, v2, v3 = vectors
    simd.store(flat, base + o3, v3)
    simd.store(flat, base + o2, v2)
    simd.store(flat, base + o1, v1)
    simd.store(flat, base + o0, v0)


@njit(**_JIT)
def _add_scaled_outer(indices, values, start, stop, delta_row, scale, target, first, end):
    """target[indices[t], :] += values[t] · (scale · delta_row) for t in [start, stop), for the
    pixels first <= indices[t] < end only: one sample's share, added row by row."""
    cols = target.shape[1]
    flat = target.reshape(-1)
    for block in range(0, cols, BLOCK):
        o0, o1, o2, o3 = _vector_starts(block, cols)
        d0, d1, d2, d3 = _scaled_vectors(delta_row, scale, block, o0, o1, o2, o3)
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


@njit(**_JIT)
def _scaled_vectors(delta_row, scale, block, o0, o1, o2, o3):
    """scale · delta_row's four vectors of the block starting at column ``block`` (vectors starting
    at o0..o3, ``_vector_starts``). A vector moved left to end at the row's end has zeros in the
    lanes before its place in the block: added to a row, it leaves the columns it overlaps be."""
    none = simd.zeros(delta_row)
    lanes = simd.LANES
    return (
        simd.multiply_add(none, scale, simd.load_from_lane(delta_row, o0, block - o0)),
        simd.multiply_add(none, scale, simd.load_from_lane(delta_row, o1, block + lanes - o1)),
        simd.multiply_add(none, scale, simd.load_from_lane(delta_row, o2, block + 2 * lanes - o2)),
        simd.multiply_add(none, scale, simd.load_from_lane(delta_row, o3, block + 3 * lanes - o3)),
    )


@njit(**_JIT)
def _add_transposed_times_narrow(sparse, rows, delta, scale, target, first, end):
    """``add_transposed_times`` for rows narrower than a vector, one element at a time."""
    cols = target.shape[1]
    scaled = np.empty(cols, dtype=target.dtype)  # in the target's precision, like the vectors
    for i in range(rows.shape[0]):
        r = rows[i]
        for j in range(cols):
            scaled[j] = scale * delta[i, j]
        for t in range(sparse.indptr[r], sparse.indptr[r + 1]):
            k, value = sparse.indices[t], sparse.values[t]
            if first <= k < end:
                for j in range(cols):
                    target[k, j] += value * scaled[j]
