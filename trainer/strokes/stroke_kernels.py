"""The stroke function's pipeline compiled with Numba: normalise, drop close points, render centred.

The same pipeline in plain NumPy is ``trainer/strokes/stroke_numpy.py`` (what the app uses, so that a
drawing is read without waiting for the JIT); ``tests/test_forward_paths.py`` checks that the two
give the same images. :func:`trainer.strokes.strokes_to_input.strokes_to_input` validates the strokes and
calls one of them. See ``strokes_to_input.py`` for the algorithm and its tuning.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trainer.strokes.stroke_numpy import HUGE


@njit(cache=True, nogil=True)
def simplify(xs, ys, starts, min_dist):
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
def render(xs, ys, starts, ox, oy, radius, edge, out):
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
def centre_of_mass(img):
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
def render_centred(xs, ys, starts, settings):
    """Render with the drawing's origin at the target, then re-render until the COM is on target."""
    radius, edge, side = settings.radius, settings.edge, settings.side
    target_r, target_c = settings.target_r, settings.target_c
    out = np.zeros((side, side), np.float64)
    best = np.zeros((side, side), np.float64)
    ox = target_c
    oy = target_r
    best_err = np.inf
    for _ in range(settings.max_renders):
        render(xs, ys, starts, ox, oy, radius, edge, out)
        tot, cr, cc = centre_of_mass(out)
        if tot <= 0.0:
            break
        er = target_r - cr
        ec = target_c - cc
        err = max(abs(er), abs(ec))
        if err < best_err:
            best_err = err
            best[:, :] = out
        if err <= settings.tolerance:
            break
        ox += ec
        oy += er
    return best


@njit(cache=True, nogil=True)
def normalise(pts, length):
    """Points scaled so the bounding box's longer side is ``length``, centred on the origin.

    ``pts`` is (n, 2) finite float64. Never overflows: huge coordinates are divided by their maximum
    first, and the scaling divides offsets by the extent (a ratio in [0, 1]) before multiplying by
    ``length``. A drawing with no extent maps to the origin (a dot).
    """
    n = pts.shape[0]
    m = 0.0
    for i in range(n):
        m = max(m, abs(pts[i, 0]), abs(pts[i, 1]))
    div = m if m > HUGE else 1.0
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
def strokes_image(pts, starts, settings):
    """The whole pipeline after validation: normalise, drop close points, render centred."""
    xs, ys = normalise(pts, settings.length)
    xs, ys, starts = simplify(xs, ys, starts, settings.min_dist)
    return render_centred(xs, ys, starts, settings)
