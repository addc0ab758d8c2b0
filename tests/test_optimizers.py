"""The update rules against straightforward NumPy references of their textbook formulas."""

import math
from collections import namedtuple

import numpy as np
import pytest

from trainer.core import optimizers


def _state(kind, weights, biases, **settings):
    return optimizers.OptimizerState(
        weights, biases, optimizers.OptimizerSettings(kind=kind, **settings)
    )


def _params(seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((3, 4)), rng.standard_normal((2, 3))]
    biases = [rng.standard_normal(3), rng.standard_normal(2)]
    grads_w = [rng.standard_normal(w.shape) for w in weights]
    grads_b = [rng.standard_normal(b.shape) for b in biases]
    return weights, biases, grads_w, grads_b


def _typed(arrays):
    """Copies, as the tuple of arrays the compiled update takes."""
    return tuple(a.copy() for a in arrays)


#: What the update reads of the network and of the workspace (``backprop.Net``/``Workspace``).
Parameters = namedtuple("Parameters", ["weights", "biases"])
Gradients = namedtuple("Gradients", ["grad_w", "grad_b"])


def _step(state, weights, biases, grads_w, grads_b, lr, batch):
    state.step += 1
    optimizers.apply_update(
        Parameters(weights, biases),
        Gradients(_typed(grads_w), _typed(grads_b)),
        state.moments,
        state.hyper(lr),
        batch,
        state.step,
        True,
    )


def test_sgd_is_nielsens_rule_with_weight_decay_on_weights_only():
    weights, biases, grads_w, grads_b = _params()
    w, b = _typed(weights), _typed(biases)
    state = _state("sgd", w, b, weight_decay=0.01)
    _step(state, w, b, grads_w, grads_b, lr=3.0, batch=10)
    for l in range(2):
        expected_w = weights[l] - 3.0 * (grads_w[l] / 10 + 0.01 * weights[l])
        np.testing.assert_allclose(w[l], expected_w, rtol=1e-12)
        np.testing.assert_allclose(b[l], biases[l] - 3.0 / 10 * grads_b[l], rtol=1e-12)


def test_momentum_accumulates_velocity():
    weights, biases, grads_w, grads_b = _params(1)
    w, b = _typed(weights), _typed(biases)
    state = _state("momentum", w, b, momentum=0.9)
    velocity = [np.zeros_like(x) for x in weights]
    reference = [x.copy() for x in weights]
    for _ in range(3):
        _step(state, w, b, grads_w, grads_b, lr=0.1, batch=4)
        for l in range(2):
            velocity[l] = 0.9 * velocity[l] - 0.1 * grads_w[l] / 4
            reference[l] = reference[l] + velocity[l]
    for l in range(2):
        np.testing.assert_allclose(w[l], reference[l], rtol=1e-12)


def test_adam_matches_keras_formulation():
    weights, biases, grads_w, grads_b = _params(2)
    w, b = _typed(weights), _typed(biases)
    state = _state("adam", w, b)
    m = [np.zeros_like(x) for x in weights]
    v = [np.zeros_like(x) for x in weights]
    reference = [x.copy() for x in weights]
    lr, beta1, beta2, eps = 1e-3, 0.9, 0.999, 1e-7
    for t in range(1, 4):
        _step(state, w, b, grads_w, grads_b, lr=lr, batch=8)
        lr_t = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        for l in range(2):
            g = grads_w[l] / 8
            m[l] = beta1 * m[l] + (1 - beta1) * g
            v[l] = beta2 * v[l] + (1 - beta2) * g * g
            reference[l] = reference[l] - lr_t * m[l] / (np.sqrt(v[l]) + eps)
    for l in range(2):
        np.testing.assert_allclose(w[l], reference[l], rtol=1e-10)


def test_adam_flushes_denormal_moments_to_zero():
    weights = _typed([np.ones((2, 2), np.float32)])
    biases = _typed([np.ones(2, np.float32)])
    state = _state("adam", weights, biases)
    state.moments.first_w[0][:] = 1e-35  # as if the gradient had vanished long ago
    state.moments.second_w[0][:] = 1e-38
    zero = [np.zeros((2, 2), np.float32)]
    _step(state, weights, biases, zero, [np.zeros(2, np.float32)], lr=1e-3, batch=1)
    assert (state.moments.first_w[0] == 0).all() and (state.moments.second_w[0] == 0).all()


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_every_optimiser_descends_a_quadratic_bowl(kind):
    """Minimising ½‖w‖² (gradient w) must shrink w."""
    w = _typed([np.full((4, 4), 5.0)])
    b = _typed([np.zeros(4)])
    state = _state(kind, w, b)
    for _ in range(200):
        _step(state, w, b, [w[0].copy()], [np.zeros(4)], lr=0.05, batch=1)
    assert np.abs(w[0]).max() < 2.5
