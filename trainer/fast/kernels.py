"""Elementwise kernels of the network, fused and compiled with Numba.

The matrix products of a layer run on BLAS (see ``backprop.py``); everything else that touches a
batch element by element — adding the bias and applying the activation, the activation's
derivative, the output layer's error δᴸ and the cost — is fused here into one pass over memory each.

Activations and costs are small integer codes so that one compiled kernel serves every network.
:func:`infer`, the compiled forward pass for prediction, lives here too (not in ``network.py``,
which must load without Numba).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from trainer.core.activations import (  # noqa: F401  (the kernels' codes, re-exported)
    ACTIVATIONS,
    COSTS,
    CROSS_ENTROPY,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    QUADRATIC,
    RELU,
    SIGMOID,
    SOFTMAX,
    TANH,
)

#: Inputs with at most this share of non-zero values take the zero-skipping input-layer products.
SPARSE_DENSITY = 0.35

_JIT = dict(cache=True, nogil=True, error_model="numpy", fastmath=False)


@njit(**_JIT)
def _sigmoid(z):
    # For very negative z, exp(−z) overflows to +inf and 1 / (1 + inf) = 0, the right limit: no
    # branch is needed (and one would cost a third of the time).
    return 1.0 / (1.0 + math.exp(-z))


@njit(**_JIT)
def _softplus(z):
    """log(1 + e^z) without overflow."""
    if z > 0:
        return z + math.log1p(math.exp(-z))
    return math.log1p(math.exp(z))


@njit(**_JIT)
def add_bias_and_activate(z, bias, a, activation):
    """z += bias (in place, row-wise), then a = activation(z). z, a: (batch, n); bias: (n,)."""
    rows, cols = z.shape
    for i in range(rows):
        for j in range(cols):
            z[i, j] += bias[j]
        if activation == SOFTMAX:
            top = z[i, 0]
            for j in range(1, cols):
                top = max(top, z[i, j])
            total = 0.0
            for j in range(cols):
                e = math.exp(z[i, j] - top)
                a[i, j] = e
                total += e
            for j in range(cols):
                a[i, j] /= total
        elif activation == RELU:
            for j in range(cols):
                a[i, j] = max(z[i, j], 0.0)
        elif activation == TANH:
            for j in range(cols):
                a[i, j] = math.tanh(z[i, j])
        else:
            for j in range(cols):
                a[i, j] = _sigmoid(z[i, j])


@njit(**_JIT)
def _derivative(z, a, activation, masked):
    """σ′(z) of a hidden activation, given a = σ(z) unless ``masked`` (a is scaled by dropout)."""
    if activation == RELU:
        return 1.0 if a > 0 else 0.0
    if masked:
        a = math.tanh(z) if activation == TANH else _sigmoid(z)
    if activation == TANH:
        return 1.0 - a * a
    return a * (1.0 - a)


@njit(**_JIT)
def multiply_by_derivative(delta, z, a, activation, mask, masked):
    """delta ⊙= σ′(z), and then ⊙= mask if the layer was ``masked`` by dropout: turns
    (Wˡ⁺¹)ᵀδˡ⁺¹ into δˡ, in one pass over memory.

    σ′ is read off the layer's activations a = σ(z) (sigmoid a(1 − a), tanh 1 − a², ReLU a > 0),
    which saves an exponential per unit. Activations that dropout has scaled no longer equal
    σ(z), so sigmoid and tanh then recompute σ(z); ReLU's a > 0 is right either way where the
    mask keeps a unit, and the mask zeroes δ where it does not.
    """
    rows, cols = delta.shape
    for i in range(rows):
        for j in range(cols):
            delta[i, j] *= _derivative(z[i, j], a[i, j], activation, masked)
            if masked:
                delta[i, j] *= mask[i, j]


@njit(**_JIT)
def drop_out(a, mask, rate):
    """Inverted dropout: draws a fresh mask (0 or 1/(1-rate) per unit) into ``mask``, and
    a ⊙= mask.

    Each unit is kept when its 16-bit random number (``_random_quarters``) is below
    (1 - rate)·65536. The random numbers are drawn first, in a loop that does nothing else,
    because their stream is one long chain of dependent operations; the loop over the units then
    has no such chain and runs on whole vectors.
    """
    keep = 1.0 - rate
    threshold = np.uint16(min(65535.0, keep * 65536.0))
    scale = 1.0 / keep
    flat_mask = mask.reshape(-1)
    flat_a = a.reshape(-1)
    draws = _random_quarters(flat_mask.shape[0])
    for i in range(flat_mask.shape[0]):
        flat_mask[i] = scale if draws[i] < threshold else 0.0
        flat_a[i] *= flat_mask[i]


#: The xorshift64* stream's multiplier (Vigna's).
_MULTIPLIER = np.uint64(2685821657736338717)
#: Streams shorter than this many steps are drawn in one piece (see ``_random_quarters``).
_SPLIT_MIN_STEPS = 64


def _jump_table(levels: int = 40) -> np.ndarray:
    """Row e: the 64 images of the bits 1 << b under 2^e steps of xorshift64's state update.

    The update (three shifts and exclusive ors) is linear over the bits, so a state k steps on is
    the exclusive or of those images of its bits, for each power of two in k (``_jump``).
    """
    bits = np.arange(64, dtype=np.uint64)
    table = np.empty((levels, 64), np.uint64)
    table[0] = np.uint64(1) << bits
    for shift, left in ((12, False), (25, True), (27, False)):  # as in ``_xorshift``
        table[0] ^= table[0] << np.uint64(shift) if left else table[0] >> np.uint64(shift)
    for e in range(1, levels):
        previous = table[e - 1]
        chosen = (previous[:, None] >> bits[None, :]) & np.uint64(1)  # [image, bit]
        table[e] = np.bitwise_xor.reduce(
            np.where(chosen == 1, previous[None, :], np.uint64(0)), axis=1
        )
    return table


@njit(**_JIT)
def _xorshift(state):
    """xorshift64's state update: one step of the stream."""
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state


_JUMPS = _jump_table()


@njit(**_JIT)
def _jump(state, steps):
    """The state ``steps`` steps on (``_jump_table``), without making them."""
    e = 0
    while steps:
        if steps & 1:
            moved = np.uint64(0)
            for b in range(64):
                if (state >> np.uint64(b)) & np.uint64(1):
                    moved ^= _JUMPS[e, b]
            state = moved
        steps >>= 1
        e += 1
    return state


@njit(**_JIT)
def _store_quarters(quarters, step, state):
    """The step's four 16-bit numbers, from xorshift64*'s output for ``state``: its quarters from
    the lowest up."""
    bits = state * _MULTIPLIER
    low = np.uint64(0xFFFF)
    quarters[4 * step] = bits & low
    quarters[4 * step + 1] = (bits >> np.uint64(16)) & low
    quarters[4 * step + 2] = (bits >> np.uint64(32)) & low
    quarters[4 * step + 3] = bits >> np.uint64(48)


@njit(**_JIT)
def _random_quarters(count):
    """At least ``count`` uniform 16-bit random numbers, from the seeded generator of compiled
    code: one draw from it starts a xorshift64* stream, and each 64-bit output gives four numbers,
    its 16-bit quarters from the lowest up (a Mersenne-Twister draw per unit would cost more
    than the layer's elementwise work itself).

    Each step of the stream waits for the one before, so the stream is cut into four runs, each
    started where the one before ends (``_jump``), and the runs are made side by side: four
    chains in flight instead of one, and the same numbers in the same places as one run.
    """
    steps = (count + 3) // 4
    quarters = np.empty(4 * steps, dtype=np.uint16)
    x0 = np.uint64(np.random.randint(1, 2**62)) | np.uint64(1)
    if steps < _SPLIT_MIN_STEPS:
        for step in range(steps):
            x0 = _xorshift(x0)
            _store_quarters(quarters, step, x0)
        return quarters
    run = (steps + 3) // 4  # the last run is shorter
    x1 = _jump(x0, run)
    x2 = _jump(x1, run)
    x3 = _jump(x2, run)
    last_run = steps - 3 * run
    for j in range(run):
        x0, x1, x2 = _xorshift(x0), _xorshift(x1), _xorshift(x2)
        _store_quarters(quarters, j, x0)
        _store_quarters(quarters, run + j, x1)
        _store_quarters(quarters, 2 * run + j, x2)
        if j < last_run:
            x3 = _xorshift(x3)
            _store_quarters(quarters, 3 * run + j, x3)
    return quarters


@njit(**_JIT)
def output_delta_and_cost(z, a, labels, activation, cost, delta):
    """The output error δᴸ = ∂C/∂zᴸ for each sample, and the batch's summed cost and hits.

    labels holds class indices; y is their one-hot vector. Returns (cost_sum, correct).
    quadratic:      C = ½‖a − y‖²,  δ = (a − y) ⊙ σ′(z)  (softmax: the Jacobian's transpose applied)
    cross-entropy:  softmax C = −ln a_y, sigmoid C = −Σ y ln a + (1−y) ln(1−a); both give δ = a − y.
    The costs are computed from z, not from a, so that a saturated unit gives a large finite cost
    instead of log(0).
    """
    rows, cols = a.shape
    cost_sum = 0.0
    correct = 0
    for i in range(rows):
        y = labels[i]
        best = 0
        for j in range(1, cols):
            if a[i, j] > a[i, best]:
                best = j
        if best == y:
            correct += 1
        if cost == CROSS_ENTROPY:
            if activation == SOFTMAX:
                top = z[i, 0]
                for j in range(1, cols):
                    top = max(top, z[i, j])
                total = 0.0
                for j in range(cols):
                    total += math.exp(z[i, j] - top)
                cost_sum += top + math.log(total) - z[i, y]
            else:
                for j in range(cols):
                    # −ln σ(z) = softplus(−z);  −ln(1 − σ(z)) = softplus(z)
                    cost_sum += _softplus(-z[i, j]) if j == y else _softplus(z[i, j])
            for j in range(cols):
                delta[i, j] = a[i, j] - (1.0 if j == y else 0.0)
        else:
            inner = 0.0  # Σ_k (a_k − y_k) a_k, needed by the softmax Jacobian
            for j in range(cols):
                diff = a[i, j] - (1.0 if j == y else 0.0)
                cost_sum += 0.5 * diff * diff
                inner += diff * a[i, j]
            for j in range(cols):
                diff = a[i, j] - (1.0 if j == y else 0.0)
                if activation == SOFTMAX:
                    delta[i, j] = a[i, j] * (diff - inner)
                else:
                    delta[i, j] = diff * a[i, j] * (1.0 - a[i, j])
    return cost_sum, correct


@njit(**_JIT)
def column_sums(delta, out):
    """out[j] = Σ_i delta[i, j]: the bias gradient, summed over the batch."""
    rows, cols = delta.shape
    for j in range(cols):
        out[j] = 0.0
    for i in range(rows):
        for j in range(cols):
            out[j] += delta[i, j]


@njit(**_JIT)
def sparse_rows_times(x, w, out):
    """out = x @ w, skipping the zeros of x: each non-zero x[i, k] adds x[i, k]·w[k, :] to row i.

    For MNIST (about 150 inked pixels of 784) this does a fifth of the dense product's work, as
    contiguous, vectorised row updates.
    """
    rows, inner = x.shape
    cols = w.shape[1]
    for i in range(rows):
        for j in range(cols):
            out[i, j] = 0.0
        for k in range(inner):
            value = x[i, k]
            if value != 0.0:
                for j in range(cols):
                    out[i, j] += value * w[k, j]


@njit(**_JIT)
def is_sparse(x):
    """True when at most SPARSE_DENSITY of x is non-zero: then the zero-skipping products win."""
    nonzero = 0
    for value in x.reshape(-1):
        if value != 0.0:
            nonzero += 1
    return nonzero <= SPARSE_DENSITY * x.size


@njit(**_JIT)
def gather_rows(source, indices, out):
    """out[k] = source[indices[k]]: assembles a shuffled mini-batch without Python overhead."""
    cols = source.shape[1]
    for k in range(indices.shape[0]):
        row = indices[k]
        for j in range(cols):
            out[k, j] = source[row, j]


#: Batches up to this size never call BLAS (see ``infer``).
SMALL_BATCH = 4


@njit(cache=True, nogil=True)
def infer(weights, biases, x, hidden, output):
    """Forward pass without training buffers: returns the output activations of each row of x.

    A few rows at a time — one drawing, live — never go to BLAS: OpenBLAS spreads even a 1×800 ·
    800×800 product over both cores, and while the user draws the GUI thread holds one of them, so
    the product waits for it (p99 15 ms instead of 2 ms). The zero-skipping row product does the
    work in this thread instead, and skips ReLU's zeros as well as the input's.
    """
    a = x
    layers = len(weights)
    small = x.shape[0] <= SMALL_BATCH
    sparse = is_sparse(x)
    for l in range(layers):
        if small or (l == 0 and sparse):
            z = np.empty((a.shape[0], weights[l].shape[1]), dtype=a.dtype)
            sparse_rows_times(a, weights[l], z)
        else:
            z = np.dot(a, weights[l])
        activated = np.empty_like(z)
        add_bias_and_activate(z, biases[l], activated, output if l == layers - 1 else hidden)
        a = activated
    return a
