"""Slashed zeros for training: only zeros change, and they keep MNIST's box and centre (which
share, for a seed: tests/test_added_strokes.py)."""

import numpy as np

from trainer.data.slashed_zeros import slash_zeros
from trainer.strokes.strokes_to_input import center_of_mass


def _ring(radius_r=9.0, radius_c=6.0):
    rows, cols = np.mgrid[0:28, 0:28]
    distance = np.hypot((rows - 14) / radius_r, (cols - 14) / radius_c)
    return np.clip(1.5 - 8 * np.abs(distance - 1), 0, 1).astype(np.float32).reshape(-1)


def _ink_box(image):
    rows, cols = np.nonzero(image.reshape(28, 28) > 0.1)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def test_only_the_chosen_zeros_change_and_stay_mnist_like():
    images = np.stack([_ring(), _ring(), _ring(), _ring(8, 8)])
    labels = np.array([0, 7, 0, 0])
    before = images.copy()
    assert slash_zeros(images, labels, share=0.999, seed=1) == 3
    assert np.array_equal(images[1], before[1])  # a 7 is never slashed
    for index in (0, 2, 3):
        assert not np.array_equal(images[index], before[index])
        # a slash crosses the ring's hole: the centre pixel is now inked
        assert images[index].reshape(28, 28)[13:16, 13:16].max() > 0.5
        assert max(_ink_box(images[index])) <= 21
        assert np.allclose(center_of_mass(images[index]), (14.0, 14.0), atol=0.15)
        assert 0.0 <= images[index].min() and images[index].max() <= 1.0
