"""Data augmentation for training: random affine transforms and elastic distortions.

Every image gets its own random transform, drawn from a small counter-based random number
generator (splitmix64) keyed by ``(seed, image index)``, so the output is bitwise the same for the
same seed whatever the number of threads and however the batch is split.

What happens to one image (coordinates are 0-based ``(row, col)`` pixel centres)
---------------------------------------------------------------------------------
1. Its intensity-weighted centre of mass ``c`` is measured.
2. The forward transform is, around ``c``: scale (isotropic ``g`` and aspect ratio ``ρ``:
   width × ``g·ρ``, height × ``g/ρ``), then horizontal shear (slant: ``x' = x - k·y``, so
   ``k > 0`` leans the top to the right), then rotation (``θ > 0`` turns the digit
   counter-clockwise on screen), putting ``c`` on the MNIST centre ``(14, 14)``; then an elastic
   displacement field ``d`` (below) acts in the output frame.
3. The output is made by *inverse mapping*: output pixel ``p`` shows the original at
   ``A⁻¹·(p + o + d(p + o) - 14) + c``, bilinearly interpolated (zero outside the image), where
   ``o`` is a constant offset per image.
4. Re-centring (MNIST's convention: centre of mass at ``(14.0, 14.0)``) is folded into that one
   mapping instead of resampling the warped image: sampling at ``p + o`` shows the warp
   translated by ``-o``, so we measure the output's centre of mass, correct ``o`` by the error
   and resample *from the original* again, until the error is at most ``recentre_tolerance`` per
   axis (about 2 passes per image; at most ``_MAX_PASSES``). Every output pixel is interpolated
   exactly once: resampling the warped image by a sub-pixel shift would blur every stroke a
   second time (a half-pixel bilinear shift averages neighbouring pixels), and MNIST test digits
   are not blurred that way. The field itself is evaluated once per image on a grid with a
   3-pixel margin and shifted bilinearly for the later passes: it is smooth on the scale of σ,
   so that costs ~0.005 px of accuracy, unlike interpolating the image.
5. Last, a random translation ``t`` (uniform in ``±max_translation`` px per axis) is folded into
   the same offset, so the final centre of mass is at ``(14, 14) + t``: the network should not
   rely on a drawn digit being centred exactly the way MNIST's are.

Elastic field (Simard, Steinkraus & Platt, 2003)
------------------------------------------------
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
The field's mean over the digit is removed before the first pass: a constant displacement is a
translation, which re-centring undoes anyway, and removing it makes the first pass land closer.

Speed (``bench/bench_augment.py``, 54 000 MNIST images, 2-core AMD EPYC VM): 0.57 s
single-threaded with the defaults (10.6 µs per image: about 2 passes of ~3 µs, plus ~3 µs for
the field); 0.29 s with ``parallel=True``, which splits the batch over Numba's threads (same
output, bit for bit) when both cores are free. The affine part alone takes 0.19 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numba
import numpy as np

__all__ = [
    "AugmentParams",
    "NO_AUGMENTATION",
    "augment_images",
    "augment_image_range",
    "augment_images_with_stats",
    "warp_image",
    "elastic_displacement_fields",
    "MNIST_CENTRE",
]

#: MNIST puts the intensity-weighted centre of mass of each digit here (0-based row, col).
MNIST_CENTRE = 14.0
_SIDE = 28
_NPIX = _SIDE * _SIDE
#: The padded copy of the source image has one row/column of zeros on each side (plus one spare)
#: so bilinear sampling needs no bounds checks: coordinates are clamped to [-1, 28].
_PAD = 32
#: The elastic field's nodes cover [-_FIELD_MARGIN, 27 + _FIELD_MARGIN] in each axis, which holds
#: every point the re-centring and sensible translations evaluate it at (beyond, it is continued
#: with the value at the edge).
_FIELD_MARGIN = 8.0
_MAX_PASSES = 4
#: The field is evaluated once per image on a (28 + 2·_EXT)² grid, so that re-centring can take
#: it at any shift in [-_EXT, _EXT) px without evaluating the B-spline again.
_EXT = 3
_G = _SIDE + 2 * _EXT
#: Images per task with parallel=True (fixed, so the work split never depends on the threads).
_PARALLEL_CHUNK = 512
#: Integral of the squared cubic B-spline (unit spacing): the mean over positions of
#: sum_k B(u - k)^2. In 2-D the tensor-product basis gives its square.
_BSPLINE_SQ_INTEGRAL = 151.0 / 315.0


@dataclass(frozen=True)
class AugmentParams:
    """Ranges of the random transforms. Every value is drawn uniformly and independently per image.

    The defaults are Simard-like settings for training an MLP on MNIST, in the range of
    Cireşan et al. (2010, 0.35 % test error with a plain MLP: elastic σ = 5–6, α = 36–38,
    rotation/shear ±15°, scale ±15–20 %) but a little milder, since our training runs are far
    shorter: strong enough to change a digit's shape the way different writers do, mild enough
    that every digit stays readable and (mostly) inside the 28×28 field; see
    ``docs/augmentation.png``. Simard's own σ = 4 (with α = 34) stretches some strokes to twice
    their width and now and then tears a thin digit; σ = 5 keeps the same kind of wobble,
    smoother.
    """

    #: Rotation angle uniform in [-r, r] degrees (positive: counter-clockwise on screen).
    #: 12° covers the tilt of real handwriting; much more starts to confuse 6/9-like shapes
    #: and the slant of 1 and 7.
    max_rotation_deg: float = 12.0
    #: Isotropic scale factor uniform in [1 - s, 1 + s]. MNIST digits fill a 20×20 box; ±10 %
    #: varies the size as writers do and keeps the largest digits (mostly) inside the field.
    max_scale: float = 0.10
    #: Aspect ratio factor ρ uniform in [1 - a, 1 + a]; width is multiplied by ρ and height
    #: divided by it (narrow and wide writers).
    max_aspect: float = 0.10
    #: Horizontal shear (slant) k uniform in [-k, k]: x' = x - k·y around the centre of mass.
    #: 0.2 is a slant of about ±11°.
    max_shear: float = 0.2
    #: Translation uniform in [-t, t] px per axis, applied *after* re-centring, so the output
    #: centre of mass is (14, 14) + translation: robustness to centring error (MNIST's own
    #: centres of mass scatter by ±0.5 px, a drawn digit's may be off by more). More than this
    #: pushes too many digits against the border. Set 0 for exactly centred digits.
    max_translation: float = 1.0
    #: Simard's α (px): the scale of the elastic displacement. The RMS displacement per axis is
    #: α / (2·√(3π)·σ): 1.10 px for α = 34, σ = 5 (Simard et al., 2003: α = 34, σ = 4).
    elastic_alpha: float = 34.0
    #: Simard's σ (px): the correlation length; sets the B-spline node spacing √3·σ.
    elastic_sigma: float = 5.0
    #: Probability that an image gets an elastic distortion at all (the affine part is always
    #: applied).
    elastic_probability: float = 1.0
    #: Re-centre each output on (14, 14) by its centre of mass (before the translation).
    recentre: bool = True
    #: Re-centring stops when the centre of mass is within this many px of its target per axis
    #: (a digit cut by the border may stay further off after the last pass).
    recentre_tolerance: float = 0.1

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "recentre":
                if not isinstance(value, (bool, np.bool_)):
                    raise TypeError(f"AugmentParams.recentre must be a bool, got {value!r}")
                continue
            if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(
                value, (bool, np.bool_)
            ):
                raise TypeError(f"AugmentParams.{f.name} must be a number, got {value!r}")
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"AugmentParams.{f.name} must be finite and >= 0, got {value!r}")
        if self.max_rotation_deg > 180:
            raise ValueError("AugmentParams.max_rotation_deg must be <= 180")
        if self.max_scale >= 1 or self.max_aspect >= 1:
            raise ValueError("AugmentParams.max_scale and max_aspect must be < 1")
        if self.max_shear > 2 or self.max_translation > 14:
            raise ValueError("AugmentParams.max_shear must be <= 2 and max_translation <= 14")
        if self.elastic_alpha > 0 and self.elastic_probability > 0 and self.elastic_sigma < 0.5:
            raise ValueError("AugmentParams.elastic_sigma must be >= 0.5 px when elastic is on")
        if self.elastic_probability > 1:
            raise ValueError("AugmentParams.elastic_probability must be <= 1")
        if self.recentre_tolerance < 1e-4:
            raise ValueError("AugmentParams.recentre_tolerance must be >= 1e-4 px")

    def _as_array(self) -> np.ndarray:
        return np.array(
            [
                math.radians(self.max_rotation_deg),
                self.max_scale,
                self.max_aspect,
                self.max_shear,
                self.max_translation,
                self.elastic_alpha,
                self.elastic_sigma,
                self.elastic_probability,
                1.0 if self.recentre else 0.0,
                self.recentre_tolerance,
            ],
            dtype=np.float64,
        )


#: All ranges zero: each image is only re-centred on (14, 14) (sub-pixel shift, bilinear).
NO_AUGMENTATION = AugmentParams(
    max_rotation_deg=0.0,
    max_scale=0.0,
    max_aspect=0.0,
    max_shear=0.0,
    max_translation=0.0,
    elastic_alpha=0.0,
    elastic_probability=0.0,
)

# ---------------------------------------------------------------------------------------------
# Counter-based random numbers: splitmix64 (Steele, Lea & Flood, 2014), keyed by (seed, index).
# All integer arithmetic stays in uint64 (mixing uint64 with int64 would make Numba use floats).

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_S16 = np.uint64(16)
_S40 = np.uint64(40)
_MASK24 = np.uint64(0xFFFFFF)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
_INV24 = 1.0 / 16777216.0  # 2**-24


@numba.njit(cache=True, error_model="numpy")
def _mix64(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True, error_model="numpy")
def _image_state(seed, index):
    """The starting state of image ``index``'s stream (both uint64)."""
    return _mix64(_mix64(seed) + _mix64(index ^ _GAMMA))


@numba.njit(cache=True, error_model="numpy")
def _next64(state):
    """Returns (new_state, z) with z a uniformly distributed uint64."""
    state = state + _GAMMA
    return state, _mix64(state)


@numba.njit(cache=True, error_model="numpy")
def _uniform(state):
    """Returns (new_state, u) with u uniform in [0, 1) (53 bits)."""
    state, z = _next64(state)
    return state, float(z >> _S11) * _INV53


# ---------------------------------------------------------------------------------------------
# Numerical kernels.
#
# Per-pixel work is float32 loops over all 784 pixels at once (or over rows of the field grid),
# which LLVM vectorises; the only scalar part is the bilinear gather. No ``contract`` or
# ``reassoc``: with them LLVM fused and reordered differently when a kernel was compiled in the
# process than in the copy Numba had cached, so a first run (empty cache) and a second one
# augmented a few images differently (by ~1e-6) and trained different models from one seed.
# Without them the speed is the same here and each image's arithmetic is fixed.

_FASTMATH = {"nsz"}

# Rows of the float32 per-pixel work array.
_W_ROW, _W_COL, _W_FIELD_R, _W_FIELD_C, _W_FRAC_R, _W_FRAC_C = range(6)


@numba.njit(cache=True, error_model="numpy")
def _field_grid_size(sigma):
    """Node spacing h and number of nodes per axis for Simard's sigma."""
    h = math.sqrt(3.0) * sigma
    span = (_SIDE - 1) + 2.0 * _FIELD_MARGIN
    return h, int(math.floor(span / h)) + 4


@numba.njit(cache=True, error_model="numpy")
def _draw_field(state, alpha, sigma, a00, a01, a10, a11, coeffs):
    """Draws the node values and the grid origin; returns (state, origin_r, origin_c).

    coeffs (2, n, n) float32 receives A⁻¹ applied to each node's (row, col) displacement, so the
    interpolated field is directly a displacement in source coordinates (pass the identity to get
    the output-frame field). Node (i, j) sits at (origin_r + i·h, origin_c + j·h).
    """
    h, n = _field_grid_size(sigma)
    # Node values uniform in [-amp, amp] give an RMS displacement of amp/√3·∫B² per axis;
    # Simard's is alpha/√3·1/(2·√π·σ).
    amp = alpha / (2.0 * math.sqrt(math.pi) * sigma * _BSPLINE_SQ_INTEGRAL)
    state, ur = _uniform(state)
    state, uc = _uniform(state)
    # Random phase, so the field is statistically the same everywhere. The lowest coordinate
    # ever evaluated (-_FIELD_MARGIN) falls between nodes 1 and 2.
    origin_r = -_FIELD_MARGIN - ur * h - h
    origin_c = -_FIELD_MARGIN - uc * h - h
    for i in range(n):
        for j in range(n):
            # One 64-bit draw gives the node's two displacements (24 bits each).
            state, z = _next64(state)
            dr = amp * (float(z >> _S40) * _INV24 * 2.0 - 1.0)
            dc = amp * (float((z >> _S16) & _MASK24) * _INV24 * 2.0 - 1.0)
            coeffs[0, i, j] = a00 * dr + a01 * dc
            coeffs[1, i, j] = a10 * dr + a11 * dc
    return state, origin_r, origin_c


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _bspline_weights(origin, h, n, count, first, w):
    """Cubic B-spline basis at the coordinates 0, 1, ..., count-1 for nodes at origin + k·h.

    first[x] receives the first of the 4 nodes that matter at x, w[0:4, x] their weights.
    Coordinates beyond the nodes are clamped (never reached with _FIELD_MARGIN >= the largest
    offset, see _warp_one).
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


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _field_extended(coeffs, origin_r, origin_c, h, at_r, at_c, fs_first, fs_w, tmp, ext):
    """Evaluates the field on the extended grid: ext[comp, u·G + v] = field(u - E + at_r,
    v - E + at_c) for u, v in [0, G), G = 28 + 2E, E = _EXT.

    Separable: 4 taps per grid column fold the node rows into tmp (2, n, G), then 4 taps per
    grid row. fs_first (2, G) and fs_w (2, 4, G) are scratch for the basis weights.
    The hot loops use flat arrays and unsigned indices: Numba then skips its negative-index
    checks, which would otherwise stop LLVM from vectorising.
    """
    n = coeffs.shape[1]
    first_r = fs_first[0]
    first_c = fs_first[1]
    w_r = fs_w[0]
    w_c = fs_w[1]
    _bspline_weights(origin_r - at_r + _EXT, h, n, _G, first_r, w_r)
    _bspline_weights(origin_c - at_c + _EXT, h, n, _G, first_c, w_c)
    cf = coeffs.ravel()
    tf = tmp.ravel()
    ef = ext.ravel()
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


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _shift_field(ext, d_r, d_c, field_r, field_c):
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
    row0 = int(fl_r) + _EXT
    col0 = int(fl_c) + _EXT
    e0 = ext[0]
    e1 = ext[1]
    if a_r == 0.0 and a_c == 0.0:  # a whole-pixel shift (the first pass): copy
        for r in range(_SIDE):
            s = np.uint64((r + row0) * _G + col0)
            o = np.uint64(r * _SIDE)
            for c in range(_SIDE):
                field_r[o + np.uint64(c)] = e0[s + np.uint64(c)]
            for c in range(_SIDE):
                field_c[o + np.uint64(c)] = e1[s + np.uint64(c)]
        return
    one = np.uint64(1)
    down = np.uint64(_G)
    down1 = np.uint64(_G + 1)
    for r in range(_SIDE):
        s = np.uint64((r + row0) * _G + col0)
        o = np.uint64(r * _SIDE)
        for c in range(_SIDE):
            j = s + np.uint64(c)
            field_r[o + np.uint64(c)] = (
                w00 * e0[j] + w01 * e0[j + one] + w10 * e0[j + down] + w11 * e0[j + down1]
            )
        for c in range(_SIDE):
            j = s + np.uint64(c)
            field_c[o + np.uint64(c)] = (
                w00 * e1[j] + w01 * e1[j + one] + w10 * e1[j + down] + w11 * e1[j + down1]
            )


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _moments(image, grid_r, grid_c):
    """Ink mass and first moments (Σv, Σv·row, Σv·col) of a flat 28×28 image, in float32."""
    mass = np.float32(0.0)
    sr = np.float32(0.0)
    sc = np.float32(0.0)
    for i in range(_NPIX):
        v = image[i]
        mass += v
        sr += v * grid_r[i]
        sc += v * grid_c[i]
    return mass, sr, sc


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _load_padded(src, pad, work):
    """Copies the source into the zero-bordered flat pad (pixel (r, c) at (r+1)·32 + c+1).

    Returns (mass, com_r, com_c) of the source.
    """
    mass, sr, sc = _moments(src, work[_W_ROW], work[_W_COL])
    for r in range(_SIDE):
        base = np.uint64((r + 1) * _PAD + 1)
        row = np.uint64(r * _SIDE)
        for c in range(_SIDE):
            pad[base + np.uint64(c)] = src[row + np.uint64(c)]
    if mass > 0.0:
        return float(mass), float(sr) / float(mass), float(sc) / float(mass)
    return 0.0, MNIST_CENTRE, MNIST_CENTRE


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _mean_displacement(src, mass, work):
    """The field's mean over the digit, weighted by the source's ink: (row, col)."""
    field_r = work[_W_FIELD_R]
    field_c = work[_W_FIELD_C]
    mr = np.float32(0.0)
    mc = np.float32(0.0)
    for i in range(_NPIX):
        mr += src[i] * field_r[i]
        mc += src[i] * field_c[i]
    return float(mr) / mass, float(mc) / mass


@numba.njit(cache=True, error_model="numpy", fastmath=_FASTMATH)
def _resample(pad, dst, a00, a01, a10, a11, cs_r, cs_c, off_r, off_c, use_field, work, idx):
    """One inverse-mapping pass into dst; returns (mass, com_r, com_c) of the output.

    Output pixel p = (r, c) samples the source at s = A⁻¹·(p + off - 14) + c_src + field(p),
    where A⁻¹ = [[a00, a01], [a10, a11]] acts on (row, col) and the field (already in source
    coordinates) is in work[_W_FIELD_R], work[_W_FIELD_C].
    """
    grid_r = work[_W_ROW]
    grid_c = work[_W_COL]
    field_r = work[_W_FIELD_R]
    field_c = work[_W_FIELD_C]
    frac_r = work[_W_FRAC_R]
    frac_c = work[_W_FRAC_C]
    f00 = np.float32(a00)
    f01 = np.float32(a01)
    f10 = np.float32(a10)
    f11 = np.float32(a11)
    # Source position of pixel (0, 0), +1 for the padded frame.
    b_r = np.float32(a00 * (off_r - MNIST_CENTRE) + a01 * (off_c - MNIST_CENTRE) + cs_r + 1.0)
    b_c = np.float32(a10 * (off_r - MNIST_CENTRE) + a11 * (off_c - MNIST_CENTRE) + cs_c + 1.0)
    lo = np.float32(0.0)
    hi = np.float32(_SIDE + 1)
    # Clamping to [0, 29] (padded) changes nothing: beyond, every neighbour is in the zero border.
    if use_field:
        for i in range(_NPIX):
            y = min(max(b_r + f00 * grid_r[i] + f01 * grid_c[i] + field_r[i], lo), hi)
            x = min(max(b_c + f10 * grid_r[i] + f11 * grid_c[i] + field_c[i], lo), hi)
            iy = np.int32(y)
            ix = np.int32(x)
            frac_r[i] = y - np.float32(iy)
            frac_c[i] = x - np.float32(ix)
            idx[i] = np.uint32(iy * _PAD + ix)
    else:
        for i in range(_NPIX):
            y = min(max(b_r + f00 * grid_r[i] + f01 * grid_c[i], lo), hi)
            x = min(max(b_c + f10 * grid_r[i] + f11 * grid_c[i], lo), hi)
            iy = np.int32(y)
            ix = np.int32(x)
            frac_r[i] = y - np.float32(iy)
            frac_c[i] = x - np.float32(ix)
            idx[i] = np.uint32(iy * _PAD + ix)
    for i in range(_NPIX):
        j = idx[i]
        p00 = pad[j]
        p01 = pad[j + np.uint32(1)]
        p10 = pad[j + np.uint32(_PAD)]
        p11 = pad[j + np.uint32(_PAD + 1)]
        fx = frac_c[i]
        top = p00 + fx * (p01 - p00)
        bot = p10 + fx * (p11 - p10)
        dst[i] = min(max(top + frac_r[i] * (bot - top), lo), np.float32(1.0))
    mass, sr, sc = _moments(dst, grid_r, grid_c)
    if mass > 0.0:
        return float(mass), float(sr) / float(mass), float(sc) / float(mass)
    return 0.0, MNIST_CENTRE, MNIST_CENTRE


@numba.njit(cache=True, error_model="numpy")
def _warp_one(
    src,
    dst,
    a00,
    a01,
    a10,
    a11,
    t_r,
    t_c,
    use_field,
    coeffs,
    origin_r,
    origin_c,
    h,
    recentre,
    tol,
    pad,
    work,
    idx,
    fs_first,
    fs_w,
    tmp,
    ext,
):
    """Warps one image (see the module docstring); returns the number of passes made."""
    mass, cs_r, cs_c = _load_padded(src, pad, work)
    if mass <= 0.0:
        for i in range(_NPIX):
            dst[i] = 0.0
        return 0
    # The affine part is taken around the source centre of mass, so without the field the
    # output's centre of mass is already at (14, 14) + t, up to sampling and the border.
    shift_r = 0.0
    shift_c = 0.0
    bias_r = 0.0
    bias_c = 0.0
    # The field is evaluated once on a grid with an _EXT-pixel margin around the sampling
    # points of the first pass (offset -t); later passes take it from there, shifted.
    at_r = -t_r
    at_c = -t_c
    if use_field:
        _field_extended(coeffs, origin_r, origin_c, h, at_r, at_c, fs_first, fs_w, tmp, ext)
    passes = 0
    while True:
        off_r = shift_r - t_r
        off_c = shift_c - t_c
        if use_field:
            # The field at (r, c) + off: the whole warp is sampled at shifted points, so the
            # output is a translate of the first pass's warp (re-centring changes nothing else).
            d_r = off_r - at_r
            d_c = off_c - at_c
            if not (-_EXT <= d_r < _EXT and -_EXT <= d_c < _EXT):
                at_r = off_r  # a large correction (rare): evaluate the field again around it
                at_c = off_c
                _field_extended(coeffs, origin_r, origin_c, h, at_r, at_c, fs_first, fs_w, tmp, ext)
                d_r = 0.0
                d_c = 0.0
            _shift_field(ext, d_r, d_c, work[_W_FIELD_R], work[_W_FIELD_C])
            if passes == 0:
                # A constant displacement is only a translation, which re-centring undoes
                # anyway: removing the field's mean over the digit up front brings the first
                # pass's centre of mass closer to its target.
                bias_r, bias_c = _mean_displacement(src, mass, work)
        m, cr, cc = _resample(
            pad,
            dst,
            a00,
            a01,
            a10,
            a11,
            cs_r - bias_r,
            cs_c - bias_c,
            off_r,
            off_c,
            use_field,
            work,
            idx,
        )
        passes += 1
        if not recentre or m <= 0.0 or passes >= _MAX_PASSES:
            break
        # Sampling at p + off shows the content moved by -off: correct off by the error.
        er = cr - (MNIST_CENTRE + t_r)
        ec = cc - (MNIST_CENTRE + t_c)
        if abs(er) <= tol and abs(ec) <= tol:
            break
        shift_r += er
        shift_c += ec
    return passes


@numba.njit(cache=True, error_model="numpy")
def _affine_inverse(theta, sx, sy, k):
    """A⁻¹ in (row, col) order for A = R(θ)·Shear(k)·diag(sx, sy) in (x = col, y = row) order.

    R(θ) (counter-clockwise on screen, y down): x' = x·cosθ + y·sinθ, y' = -x·sinθ + y·cosθ.
    Shear: x' = x - k·y.
    """
    cs = math.cos(theta)
    sn = math.sin(theta)
    # Shear·Scale = [[sx, -k·sy], [0, sy]] in (x, y); M = R·Shear·Scale
    m_xx = cs * sx
    m_xy = -cs * k * sy + sn * sy
    m_yx = -sn * sx
    m_yy = sn * k * sy + cs * sy
    det = m_xx * m_yy - m_xy * m_yx
    i_xx = m_yy / det
    i_xy = -m_xy / det
    i_yx = -m_yx / det
    i_yy = m_xx / det
    # (row, col) order: row' = i_yy·row + i_yx·col, col' = i_xy·row + i_xx·col
    return i_yy, i_yx, i_xy, i_xx


@numba.njit(cache=True, error_model="numpy")
def _new_work():
    work = np.zeros((6, _NPIX), dtype=np.float32)
    for r in range(_SIDE):
        for c in range(_SIDE):
            work[_W_ROW, r * _SIDE + c] = r
            work[_W_COL, r * _SIDE + c] = c
    return work


@numba.njit(cache=True, error_model="numpy")
def _augment_range(images, out, seed, p, passes_out, start, stop):
    """Augments images[start:stop] into out[start:stop] (own scratch; safe to run in parallel)."""
    max_rot = p[0]
    max_scale = p[1]
    max_aspect = p[2]
    max_shear = p[3]
    max_trans = p[4]
    alpha = p[5]
    sigma = p[6]
    p_elastic = p[7]
    recentre = p[8] != 0.0
    tol = p[9]
    field_on = alpha > 0.0 and p_elastic > 0.0
    if field_on:
        h, nodes = _field_grid_size(sigma)
    else:
        h, nodes = 1.0, 4
    coeffs = np.zeros((2, nodes, nodes), dtype=np.float32)
    tmp = np.zeros((2, nodes, _G), dtype=np.float32)
    fs_first = np.zeros((2, _G), dtype=np.int64)
    fs_w = np.zeros((2, 4, _G), dtype=np.float32)
    ext = np.zeros((2, _G * _G), dtype=np.float32)
    pad = np.zeros(_PAD * _PAD, dtype=np.float32)
    work = _new_work()
    idx = np.zeros(_NPIX, dtype=np.uint32)
    for i in range(start, stop):
        # The same draws in the same order for every image whatever the parameters, so an
        # image's stream depends only on (seed, i).
        state = _image_state(seed, np.uint64(i))
        state, u_rot = _uniform(state)
        state, u_scale = _uniform(state)
        state, u_aspect = _uniform(state)
        state, u_shear = _uniform(state)
        state, u_tr = _uniform(state)
        state, u_tc = _uniform(state)
        state, u_el = _uniform(state)
        theta = max_rot * (2.0 * u_rot - 1.0)
        g = 1.0 + max_scale * (2.0 * u_scale - 1.0)
        rho = 1.0 + max_aspect * (2.0 * u_aspect - 1.0)
        k = max_shear * (2.0 * u_shear - 1.0)
        t_r = max_trans * (2.0 * u_tr - 1.0)
        t_c = max_trans * (2.0 * u_tc - 1.0)
        a00, a01, a10, a11 = _affine_inverse(theta, g * rho, g / rho, k)
        use_field = field_on and u_el < p_elastic
        origin_r = 0.0
        origin_c = 0.0
        if use_field:
            state, origin_r, origin_c = _draw_field(state, alpha, sigma, a00, a01, a10, a11, coeffs)
        passes_out[i] = _warp_one(
            images[i],
            out[i],
            a00,
            a01,
            a10,
            a11,
            t_r,
            t_c,
            use_field,
            coeffs,
            origin_r,
            origin_c,
            h,
            recentre,
            tol,
            pad,
            work,
            idx,
            fs_first,
            fs_w,
            tmp,
            ext,
        )


@numba.njit(cache=True, error_model="numpy", nogil=True)  # the app's GUI thread runs meanwhile
def _augment_serial(images, out, seed, p, passes_out, start, stop):
    _augment_range(images, out, seed, p, passes_out, start, stop)


@numba.njit(cache=True, error_model="numpy", parallel=True)
def _augment_parallel(images, out, seed, p, passes_out, chunk):
    n = images.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for b in numba.prange(n_chunks):
        _augment_range(images, out, seed, p, passes_out, b * chunk, min(n, (b + 1) * chunk))


@numba.njit(cache=True, error_model="numpy")
def _fields_kernel(n, seed, alpha, sigma, out):
    h, nodes = _field_grid_size(sigma)
    coeffs = np.zeros((2, nodes, nodes), dtype=np.float32)
    tmp = np.zeros((2, nodes, _G), dtype=np.float32)
    fs_first = np.zeros((2, _G), dtype=np.int64)
    fs_w = np.zeros((2, 4, _G), dtype=np.float32)
    ext = np.zeros((2, _G * _G), dtype=np.float32)
    for i in range(n):
        state = _image_state(seed, np.uint64(i))
        for _ in range(7):  # the same stream position as in _augment_range
            state, _u = _uniform(state)
        state, origin_r, origin_c = _draw_field(state, alpha, sigma, 1.0, 0.0, 0.0, 1.0, coeffs)
        _field_extended(coeffs, origin_r, origin_c, h, 0.0, 0.0, fs_first, fs_w, tmp, ext)
        _shift_field(ext, 0.0, 0.0, out[i, 0], out[i, 1])


@numba.njit(cache=True, error_model="numpy")
def _warp_single(image, out, a00, a01, a10, a11, t_r, t_c, recentre, tol):
    coeffs = np.zeros((2, 4, 4), dtype=np.float32)
    tmp = np.zeros((2, 4, _G), dtype=np.float32)
    fs_first = np.zeros((2, _G), dtype=np.int64)
    fs_w = np.zeros((2, 4, _G), dtype=np.float32)
    ext = np.zeros((2, _G * _G), dtype=np.float32)
    pad = np.zeros(_PAD * _PAD, dtype=np.float32)
    work = _new_work()
    idx = np.zeros(_NPIX, dtype=np.uint32)
    return _warp_one(
        image,
        out,
        a00,
        a01,
        a10,
        a11,
        t_r,
        t_c,
        False,
        coeffs,
        0.0,
        0.0,
        1.0,
        recentre,
        tol,
        pad,
        work,
        idx,
        fs_first,
        fs_w,
        tmp,
        ext,
    )


# ---------------------------------------------------------------------------------------------
# Public API.


def _seed_u64(seed: int) -> np.uint64:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)


def _check_batch(images: np.ndarray, out: np.ndarray) -> None:
    for name, a in (("images", images), ("out", out)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy array")
        if a.dtype != np.float32 or a.ndim != 2 or a.shape[1] != _NPIX:
            raise ValueError(f"{name} must be float32 of shape (n, 784), got {a.dtype} {a.shape}")
        if not a.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous")
    if out.shape != images.shape:
        raise ValueError(f"out has shape {out.shape}, images {images.shape}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")
    if np.shares_memory(images, out):
        raise ValueError("out must not share memory with images")


def augment_images(
    images: np.ndarray,
    out: np.ndarray,
    seed: int,
    params: AugmentParams = AugmentParams(),
    *,
    parallel: bool = False,
) -> None:
    """Writes a randomly distorted copy of every image into ``out``.

    ``images`` and ``out`` are ``(n, 784)`` float32 C-contiguous arrays (row-major 28×28, values
    in [0, 1]); ``out`` must not overlap ``images``. Image ``i`` gets a transform drawn from a
    stream keyed by ``(seed, i)``: the same seed gives bitwise the same output, so use a new
    seed per epoch (e.g. ``seed = run_seed * 1_000_003 + epoch``). Output values are in [0, 1]
    (no NaN for finite input); an all-zero image stays all zero.

    Single-threaded by default (about 10 µs per image). ``parallel=True`` spreads fixed chunks of
    512 images over Numba's threads (``numba.set_num_threads`` limits them); the output is the
    same bit for bit. Worth it when nothing else is computing at the same time.
    """
    augment_images_with_stats(images, out, seed, params, parallel=parallel)


def _run(images, out, seed, params, parallel) -> np.ndarray:
    passes = np.zeros(images.shape[0], dtype=np.int8)
    if images.shape[0] == 0:
        return passes
    if parallel and images.shape[0] > _PARALLEL_CHUNK:
        _augment_parallel(images, out, _seed_u64(seed), params._as_array(), passes, _PARALLEL_CHUNK)
    else:
        _augment_serial(images, out, _seed_u64(seed), params._as_array(), passes, 0, len(images))
    return passes


def augment_image_range(
    images: np.ndarray,
    out: np.ndarray,
    seed: int,
    start: int,
    stop: int,
    params: AugmentParams = AugmentParams(),
) -> None:
    """Like :func:`augment_images`, for ``images[start:stop]`` into ``out[start:stop]`` only.

    Image ``i`` keeps the stream keyed by ``(seed, i)``, its index in the whole array: ranges done
    one by one, or in several threads at once (the kernel releases the GIL), give bit for bit the
    output of one call to :func:`augment_images`.
    """
    _check_batch(images, out)
    if not 0 <= start <= stop <= images.shape[0]:
        raise ValueError(f"range [{start}, {stop}) is not within the {images.shape[0]} images")
    passes = np.zeros(images.shape[0], dtype=np.int8)
    _augment_serial(images, out, _seed_u64(seed), params._as_array(), passes, start, stop)


def augment_images_with_stats(
    images: np.ndarray,
    out: np.ndarray,
    seed: int,
    params: AugmentParams = AugmentParams(),
    *,
    parallel: bool = False,
) -> np.ndarray:
    """Like :func:`augment_images`; also returns the number of resampling passes per image
    (int8; 0 for an empty image). For the benchmark and the tests."""
    _check_batch(images, out)
    if not isinstance(params, AugmentParams):
        raise TypeError("params must be an AugmentParams")
    return _run(images, out, seed, params, parallel)


def warp_image(
    image: np.ndarray,
    *,
    rotation_deg: float = 0.0,
    scale: tuple[float, float] = (1.0, 1.0),
    shear: float = 0.0,
    translation: tuple[float, float] = (0.0, 0.0),
    recentre: bool = True,
    tolerance: float = 0.02,
) -> np.ndarray:
    """Applies one known affine transform (no randomness, no elastic field) to one image.

    The same code path as :func:`augment_images`: rotation (degrees, counter-clockwise on
    screen), ``scale`` = (sx, sy) for width and height, horizontal ``shear`` (x' = x - k·y), all
    around the image's centre of mass, which lands on (14, 14) + ``translation`` (row, col).
    Returns a new (784,) float32 array. For tests and diagnostics.
    """
    src = np.ascontiguousarray(image, dtype=np.float32).reshape(_NPIX)
    out = np.empty(_NPIX, dtype=np.float32)
    a00, a01, a10, a11 = _affine_inverse(
        math.radians(rotation_deg), float(scale[0]), float(scale[1]), float(shear)
    )
    _warp_single(
        src,
        out,
        a00,
        a01,
        a10,
        a11,
        float(translation[0]),
        float(translation[1]),
        bool(recentre),
        float(tolerance),
    )
    return out


def elastic_displacement_fields(
    n: int, seed: int, params: AugmentParams = AugmentParams()
) -> np.ndarray:
    """The elastic displacement fields (row, col) of images 0..n-1 for ``seed``: (n, 2, 28, 28).

    Exactly the fields :func:`augment_images` draws (in the output frame, before the affine
    part is applied to them) for the images whose elastic distortion is on, in px (float32).
    For inspection and tests.
    """
    out = np.zeros((n, 2, _NPIX), dtype=np.float32)
    if params.elastic_alpha > 0:
        _fields_kernel(
            n, _seed_u64(seed), float(params.elastic_alpha), float(params.elastic_sigma), out
        )
    return out.reshape(n, 2, _SIDE, _SIDE)
