"""The training loop: it learns, it is reproducible, and it ends cleanly when it must."""

import threading

import numpy as np
import pytest
from synthetic_data import separable

from trainer.config import PRESETS, TrainingConfig
from trainer.core.network import Network
from trainer.core.training import (
    CANCELLED,
    COMPLETED,
    DIVERGED,
    EARLY_STOPPED,
    TrainingData,
    network_for,
    split_for_training,
    train,
)

needs_mnist = pytest.mark.needs_mnist


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    from trainer.data.mnist import load_mnist

    return load_mnist(mnist_dir, download=False)


def _small(mnist, config, n=6000):
    return split_for_training(mnist, config.replace(train_subset=n))


SMALL = TrainingConfig(
    hidden_layers=(16,),
    hidden_activation="relu",
    output_activation="softmax",
    cost="cross_entropy",
    init="he",
    optimizer="adam",
    learning_rate=3e-3,
    batch_size=16,
    epochs=3,
    dropout=0.1,
)


def test_training_learns_a_separable_problem():
    data = separable()
    network = network_for(SMALL)
    result = train(network, SMALL, data)
    assert result.status == COMPLETED and result.usable
    assert len(result.epochs) == 3
    assert result.epochs[-1].val_accuracy > 0.95
    assert result.epochs[-1].loss < result.epochs[0].loss


def test_same_seed_gives_bitwise_the_same_weights():
    data = separable()
    first, second = network_for(SMALL), network_for(SMALL)
    train(first, SMALL, data)
    train(second, SMALL, data)
    for a, b in zip(first.weights, second.weights):
        assert np.array_equal(a, b)
    other = network_for(SMALL.replace(seed=1))
    train(other, SMALL.replace(seed=1), data)
    assert not np.array_equal(first.weights[0], other.weights[0])


def test_cancel_stops_within_the_epoch():
    data = separable(n=4000)
    cancel = threading.Event()
    seen = []

    def on_batch(progress):
        seen.append(progress.batch)
        cancel.set()

    config = SMALL.replace(batch_size=1, epochs=5)
    result = train(network_for(config), config, data, on_batch=on_batch, cancel=cancel)
    assert result.status == CANCELLED and not result.usable
    assert result.epochs == [] and seen[-1] < 2000


def test_early_stopping_restores_the_best_epoch():
    data = separable(n=200)
    config = SMALL.replace(epochs=200, early_stopping=2, learning_rate=0.05)
    network = network_for(config)
    best = {}

    def remember(record):
        if not best or record.val_loss < best["loss"]:
            best.update(loss=record.val_loss, weights=[w.copy() for w in network.weights])

    result = train(network, config, data, on_epoch=remember)
    assert result.status == EARLY_STOPPED and result.usable
    assert len(result.epochs) < 200
    for restored, kept in zip(network.weights, best["weights"]):
        assert np.array_equal(restored, kept)


def test_exploding_relu_net_is_reported_as_diverged():
    data = separable(n=2000)
    config = SMALL.replace(optimizer="sgd", learning_rate=1000.0, init="normal", dropout=0.0)
    result = train(network_for(config), config, data)
    assert result.status == DIVERGED and not result.usable
    assert "learning rate" in result.message


@needs_mnist
def test_nielsen_learning_rate_100_is_reported_as_diverged(mnist):
    config = PRESETS["nielsen"].replace(learning_rate=100.0, epochs=2)
    result = train(network_for(config), config, _small(mnist, config, 12000))
    assert result.status == DIVERGED and not result.usable
    assert "too high" in result.message


@needs_mnist
def test_nielsen_preset_learns_mnist_in_one_epoch(mnist):
    config = PRESETS["nielsen"].replace(epochs=1)
    result = train(network_for(config), config, _small(mnist, config, 10000))
    assert result.status == COMPLETED
    assert result.epochs[0].val_accuracy > 0.75  # chance is 0.10


@needs_mnist
def test_augmented_training_runs_and_learns(mnist):
    config = SMALL.replace(hidden_layers=(64,), augment=True, epochs=1, batch_size=32)
    result = train(network_for(config), config, _small(mnist, config, 6000))
    assert result.status == COMPLETED and result.epochs[0].val_accuracy > 0.75


def test_float64_network_trains_too():
    config = SMALL.replace(epochs=1)
    data = separable()
    network = Network(
        config.layer_sizes, "relu", "softmax", "cross_entropy", "he", dtype=np.float64
    )
    data64 = TrainingData(
        data.train_images.astype(np.float64),
        data.train_labels,
        data.val_images.astype(np.float64),
        data.val_labels,
    )
    assert train(network, config, data64).usable


def test_predict_proba_matches_a_numpy_forward_pass():
    network = Network([784, 20, 10], "tanh", "softmax", "cross_entropy", "glorot", seed=2)
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    x[:, ::3] = 0.0  # the sparse input path for the batch...
    a = x.astype(np.float64)
    a = np.tanh(a @ network.weights[0].astype(np.float64) + network.biases[0])
    z = a @ network.weights[1].astype(np.float64) + network.biases[1]
    expected = np.exp(z - z.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(network.predict_proba(x), expected, atol=1e-5)
    np.testing.assert_allclose(network.predict_proba(x[0]), expected[0], atol=1e-5)
    dense = np.random.default_rng(1).random((3, 784), dtype=np.float32)  # ...and the dense one
    a = np.tanh(dense.astype(np.float64) @ network.weights[0] + network.biases[0])
    z = a @ network.weights[1].astype(np.float64) + network.biases[1]
    np.testing.assert_allclose(network.predict_proba(dense).argmax(1), z.argmax(1))
    assert network.predict(x[0]) == int(expected[0].argmax())


@pytest.mark.parametrize(
    "optimizer,weight_decay", [("sgd", 0.0), ("sgd", 1e-3), ("momentum", 0.0), ("adam", 0.0)]
)
def test_compressed_input_trains_like_the_dense_input(optimizer, weight_decay):
    """Sparse images take the compressed input layer (and, with plain SGD, the step on the inked
    rows only); one epoch of it must leave the weights where the dense path leaves them."""
    from trainer.core.training import _Run
    from trainer.fast import input_layer

    data = separable()
    for images in (data.train_images, data.val_images):
        images[images < 0.15] = 0.0  # about 70% zeros, like MNIST
    config = SMALL.replace(
        hidden_layers=(20,),
        optimizer=optimizer,
        weight_decay=weight_decay,
        learning_rate=0.05 if optimizer != "adam" else 3e-3,
        epochs=1,
    )
    weights = {}
    for sparse in (True, False):
        network = network_for(config)
        run = _Run(network, config, data, None, None)
        assert run.inputs.is_compressed
        onto_inked_rows = optimizer == "sgd" and weight_decay == 0.0
        assert run.inputs.step_onto_inked_rows == onto_inked_rows
        if not sparse:
            run.inputs = input_layer.dense(run.images)
        assert run.epoch(0) is None
        weights[sparse] = [w.copy() for w in network.weights] + [b.copy() for b in network.biases]
    initial = network_for(config).weights[0]
    assert not np.allclose(weights[True][0], initial, atol=1e-3)  # it did learn something
    for compressed, dense in zip(weights[True], weights[False]):
        np.testing.assert_allclose(compressed, dense, rtol=1e-4, atol=1e-5)
