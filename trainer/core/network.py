"""The multilayer perceptron: layer sizes, weights and biases, and prediction.

Samples are rows, so ``weights[l]`` has shape (n_in, n_out) and a layer computes ``Z = A W + b``
for a batch A of samples stored one per row (Keras' layout; Nielsen's ``network.py`` stores the
transpose and works on one column vector at a time). Keeping the input dimension first lets the
first layer skip MNIST's zero pixels row by row (``sparse_input`` in training,
``kernels.sparse_rows_times`` in prediction).
Training lives in ``training.py``, gradients in ``backprop.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from trainer.core import activations

INITIALISATIONS = ("normal", "he", "glorot")
#: Outputs 0–9 are the digits; an eleventh, if any, is "not a digit".
DIGITS = 10


class Network:
    """A fully connected feed-forward network.

    Parameters
    ----------
    layer_sizes : e.g. ``[784, 30, 10]``; at least an input and an output layer.
    hidden_activation : "sigmoid", "tanh" or "relu".
    output_activation : "sigmoid" or "softmax".
    cost : "quadratic" (Nielsen's ½‖a − y‖²) or "cross_entropy".
    init : "normal" — Nielsen's N(0, 1) for weights and biases; "he" — N(0, 2/n_in), zero biases;
        "glorot" — U(±√(6/(n_in + n_out))), zero biases (Keras' default).
    dtype : float32 for training and use; float64 for gradient checking.
    seed : seeds the initial weights.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        hidden_activation: str = "relu",
        output_activation: str = "softmax",
        cost: str = "cross_entropy",
        init: str = "he",
        dtype=np.float32,
        seed: int = 0,
    ):
        self.layer_sizes = [int(n) for n in layer_sizes]
        if len(self.layer_sizes) < 2 or min(self.layer_sizes) < 1:
            raise ValueError(
                f"layer sizes must be at least two positive integers, got {list(layer_sizes)}"
            )
        _check_choice("hidden activation", hidden_activation, activations.HIDDEN_ACTIVATIONS)
        _check_choice("output activation", output_activation, activations.OUTPUT_ACTIVATIONS)
        _check_choice("cost", cost, tuple(activations.COSTS))
        _check_choice("initialisation", init, INITIALISATIONS)
        self.hidden_activation = hidden_activation
        self.output_activation = output_activation
        self.cost = cost
        self.init = init
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        weights, biases = [], []
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            w, b = _initial_parameters(rng, init, n_in, n_out)
            weights.append(w.astype(self.dtype))
            biases.append(b.astype(self.dtype))
        # Tuples, not lists: compiled code takes a tuple of arrays as it is, while a numba.typed.List
        # compiles its own methods afresh in every process (about 3 s of each start of the app).
        self.weights, self.biases = tuple(weights), tuple(biases)

    @property
    def codes(self) -> tuple[int, int, int]:
        """(hidden activation, output activation, cost) as the kernels' integer codes."""
        return (
            activations.ACTIVATIONS[self.hidden_activation],
            activations.ACTIVATIONS[self.output_activation],
            activations.COSTS[self.cost],
        )

    @property
    def parameter_count(self) -> int:
        return sum(w.size + b.size for w, b in zip(self.weights, self.biases))

    def set_parameters(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> None:
        """Replace every weight and bias (shapes must match), e.g. when loading a model file."""
        for l, (w, b) in enumerate(zip(weights, biases)):
            if w.shape != self.weights[l].shape or b.shape != self.biases[l].shape:
                raise ValueError(
                    f"layer {l}: expected shapes {self.weights[l].shape} and "
                    f"{self.biases[l].shape}, got {w.shape} and {b.shape}"
                )
            self.weights[l][...] = w
            self.biases[l][...] = b

    def is_finite(self) -> bool:
        return all(
            np.isfinite(w).all() and np.isfinite(b).all() for w, b in zip(self.weights, self.biases)
        )

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Output activations for one sample (n_in,) -> (n_out,) or a batch (n, n_in) -> (n, n_out)."""
        x = np.asarray(x, dtype=self.dtype)
        single = x.ndim == 1
        batch = np.ascontiguousarray(x.reshape(1, -1) if single else x)
        if batch.shape[1] != self.layer_sizes[0]:
            raise ValueError(
                f"expected inputs of {self.layer_sizes[0]} values, got {batch.shape[1]}"
            )
        from trainer.fast.kernels import infer  # Numba: imported when first needed

        hidden, output, _ = self.codes
        out = infer(self.weights, self.biases, batch, hidden, output)
        return out[0] if single else out

    def predict(self, x: np.ndarray):
        """The most probable digit of one sample, or of each row of a batch.

        Only the first ten outputs (the digits) compete: the best guess of a network with an
        eleventh output, "not a digit", is still a digit (``trainer.core.verdict`` decides whether to
        show it).
        """
        probabilities = self.predict_proba(x)[..., :DIGITS]
        return int(np.argmax(probabilities)) if probabilities.ndim == 1 else probabilities.argmax(1)


def _check_choice(what: str, value: str, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; choose one of {', '.join(allowed)}")


def _initial_parameters(rng: np.random.Generator, init: str, n_in: int, n_out: int):
    if init == "normal":
        return rng.standard_normal((n_in, n_out)), rng.standard_normal(n_out)
    if init == "he":
        return rng.normal(0.0, np.sqrt(2.0 / n_in), (n_in, n_out)), np.zeros(n_out)
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_in, n_out)), np.zeros(n_out)


def __getattr__(name: str):
    """``trainer.core.network.infer`` still names the compiled forward pass, which now lives in
    ``kernels.py`` so that importing this module (to load a model) does not import Numba."""
    if name in ("infer", "SMALL_BATCH"):
        from trainer.fast import kernels

        return getattr(kernels, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
