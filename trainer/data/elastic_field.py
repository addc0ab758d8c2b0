"""The elastic displacement field of one image (Simard, Steinkraus & Platt, 2003), built cheaply.

Simard et al. draw a uniform random displacement ``U(-1, 1)`` per pixel and axis, smooth it with
a normalised Gaussian of standard deviation ``σ`` and multiply it by ``α``. A Gaussian
convolution of a 28×28 field per image is the expensive part, so we build a field with the same
statistics cheaply: independent uniform values on a coarse grid of spacing ``h = √3·σ`` (8.7 px
for σ = 5: 8×8 nodes including margins), joined by cubic B-splines. A cubic B-spline is four box
filters convolved, the classic stand-in for a Gaussian; with ``h = √3·σ`` the field's
autocorrelation (a degree-7 B-spline of standard deviation ``h·√(2/3)``) is as wide as that of
Gaussian-smoothed white noise (a Gaussian of standard deviation ``σ·√2``), and the node amplitude
is set so that the RMS displacement equals Simard's, ``α/(2·√(3π)·σ)`` per axis (1.10 px for
α = 34, σ = 5). The grid has a random phase per image, so the field is statistically the same
everywhere. Measured against scipy's ``gaussian_filter`` version of Simard's recipe the RMS
displacement and RMS gradient agree within 3 % (``tests/test_augment.py`` checks it).

Re-centring samples the field at shifted points: :func:`fill_extended` evaluates it on a grid
with an :data:`EXTENSION`-pixel margin, :func:`shift_field` interpolates it from there.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from trainer.data.augment_grid import FASTMATH, SIDE
from trainer.data.counter_random import INV24, MASK24, S16, S40, image_state, next64, uniform
from trainer.data.distortions import WARP_DRAWS, InverseAffine

#: The elastic field's nodes cover [-_FIELD_MARGIN, 27 + _FIELD_MARGIN] in each axis, which holds
#: every point the re-centring and sensible translations evaluate it at (beyond, it is continued
#: with the value at the edge).
_FIELD_MARGIN = 8.0
#: The field is evaluated once per image on a (28 + 2·EXTENSION)² grid, so that re-centring can
#: take it at any shift in [-EXTENSION, EXTENSION) px without evaluating the B-spline again.
EXTENSION = 3
_G = SIDE + 2 * EXTENSION
#: Integral of the squared cubic B-spline (unit spacing): the mean over positions of
#: sum_k B(u - k)^2. In 2-D the tensor-product basis gives its square.
_BSPLINE_SQ_INTEGRAL = 151.0 / 315.0


class ElasticField(NamedTuple):
    """One image's field: node (i, j) at (origin_r + i·spacing, origin_c + j·spacing) px holds the
    displacement nodes[:, i, j] (row, col; float32, already through A⁻¹, so the interpolated field
    is a displacement in source coordinates)."""

    nodes: np.ndarray
    origin_r: float
    origin_c: float
    spacing: float


class FieldScratch(NamedTuple):
    """Scratch arrays for evaluating a field: the B-spline basis per axis (the first of the four
    nodes that matter, and their weights), the node rows folded along the columns, and the field
    on the extended grid (row and col components, flat)."""

    first: np.ndarray
    weights: np.ndarray
    folded: np.ndarray
    extended: np.ndarray


@numba.njit(cache=True, error_model="numpy")
def new_field_scratch(nodes):
    """Scratch for fields of ``nodes`` × ``nodes`` nodes."""
    return FieldScratch(
        np.zeros((2, _G), dtype=np.int64),
        np.zeros((2, 4, _G), dtype=np.float32),
        np.zeros((2, nodes, _G), dtype=np.float32),
        np.zeros((2, _G * _G), dtype=np.float32),
    )


@numba.njit(cache=True, error_model="numpy")
def field_grid_size(sigma):
    """Node spacing h and number of nodes per axis for Simard's sigma."""
    h = math.sqrt(3.0) * sigma
    span = (SIDE - 1) + 2.0 * _FIELD_MARGIN
    return h, int(math.floor(span / h)) + 4


@numba.njit(cache=True, error_model="numpy")
def draw_field(state, alpha, sigma, inverse, nodes):
    """Draws the node values and the grid origin; returns (state, :class:`ElasticField`).

    nodes (2, n, n) float32 receives ``inverse`` (A⁻¹) applied to each node's (row, col)
    displacement, so the interpolated field is directly a displacement in source coordinates
    (pass the identity to get the output-frame field).
    """
    h, n = field_grid_size(sigma)
    # Node values uniform in [-amp, amp] give an RMS displacement of amp/√3·∫B² per axis;
    # Simard's is alpha/√3·1/(2·√π·σ).
    amp = alpha / (2.0 * math.sqrt(math.pi) * sigma * _BSPLINE_SQ_INTEGRAL)
    state, ur = uniform(state)
    state, uc = uniform(state)
    # Random phase, so the field is statistically the same everywhere. The lowest coordinate
    # ever evaluated (-_FIELD_MARGIN) falls between nodes 1 and 2.
    origin_r = -_FIELD_MARGIN - ur * h - h
    origin_c = -_FIELD_MARGIN - uc * h - h
    for i in range(n):
        for j in range(n):
            # One 64-bit draw gives the node's two displacements (24 bits each).
            state, z = next64(state)
            dr = amp * (float(z >> S40) * INV24 * 2.0 - 1.0)
            dc = amp * (float((z >> S16) & MASK24) * INV24 * 2.0 - 1.0)
            nodes[0, i, j] = inverse.a00 * dr + inverse.a01 * dc
            nodes[1, i, j] = inverse.a10 * dr + inverse.a11 * dc
    return state, ElasticField(nodes, origin_r, origin_c, h)


@numba.njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def _bspline_weights(origin, h, n, count, first, w):
    """Cubic B-spline basis at the coordinates 0, 1, ..., count-1 for nodes at origin + k·h.

    first[x] receives the first of the 4 nodes that matter at x, w[0:4, x] their weights.
    Coordinates beyond the nodes are clamped (never reached with _FIELD_MARGIN >= the largest
    offset, see warp_kernels.warp_one).
    """
    inv_h = np.float32(1.0 / h)
    u0 = np.float32(-origin / h)
    u_lo = np.float32(1.0)
    u_hi = np.float32(n - 2) - np.float32(1e-3)
    sixth = np.float32(1.0 / 6.0)
    for x in range(count):
        u = min(max(u0 + np.float32(x) * inv_h, u_lo), u_hi)
        k = np.int32(u)
        f = u - np.float32(k)
        f2 = f * f
        f3 = f2 * f
        g = np.float32(1.0) - f
        first[x] = k - 1
        w[0, x] = g * g * g * sixth
        w[1, x] = (np.float32(3.0) * f3 - np.float32(6.0) * f2 + np.float32(4.0)) * sixth
        w[2, x] = (
            np.float32(-3.0) * f3 + np.float32(3.0) * f2 + np.float32(3.0) * f + np.float32(1.0)
        ) * sixth
        w[3, x] = f3 * sixth


@numba.njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def fill_extended(field, at_r, at_c, scratch):
    """Evaluates the field on the extended grid: scratch.extended[comp, u·G + v] = field(u - E +
    at_r, v - E + at_c) for u, v in [0, G), G = 28 + 2E, E = EXTENSION.

    Separable: 4 taps per grid column fold the node rows into scratch.folded (2, n, G), then 4
    taps per grid row.
    The hot loops use flat arrays and unsigned indices: Numba then skips its negative-index
    checks, which would otherwise stop LLVM from vectorising.
    """
    n = field.nodes.shape[1]
    first_r = scratch.first[0]
    first_c = scratch.first[1]
    w_r = scratch.weights[0]
    w_c = scratch.weights[1]
    _bspline_weights(field.origin_r - at_r + EXTENSION, field.spacing, n, _G, first_r, w_r)
    _bspline_weights(field.origin_c - at_c + EXTENSION, field.spacing, n, _G, first_c, w_c)
    cf = field.nodes.ravel()
    tf = scratch.folded.ravel()
    ef = scratch.extended.ravel()
    one = np.uint64(1)
    two = np.uint64(2)
    three = np.uint64(3)
    for comp in range(2):
        for k in range(first_r[0], first_r[_G - 1] + 4):
            cb = np.uint64((comp * n + k) * n)
            tb = np.uint64((comp * n + k) * _G)
            for v in range(_G):
                j = cb + np.uint64(first_c[v])
                tf[tb + np.uint64(v)] = (
                    w_c[0, v] * cf[j]
                    + w_c[1, v] * cf[j + one]
                    + w_c[2, v] * cf[j + two]
                    + w_c[3, v] * cf[j + three]
                )
    g1 = np.uint64(_G)
    g2 = np.uint64(2 * _G)
    g3 = np.uint64(3 * _G)
    for comp in range(2):
        for u in range(_G):
            tb = np.uint64((comp * n + first_r[u]) * _G)
            eb = np.uint64((comp * _G + u) * _G)
            w0 = w_r[0, u]
            w1 = w_r[1, u]
            w2 = w_r[2, u]
            w3 = w_r[3, u]
            for v in range(_G):
                j = tb + np.uint64(v)
                ef[eb + np.uint64(v)] = (
                    w0 * tf[j] + w1 * tf[j + g1] + w2 * tf[j + g2] + w3 * tf[j + g3]
                )


@numba.njit(cache=True, error_model="numpy", fastmath=FASTMATH)
def shift_field(ext, d_r, d_c, field_r, field_c):
    """field(p) = ext at (p + E + d), bilinear, for the 784 pixels p; needs -E <= d < E.

    The field is smooth on the scale of σ, so linear interpolation between its grid values is
    accurate to (d(1-d)/2)·|∂²field| ≈ 0.005 px for σ = 4 (unlike interpolating the image).
    """
    fl_r = math.floor(d_r)
    fl_c = math.floor(d_c)
    a_r = np.float32(d_r - fl_r)
    a_c = np.float32(d_c - fl_c)
    b_r = np.float32(1.0) - a_r
    b_c = np.float32(1.0) - a_c
    w00 = b_r * b_c
    w01 = b_r * a_c
    w10 = a_r * b_c
    w11 = a_r * a_c
    row0 = int(fl_r) + EXTENSION
    col0 = int(fl_c) + EXTENSION
    e0 = ext[0]
    e1 = ext[1]
    if a_r == 0.0 and a_c == 0.0:  # a whole-pixel shift (the first pass): copy
        for r in range(SIDE):
            s = np.uint64((r + row0) * _G + col0)
            o = np.uint64(r * SIDE)
            for c in range(SIDE):
                field_r[o + np.uint64(c)] = e0[s + np.uint64(c)]
            for c in range(SIDE):
                field_c[o + np.uint64(c)] = e1[s + np.uint64(c)]
        return
    one = np.uint64(1)
    down = np.uint64(_G)
    down1 = np.uint64(_G + 1)
    for r in range(SIDE):
        s = np.uint64((r + row0) * _G + col0)
        o = np.uint64(r * SIDE)
        for c in range(SIDE):
            j = s + np.uint64(c)
            field_r[o + np.uint64(c)] = (
                w00 * e0[j] + w01 * e0[j + one] + w10 * e0[j + down] + w11 * e0[j + down1]
            )
        for c in range(SIDE):
            j = s + np.uint64(c)
            field_c[o + np.uint64(c)] = (
                w00 * e1[j] + w01 * e1[j + one] + w10 * e1[j + down] + w11 * e1[j + down1]
            )


@numba.njit(cache=True, error_model="numpy")
def output_frame_fields(n, seed, alpha, sigma, out):
    """The fields of images 0..n-1 in the output frame into out (n, 2, 784), as if every image's
    elastic distortion were on (``augment.elastic_displacement_fields``)."""
    _, nodes = field_grid_size(sigma)
    node_values = np.zeros((2, nodes, nodes), dtype=np.float32)
    scratch = new_field_scratch(nodes)
    identity = InverseAffine(1.0, 0.0, 0.0, 1.0)
    for i in range(n):
        state = image_state(seed, np.uint64(i))
        for _ in range(WARP_DRAWS):  # the same stream position as in the augmentation
            state, _u = uniform(state)
        state, field = draw_field(state, alpha, sigma, identity, node_values)
        fill_extended(field, 0.0, 0.0, scratch)
        shift_field(scratch.extended, 0.0, 0.0, out[i, 0], out[i, 1])
