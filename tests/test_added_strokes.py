"""The share of one digit's images that slashed zeros and flagged ones change
(``trainer/data/added_strokes.py``): only that digit, about that share, the same ones for a seed,
none for a share of 0, none once told to stop; and the stroke itself."""

import threading

import numpy as np

from trainer.data.added_strokes import change_a_share, segment


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
    line = segment((14.0, 4.0), (14.0, 24.0), 2.0)  # a level stroke along row 14
    assert line[14, 4:25].min() == 1.0 and line[14, 26:].max() == 0.0
    assert line[13, 10] == line[15, 10] and 0.0 < line[13, 10] <= 1.0  # its edge rows
    assert line[11, 10] == 0.0 and line[17, 10] == 0.0
