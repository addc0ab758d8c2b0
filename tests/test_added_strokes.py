"""The share of one digit's images that slashed zeros and flagged ones change
(``trainer/data/added_strokes.py``): only that digit, about that share, the same ones for a seed,
none for a share of 0, none once told to stop; the stroke itself; and the compiled kernels that
draw it (``trainer/data/added_stroke_kernels.py``) against the NumPy code they replaced, bit for
bit (``added_strokes_numpy.py``)."""

import threading

import added_strokes_numpy
import numpy as np
import pytest

from trainer.data import added_stroke_kernels
from trainer.data.added_strokes import change_a_share
from trainer.data.augment import augment_images
from trainer.data.flagged_ones import flagged
from trainer.data.mnist import load_mnist
from trainer.data.slashed_zeros import slashed


def _mark(image, rng):
    return image + 1.0


def test_a_share_of_one_digits_images_is_changed_the_same_way_for_a_seed():
    images = np.zeros((400, 784), np.float32)
    labels = np.arange(400) % 4
    first, second = images.copy(), images.copy()
    count = change_a_share(first, labels, 2, 0.5, np.random.default_rng(4), _mark)
    assert change_a_share(second, labels, 2, 0.5, np.random.default_rng(4), _mark) == count
    assert np.array_equal(first, second)
    changed = first.max(axis=1) > 0
    assert changed.sum() == count and 30 < count < 70  # about half of the 100 twos
    assert (labels[changed] == 2).all()
    assert change_a_share(images, labels, 2, 0.0, np.random.default_rng(4), _mark) == 0
    assert not images.any()


def test_changing_a_share_stops_once_told_to():
    """A cancelled training run stops the next epoch's images between two changed images."""
    images = np.zeros((400, 784), np.float32)
    labels = np.arange(400) % 4
    stop = threading.Event()

    def mark_and_stop_after_the_fifth(image, rng):
        if (images.max(axis=1) > 0).sum() == 4:  # four marked: this is the fifth
            stop.set()
        return _mark(image, rng)

    count = change_a_share(
        images, labels, 2, 0.5, np.random.default_rng(4), mark_and_stop_after_the_fifth, stop
    )
    assert count == 5 and (images.max(axis=1) > 0).sum() == 5
    assert change_a_share(images, labels, 2, 0.5, np.random.default_rng(4), _mark, stop) == 0
    assert (images.max(axis=1) > 0).sum() == 5


def test_a_segment_is_an_anti_aliased_line_of_its_width():
    line = np.zeros(784)
    added_stroke_kernels.add_segment(line, (14.0, 4.0), (14.0, 24.0), 2.0)  # along row 14
    line = line.reshape(28, 28)
    assert line[14, 4:25].min() == 1.0 and line[14, 26:].max() == 0.0
    assert line[13, 10] == line[15, 10] and 0.0 < line[13, 10] <= 1.0  # its edge rows
    assert line[11, 10] == 0.0 and line[17, 10] == 0.0
    kept = np.full(784, 0.25)
    added_stroke_kernels.add_segment(kept, (14.0, 4.0), (14.0, 24.0), 2.0)
    assert kept.min() == 0.25 and kept.max() == 1.0  # drawn over the picture, never below it


@pytest.mark.parametrize("count", [*range(0, 300), 783, 784, 1000, 4099])
def test_numpy_sum_is_numpys_sum_to_the_last_bit(count):
    rng = np.random.default_rng(count)
    values = rng.standard_normal(count + 9) * 10.0 ** rng.integers(-3, 4)
    start = int(rng.integers(0, 10))
    part = values[start : start + count]
    assert added_stroke_kernels.numpy_sum(values, start, count) == part.sum()
    if count:
        assert added_stroke_kernels.mean(part) == part.mean()


def _training_images(mnist_dir, digit, count=150):
    """MNIST's first ``count`` images of ``digit`` as they are, and augmented as in training."""
    mnist = load_mnist(mnist_dir, download=False)
    chosen = np.ascontiguousarray(mnist.train_images[mnist.train_labels == digit][:count])
    augmented = np.empty_like(chosen)
    augment_images(chosen, augmented, seed=digit)
    return np.concatenate([chosen, augmented])


@pytest.mark.parametrize(
    "digit,compiled,reference",
    [(0, slashed, added_strokes_numpy.slashed), (1, flagged, added_strokes_numpy.flagged)],
    ids=["slashed-zeros", "flagged-ones"],
)
def test_the_kernels_draw_the_numpy_codes_images_bit_for_bit(mnist_dir, digit, compiled, reference):
    """The shipped model was trained on the NumPy code's images: the compiled strokes must give
    the same numbers, from the same draws (checked: the rng is left in the same state)."""
    changed = 0
    for n, image in enumerate(_training_images(mnist_dir, digit)):
        ours, theirs = np.random.default_rng(n), np.random.default_rng(n)
        result, expected = compiled(image, ours), reference(image, theirs)
        assert np.array_equal(result, expected), f"image {n}"
        assert ours.random() == theirs.random()
        changed += not np.array_equal(result, image)
    assert changed > 100  # of the 300: every zero, and the ones whose stem leans little enough


def test_a_blank_image_gets_no_slash():
    blank = np.zeros(784, np.float32)
    assert not added_stroke_kernels.has_ink(blank)
    assert slashed(blank, np.random.default_rng(0)) is blank
