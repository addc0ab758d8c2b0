"""What distortion each image gets: the ranges it is drawn from, and the draw itself.

:class:`AugmentParams` holds the ranges (validated, the public settings); the kernels read them as
a :class:`DistortionRanges` named tuple. :func:`draw_warp` draws one image's distortion from its
own random stream (``counter_random.py``): a rotation, a scale and an aspect ratio, a slant, a
translation and whether the elastic field is on, uniformly and independently. The affine part is
kept as its inverse :class:`InverseAffine`, since the warp maps every output pixel back into the
source image (see ``augment.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import NamedTuple

import numba
import numpy as np

from trainer.data.counter_random import image_state, uniform

#: How many uniform numbers :func:`draw_warp` takes from an image's stream (the elastic field's
#: node values come after them).
WARP_DRAWS = 7


class DistortionRanges(NamedTuple):
    """:class:`AugmentParams` as the kernels read it (the rotation in radians)."""

    max_rotation: float
    max_scale: float
    max_aspect: float
    max_shear: float
    max_translation: float
    elastic_alpha: float
    elastic_sigma: float
    elastic_probability: float
    recentre: bool
    recentre_tolerance: float


class InverseAffine(NamedTuple):
    """A⁻¹ = [[a00, a01], [a10, a11]], acting on (row, col) offsets from the centre of mass."""

    a00: float
    a01: float
    a10: float
    a11: float


class Warp(NamedTuple):
    """How one image is warped: A⁻¹, the translation t (row, col) px of the centre of mass after
    re-centring, whether the elastic field is applied, and the re-centring (on or off, and the
    tolerance per axis in px)."""

    inverse: InverseAffine
    t_r: float
    t_c: float
    elastic: bool
    recentre: bool
    tolerance: float


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

    def kernel_ranges(self) -> DistortionRanges:
        """The ranges as the kernels read them: floats (and one bool), the rotation in radians."""
        return DistortionRanges(
            max_rotation=math.radians(self.max_rotation_deg),
            max_scale=float(self.max_scale),
            max_aspect=float(self.max_aspect),
            max_shear=float(self.max_shear),
            max_translation=float(self.max_translation),
            elastic_alpha=float(self.elastic_alpha),
            elastic_sigma=float(self.elastic_sigma),
            elastic_probability=float(self.elastic_probability),
            recentre=bool(self.recentre),
            recentre_tolerance=float(self.recentre_tolerance),
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


@numba.njit(cache=True, error_model="numpy")
def affine_inverse(theta, sx, sy, k):
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
    return InverseAffine(i_yy, i_yx, i_xy, i_xx)


@numba.njit(cache=True, error_model="numpy")
def draw_warp(seed, index, ranges):
    """Image ``index``'s warp drawn from its stream; returns (the stream's state after the
    :data:`WARP_DRAWS` draws, :class:`Warp`).

    The same draws in the same order for every image whatever the ranges, so an image's stream
    depends only on (seed, index).
    """
    state = image_state(seed, np.uint64(index))
    state, u_rot = uniform(state)
    state, u_scale = uniform(state)
    state, u_aspect = uniform(state)
    state, u_shear = uniform(state)
    state, u_tr = uniform(state)
    state, u_tc = uniform(state)
    state, u_el = uniform(state)
    theta = ranges.max_rotation * (2.0 * u_rot - 1.0)
    g = 1.0 + ranges.max_scale * (2.0 * u_scale - 1.0)
    rho = 1.0 + ranges.max_aspect * (2.0 * u_aspect - 1.0)
    k = ranges.max_shear * (2.0 * u_shear - 1.0)
    t_r = ranges.max_translation * (2.0 * u_tr - 1.0)
    t_c = ranges.max_translation * (2.0 * u_tc - 1.0)
    elastic = elastic_on(ranges) and u_el < ranges.elastic_probability
    inverse = affine_inverse(theta, g * rho, g / rho, k)
    return state, Warp(inverse, t_r, t_c, elastic, ranges.recentre, ranges.recentre_tolerance)


@numba.njit(cache=True, error_model="numpy")
def elastic_on(ranges):
    """Whether any image can get an elastic distortion with these ranges."""
    return ranges.elastic_alpha > 0.0 and ranges.elastic_probability > 0.0
