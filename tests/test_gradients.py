"""Backpropagation checked against central finite differences, in float64.

For every hidden activation × output activation × cost, through both the dense and the
zero-skipping input layer (the latter also with each layer's backward products side by side on
two threads, as training's batches run them), every weight and bias gradient of a small network
must agree with (C(θ + h) − C(θ − h)) / 2h to a relative error below 1e-6.
"""

import itertools

import numpy as np
import pytest

from trainer.core import backprop
from trainer.core.network import Network
from trainer.fast import blas_threads, input_layer, kernels, sparse_input

HIDDEN = ("sigmoid", "tanh", "relu")
OUTPUT = ("sigmoid", "softmax")
COSTS = ("quadratic", "cross_entropy")
LAYERS = [7, 6, 5, 4]
BATCH = 5


def _batch(seed, zeros=0.0):
    """A random batch; ``zeros`` is the share of inputs set to 0 (MNIST-like sparsity)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.0, 1.0, (BATCH, LAYERS[0]))
    x[rng.random(x.shape) < zeros] = 0.0
    labels = rng.integers(0, LAYERS[-1], BATCH).astype(np.int64)
    return x, labels


def _cost_and_gradients(network, x, labels, sparse=False, threads=1):
    """Summed cost of the batch and the analytic gradients from our backward pass.

    With ``sparse`` the input layer reads the batch compressed, as training does for MNIST, and
    the products run on ``threads`` threads (BLAS then held to one, as training holds it).
    """
    space = backprop.Workspace.allocate(network.layer_sizes, BATCH, np.float64)
    if sparse:
        inputs = input_layer.compressed(sparse_input.compress_rows(x), x.shape[1], threads=threads)
    else:
        inputs = input_layer.dense(np.ascontiguousarray(x))
    rows = np.arange(BATCH, dtype=np.int64)
    net = backprop.net(network)
    with blas_threads.at_most(1 if threads > 1 else None):
        backprop.forward(net, space, inputs, rows, 0.0)
        cost_sum, _ = backprop.backward(net, space, inputs, rows, labels, 0.0)
    return cost_sum, [g.copy() for g in space.grad_w], [g.copy() for g in space.grad_b]


def _numerical_gradient(network, parameter, x, labels, h=1e-5):
    """Central differences of the summed cost, always through the dense path."""
    gradient = np.zeros_like(parameter)
    for index in np.ndindex(parameter.shape):
        saved = parameter[index]
        parameter[index] = saved + h
        plus = _cost_and_gradients(network, x, labels)[0]
        parameter[index] = saved - h
        minus = _cost_and_gradients(network, x, labels)[0]
        parameter[index] = saved
        gradient[index] = (plus - minus) / (2 * h)
    return gradient


def _relative_error(a, b):
    """‖a − b‖ / (‖a‖ + ‖b‖) over a whole parameter array (elementwise ratios of gradients that
    are themselves ~1e-9 only measure the finite differences' rounding)."""
    return np.linalg.norm(a - b) / max(1e-12, np.linalg.norm(a) + np.linalg.norm(b))


@pytest.mark.parametrize("hidden,output,cost", list(itertools.product(HIDDEN, OUTPUT, COSTS)))
@pytest.mark.parametrize(
    "sparse,threads",
    [(False, 1), (True, 1), (True, 2)],
    ids=["dense", "sparse-input", "sparse-input-two-threads"],
)
def test_backprop_matches_finite_differences(hidden, output, cost, sparse, threads):
    # The compressed input layer works in 8-wide vectors: 11 units take a whole vector and one
    # that overlaps it (tests/test_sparse_input.py checks every width against NumPy).
    layers = [LAYERS[0], 11, *LAYERS[2:]] if sparse else LAYERS
    network = Network(layers, hidden, output, cost, init="glorot", dtype=np.float64, seed=3)
    for b in network.biases:  # non-zero biases, so their gradients are exercised too
        b[:] = np.random.default_rng(4).uniform(-0.5, 0.5, b.shape)
    x, labels = _batch(5, zeros=0.6 if sparse else 0.0)
    _, grad_w, grad_b = _cost_and_gradients(network, x, labels, sparse, threads)
    for layer in range(len(network.weights)):
        numeric_w = _numerical_gradient(network, network.weights[layer], x, labels)
        numeric_b = _numerical_gradient(network, network.biases[layer], x, labels)
        assert _relative_error(grad_w[layer], numeric_w) < 1e-6, f"weights of layer {layer}"
        assert _relative_error(grad_b[layer], numeric_b) < 1e-6, f"biases of layer {layer}"


def test_gradient_check_detects_a_wrong_gradient():
    """The check above is able to fail: a deliberately wrong derivative is caught."""
    network = Network(LAYERS, "sigmoid", "sigmoid", "quadratic", init="glorot", dtype=np.float64)
    x, labels = _batch(6)
    _, grad_w, _ = _cost_and_gradients(network, x, labels)
    numeric = _numerical_gradient(network, network.weights[0], x, labels)
    assert _relative_error(grad_w[0] * 1.01, numeric) > 1e-3


def test_dropout_gradient_matches_finite_differences_for_a_fixed_mask():
    """With dropout the backward pass must route δ through the same mask the forward pass drew."""
    network = Network(
        LAYERS, "tanh", "softmax", "cross_entropy", init="glorot", dtype=np.float64, seed=1
    )
    x, labels = _batch(7)
    space = backprop.Workspace.allocate(network.layer_sizes, BATCH, np.float64)
    rng = np.random.default_rng(8)
    masks = [np.where(rng.random(m.shape) < 0.7, 1 / 0.7, 0.0) for m in space.dropout_masks]

    def cost_with_mask():
        space.activations[0][:] = x
        hidden, output, cost = network.codes
        layers = len(network.weights)
        for l in range(layers):  # forward by hand, applying the fixed masks
            z = space.activations[l] @ network.weights[l]
            space.zs[l][:] = z
            kernels.add_bias_and_activate(
                space.zs[l],
                network.biases[l],
                space.activations[l + 1],
                output if l == layers - 1 else hidden,
            )
            if l < layers - 1:
                space.activations[l + 1][:] *= masks[l]
                space.dropout_masks[l][:] = masks[l]
        inputs = input_layer.dense(x)  # backward reads the batch from activations[0]
        rows = np.arange(BATCH, dtype=np.int64)
        return backprop.backward(backprop.net(network), space, inputs, rows, labels, 0.5)[0]

    cost_with_mask()
    analytic = space.grad_w[0].copy()
    numeric = np.zeros_like(analytic)
    w = network.weights[0]
    for index in np.ndindex(w.shape):
        saved = w[index]
        w[index] = saved + 1e-5
        plus = cost_with_mask()
        w[index] = saved - 1e-5
        minus = cost_with_mask()
        w[index] = saved
        numeric[index] = (plus - minus) / 2e-5
    assert _relative_error(analytic, numeric) < 1e-6
