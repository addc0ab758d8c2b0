"""The network's forward pass in plain NumPy: every layer's activations for one input or a batch.

``Network.predict_proba`` runs the compiled forward pass (``kernels.infer``), which Numba must
compile (or load from its cache) first. This one needs no JIT: the app predicts with it, so that a
drawing is read as soon as the model is loaded, and it is the readable reference the compiled pass
is tested against (``tests/test_forward_paths.py``: probabilities within 1e-5, same verdicts). It
works for any layer sizes and activations a model file can hold.
"""

from __future__ import annotations

import numpy as np


def forward_activations(network, x) -> list[np.ndarray]:
    """The activations of every layer after the input, for ``x`` of shape (n_in,) or (n, n_in).

    The last entry is the output (probabilities for softmax). A single input is multiplied by each
    layer's weights over its non-zero entries only (a drawing inks about a fifth of the pixels and
    ReLU zeroes many hidden units), without BLAS, whose threads would compete with the GUI thread
    for the cores, as ``kernels.infer`` does; a batch uses the matrix product.
    """
    return [a for _z, a in forward_layers(network, x)]


def forward_layers(network, x) -> list[tuple[np.ndarray, np.ndarray]]:
    """(pre-activation z, activation a) of every layer after the input, as
    :func:`forward_activations` computes them; the attribution maps (``trainer/core/attribution.py``)
    need the pre-activations too."""
    a = np.asarray(x, dtype=network.dtype)
    if a.ndim not in (1, 2) or a.shape[-1] != network.layer_sizes[0]:
        raise ValueError(f"expected inputs of {network.layer_sizes[0]} values, got shape {a.shape}")
    layers = []
    last = len(network.weights) - 1
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        z = (_nonzero_product(a, w) if a.ndim == 1 else a @ w) + b
        a = activate(z, network.output_activation if l == last else network.hidden_activation)
        layers.append((z, a))
    return layers


def predict_proba(network, x) -> np.ndarray:
    """Output activations for (n_in,) -> (n_out,) or (n, n_in) -> (n, n_out), as
    ``network.predict_proba`` gives them, without compiling anything."""
    return forward_activations(network, x)[-1]


def _nonzero_product(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """a @ w for one input vector, summing only the rows of w where a is not zero."""
    nonzero = np.flatnonzero(a)
    return np.einsum("k,kn->n", a[nonzero], w[nonzero])


def activate(z: np.ndarray, name: str) -> np.ndarray:
    """One layer's activation (rows are samples): sigmoid, tanh, relu or softmax."""
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-z) = inf gives the right limit, 0
            return 1 / (1 + np.exp(-z))
    if name == "softmax":
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(f"unknown activation {name!r}")
