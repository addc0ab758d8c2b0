"""A synthetic 784-input problem that a small network learns quickly (no MNIST needed)."""

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
