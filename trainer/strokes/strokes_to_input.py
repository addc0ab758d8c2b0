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

How :data:`PEN_WIDTH` and :data:`EDGE_WIDTH` were tuned (pen digits rendered and compared with
MNIST on ink statistics, then read by a network): ``docs/stroke-tuning.md``.

:data:`PREPROCESSING_VERSION` names the algorithm *and* the default parameters, so it changes by itself
when the defaults are re-tuned; bump the ``strokes-vN`` part whenever the algorithm changes. Models
record it in their metadata, and an input made with a different version is not what the model saw.

The steps after validation run compiled by Numba (``stroke_kernels.py``, the default) or in plain
NumPy (``stroke_numpy.py``, ``compiled=False``: nothing to compile, what the app reads drawings with
until the compiled kernels are ready); both give the same image (tested to 1e-6).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from trainer.strokes.stroke_numpy import RenderSettings, centre_of_mass

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


class StrokeError(ValueError):
    """The strokes cannot be turned into an image (NaN/inf coordinates, or not (x, y) points)."""


# ----------------------------------------------------------------------------------------------
# Python API


def _as_points(strokes) -> list[tuple[int, np.ndarray]]:
    """(index, (n, 2) float64 array) per non-empty stroke; raises StrokeError for malformed input."""
    if (
        isinstance(strokes, (str, bytes))
        or not isinstance(strokes, Iterable)
        or getattr(strokes, "ndim", None) == 0
    ):  # a 0-d array claims to be iterable
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
            raise StrokeError(
                f"stroke {i} must be a sequence of (x, y) number pairs ({e})"
            ) from None
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
    compiled: bool = True,
) -> np.ndarray | None:
    """The network input for a drawing: float32 array (784,) in [0, 1], row-major 28×28.

    ``strokes`` is a sequence of strokes, each a sequence of (x, y) points in screen coordinates
    (y down): lists, tuples or (n, 2) arrays. Empty strokes are ignored. Returns None when there are
    no points at all. Raises :class:`StrokeError` for NaN/inf coordinates or anything that is not
    (x, y) points. ``pen_width`` and ``edge_width`` are in 28×28 pixels (see the module docstring);
    they are keyword arguments so that they can be swept, the defaults are the tuned values.
    ``compiled=False`` runs the same steps in plain NumPy (``trainer/strokes/stroke_numpy.py``): no Numba
    import and no JIT, a few times slower per drawing; the app reads drawings that way.
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
    if compiled:
        from trainer.strokes.stroke_kernels import (
            strokes_image,  # Numba: imported when first needed
        )
    else:
        from trainer.strokes.stroke_numpy import strokes_image
    settings = RenderSettings(
        length=INK_BOX - pen_width,
        min_dist=MIN_POINT_DISTANCE,
        radius=0.5 * pen_width,
        edge=edge_width,
        side=IMAGE_SIDE,
        target_r=TARGET_CENTER[0],
        target_c=TARGET_CENTER[1],
        tolerance=_CENTRING_TOLERANCE,
        max_renders=_MAX_CENTRING_RENDERS,
    )
    img = strokes_image(np.ascontiguousarray(pts), starts, settings)
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
    tot, r, c = centre_of_mass(a)
    if tot <= 0.0:
        raise ValueError("the image has no ink: its centre of mass is undefined")
    return float(r), float(c)
