"""Where strokes become pixels: the one function from a drawing to the network's 784 inputs.

:func:`strokes_to_input` turns pen strokes (screen points, any size, anywhere) into a 28×28 image made
the way MNIST was made (LeCun, Cortes & Burges): the digit's ink bounding box is scaled, keeping the
aspect ratio, so that its longer side is 20 px; it is drawn anti-aliased; then it is placed in the 28×28
field so that the intensity-weighted centre of mass is at (row, col) = (14.0, 14.0) in 0-based pixel
coordinates. Pixel (row i, column j) samples the point x = j, y = i of the 28×28 plane.

The steps:

1. Bounding box of all points. The centre line is scaled uniformly so that its longer side is
   ``20 - pen_width`` px: the ink is the centre line *plus* the pen, so the rendered ink's longer side
   (measured at the 0.5 coverage level) is 20 px. (Scaling the centre line itself to 20 px makes the
   digits ~20 % larger than MNIST's, which was measured to cost 2–3 points on real pen digits.) The
   pen width is given in 28×28 pixels, so it is relative to the digit's size, not to how big it was drawn.
   A drawing with no extent (a click, repeated identical points) becomes a round dot of diameter
   ``pen_width``; a perfectly straight horizontal or vertical line gets 20 px of ink along its length and
   just the pen width across it.
2. Points closer than :data:`MIN_POINT_DISTANCE` (28×28 px) to the previous kept point of their
   stroke are dropped (speed for very dense input; invisible in the result).
3. Every stroke is rendered as a chain of round-capped segments (a lone point is a round dot). A pixel's
   value is ``clip((pen_width / 2 - d) / edge_width + 0.5, 0, 1)``, where ``d`` is the distance from
   the pixel to the nearest segment: full ink inside the pen, a linear ramp ``edge_width`` px wide
   centred on the pen's edge (what area-coverage anti-aliasing gives for a straight edge), max over
   segments (overlaps do not add up).
4. Centring with sub-pixel accuracy: the first rendering is placed with its bounding box centred (all
   the ink is visible); its centre of mass is measured and the drawing is rendered again, analytically,
   at the corrected offset, repeating (at most :data:`_MAX_CENTRING_RENDERS` renderings) until the centre
   of mass is within 0.01 px of (14, 14). Ink that then falls outside the 28×28 field is clipped (rare:
   only digits whose mass sits far from their box's centre). MNIST itself was shifted by whole pixels
   (its centres of mass scatter with std 0.29 px ≈ 1/√12); we place exactly instead.

Tuning of :data:`PEN_WIDTH` and :data:`EDGE_WIDTH` (throwaway scripts, not in the repo): all 5159
digits of the UNIPEN pen-digit dev set (``../shared/data/pen-digits-dev.jsonl.gz``) were rendered and
compared with the 60 000 MNIST training digits on statistics that do not depend on what the digits
look like, overall and per label:

* stroke width = total ink / skeleton length (skeleton: Zhang–Suen thinning of the pixels > 0.5;
  length: 1 per axial and √2 per unbridged diagonal link) — the same estimator on both sets, so its
  biases cancel; the median over digits is quoted;
* mean value of the inked (> 0) pixels, and the grey fraction: share of inked pixels in (0, 0.9) —
  these two fix the edge ramp.

    quantity           MNIST    rendered pen digits, pen_width / edge_width
                                2.0/1   2.2/1   2.3/1   2.4/1   2.8/1   2.3/0.7  2.3/1.3
    stroke width, px   2.47     2.16    2.39    2.48    2.58    3.06    2.48     2.47
    inked-pixel mean   0.683    0.670   0.691   0.700   0.709   0.740   0.768    0.642
    grey fraction      0.542    0.596   0.558   0.540   0.524   0.469   0.421    0.645
    pixel mean         0.1307   0.112   0.122   0.127   0.132   0.150   0.127    0.127
    pixels > 0         19.1 %   16.8    17.7    18.1    18.6    20.2    16.5     19.8

The stroke width follows the pen width (~1.1 px per px) and ignores the edge; the grey fraction and
the inked mean follow the edge. pen_width = 2.3, edge_width = 1.0 matches MNIST on all three (the
data README's "about 2.2 px" comes from a different width measure). The pixel mean stays a little lower
(0.127 v. 0.131) because pen digits have shorter, simpler paths than MNIST's: same width, less length.
Per label the MNIST widths spread from 2.08 ('8') to 3.01 ('1'); the rendered ones from 2.20 ('8') to
2.67 ('1') — the estimator's label bias, shared by both sets; one pen width fits all labels.
Sizes: the ink box's longer side in pixels > 0.5 is 20 px for 95 % of rendered pen digits (MNIST:
98.5 %); in pixels > 0 it is 21 px (MNIST: 20 — its box was pixel-aligned, ours is placed at
sub-pixel offsets and has a 0.5 px ramp beyond the pen's edge). Centre of mass: within 0.02 px of
(14, 14) for all 5159; 5 of them lose > 0.1 % of their ink to clipping at the border, none > 0.5 %.

Sanity check with a network: a throwaway 784-300-10 ReLU MLP (8 epochs of SGD on the raw MNIST
training set, no augmentation, 98.0 % on MNIST test) reads the pen-dev digits with accuracy
95.2 % (pen 1.6), 95.3 % (2.0), 95.2 % (2.3), 95.1 % (2.6), 94.6 % (3.0) at edge 1.0; 95.4 % (edge 0.7),
95.1 % (edge 1.5) at pen 2.3; and, with the ink box at 19 / 21 / 22.3 px instead of 20, 95.0 / 94.9 /
93.1 % (22.3 px = the centre line scaled to 20 px: -2.1 points). So accuracy is flat within ±0.2 points
for pen 1.6–2.6 and edge 0.7–1.5, and the statistical match is the tie-breaker; the lead re-tunes with
the real model (``pen_width=``/``edge_width=`` are keyword arguments; :data:`INK_BOX` is read at call
time, so it can be patched for a sweep).

:data:`PREPROCESSING_VERSION` names the algorithm *and* the default parameters, so it changes by itself
when the defaults are re-tuned; bump the ``strokes-vN`` part whenever the algorithm changes. Models
record it in their metadata, and an input made with a different version is not what the model saw.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from numba import njit

__all__ = [
    "EDGE_WIDTH",
    "IMAGE_SIDE",
    "INK_BOX",
    "MIN_POINT_DISTANCE",
    "PEN_WIDTH",
    "PREPROCESSING_VERSION",
    "StrokeError",
    "TARGET_CENTER",
    "center_of_mass",
    "strokes_to_input",
]

#: Side of the network's input image, pixels.
IMAGE_SIDE = 28
#: Longer side of the rendered ink's bounding box (MNIST: 20 px in 99.98 % of training images).
INK_BOX = 20.0
#: Where the intensity-weighted centre of mass goes, (row, col) in 0-based pixel coordinates.
TARGET_CENTER = (14.0, 14.0)
#: Diameter of the pen in 28×28 pixels (relative to the digit's size). Tuned, see the module docstring.
PEN_WIDTH = 2.3
#: Width in 28×28 pixels of the linear anti-aliasing ramp across the pen's edge.
EDGE_WIDTH = 1.0
#: Points closer than this (28×28 px) to the previous kept point of their stroke are dropped.
MIN_POINT_DISTANCE = 0.05

_ALGORITHM = "strokes-v1"
#: Changes whenever the output of :func:`strokes_to_input` with default arguments would change.
PREPROCESSING_VERSION = f"{_ALGORITHM}:pen={PEN_WIDTH:g}:edge={EDGE_WIDTH:g}"

_CENTRING_TOLERANCE = 0.01
_MAX_CENTRING_RENDERS = 4
# Coordinates larger than this are divided by their maximum first, so that differences cannot overflow.
_HUGE = 1e300


class StrokeError(ValueError):
    """The strokes cannot be turned into an image (NaN/inf coordinates, or not (x, y) points)."""


# ----------------------------------------------------------------------------------------------
# Numba kernels


@njit(cache=True, nogil=True)
def _simplify(xs, ys, starts, min_dist):
    """Drop points closer than ``min_dist`` to the previous kept point of the same stroke.

    The last point of a stroke is always kept unless it coincides with the previous kept point.
    Returns (xs, ys, starts) of the kept points.
    """
    n = xs.shape[0]
    n_strokes = starts.shape[0] - 1
    out_x = np.empty(n, np.float64)
    out_y = np.empty(n, np.float64)
    out_starts = np.empty(n_strokes + 1, np.int64)
    min_d2 = min_dist * min_dist
    k = 0
    for s in range(n_strokes):
        out_starts[s] = k
        a = starts[s]
        b = starts[s + 1]
        if b <= a:
            continue
        out_x[k] = xs[a]
        out_y[k] = ys[a]
        first = k
        k += 1
        for i in range(a + 1, b):
            dx = xs[i] - out_x[k - 1]
            dy = ys[i] - out_y[k - 1]
            d2 = dx * dx + dy * dy
            if d2 >= min_d2:
                out_x[k] = xs[i]
                out_y[k] = ys[i]
                k += 1
            elif i == b - 1 and d2 > 0.0:
                # Keep the stroke's real end point: replace the last kept point unless it is the first.
                if k - 1 > first:
                    out_x[k - 1] = xs[i]
                    out_y[k - 1] = ys[i]
                else:
                    out_x[k] = xs[i]
                    out_y[k] = ys[i]
                    k += 1
    out_starts[n_strokes] = k
    return out_x[:k].copy(), out_y[:k].copy(), out_starts


@njit(cache=True, nogil=True)
def _render(xs, ys, starts, ox, oy, radius, edge, out):
    """Render the strokes (coordinates + offset ``(ox, oy)``) into ``out`` (side × side, float64).

    Per pixel: the distance ``d`` to the nearest segment (round caps and joins; a lone point is a
    dot), then coverage ``clip((radius - d) / edge + 0.5, 0, 1)``. Only the pixels inside each
    segment's padded bounding box are visited.
    """
    side = out.shape[0]
    reach = radius + 0.5 * edge
    big = (reach + 1.0) * (reach + 1.0)
    d2min = np.full((side, side), big)
    n_strokes = starts.shape[0] - 1
    for s in range(n_strokes):
        a = starts[s]
        b = starts[s + 1]
        if b <= a:
            continue
        n = b - a
        n_seg = n - 1 if n > 1 else 1  # a lone point: one zero-length segment, i.e. a dot
        for k in range(n_seg):
            i = a + k
            j = i + 1 if n > 1 else i
            ax = xs[i] + ox
            ay = ys[i] + oy
            bx = xs[j] + ox
            by = ys[j] + oy
            ex = bx - ax
            ey = by - ay
            ll = ex * ex + ey * ey
            inv = 1.0 / ll if ll > 0.0 else 0.0
            c0 = int(math.floor(min(ax, bx) - reach))
            c1 = int(math.ceil(max(ax, bx) + reach))
            r0 = int(math.floor(min(ay, by) - reach))
            r1 = int(math.ceil(max(ay, by) + reach))
            if c0 < 0:
                c0 = 0
            if r0 < 0:
                r0 = 0
            if c1 > side - 1:
                c1 = side - 1
            if r1 > side - 1:
                r1 = side - 1
            for r in range(r0, r1 + 1):
                py = r - ay
                for c in range(c0, c1 + 1):
                    px = c - ax
                    t = (px * ex + py * ey) * inv
                    if t < 0.0:
                        t = 0.0
                    elif t > 1.0:
                        t = 1.0
                    dx = px - t * ex
                    dy = py - t * ey
                    d2 = dx * dx + dy * dy
                    if d2 < d2min[r, c]:
                        d2min[r, c] = d2
    inv_edge = 1.0 / edge
    for r in range(side):
        for c in range(side):
            v = (radius - math.sqrt(d2min[r, c])) * inv_edge + 0.5
            if v <= 0.0:
                v = 0.0
            elif v > 1.0:
                v = 1.0
            out[r, c] = v


@njit(cache=True, nogil=True)
def _com(img):
    """(total, row centre, col centre) of a 2-D image; centres are NaN when total is 0."""
    tot = 0.0
    sr = 0.0
    sc = 0.0
    for r in range(img.shape[0]):
        for c in range(img.shape[1]):
            v = img[r, c]
            tot += v
            sr += v * r
            sc += v * c
    if tot <= 0.0:
        return tot, np.nan, np.nan
    return tot, sr / tot, sc / tot


@njit(cache=True, nogil=True)
def _render_centred(xs, ys, starts, radius, edge, side, target_r, target_c, tol, max_renders):
    """Render with the drawing's origin at the target, then re-render until the COM is on target."""
    out = np.zeros((side, side), np.float64)
    best = np.zeros((side, side), np.float64)
    ox = target_c
    oy = target_r
    best_err = np.inf
    for _ in range(max_renders):
        _render(xs, ys, starts, ox, oy, radius, edge, out)
        tot, cr, cc = _com(out)
        if tot <= 0.0:
            break
        er = target_r - cr
        ec = target_c - cc
        err = max(abs(er), abs(ec))
        if err < best_err:
            best_err = err
            best[:, :] = out
        if err <= tol:
            break
        ox += ec
        oy += er
    return best


@njit(cache=True, nogil=True)
def _normalise(pts, length):
    """Points scaled so the bounding box's longer side is ``length``, centred on the origin.

    ``pts`` is (n, 2) finite float64. Never overflows: huge coordinates are divided by their maximum
    first, and the scaling divides offsets by the extent (a ratio in [0, 1]) before multiplying by
    ``length``. A drawing with no extent maps to the origin (a dot).
    """
    n = pts.shape[0]
    m = 0.0
    for i in range(n):
        m = max(m, abs(pts[i, 0]), abs(pts[i, 1]))
    div = m if m > _HUGE else 1.0
    x0 = np.inf
    y0 = np.inf
    x1 = -np.inf
    y1 = -np.inf
    for i in range(n):
        x = pts[i, 0] / div
        y = pts[i, 1] / div
        x0 = min(x0, x)
        x1 = max(x1, x)
        y0 = min(y0, y)
        y1 = max(y1, y)
    ex = x1 - x0
    ey = y1 - y0
    longest = max(ex, ey)
    xs = np.zeros(n, np.float64)
    ys = np.zeros(n, np.float64)
    if longest > 0.0:
        hx = 0.5 * (ex / longest)
        hy = 0.5 * (ey / longest)
        for i in range(n):
            xs[i] = ((pts[i, 0] / div - x0) / longest - hx) * length
            ys[i] = ((pts[i, 1] / div - y0) / longest - hy) * length
    return xs, ys


@njit(cache=True, nogil=True)
def _strokes_kernel(pts, starts, length, radius, edge, side, target_r, target_c, tol, max_renders,
                    min_dist):
    """The whole pipeline after validation: normalise, drop close points, render centred."""
    xs, ys = _normalise(pts, length)
    xs, ys, starts = _simplify(xs, ys, starts, min_dist)
    return _render_centred(xs, ys, starts, radius, edge, side, target_r, target_c, tol, max_renders)


# ----------------------------------------------------------------------------------------------
# Python API


def _as_points(strokes) -> list[tuple[int, np.ndarray]]:
    """(index, (n, 2) float64 array) per non-empty stroke; raises StrokeError for malformed input."""
    if (isinstance(strokes, (str, bytes)) or not isinstance(strokes, Iterable)
            or getattr(strokes, "ndim", None) == 0):  # a 0-d array claims to be iterable
        raise StrokeError(
            f"strokes must be a sequence of strokes, each a sequence of (x, y) points; "
            f"got {type(strokes).__name__}"
        )
    arrays = []
    for i, stroke in enumerate(strokes):
        if isinstance(stroke, (str, bytes)):
            raise StrokeError(f"stroke {i} must be a sequence of (x, y) points, got a string")
        try:
            a = np.asarray(stroke, dtype=np.float64)
        except (TypeError, ValueError, OverflowError) as e:
            raise StrokeError(f"stroke {i} must be a sequence of (x, y) number pairs ({e})") from None
        if a.size == 0:
            continue
        if a.ndim != 2 or a.shape[1] != 2:
            raise StrokeError(
                f"stroke {i} must be a sequence of (x, y) points; got an array of shape {a.shape}"
            )
        arrays.append((i, a))
    return arrays


def _raise_non_finite(arrays) -> None:
    for i, a in arrays:
        bad = ~np.isfinite(a).all(axis=1)
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise StrokeError(
                f"stroke {i}, point {j}: coordinates must be finite numbers, "
                f"got ({a[j, 0]!r}, {a[j, 1]!r})"
            )


def _check_param(name: str, value: float, lo: float, hi: float) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not (lo < v < hi):
        raise ValueError(f"{name} must be in ({lo:g}, {hi:g}) px, got {value!r}")
    return v


def strokes_to_input(
    strokes: Sequence[Sequence[Sequence[float]]] | Iterable,
    *,
    pen_width: float = PEN_WIDTH,
    edge_width: float = EDGE_WIDTH,
) -> np.ndarray | None:
    """The network input for a drawing: float32 array (784,) in [0, 1], row-major 28×28.

    ``strokes`` is a sequence of strokes, each a sequence of (x, y) points in screen coordinates
    (y down): lists, tuples or (n, 2) arrays. Empty strokes are ignored. Returns None when there are
    no points at all. Raises :class:`StrokeError` for NaN/inf coordinates or anything that is not
    (x, y) points. ``pen_width`` and ``edge_width`` are in 28×28 pixels (see the module docstring);
    they are keyword arguments so that they can be swept, the defaults are the tuned values.
    """
    pen_width = _check_param("pen_width", pen_width, 0.0, INK_BOX)
    edge_width = _check_param("edge_width", edge_width, 0.0, INK_BOX)
    arrays = _as_points(strokes)
    if not arrays:
        return None
    pts = np.concatenate([a for _, a in arrays]) if len(arrays) > 1 else arrays[0][1]
    if not np.isfinite(pts).all():
        _raise_non_finite(arrays)
    starts = np.zeros(len(arrays) + 1, np.int64)
    np.cumsum([a.shape[0] for _, a in arrays], out=starts[1:])
    img = _strokes_kernel(
        np.ascontiguousarray(pts), starts, INK_BOX - pen_width, 0.5 * pen_width, edge_width,
        IMAGE_SIDE, TARGET_CENTER[0], TARGET_CENTER[1], _CENTRING_TOLERANCE,
        _MAX_CENTRING_RENDERS, MIN_POINT_DISTANCE,
    )
    return img.astype(np.float32).reshape(IMAGE_SIDE * IMAGE_SIDE)


def center_of_mass(image) -> tuple[float, float]:
    """Intensity-weighted centre of mass (row, col), 0-based, of a 28×28 image or a (784,) vector.

    Works on any square image given as 2-D, or as a flat vector of a square length. Useful to check
    that an image is placed the MNIST way (at :data:`TARGET_CENTER`). Raises ValueError for an image
    with no ink (all zero) or negative/non-finite values.
    """
    a = np.asarray(image, dtype=np.float64)
    if a.ndim == 1:
        side = math.isqrt(a.shape[0])
        if side * side != a.shape[0]:
            raise ValueError(f"a flat image must have a square length, got {a.shape[0]}")
        a = a.reshape(side, side)
    if a.ndim != 2:
        raise ValueError(f"image must be 2-D or a flat square vector, got shape {a.shape}")
    if not np.isfinite(a).all() or (a < 0).any():
        raise ValueError("image values must be finite and non-negative")
    tot, r, c = _com(np.ascontiguousarray(a))
    if tot <= 0.0:
        raise ValueError("the image has no ink: its centre of mass is undefined")
    return float(r), float(c)
