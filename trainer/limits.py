"""What a real DigitPad network can be: the bounds that model files and training runs must keep.

A model file or a command line is untrusted input; these bounds let both be refused *before*
anything is allocated or compiled. They are far above every preset (the largest ships as
784-800-800-10, 1.3 million parameters) and far below what would exhaust a desktop machine:

* Numba compiles the forward pass once per number of layers (the weights are a tuple), and a
  network of 999 one-unit layers took 230 s and 1 GB to compile; hence a few hidden layers at most.
* Weights, gradients, optimiser moments and the best epoch's copy are five copies of the
  parameters; the per-batch buffers are four per layer (``backprop.Workspace``).
"""

from __future__ import annotations

MAX_HIDDEN_LAYERS = 6
MAX_LAYER_SIZE = 8192
MAX_PARAMETERS = 24_000_000
#: Bytes a training run may need for its parameters and batch buffers (see ``training_bytes``).
MAX_TRAINING_BYTES = 3 * 1024**3

_BYTES_PER_VALUE = 4  # float32
_PARAMETER_COPIES = 5  # weights, gradients, two Adam moments, the best epoch's copy
_BATCH_BUFFERS = 4  # activations, pre-activations, deltas, dropout masks


def parameter_count(layer_sizes) -> int:
    """Weights and biases of a fully connected network with these layer sizes."""
    return sum((n_in + 1) * n_out for n_in, n_out in zip(layer_sizes[:-1], layer_sizes[1:]))


def shape_problem(layer_sizes) -> str | None:
    """Why a network of these (already positive, integer) layer sizes is beyond any DigitPad
    model, or None. The number of outputs is not checked here."""
    hidden = len(layer_sizes) - 2
    if hidden > MAX_HIDDEN_LAYERS:
        return f"{hidden} hidden layers; a DigitPad network has at most {MAX_HIDDEN_LAYERS}"
    parameters = parameter_count(layer_sizes)
    if parameters > MAX_PARAMETERS:
        return (
            f"{parameters:,} parameters; a DigitPad network has at most {MAX_PARAMETERS:,}"
        ).replace(",", " ")
    return None


def training_bytes(layer_sizes, batch_size: int) -> int:
    """Roughly what training such a network with such batches holds in memory."""
    parameters = parameter_count(layer_sizes) * _PARAMETER_COPIES
    batch = batch_size * sum(layer_sizes) * _BATCH_BUFFERS
    return (parameters + batch) * _BYTES_PER_VALUE
