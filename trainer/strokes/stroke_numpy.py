"""The stroke function's pipeline in plain NumPy: the same steps and arithmetic as the compiled
kernels in ``trainer/strokes/stroke_kernels.py``, with nothing to compile.

The app reads drawings with this one, so that the very first drawing after a start is read at once
instead of after Numba has compiled the kernels (seconds). It is also the reference the compiled
kernels are tested against (``tests/test_forward_paths.py``: the same images within 1e-6).
Rendering visits, as the kernel does, only the pixels within reach of each segment, as one flat
list of (segment, pixel) pairs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

#: Coordinates larger than this are divided by their maximum first, so that differences cannot
#: overflow (shared with the compiled kernels).
HUGE = 1e300


class RenderSettings(NamedTuple):
    """How a drawing becomes an image, in pixels of that image (``strokes_to_input`` fills it in;
    shared with the compiled kernels, which take it as it is)."""

    #: The longer side of the centre line's bounding box after normalising.
    length: float
    #: Points closer than this to the previous kept point of their stroke are dropped.
    min_dist: float
    #: Half the pen's width.
    radius: float
    #: Width of the anti-aliasing ramp across the pen's edge.
    edge: float
    #: The image is side × side.
    side: int
    #: Where the centre of mass goes (row, col) ...
    target_r: float
    target_c: float
    #: ... to within this many pixels per axis, re-rendering at most max_renders times.
    tolerance: float
    max_renders: int


def normalise(pts, length):
    """Points scaled so the bounding box's longer side is ``length``, centred on the origin."""
    m = float(np.abs(pts).max())
    scaled = pts / (m if m > HUGE else 1.0)
    x0, y0 = scaled.min(axis=0)
    x1, y1 = scaled.max(axis=0)
    ex, ey = x1 - x0, y1 - y0
    longest = max(ex, ey)
    if not longest > 0.0:
        return np.zeros(len(pts)), np.zeros(len(pts))
    xs = ((scaled[:, 0] - x0) / longest - 0.5 * (ex / longest)) * length
    ys = ((scaled[:, 1] - y0) / longest - 0.5 * (ey / longest)) * length
    return xs, ys


def simplify(xs, ys, starts, min_dist):
    """Drop points closer than ``min_dist`` to the previous kept point of the same stroke (the
    stroke's last point replaces the last kept one instead). Returns (xs, ys, starts) kept."""
    min_d2 = min_dist * min_dist
    x_all, y_all = xs.tolist(), ys.tolist()
    kept_x: list[float] = []
    kept_y: list[float] = []
    kept_starts = [0]
    for a, b in zip(starts[:-1].tolist(), starts[1:].tolist()):
        if b > a:
            first = len(kept_x)
            kept_x.append(x_all[a])
            kept_y.append(y_all[a])
            for i in range(a + 1, b):
                dx = x_all[i] - kept_x[-1]
                dy = y_all[i] - kept_y[-1]
                d2 = dx * dx + dy * dy
                if d2 >= min_d2:
                    kept_x.append(x_all[i])
                    kept_y.append(y_all[i])
                elif i == b - 1 and d2 > 0.0:
                    if len(kept_x) - 1 > first:
                        kept_x[-1], kept_y[-1] = x_all[i], y_all[i]
                    else:
                        kept_x.append(x_all[i])
                        kept_y.append(y_all[i])
        kept_starts.append(len(kept_x))
    return np.array(kept_x), np.array(kept_y), np.array(kept_starts, np.int64)


def _segments(starts):
    """(first, second) point index of every segment; a lone point is one zero-length segment."""
    first, second = [], []
    for a, b in zip(starts[:-1].tolist(), starts[1:].tolist()):
        if b - a > 1:
            first.append(np.arange(a, b - 1))
            second.append(np.arange(a + 1, b))
        elif b - a == 1:
            first.append(np.array([a]))
            second.append(np.array([a]))
    return np.concatenate(first), np.concatenate(second)


def render(xs, ys, starts, ox, oy, radius, edge, side):
    """The strokes (coordinates + offset ``(ox, oy)``) as a side × side float64 image.

    Per pixel: the distance ``d`` to the nearest segment (round caps and joins), then coverage
    ``clip((radius - d) / edge + 0.5, 0, 1)``, for the pixels in each segment's padded box.
    """
    reach = radius + 0.5 * edge
    first, second = _segments(starts)
    ax, ay = xs[first] + ox, ys[first] + oy
    bx, by = xs[second] + ox, ys[second] + oy
    ex, ey = bx - ax, by - ay
    length2 = ex * ex + ey * ey
    inverse = np.divide(1.0, length2, out=np.zeros_like(length2), where=length2 > 0.0)
    c0 = np.maximum(np.floor(np.minimum(ax, bx) - reach).astype(np.int64), 0)
    c1 = np.minimum(np.ceil(np.maximum(ax, bx) + reach).astype(np.int64), side - 1)
    r0 = np.maximum(np.floor(np.minimum(ay, by) - reach).astype(np.int64), 0)
    r1 = np.minimum(np.ceil(np.maximum(ay, by) + reach).astype(np.int64), side - 1)
    width = np.maximum(c1 - c0 + 1, 0)
    counts = width * np.maximum(r1 - r0 + 1, 0)
    segment = np.repeat(np.arange(len(ax)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    row = r0[segment] + within // width[segment]
    col = c0[segment] + within % width[segment]
    px, py = col - ax[segment], row - ay[segment]
    ex, ey = ex[segment], ey[segment]
    t = np.clip((px * ex + py * ey) * inverse[segment], 0.0, 1.0)
    dx, dy = px - t * ex, py - t * ey
    d2 = np.full(side * side, (reach + 1.0) * (reach + 1.0))
    np.minimum.at(d2, row * side + col, dx * dx + dy * dy)
    coverage = np.clip((radius - np.sqrt(d2)) * (1.0 / edge) + 0.5, 0.0, 1.0)
    return coverage.reshape(side, side)


def centre_of_mass(img):
    """(total, row centre, col centre) of a 2-D image; centres are NaN when total is 0."""
    total = float(img.sum())
    if total <= 0.0:
        return total, np.nan, np.nan
    return (
        total,
        float(img.sum(axis=1) @ np.arange(img.shape[0])) / total,
        float(img.sum(axis=0) @ np.arange(img.shape[1])) / total,
    )


def render_centred(xs, ys, starts, settings):
    """Render with the drawing's origin at the target, then re-render until the COM is on target."""
    radius, edge, side = settings.radius, settings.edge, settings.side
    target_r, target_c = settings.target_r, settings.target_c
    best = np.zeros((side, side))
    ox, oy = target_c, target_r
    best_err = np.inf
    for _ in range(settings.max_renders):
        out = render(xs, ys, starts, ox, oy, radius, edge, side)
        total, cr, cc = centre_of_mass(out)
        if total <= 0.0:
            break
        er, ec = target_r - cr, target_c - cc
        err = max(abs(er), abs(ec))
        if err < best_err:
            best_err, best = err, out
        if err <= settings.tolerance:
            break
        ox += ec
        oy += er
    return best


def strokes_image(pts, starts, settings):
    """The whole pipeline after validation: normalise, drop close points, render centred."""
    xs, ys = normalise(pts, settings.length)
    xs, ys, starts = simplify(xs, ys, starts, settings.min_dist)
    return render_centred(xs, ys, starts, settings)
