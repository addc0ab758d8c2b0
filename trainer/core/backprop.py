"""Where gradients are computed: the forward and backward pass of a mini-batch.

A batch is a matrix with one sample per row and Wˡ has shape (n_in, n_out), so layer l computes
    zˡ = aˡ⁻¹ Wˡ + bˡ,   aˡ = σ(zˡ)
and backpropagation runs the four equations of Nielsen's chapter 2, batched (his column-vector
equations, transposed):
    δᴸ = ∇ₐC ⊙ σ′(zᴸ)                      (kernels.output_delta_and_cost)
    δˡ = (δˡ⁺¹ (Wˡ⁺¹)ᵀ) ⊙ σ′(zˡ)           (a BLAS product, then kernels.multiply_by_derivative)
    ∂C/∂Wˡ = (aˡ⁻¹)ᵀ δˡ,  ∂C/∂bˡ = Σ_rows δˡ
The gradients are *sums* over the batch; the optimisers divide by the batch size.

The input layer is special: MNIST images are about 80% zeros, so training hands them over
compressed (``sparse_input.SparseRows`` and the batch's row numbers), and the input layer's two
products run over the inked pixels only instead of calling BLAS. The input layer's weight gradient
(X)ᵀδ¹ can then be left in that factored form, X and δ¹ (``store_input_gradient=False``): plain
SGD applies it to the inked rows directly (see ``training.run_batches``).

Every array lives in a preallocated ``Workspace`` so that a training epoch allocates nothing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from trainer.fast import kernels, sparse_input


class Workspace:
    """Buffers for one batch size: activations, pre-activations, errors, masks and gradients.

    ``activations[0]`` holds the input batch; ``activations[l + 1]``, ``zs[l]``, ``deltas[l]`` and
    ``dropout_masks[l]`` belong to layer l; ``grad_w``/``grad_b`` have the shapes of the parameters.
    """

    def __init__(self, layer_sizes: list[int], batch_size: int, dtype: np.dtype):
        def zeros(shapes):
            return tuple(np.zeros(shape, dtype=dtype) for shape in shapes)

        pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
        self.batch_size = batch_size
        self.activations = zeros([(batch_size, n) for n in layer_sizes])
        self.zs = zeros([(batch_size, n_out) for _, n_out in pairs])
        self.deltas = zeros([(batch_size, n_out) for _, n_out in pairs])
        self.dropout_masks = zeros([(batch_size, n_out) for _, n_out in pairs])
        self.grad_w = zeros([(n_in, n_out) for n_in, n_out in pairs])
        self.grad_b = zeros([n_out for _, n_out in pairs])


def no_sparse_input(dtype) -> tuple:
    """The (sparse, images, rows) arguments of ``forward``/``backward`` for a dense input batch."""
    empty = sparse_input.SparseRows(
        np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=dtype)
    )
    return False, empty, np.zeros(0, dtype=np.int64)


@njit(cache=True, nogil=True)
def forward(
    weights, biases, activations, zs, masks, m, hidden, output, dropout, sparse, images, rows
):
    """Fill zs and activations[1:] for a batch of m samples.

    The batch is the first m rows of activations[0], or, with ``sparse``, the rows ``rows[:m]`` of
    the compressed ``images`` (then activations[0] is not used).
    With dropout > 0 each hidden layer's output is multiplied by a fresh inverted-dropout mask.
    """
    layers = len(weights)
    for l in range(layers):
        z = zs[l][:m]
        if l == 0 and sparse:
            sparse_input.rows_times(images, rows[:m], weights[0], z)
        else:
            np.dot(activations[l][:m], weights[l], z)
        is_output = l == layers - 1
        kernels.add_bias_and_activate(
            z, biases[l], activations[l + 1][:m], output if is_output else hidden
        )
        if dropout > 0.0 and not is_output:
            kernels.fill_dropout_mask(masks[l][:m], dropout)
            kernels.apply_dropout_mask(activations[l + 1][:m], masks[l][:m])


@njit(cache=True, nogil=True)
def backward(
    weights,
    activations,
    zs,
    deltas,
    masks,
    grad_w,
    grad_b,
    labels,
    m,
    hidden,
    output,
    cost,
    dropout,
    sparse,
    images,
    rows,
    store_input_gradient,
):
    """Backpropagate the batch of ``forward``; returns (cost_sum, correct).

    Without ``store_input_gradient`` (sparse input only) grad_w[0] is left untouched: the input
    layer's weight gradient is (X)ᵀδ¹ with X the compressed batch and δ¹ in deltas[0].
    """
    layers = len(weights)
    last = layers - 1
    cost_sum, correct = kernels.output_delta_and_cost(
        zs[last][:m], activations[layers][:m], labels, output, cost, deltas[last][:m]
    )
    for l in range(last, -1, -1):
        delta = deltas[l][:m]
        if l == 0 and sparse:
            if store_input_gradient:
                grad_w[0][:] = 0.0
                sparse_input.add_transposed_times(images, rows[:m], delta, 1.0, grad_w[0])
        else:
            np.dot(activations[l][:m].T, delta, grad_w[l])
        kernels.column_sums(delta, grad_b[l])
        if l > 0:
            previous = deltas[l - 1][:m]
            np.dot(delta, weights[l].T, previous)
            kernels.multiply_by_derivative(
                previous, zs[l - 1][:m], activations[l][:m], hidden, dropout > 0.0
            )
            if dropout > 0.0:
                kernels.apply_dropout_mask(previous, masks[l - 1][:m])
    return cost_sum, correct
