"""Tests of trainer.data.augment: determinism, ranges, re-centring, geometry, elastic statistics.

The MNIST-based tests read the training images from the folder named by DIGITPAD_MNIST_DIR
(they are skipped, saying so, when it is unset); the geometric tests use synthetic images.
"""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest

from trainer.data import warp_kernels
from trainer.data.augment import (
    MNIST_CENTRE,
    NO_AUGMENTATION,
    AugmentParams,
    augment_image_range,
    augment_images,
    augment_images_with_stats,
    elastic_displacement_fields,
    warp_image,
)
from trainer.data.distortions import Warp, affine_inverse

N_MNIST = 3000
AFFINE_ONLY = AugmentParams(elastic_probability=0.0, max_translation=0.0)


@pytest.fixture(scope="module")
def mnist(mnist_dir) -> np.ndarray:
    """The first N_MNIST training images as (n, 784) float32 in [0, 1]."""
    path = mnist_dir / "train-images-idx3-ubyte.gz"
    with gzip.open(path, "rb") as f:
        header = np.frombuffer(f.read(16), dtype=">u4")
        assert header[0] == 2051 and tuple(header[2:]) == (28, 28), f"{path}: not MNIST images"
        pixels = np.frombuffer(f.read(N_MNIST * 784), dtype=np.uint8)
    return (pixels.reshape(N_MNIST, 784).astype(np.float32) / 255.0).copy()


def centre_of_mass(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    img = images.reshape(-1, 28, 28).astype(np.float64)
    mass = img.sum(axis=(1, 2))
    idx = np.arange(28)
    return (img.sum(axis=2) @ idx) / mass, (img.sum(axis=1) @ idx) / mass


def touches_border(images: np.ndarray, level: float = 0.05) -> np.ndarray:
    img = images.reshape(-1, 28, 28)
    ring = np.concatenate([img[:, 0, :], img[:, -1, :], img[:, :, 0], img[:, :, -1]], axis=1)
    return ring.max(axis=1) > level


def orientation_deg(image: np.ndarray) -> float:
    """Angle of the principal axis, counter-clockwise from the +x axis as seen on screen."""
    img = image.reshape(28, 28).astype(np.float64)
    rows, cols = np.mgrid[0:28, 0:28]
    m = img.sum()
    x = cols - (img * cols).sum() / m
    y = -(rows - (img * rows).sum() / m)  # up is positive
    cxx = (img * x * x).sum() / m
    cyy = (img * y * y).sum() / m
    cxy = (img * x * y).sum() / m
    return math.degrees(0.5 * math.atan2(2 * cxy, cxx - cyy))


def horizontal_bar() -> np.ndarray:
    img = np.zeros((28, 28), dtype=np.float32)
    img[13:15, 6:22] = 1.0
    return img.reshape(784)


DEFAULT_PARAMS = AugmentParams()


def augment(images: np.ndarray, seed: int, params: AugmentParams = DEFAULT_PARAMS, **kw):
    out = np.empty_like(images)
    augment_images(images, out, seed, params, **kw)
    return out


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_is_bitwise_identical_and_seeds_differ(mnist):
    x = mnist[:500]
    a = augment(x, 123)
    b = augment(x, 123)
    assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
    c = augment(x, 124)
    assert not np.array_equal(a, c)
    # every image differs from its counterpart under another seed
    assert (np.abs(a - c).max(axis=1) > 0.05).all()
    # negative and huge seeds are fine and distinct
    assert not np.array_equal(augment(x[:20], -1), augment(x[:20], 2**64 - 2))


def test_parallel_and_thread_count_do_not_change_the_output(mnist):
    import numba

    x = mnist[:1500]  # more than two 512-image chunks
    serial = augment(x, 5)
    parallel = augment(x, 5, parallel=True)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one_thread = augment(x, 5, parallel=True)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(serial.view(np.uint32), parallel.view(np.uint32))
    assert np.array_equal(serial.view(np.uint32), one_thread.view(np.uint32))


def test_an_image_transform_depends_only_on_seed_and_index(mnist):
    x = mnist[:300]
    full = augment(x, 9)
    prefix = augment(x[:100].copy(), 9)
    assert np.array_equal(full[:100], prefix)
    # the same digit at different indices gets different transforms
    same = np.repeat(mnist[:1], 8, axis=0)
    out = augment(same, 9)
    assert len({out[i].tobytes() for i in range(8)}) == 8


def test_ranges_done_in_threads_give_the_whole_batch_bit_for_bit(mnist):
    import threading

    x = mnist[:900]
    whole = augment(x, 7)
    pieces = np.full_like(x, np.nan)
    bounds = [(0, 250), (250, 251), (251, 600), (600, 900)]
    threads = [
        threading.Thread(target=augment_image_range, args=(x, pieces, 7, start, stop))
        for start, stop in bounds
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert np.array_equal(whole.view(np.uint32), pieces.view(np.uint32))
    untouched = np.full_like(x, -1.0)
    augment_image_range(x, untouched, 7, 300, 310)
    assert (untouched[:300] == -1.0).all() and (untouched[310:] == -1.0).all()
    assert np.array_equal(untouched[300:310], whole[300:310])
    for start, stop in ((-1, 5), (5, 4), (0, 901)):
        with pytest.raises(ValueError, match="range"):
            augment_image_range(x, pieces, 7, start, stop)


# --- contract ------------------------------------------------------------------------------------


def test_output_range_dtype_and_no_nan(mnist):
    out = augment(mnist, 1)
    assert out.dtype == np.float32 and out.shape == mnist.shape
    assert np.isfinite(out).all()
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert out.max() > 0.9  # still ink


def test_strong_parameters_stay_in_range(mnist):
    strong = AugmentParams(
        max_rotation_deg=180,
        max_scale=0.5,
        max_aspect=0.5,
        max_shear=1.0,
        max_translation=6.0,
        elastic_alpha=80.0,
        elastic_sigma=2.0,
    )
    out = augment(mnist[:500], 2, strong)
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


def _moments_over_every_pixel(image: np.ndarray) -> tuple[float, float, float]:
    """Mass and centre of mass as the kernels once summed them: in float32, pixel by pixel over
    all 784 (one rounding per operation, like the compiled code, which contracts nothing), and
    divided in float32 too (Numba's ``float()`` of a float32 stays one)."""
    mass = row_sum = col_sum = np.float32(0.0)
    for i, v in enumerate(image):
        mass += v
        row_sum += v * np.float32(i // 28)
        col_sum += v * np.float32(i % 28)
    if mass > 0.0:
        return float(mass), float(row_sum / mass), float(col_sum / mass)
    return 0.0, MNIST_CENTRE, MNIST_CENTRE


def test_moments_summed_over_the_ink_alone_are_those_over_every_pixel(mnist):
    """The warp kernels add up an image's moments over its inked pixels only (a blank pixel adds
    ±0 to the sums). The source's (listed by _list_ink) and each pass's output's (listed while it
    is sampled) must come out bit for bit as sums over every pixel."""
    images = [mnist[k] for k in range(40)]
    odd = mnist[40].copy()
    odd[odd == 0.0] = -0.0  # negative zeros are blank too
    odd[5] = np.float32(1e-40)  # a subnormal value is ink
    images += [odd, np.zeros(784, np.float32)]
    rng = np.random.default_rng(3)
    scratch = warp_kernels.new_scratch(4)
    out = np.empty(784, np.float32)
    for image in images:
        mass, com_r, com_c, n_ink = warp_kernels._load_padded(
            image, scratch.pad, scratch.work, scratch.ink[0]
        )
        np.testing.assert_array_equal(scratch.ink[0][:n_ink], np.flatnonzero(image))
        assert (mass, com_r, com_c) == _moments_over_every_pixel(image)
        inverse = affine_inverse(rng.uniform(-0.3, 0.3), rng.uniform(0.8, 1.2), 1.0, 0.1)
        warp = Warp(inverse, 0.0, 0.0, False, True, 0.02)
        moments = warp_kernels._resample(out, warp, com_r, com_c, *rng.uniform(-1, 1, 2), scratch)
        assert out.any() == image.any()
        assert moments == _moments_over_every_pixel(out)


def test_empty_and_tiny_images():
    x = np.zeros((3, 784), dtype=np.float32)
    x[1, 14 * 28 + 14] = 1.0  # a single pixel
    x[2, 0] = 1.0  # a single pixel in the corner
    out = augment(x, 0)
    assert not out[0].any()
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    assert out[1].sum() > 0.5
    empty = np.zeros((0, 784), dtype=np.float32)
    augment_images(empty, empty.copy(), 0)


def test_bad_arguments_are_rejected():
    x = np.zeros((2, 784), dtype=np.float32)
    with pytest.raises(ValueError):
        augment_images(x, x, 0)  # aliasing
    with pytest.raises(ValueError):
        augment_images(x, np.zeros((2, 784)), 0)  # float64
    with pytest.raises(ValueError):
        augment_images(x, np.zeros((3, 784), dtype=np.float32), 0)
    with pytest.raises(ValueError):
        augment_images(np.zeros((784, 2), dtype=np.float32).T, np.zeros((2, 784), np.float32), 0)
    with pytest.raises(TypeError):
        augment_images(x, np.zeros_like(x), 1.5)
    with pytest.raises(ValueError):
        AugmentParams(max_rotation_deg=-1)
    with pytest.raises(ValueError):
        AugmentParams(max_scale=1.0)
    with pytest.raises(ValueError):
        AugmentParams(elastic_sigma=float("nan"))
    with pytest.raises(ValueError):
        AugmentParams(elastic_probability=1.5)


# --- re-centring and translation -----------------------------------------------------------------


def test_centre_of_mass_is_recentred_on_14_14(mnist):
    params = AugmentParams(max_translation=0.0)
    out = np.empty_like(mnist)
    passes = augment_images_with_stats(mnist, out, 3, params)
    cr, cc = centre_of_mass(out)
    err = np.maximum(np.abs(cr - MNIST_CENTRE), np.abs(cc - MNIST_CENTRE))
    inside = ~touches_border(out)
    assert inside.mean() > 0.8
    # within the tolerance (0.1) plus sampling noise; a rare strongly squeezed digit (0.07 % of
    # 54 000) or one cut by the border stays further off after the last pass
    assert np.median(err) < 0.05
    assert (err[inside] < 0.15).mean() > 0.998
    assert err[inside].max() < 0.4
    assert (err < 0.15).mean() > 0.99
    assert passes.max() <= 4 and passes.mean() < 2.6


def test_affine_only_recentring_is_tight(mnist):
    out = augment(mnist, 4, AFFINE_ONLY)
    cr, cc = centre_of_mass(out)
    err = np.maximum(np.abs(cr - MNIST_CENTRE), np.abs(cc - MNIST_CENTRE))
    assert err[~touches_border(out)].max() < 0.12


def test_translation_moves_the_centre_of_mass_uniformly(mnist):
    t = 1.5
    params = AugmentParams(max_translation=t)
    out = augment(mnist, 5, params)
    cr, cc = centre_of_mass(out)
    inside = ~touches_border(out)
    for d in (cr[inside] - MNIST_CENTRE, cc[inside] - MNIST_CENTRE):
        assert np.abs(d).max() < t + 0.15
        assert abs(d.mean()) < 0.1
        assert abs(d.std() - t / math.sqrt(3)) < 0.1  # uniform in [-t, t]


# --- identity and geometry -----------------------------------------------------------------------


def test_no_augmentation_is_a_subpixel_recentring_shift(mnist):
    from scipy.ndimage import shift

    x = mnist[:200]
    out = augment(x, 0, NO_AUGMENTATION)
    cr, cc = centre_of_mass(x)
    for i in range(len(x)):
        expected = shift(
            x[i].reshape(28, 28).astype(np.float64),
            (MNIST_CENTRE - cr[i], MNIST_CENTRE - cc[i]),
            order=1,
            mode="grid-constant",
        )  # zeros outside, interpolated up to the edge
        np.testing.assert_allclose(out[i].reshape(28, 28), expected, atol=2e-5)
    # a digit already centred by its centre of mass comes back (nearly) unchanged
    near = np.maximum(np.abs(cr - 14), np.abs(cc - 14)) < 0.05
    assert near.any()
    assert np.abs(out[near] - x[near]).max() < 0.06


def test_rotation_by_a_known_angle():
    bar = horizontal_bar()
    assert abs(orientation_deg(bar)) < 1e-6
    for angle in (30.0, -20.0, 90.0):
        rotated = warp_image(bar, rotation_deg=angle)
        assert abs(orientation_deg(rotated) - angle) < 1.0, (angle, orientation_deg(rotated))
        # rotation keeps the ink and the centre
        assert abs(rotated.sum() - bar.sum()) / bar.sum() < 0.02
        cr, cc = centre_of_mass(rotated[None])
        assert abs(cr[0] - 14) < 0.03 and abs(cc[0] - 14) < 0.03


def test_random_rotations_stay_within_their_range():
    bars = np.repeat(horizontal_bar()[None], 400, axis=0)
    params = AugmentParams(
        max_rotation_deg=20,
        max_scale=0,
        max_aspect=0,
        max_shear=0,
        max_translation=0,
        elastic_probability=0,
    )
    out = augment(bars, 11, params)
    angles = np.array([orientation_deg(o) for o in out])
    assert np.abs(angles).max() < 20.5
    assert abs(angles.mean()) < 1.5
    assert abs(angles.std() - 20 / math.sqrt(3)) < 1.0  # uniform in [-20, 20]


def test_scale_and_shear_geometry():
    bar = horizontal_bar()

    def second_moments(img):
        img = img.reshape(28, 28).astype(np.float64)
        rows, cols = np.mgrid[0:28, 0:28]
        m = img.sum()
        x = cols - (img * cols).sum() / m
        y = rows - (img * rows).sum() / m
        return (img * x * x).sum() / m, (img * y * y).sum() / m

    sxx0, _ = second_moments(bar)
    wide = warp_image(bar, scale=(1.25, 1.0))
    sxx1, _ = second_moments(wide)
    assert abs(math.sqrt(sxx1 / sxx0) - 1.25) < 0.02
    assert abs(wide.sum() / bar.sum() - 1.25) < 0.02  # ink scales with the area
    # shear: a vertical bar leans with its top to the right for positive shear
    vbar = bar.reshape(28, 28).T.copy().reshape(784)
    sheared = warp_image(vbar, shear=0.3)
    angle = orientation_deg(sheared)  # ~ 90° - atan(0.3) = 73.3°
    assert abs(angle - (90 - math.degrees(math.atan(0.3)))) < 1.5


def test_ink_mass_is_roughly_conserved(mnist):
    # rotation and shear preserve area, hence ink (up to the border)
    rigid = AugmentParams(
        max_scale=0.0, max_aspect=0.0, max_translation=0.0, elastic_probability=0.0
    )
    out = augment(mnist, 6, rigid)
    ratio = out.sum(axis=1) / mnist.sum(axis=1)
    assert np.abs(ratio[~touches_border(out)] - 1).max() < 0.01
    # the elastic field stretches some strokes and squeezes others: roughly conserved
    elastic = AugmentParams(max_scale=0.0, max_aspect=0.0, max_translation=0.0)
    ratio = augment(mnist, 6, elastic).sum(axis=1) / mnist.sum(axis=1)
    assert abs(np.median(ratio) - 1.0) < 0.03
    assert ((ratio > 0.75) & (ratio < 1.33)).mean() > 0.95
    # with scaling, ink follows the area: E[(g·ρ)·(g/ρ)] = E[g²] = 1 + s²/3
    scaled = augment(mnist, 6, AugmentParams(max_translation=0.0, elastic_probability=0.0))
    ratio = scaled.sum(axis=1) / mnist.sum(axis=1)
    assert abs(ratio.mean() - (1 + AugmentParams().max_scale ** 2 / 3)) < 0.01


# --- elastic field -------------------------------------------------------------------------------


def _simard_reference(n, alpha, sigma, rng):
    """Simard et al.'s recipe: uniform noise, Gaussian-smoothed, times alpha (big periodic
    canvas, so there are no edge effects)."""
    from scipy.ndimage import gaussian_filter

    noise = rng.uniform(-1.0, 1.0, size=(n, 2, 64, 64))
    smooth = gaussian_filter(noise, sigma=(0, 0, sigma, sigma), mode="wrap")
    return alpha * smooth[:, :, 18:46, 18:46]


def _field_stats(f):
    d = f.astype(np.float64)
    rms = np.sqrt((d**2).mean())
    grad = np.sqrt((np.gradient(d, axis=3) ** 2).mean())
    lag = 4
    corr = (d[..., lag:] * d[..., :-lag]).mean() / (d**2).mean()
    return rms, grad, corr


@pytest.mark.parametrize("alpha, sigma", [(34.0, 4.0), (34.0, 5.0), (36.0, 6.0)])
def test_elastic_field_matches_simard_statistics(alpha, sigma):
    params = AugmentParams(elastic_alpha=alpha, elastic_sigma=sigma)
    ours = elastic_displacement_fields(1500, 0, params)
    assert ours.shape == (1500, 2, 28, 28)
    ref = _simard_reference(600, alpha, sigma, np.random.default_rng(0))
    rms, grad, corr = _field_stats(ours)
    rms_ref, grad_ref, corr_ref = _field_stats(ref)
    assert abs(rms / rms_ref - 1) < 0.06, (rms, rms_ref)
    assert abs(grad / grad_ref - 1) < 0.08, (grad, grad_ref)
    assert abs(corr - corr_ref) < 0.05, (corr, corr_ref)
    # and the documented closed form of the RMS displacement
    assert abs(rms / (alpha / (2 * math.sqrt(3 * math.pi) * sigma)) - 1) < 0.06


def test_elastic_distortion_changes_shape_but_not_too_much(mnist):
    x = mnist[:500]
    affine = augment(x, 8, AFFINE_ONLY)
    both = augment(x, 8, AugmentParams(max_translation=0.0))
    diff = np.abs(both - affine).mean(axis=1) / x.mean(axis=1)
    assert np.median(diff) > 0.2  # it does something
    # same affine draws: the elastic part alone keeps the digits' overall layout
    corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(affine, both)]
    assert np.median(corr) > 0.6
