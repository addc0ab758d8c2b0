"""Synthetic data for the tests: a 784-input problem that a small network learns quickly (no
MNIST needed), and mostly blank matrices like MNIST images."""

import numpy as np

from trainer.core.training import TrainingData


def separable(seed=0, n=600) -> TrainingData:
    """n samples of 10 classes, each lighting its own band of 78 inputs; half train, half validate."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n)
    images = rng.uniform(0, 0.2, (n, 784)).astype(np.float32)
    for digit in range(10):
        images[labels == digit, digit * 78 : (digit + 1) * 78] += 0.8
    half = n // 2
    return TrainingData(images[:half], labels[:half], images[half:], labels[half:])


def sparse_matrix(rng, rows, cols, dtype=np.float32, zeros=0.8, blank_row=1):
    """Uniform values with about ``zeros`` of them set to 0, like MNIST's blank pixels, and one
    row with no ink at all."""
    x = rng.uniform(0.0, 1.0, (rows, cols)).astype(dtype)
    x[rng.random(x.shape) < zeros] = 0.0
    x[blank_row] = 0.0
    return x
