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
from typing import NamedTuple

import numpy as np
from numba import njit, prange

SGD = 0
MOMENTUM = 1
ADAM = 2
KINDS = {"sgd": SGD, "momentum": MOMENTUM, "adam": ADAM}

DENORMAL_FLUSH = 1e-30

#: Parameter arrays at least this large are updated on ``threads`` threads (``_update_array_split``)
#: when the caller gives more than one: about 0.3 ms of work on one core, well above the cost of
#: starting the other thread (a few µs while it spins, up to about 90 µs once it sleeps:
#: ``numba_threads.THREAD_ENVIRONMENT``). The biases and small layers stay on one thread.
SPLIT_MIN_SIZE = 1 << 18


@dataclass(frozen=True)
class OptimizerSettings:
    """Hyperparameters of the update rule (Keras' defaults for Adam)."""

    kind: str = "sgd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-7
    weight_decay: float = 0.0


class Hyperparameters(NamedTuple):
    """The update rule's scalars for one epoch, as compiled code takes them (``hyper``)."""

    learning_rate: float  # η
    momentum: float  # μ
    beta1: float  # β₁
    beta2: float  # β₂
    epsilon: float  # ε
    weight_decay: float  # λ


class Moments(NamedTuple):
    """Per-parameter state: momentum's velocity (``first_*``), or Adam's first and second moments.

    Without Adam ``second_*`` are the same arrays as ``first_*``: unused, but Numba wants a tuple
    of one type.
    """

    kind: int  # SGD, MOMENTUM or ADAM
    first_w: tuple
    first_b: tuple
    second_w: tuple
    second_b: tuple


class OptimizerState:
    """An optimiser's state across a run: its ``moments`` and the number of updates made."""

    def __init__(self, weights, biases, settings: OptimizerSettings):
        self.settings = settings
        self.step = 0  # number of updates made so far (Adam's t)
        kind = KINDS[settings.kind]
        first_w, first_b = _zeros_like(weights), _zeros_like(biases)
        if kind == ADAM:
            second_w, second_b = _zeros_like(weights), _zeros_like(biases)
        else:
            second_w, second_b = first_w, first_b
        self.moments = Moments(kind, first_w, first_b, second_w, second_b)

    def hyper(self, learning_rate: float) -> Hyperparameters:
        """The scalars the update kernel needs, at this learning rate."""
        s = self.settings
        return Hyperparameters(
            float(learning_rate),
            float(s.momentum),
            float(s.beta1),
            float(s.beta2),
            float(s.epsilon),
            float(s.weight_decay),
        )


class _StepScalars(NamedTuple):
    """One update's scalars in the parameters' own dtype (see ``apply_update``)."""

    learning_rate: float
    scale: float  # 1/m: the gradients are sums over the batch
    decay: float
    momentum: float
    beta1: float
    beta2: float
    one_minus_beta1: float
    one_minus_beta2: float
    epsilon: float
    flush: float
    zero: float


def _zeros_like(arrays) -> tuple:
    return tuple(np.zeros_like(a) for a in arrays)


@njit(cache=True, nogil=True, error_model="numpy")
def _update_array(param, grad, first, second, kind, c):
    """Update one parameter array; one loop per rule, so that each loop vectorises.

    c holds the step's scalars in the parameters' own dtype (``_StepScalars``), so that float32
    parameters are updated in float32 arithmetic throughout.
    """
    lr, scale, decay, mu = c.learning_rate, c.scale, c.decay, c.momentum
    beta1, beta2, one_minus_beta1, one_minus_beta2 = (
        c.beta1,
        c.beta2,
        c.one_minus_beta1,
        c.one_minus_beta2,
    )
    eps, flush, zero = c.epsilon, c.flush, c.zero
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


@njit(cache=True, nogil=True, error_model="numpy", parallel=True)
def _update_array_split(param, grad, first, second, kind, c, parts):
    """``_update_array`` on several threads: the arrays cut into ``parts`` runs of elements, one
    per thread. Each element is updated by the same operations as on one thread (nothing is summed
    across elements), so the result is the same bit for bit."""
    n = param.size
    p, g = param.reshape(-1), grad.reshape(-1)
    s1, s2 = first.reshape(-1), second.reshape(-1)
    for part in prange(parts):
        lo, hi = part * n // parts, (part + 1) * n // parts
        _update_array(p[lo:hi], g[lo:hi], s1[lo:hi], s2[lo:hi], kind, c)


@njit(cache=True, nogil=True)
def _update(param, grad, first, second, kind, c, threads):
    """``_update_array``, split over ``threads`` threads when the array is large enough."""
    if threads > 1 and param.size >= SPLIT_MIN_SIZE:
        _update_array_split(param, grad, first, second, kind, c, threads)
    else:
        _update_array(param, grad, first, second, kind, c)


@njit(cache=True, nogil=True)
def _step_scalars(real, learning_rate, hyper, batch_size, decay):
    """``_StepScalars`` converted by ``real`` (the parameters' scalar type)."""
    return _StepScalars(
        real(learning_rate),
        real(1.0 / batch_size),
        real(decay),
        real(hyper.momentum),
        real(hyper.beta1),
        real(hyper.beta2),
        real(1.0 - hyper.beta1),
        real(1.0 - hyper.beta2),
        real(hyper.epsilon),
        real(DENORMAL_FLUSH),
        real(0.0),
    )


@njit(cache=True, nogil=True)
def apply_update(
    parameters, gradients, moments, hyper, batch_size, step, update_input_weights, threads=1
):
    """One optimiser step on every layer; ``step`` counts from 1. Weight decay spares the biases.

    ``parameters`` has ``weights`` and ``biases`` (a ``backprop.Net``), ``gradients`` has
    ``grad_w`` and ``grad_b`` (a ``backprop.Workspace``), ``moments`` are ``Moments`` and
    ``hyper`` ``Hyperparameters``. Without ``update_input_weights`` weights[0] is left to the
    caller (``input_layer.apply_update``: plain SGD on compressed inputs). Large weight arrays
    are updated on ``threads`` threads (the same numbers as on one).

    The layers go from the output back to the input, so that the input layer's weights, which
    the next batch reads first, are the last ones through the caches (the order changes no
    number: each layer's step depends on its own arrays only).
    """
    weights, biases = parameters.weights, parameters.biases
    lr = hyper.learning_rate
    if moments.kind == ADAM:
        lr = lr * math.sqrt(1.0 - hyper.beta2**step) / (1.0 - hyper.beta1**step)
    real = weights[0].dtype.type
    c = _step_scalars(real, lr, hyper, batch_size, hyper.weight_decay)
    no_decay = _step_scalars(real, lr, hyper, batch_size, 0.0)
    kind = moments.kind
    for l in range(len(weights) - 1, -1, -1):
        if l > 0 or update_input_weights:
            _update(
                weights[l],
                gradients.grad_w[l],
                moments.first_w[l],
                moments.second_w[l],
                kind,
                c,
                threads,
            )
        _update(
            biases[l],
            gradients.grad_b[l],
            moments.first_b[l],
            moments.second_b[l],
            kind,
            no_decay,
            threads,
        )
