"""How parameters are updated: plain mini-batch SGD, SGD with momentum, and Adam.

The backward pass delivers gradients summed over the m samples of a batch, so every rule below
works with the mean gradient g = Σ∇C / m, plus λw when L2 weight decay λ is set:

    sgd       w ← w − η g                              (Nielsen's w ← w − η/m Σ∇C)
    momentum  v ← μ v − η g;  w ← w + v
    adam      m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;
              w ← w − η √(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε)   (Keras' formulation and defaults)

Adam's moment estimates decay geometrically once a weight stops receiving gradient and end up as
denormal floats, which are up to a hundred times slower to compute with; values below
``DENORMAL_FLUSH`` are therefore flushed to zero, which changes no update measurably.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

SGD = 0
MOMENTUM = 1
ADAM = 2
KINDS = {"sgd": SGD, "momentum": MOMENTUM, "adam": ADAM}

DENORMAL_FLUSH = 1e-30


@dataclass(frozen=True)
class OptimizerSettings:
    """Hyperparameters of the update rule (Keras' defaults for Adam)."""

    kind: str = "sgd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-7
    weight_decay: float = 0.0


class OptimizerState:
    """Per-parameter state: momentum's velocity, or Adam's first and second moments."""

    def __init__(self, weights, biases, settings: OptimizerSettings):
        self.settings = settings
        self.kind = KINDS[settings.kind]
        self.step = 0  # number of updates made so far (Adam's t)
        self.first_w, self.first_b = _zeros_like(weights), _zeros_like(biases)
        if self.kind == ADAM:
            self.second_w, self.second_b = _zeros_like(weights), _zeros_like(biases)
        else:  # unused, but Numba wants tuples of the same type
            self.second_w, self.second_b = self.first_w, self.first_b

    def hyper(self, learning_rate: float) -> np.ndarray:
        """The scalars the update kernel needs, packed for Numba."""
        s = self.settings
        return np.array(
            [learning_rate, s.momentum, s.beta1, s.beta2, s.epsilon, s.weight_decay],
            dtype=np.float64,
        )


def _zeros_like(arrays) -> tuple:
    return tuple(np.zeros_like(a) for a in arrays)


@njit(cache=True, nogil=True, error_model="numpy")
def _update_array(param, grad, first, second, kind, c):
    """Update one parameter array; one loop per rule, so that each loop vectorises.

    c holds the step's scalars in the parameters' own dtype (see ``apply_update``), so that float32
    parameters are updated in float32 arithmetic throughout.
    """
    lr, scale, decay, mu, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, flush, zero = (
        c[0],
        c[1],
        c[2],
        c[3],
        c[4],
        c[5],
        c[6],
        c[7],
        c[8],
        c[9],
        c[10],
    )
    p = param.reshape(-1)
    g_sum = grad.reshape(-1)
    if kind == SGD:
        for i in range(p.shape[0]):
            p[i] -= lr * (g_sum[i] * scale + decay * p[i])
    elif kind == MOMENTUM:
        s1 = first.reshape(-1)
        for i in range(p.shape[0]):
            v = mu * s1[i] - lr * (g_sum[i] * scale + decay * p[i])
            s1[i] = v
            p[i] += v
    else:
        s1 = first.reshape(-1)
        s2 = second.reshape(-1)
        for i in range(p.shape[0]):
            g = g_sum[i] * scale + decay * p[i]
            m1 = beta1 * s1[i] + one_minus_beta1 * g
            m2 = beta2 * s2[i] + one_minus_beta2 * g * g
            m1 = m1 if abs(m1) >= flush else zero
            m2 = m2 if m2 >= flush else zero
            s1[i] = m1
            s2[i] = m2
            p[i] -= lr * m1 / (np.sqrt(m2) + eps)


@njit(cache=True, nogil=True)
def apply_update(
    weights,
    biases,
    grad_w,
    grad_b,
    first_w,
    first_b,
    second_w,
    second_b,
    kind,
    hyper,
    batch_size,
    step,
    update_input_weights,
):
    """One optimiser step on every layer; ``step`` counts from 1. Weight decay spares the biases.

    Without ``update_input_weights`` weights[0] is left to the caller (see
    ``training.run_batches``: plain SGD on a compressed input).
    """
    lr, mu, beta1, beta2, eps, decay = hyper[0], hyper[1], hyper[2], hyper[3], hyper[4], hyper[5]
    if kind == ADAM:
        lr = lr * math.sqrt(1.0 - beta2**step) / (1.0 - beta1**step)
    c = np.empty(11, dtype=weights[0].dtype)
    c[0], c[1], c[2], c[3], c[4], c[5] = lr, 1.0 / batch_size, decay, mu, beta1, beta2
    c[6], c[7], c[8], c[9], c[10] = 1.0 - beta1, 1.0 - beta2, eps, DENORMAL_FLUSH, 0.0
    no_decay = c.copy()
    no_decay[2] = 0.0
    for l in range(len(weights)):
        if l > 0 or update_input_weights:
            _update_array(weights[l], grad_w[l], first_w[l], second_w[l], kind, c)
        _update_array(biases[l], grad_b[l], first_b[l], second_b[l], kind, no_decay)
