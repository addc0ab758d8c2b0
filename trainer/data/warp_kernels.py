"""The compiled warp: one image resampled through its distortion and re-centred, and the loops
that do it for a batch of images.

:func:`warp_one` makes one output image by inverse mapping (each output pixel is interpolated
once, bilinearly, from the source), in passes that fold re-centring into the mapping; the
steps and why are in ``augment.py``'s module docstring. :func:`augment_serial` and
:func:`augment_parallel` draw every image's distortion (``distortions.py``) and elastic field
(``elastic_field.py``) and warp it. Each batch loop allocates its own :class:`WarpScratch`, so
ranges of images can be warped in several threads at once.

The hot loops use flat arrays and unsigned indices: Numba then skips its negative-index checks,
which would otherwise stop LLVM from vectorising.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from trainer.data.augment_grid import FASTMATH, MNIST_CENTRE, PIXELS, SIDE
from trainer.data.distortions import draw_warp, elastic_on
from trainer.data.elastic_field import (
    EXTENSION,
    ElasticField,
    FieldScratch,
    draw_field,
    field_grid_size,
    fill_extended,
    new_field_scratch,
    shift_field,
)

#: The padded copy of the source image has one row/column of zeros on each side (plus one spare)
#: so bilinear sampling needs no bounds checks: coordinates are clamped to [-1, 28].
_PAD = 32
#: Re-centring stops after this many passes even if the centre of mass is still off (a digit
#: cut by the border).
MAX_PASSES = 4
# Rows of the float32 per-pixel work array: every pixel's row and column, the elastic field
# there (in source coordinates), and the fractional parts of the sampling position.
_W_ROW, _W_COL, _W_FIELD_R, _W_FIELD_C, _W_FRAC_R, _W_FRAC_C = range(6)


class WarpScratch(NamedTuple):
    """Scratch for warping one image: the zero-bordered source (flat, _PAD × _PAD), the per-pixel
    work rows (6, 784) float32, each pixel's padded sampling index, the indices of the pixels
    with ink (uint32 rows: the source's, the output's) and the field's scratch."""

    pad: np.ndarray
    work: np.ndarray
    idx: np.ndarray
    ink: np.ndarray
    field: FieldScratch


@numba.njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _list_ink(image, ink):
    """Writes the indices of the pixels with ink (v != 0), in order, into ink; returns how many.

    Branch-free: every index is written, and the count moves on only past ink.
    """
    n = np.uint64(0)
    for i in range(PIXELS):
        ink[n] = i
        n += np.uint64(image[i] != 0.0)
    return n


@numba.njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _moments(image, ink, n_ink, grid_r, grid_c):
    """Ink mass and first moments (Σv, Σv·row, Σv·col) of a flat 28×28 image, in float32, summed
    in pixel order over the n_ink pixels listed in ink.

    The same bits as summing all 784 pixels: a blank pixel adds ±0, which leaves a float32 sum
    that started at +0 as it is. The three sums are chains of dependent additions, so their
    length, not the arithmetic, sets the time; a digit inks about a fifth of the pixels.
    """
    mass = np.float32(0.0)
    sr = np.float32(0.0)
    sc = np.float32(0.0)
    for k in range(n_ink):
        i = np.uint64(ink[k])
        v = image[i]
        mass += v
        sr += v * grid_r[i]
        sc += v * grid_c[i]
    if mass > 0.0:
        return float(mass), float(sr) / float(mass), float(sc) / float(mass)
    return 0.0, MNIST_CENTRE, MNIST_CENTRE


@numba.njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _load_padded(src, pad, work, ink):
    """Copies the source into the zero-bordered flat pad (pixel (r, c) at (r+1)·32 + c+1) and
    lists its ink in ink.

    Returns (mass, com_r, com_c) of the source and the number of pixels with ink.
    """
    n_ink = _list_ink(src, ink)
    mass, com_r, com_c = _moments(src, ink, n_ink, work[_W_ROW], work[_W_COL])
    for r in range(SIDE):
        base = np.uint64((r + 1) * _PAD + 1)
        row = np.uint64(r * SIDE)
        for c in range(SIDE):
            pad[base + np.uint64(c)] = src[row + np.uint64(c)]
    return mass, com_r, com_c, n_ink


@numba.njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _mean_displacement(src, mass, ink, n_ink, work):
    """The field's mean over the digit, weighted by the source's ink: (row, col). Summed in pixel
    order over the n_ink pixels listed in ink (the same bits as over all, see _moments)."""
    field_r = work[_W_FIELD_R]
    field_c = work[_W_FIELD_C]
    mr = np.float32(0.0)
    mc = np.float32(0.0)
    for k in range(n_ink):
        i = np.uint64(ink[k])
        mr += src[i] * field_r[i]
        mc += src[i] * field_c[i]
    return float(mr) / mass, float(mc) / mass


@numba.njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _resample(dst, warp, cs_r, cs_c, off_r, off_c, scratch):
    """One inverse-mapping pass into dst; returns (mass, com_r, com_c) of the output, whose ink
    it lists in scratch.ink[1] on the way.

    Output pixel p = (r, c) samples the source at s = A⁻¹·(p + off - 14) + c_src + field(p),
    where A⁻¹ = warp.inverse acts on (row, col), c_src = (cs_r, cs_c) and the field (already in
    source coordinates, used if warp.elastic) is in work[_W_FIELD_R], work[_W_FIELD_C].
    """
    pad = scratch.pad
    work = scratch.work
    idx = scratch.idx
    ink = scratch.ink[1]
    a = warp.inverse
    grid_r = work[_W_ROW]
    grid_c = work[_W_COL]
    field_r = work[_W_FIELD_R]
    field_c = work[_W_FIELD_C]
    frac_r = work[_W_FRAC_R]
    frac_c = work[_W_FRAC_C]
    f00 = np.float32(a.a00)
    f01 = np.float32(a.a01)
    f10 = np.float32(a.a10)
    f11 = np.float32(a.a11)
    # Source position of pixel (0, 0), +1 for the padded frame.
    b_r = np.float32(a.a00 * (off_r - MNIST_CENTRE) + a.a01 * (off_c - MNIST_CENTRE) + cs_r + 1.0)
    b_c = np.float32(a.a10 * (off_r - MNIST_CENTRE) + a.a11 * (off_c - MNIST_CENTRE) + cs_c + 1.0)
    lo = np.float32(0.0)
    hi = np.float32(SIDE + 1)
    # Clamping to [0, 29] (padded) changes nothing: beyond, every neighbour is in the zero border.
    if warp.elastic:
        for i in range(PIXELS):
            y = min(max(b_r + f00 * grid_r[i] + f01 * grid_c[i] + field_r[i], lo), hi)
            x = min(max(b_c + f10 * grid_r[i] + f11 * grid_c[i] + field_c[i], lo), hi)
            iy = np.int32(y)
            ix = np.int32(x)
            frac_r[i] = y - np.float32(iy)
            frac_c[i] = x - np.float32(ix)
            idx[i] = np.uint32(iy * _PAD + ix)
    else:
        for i in range(PIXELS):
            y = min(max(b_r + f00 * grid_r[i] + f01 * grid_c[i], lo), hi)
            x = min(max(b_c + f10 * grid_r[i] + f11 * grid_c[i], lo), hi)
            iy = np.int32(y)
            ix = np.int32(x)
            frac_r[i] = y - np.float32(iy)
            frac_c[i] = x - np.float32(ix)
            idx[i] = np.uint32(iy * _PAD + ix)
    n_ink = np.uint64(0)
    for i in range(PIXELS):
        j = idx[i]
        p00 = pad[j]
        p01 = pad[j + np.uint32(1)]
        p10 = pad[j + np.uint32(_PAD)]
        p11 = pad[j + np.uint32(_PAD + 1)]
        fx = frac_c[i]
        top = p00 + fx * (p01 - p00)
        bot = p10 + fx * (p11 - p10)
        v = min(max(top + frac_r[i] * (bot - top), lo), np.float32(1.0))
        dst[i] = v
        ink[n_ink] = i  # listed as in _list_ink
        n_ink += np.uint64(v != 0.0)
    return _moments(dst, ink, n_ink, grid_r, grid_c)


@numba.njit(cache=True, error_model="numpy")
def warp_one(src, dst, warp, field, scratch):
    """Warps one image with ``warp`` (and ``field`` if warp.elastic), re-centring it as the
    module docstring of ``augment.py`` describes; returns the number of passes made."""
    mass, cs_r, cs_c, n_ink = _load_padded(src, scratch.pad, scratch.work, scratch.ink[0])
    if mass <= 0.0:
        for i in range(PIXELS):
            dst[i] = 0.0
        return 0
    work = scratch.work
    t_r = warp.t_r
    t_c = warp.t_c
    # The affine part is taken around the source centre of mass, so without the field the
    # output's centre of mass is already at (14, 14) + t, up to sampling and the border.
    shift_r = 0.0
    shift_c = 0.0
    bias_r = 0.0
    bias_c = 0.0
    # The field is evaluated once on a grid with an EXTENSION-pixel margin around the sampling
    # points of the first pass (offset -t); later passes take it from there, shifted.
    at_r = -t_r
    at_c = -t_c
    if warp.elastic:
        fill_extended(field, at_r, at_c, scratch.field)
    passes = 0
    while True:
        off_r = shift_r - t_r
        off_c = shift_c - t_c
        if warp.elastic:
            # The field at (r, c) + off: the whole warp is sampled at shifted points, so the
            # output is a translate of the first pass's warp (re-centring changes nothing else).
            d_r = off_r - at_r
            d_c = off_c - at_c
            if not (-EXTENSION <= d_r < EXTENSION and -EXTENSION <= d_c < EXTENSION):
                at_r = off_r  # a large correction (rare): evaluate the field again around it
                at_c = off_c
                fill_extended(field, at_r, at_c, scratch.field)
                d_r = 0.0
                d_c = 0.0
            shift_field(scratch.field.extended, d_r, d_c, work[_W_FIELD_R], work[_W_FIELD_C])
            if passes == 0:
                # A constant displacement is only a translation, which re-centring undoes
                # anyway: removing the field's mean over the digit up front brings the first
                # pass's centre of mass closer to its target.
                bias_r, bias_c = _mean_displacement(src, mass, scratch.ink[0], n_ink, work)
        m, cr, cc = _resample(dst, warp, cs_r - bias_r, cs_c - bias_c, off_r, off_c, scratch)
        passes += 1
        if not warp.recentre or m <= 0.0 or passes >= MAX_PASSES:
            break
        # Sampling at p + off shows the content moved by -off: correct off by the error.
        er = cr - (MNIST_CENTRE + t_r)
        ec = cc - (MNIST_CENTRE + t_c)
        if abs(er) <= warp.tolerance and abs(ec) <= warp.tolerance:
            break
        shift_r += er
        shift_c += ec
    return passes


@numba.njit(cache=True, error_model="numpy")
def new_scratch(nodes):
    """Scratch for warping one image at a time, with fields of ``nodes`` × ``nodes`` nodes."""
    work = np.zeros((6, PIXELS), dtype=np.float32)
    for r in range(SIDE):
        for c in range(SIDE):
            work[_W_ROW, r * SIDE + c] = r
            work[_W_COL, r * SIDE + c] = c
    return WarpScratch(
        np.zeros(_PAD * _PAD, dtype=np.float32),
        work,
        np.zeros(PIXELS, dtype=np.uint32),
        np.zeros((2, PIXELS), dtype=np.uint32),
        new_field_scratch(nodes),
    )


@numba.njit(cache=True, error_model="numpy")
def _augment_range(images, out, seed, ranges, passes_out, start, stop):
    """Augments images[start:stop] into out[start:stop] (own scratch; safe to run in parallel)."""
    if elastic_on(ranges):
        h, nodes = field_grid_size(ranges.elastic_sigma)
    else:
        h, nodes = 1.0, 4
    node_values = np.zeros((2, nodes, nodes), dtype=np.float32)
    scratch = new_scratch(nodes)
    for i in range(start, stop):
        state, warp = draw_warp(seed, i, ranges)
        field = ElasticField(node_values, 0.0, 0.0, h)
        if warp.elastic:
            state, field = draw_field(
                state, ranges.elastic_alpha, ranges.elastic_sigma, warp.inverse, node_values
            )
        passes_out[i] = warp_one(images[i], out[i], warp, field, scratch)


@numba.njit(cache=True, error_model="numpy", nogil=True)  # the app's GUI thread runs meanwhile
def augment_serial(images, out, seed, ranges, passes_out, start, stop):
    """Augments images[start:stop] into out[start:stop] with ``ranges`` (DistortionRanges),
    writing each image's number of passes into passes_out; releases the GIL."""
    _augment_range(images, out, seed, ranges, passes_out, start, stop)


@numba.njit(cache=True, error_model="numpy", parallel=True)
def augment_parallel(images, out, seed, ranges, passes_out, chunk):
    """Like :func:`augment_serial` for all the images, in chunks of ``chunk`` images spread over
    Numba's threads (the same output bit for bit)."""
    n = images.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for b in numba.prange(n_chunks):
        _augment_range(images, out, seed, ranges, passes_out, b * chunk, min(n, (b + 1) * chunk))


@numba.njit(cache=True, error_model="numpy")
def warp_single(image, out, warp):
    """Warps one image with a known warp (warp.elastic must be False); returns the passes."""
    no_field = ElasticField(np.zeros((2, 4, 4), dtype=np.float32), 0.0, 0.0, 1.0)
    return warp_one(image, out, warp, no_field, new_scratch(4))
