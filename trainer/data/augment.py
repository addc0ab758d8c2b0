"""Data augmentation for training: random affine transforms and elastic distortions.

Every image gets its own random transform, drawn from a small counter-based random number
generator (splitmix64) keyed by ``(seed, image index)``, so the output is bitwise the same for the
same seed whatever the number of threads and however the batch is split.

This module is the public API (:func:`augment_images` and friends). The work is done in:

- ``distortions.py``: the ranges (:class:`AugmentParams`) and each image's draw from them;
- ``counter_random.py``: the random streams keyed by ``(seed, image index)``;
- ``elastic_field.py``: the elastic displacement field (Simard et al.) and how it is built;
- ``warp_kernels.py``: the compiled warp and re-centring of one image, and the batch loops;
- ``augment_grid.py``: the pixel grid and the floating-point rule all those kernels share.

What happens to one image (coordinates are 0-based ``(row, col)`` pixel centres)
---------------------------------------------------------------------------------
1. Its intensity-weighted centre of mass ``c`` is measured.
2. The forward transform is, around ``c``: scale (isotropic ``g`` and aspect ratio ``ρ``:
   width × ``g·ρ``, height × ``g/ρ``), then horizontal shear (slant: ``x' = x - k·y``, so
   ``k > 0`` leans the top to the right), then rotation (``θ > 0`` turns the digit
   counter-clockwise on screen), putting ``c`` on the MNIST centre ``(14, 14)``; then an elastic
   displacement field ``d`` (``elastic_field.py``) acts in the output frame.
3. The output is made by *inverse mapping*: output pixel ``p`` shows the original at
   ``A⁻¹·(p + o + d(p + o) - 14) + c``, bilinearly interpolated (zero outside the image), where
   ``o`` is a constant offset per image.
4. Re-centring (MNIST's convention: centre of mass at ``(14.0, 14.0)``) is folded into that one
   mapping instead of resampling the warped image: sampling at ``p + o`` shows the warp
   translated by ``-o``, so we measure the output's centre of mass, correct ``o`` by the error
   and resample *from the original* again, until the error is at most ``recentre_tolerance`` per
   axis (about 2 passes per image; at most ``warp_kernels.MAX_PASSES``). Every output pixel is
   interpolated exactly once: resampling the warped image by a sub-pixel shift would blur every
   stroke a second time (a half-pixel bilinear shift averages neighbouring pixels), and MNIST
   test digits are not blurred that way. The field itself is evaluated once per image on a grid
   with a 3-pixel margin and shifted bilinearly for the later passes: it is smooth on the scale
   of σ, so that costs ~0.005 px of accuracy, unlike interpolating the image.
5. Last, a random translation ``t`` (uniform in ``±max_translation`` px per axis) is folded into
   the same offset, so the final centre of mass is at ``(14, 14) + t``: the network should not
   rely on a drawn digit being centred exactly the way MNIST's are.

Speed (``bench/bench_augment.py``, 54 000 MNIST images, 2-core AMD EPYC VM): 0.40 s
single-threaded with the defaults (7.3 µs per image, about 2 resampling passes); 0.20 s with
``parallel=True``, which splits the batch over Numba's threads (same output, bit for bit) when
both cores are free. The affine part alone takes 0.20 s single-threaded. During training the
next epoch's images are made in a background thread (``epoch_images.py``).
"""

from __future__ import annotations

import math

import numpy as np

from trainer.data.augment_grid import MNIST_CENTRE, PIXELS, SIDE
from trainer.data.counter_random import seed_u64
from trainer.data.distortions import NO_AUGMENTATION, AugmentParams, Warp, affine_inverse
from trainer.data.elastic_field import output_frame_fields
from trainer.data.warp_kernels import augment_parallel, augment_serial, warp_single

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

#: Images per task with parallel=True (fixed, so the work split never depends on the threads).
_PARALLEL_CHUNK = 512


def _check_batch(images: np.ndarray, out: np.ndarray) -> None:
    for name, a in (("images", images), ("out", out)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"{name} must be a numpy array")
        if a.dtype != np.float32 or a.ndim != 2 or a.shape[1] != PIXELS:
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
    seed per epoch (training uses ``epoch_images.epoch_seed``). Output values are in [0, 1]
    (no NaN for finite input); an all-zero image stays all zero.

    Single-threaded by default (about 7 µs per image). ``parallel=True`` spreads fixed chunks of
    512 images over Numba's threads (``numba.set_num_threads`` limits them); the output is the
    same bit for bit. Worth it when nothing else is computing at the same time.
    """
    augment_images_with_stats(images, out, seed, params, parallel=parallel)


def _run(images, out, seed, params, parallel) -> np.ndarray:
    passes = np.zeros(images.shape[0], dtype=np.int8)
    if images.shape[0] == 0:
        return passes
    ranges = params.kernel_ranges()
    if parallel and images.shape[0] > _PARALLEL_CHUNK:
        augment_parallel(images, out, seed_u64(seed), ranges, passes, _PARALLEL_CHUNK)
    else:
        augment_serial(images, out, seed_u64(seed), ranges, passes, 0, len(images))
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
    augment_serial(images, out, seed_u64(seed), params.kernel_ranges(), passes, start, stop)


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
    src = np.ascontiguousarray(image, dtype=np.float32).reshape(PIXELS)
    out = np.empty(PIXELS, dtype=np.float32)
    inverse = affine_inverse(
        math.radians(rotation_deg), float(scale[0]), float(scale[1]), float(shear)
    )
    t_r, t_c = float(translation[0]), float(translation[1])
    warp_single(src, out, Warp(inverse, t_r, t_c, False, bool(recentre), float(tolerance)))
    return out


def elastic_displacement_fields(
    n: int, seed: int, params: AugmentParams = AugmentParams()
) -> np.ndarray:
    """The elastic displacement fields (row, col) of images 0..n-1 for ``seed``: (n, 2, 28, 28).

    Exactly the fields :func:`augment_images` draws (in the output frame, before the affine
    part is applied to them) for the images whose elastic distortion is on, in px (float32).
    For inspection and tests.
    """
    out = np.zeros((n, 2, PIXELS), dtype=np.float32)
    if params.elastic_alpha > 0:
        output_frame_fields(
            n, seed_u64(seed), float(params.elastic_alpha), float(params.elastic_sigma), out
        )
    return out.reshape(n, 2, SIDE, SIDE)
