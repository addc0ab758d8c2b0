"""Each epoch's training images, the next epoch's made in the background: the same as made in one go.

The reference is the way training made them before (augment the whole set, slash the zeros, flag
the ones, then compress), written out here step by step.
"""

import os
import threading
import time

import numpy as np
import pytest

from trainer.config import PRESETS
from trainer.core.training import CANCELLED, network_for, split_for_training, train
from trainer.data.augment import augment_images
from trainer.data.epoch_images import EpochImages, epoch_seed
from trainer.data.flagged_ones import flag_ones
from trainer.data.slashed_zeros import slash_zeros
from trainer.fast import sparse_input

pytestmark = pytest.mark.skipif(
    not os.environ.get("DIGITPAD_MNIST_DIR"),
    reason="DIGITPAD_MNIST_DIR is not set: point it at a folder with the four MNIST files",
)
#: The shipped preset's images, on a few epochs of a subset.
CONFIG = PRESETS["default"].replace(epochs=3, train_subset=3000, negatives=0.0, seed=5)


@pytest.fixture(scope="module")
def digits():
    from trainer.data.mnist import load_mnist

    data = split_for_training(load_mnist(download=False), CONFIG)
    return data, np.ascontiguousarray(data.train_images), data.train_labels.astype(np.int64)


def _made_in_one_go(images, labels, epoch):
    out = np.empty_like(images)
    augment_images(images, out, epoch_seed(CONFIG, epoch))
    slash_zeros(out, labels, CONFIG.slashed_zeros, epoch_seed(CONFIG, epoch))
    flag_ones(out, labels, CONFIG.flagged_ones, epoch_seed(CONFIG, epoch))
    return sparse_input.compress_rows(out)


def test_every_epoch_gets_the_images_made_in_one_go(digits):
    _, images, labels = digits
    made = EpochImages(images, labels, CONFIG)
    try:
        for epoch in range(CONFIG.epochs):
            got = made.compressed(epoch)  # epochs 1 and 2: made in the background thread
            expected = _made_in_one_go(images, labels, epoch)
            for got_part, expected_part in zip(got, expected):
                assert np.array_equal(got_part, expected_part)
    finally:
        made.close()


def test_close_stops_the_background_thread_at_once(digits):
    _, images, labels = digits
    many = np.concatenate([images] * 8)  # about a quarter of a second of augmentation
    made = EpochImages(many, np.concatenate([labels] * 8), CONFIG)
    before = threading.active_count()
    made.compressed(0)
    assert threading.active_count() == before + 1  # making epoch 1's images
    assert made.busy()
    started = time.perf_counter()
    made.close()
    assert time.perf_counter() - started < 0.2
    assert threading.active_count() == before and not made.busy()


def test_a_seed_reproduces_an_augmented_model_bit_for_bit(digits):
    data, _, _ = digits
    config = CONFIG.replace(hidden_layers=(64, 64), negatives=0.1)
    first, second = network_for(config), network_for(config)
    train(first, config, data)
    train(second, config, data)
    for a, b in zip(first.weights + first.biases, second.weights + second.biases):
        assert np.array_equal(a, b)


def test_a_cancelled_run_leaves_no_thread_behind(digits):
    data, _, _ = digits
    cancel = threading.Event()
    before = threading.active_count()

    def cancel_in_the_second_epoch(progress):
        if progress.epoch == 2:
            cancel.set()

    config = CONFIG.replace(hidden_layers=(32,))
    result = train(
        network_for(config),
        config,
        data,
        on_batch=cancel_in_the_second_epoch,
        cancel=cancel,
    )
    assert result.status == CANCELLED
    assert threading.active_count() == before
