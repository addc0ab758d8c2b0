"""Flagged ones for training: only upright ones change, the flag is on the left of the stem's top,
a foot under some, they keep MNIST's box and centre (which share, for a seed:
tests/test_added_strokes.py)."""

import numpy as np

from trainer.data.flagged_ones import flag_ones
from trainer.strokes.strokes_to_input import center_of_mass


def _stem(lean=0.0):
    """A "1": a vertical bar 20 px tall (leaning ``lean`` columns per row), 3 px wide."""
    rows, cols = np.mgrid[0:28, 0:28]
    centre = 14 + lean * (rows - 14)
    image = (np.abs(cols - centre) <= 1) & (rows >= 4) & (rows <= 23)
    return image.astype(np.float32).reshape(-1)


def _ink(image):
    return image.reshape(28, 28) > 0.1


def test_an_upright_one_gets_a_flag_on_the_left_of_its_top():
    images = np.stack([_stem(), _stem(), _stem(0.7)])
    labels = np.array([1, 7, 1])
    before = images.copy()
    assert flag_ones(images, labels, share=0.999, seed=1) == 2
    assert np.array_equal(images[1], before[1])  # a 7 is never flagged
    assert np.array_equal(images[2], before[2])  # a leaning stem would become a 7: left alone
    ink = _ink(images[0])
    rows, cols = np.nonzero(ink)
    top_half_left = ink[: rows.min() + 10, : cols.max() - 3]
    assert top_half_left.any()  # ink left of the stem, near its top: the flag
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) + 1 <= 21
    assert np.allclose(center_of_mass(images[0]), (14.0, 14.0), atol=0.15)
    assert 0.0 <= images[0].min() and images[0].max() <= 1.0


def test_about_half_the_flagged_ones_stand_on_a_foot():
    images = np.stack([_stem()] * 40)
    flag_ones(images, np.ones(40, dtype=np.int64), 0.999, seed=2)
    feet = 0
    for image in images:
        ink = _ink(image)
        rows, cols = np.nonzero(ink)
        right_of_stem = ink[:, int(np.median(cols)) + 3 :]
        assert not right_of_stem[: rows.max() - 3].any()  # the flag goes left, never right
        feet += bool(right_of_stem.any())  # only a foot reaches right of the stem, at the bottom
    assert 10 <= feet <= 30  # FOOT_SHARE of the 40
