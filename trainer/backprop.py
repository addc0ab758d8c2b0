"""Where gradients are computed: the forward and backward pass of a mini-batch.

A batch is a matrix with one sample per row and Wˡ has shape (n_in, n_out), so layer l computes
    zˡ = aˡ⁻¹ Wˡ + bˡ,   aˡ = σ(zˡ)
and backpropagation runs the four equations of Nielsen's chapter 2, batched (his column-vector
equations, transposed):
    δᴸ = ∇ₐC ⊙ σ′(zᴸ)                      (kernels.output_delta_and_cost)
    δˡ = (δˡ⁺¹ (Wˡ⁺¹)ᵀ) ⊙ σ′(zˡ)           (a BLAS product, then kernels.multiply_by_derivative)
    ∂C/∂Wˡ = (aˡ⁻¹)ᵀ δˡ,  ∂C/∂bˡ = Σ_rows δˡ
The gradients are *sums* over the batch; the optimisers divide by the batch size.

The input layer is special: MNIST images are about 80% zeros, so when the input is sparse enough
its two products skip the zero pixels (``kernels.sparse_rows_times``,
``kernels.sparse_rows_transposed_times``) instead of calling BLAS.

Every array lives in a preallocated ``Workspace`` so that a training epoch allocates nothing.
"""
from __future__ import annotations

import numpy as np
from numba import njit
from numba.typed import List

from trainer import kernels


class Workspace:
    """Buffers for one batch size: activations, pre-activations, errors, masks and gradients.

    ``activations[0]`` holds the input batch; ``activations[l + 1]``, ``zs[l]``, ``deltas[l]`` and
    ``dropout_masks[l]`` belong to layer l; ``grad_w``/``grad_b`` have the shapes of the parameters.
    """

    def __init__(self, layer_sizes: list[int], batch_size: int, dtype: np.dtype):
        def matrices(shapes):
            typed = List()
            for shape in shapes:
                typed.append(np.zeros(shape, dtype=dtype))
            return typed

        pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
        self.batch_size = batch_size
        self.activations = matrices([(batch_size, n) for n in layer_sizes])
        self.zs = matrices([(batch_size, n_out) for _, n_out in pairs])
        self.deltas = matrices([(batch_size, n_out) for _, n_out in pairs])
        self.dropout_masks = matrices([(batch_size, n_out) for _, n_out in pairs])
        self.grad_w = matrices([(n_in, n_out) for n_in, n_out in pairs])
        self.grad_b = List()
        for _, n_out in pairs:
            self.grad_b.append(np.zeros(n_out, dtype=dtype))


@njit(cache=True, nogil=True)
def forward(weights, biases, activations, zs, masks, m, hidden, output, dropout, sparse_input):
    """Fill zs and activations[1:] for the first m rows of activations[0].

    With dropout > 0 each hidden layer's output is multiplied by a fresh inverted-dropout mask.
    With sparse_input the input layer's product skips zero inputs.
    """
    layers = len(weights)
    for l in range(layers):
        z = zs[l][:m]
        if l == 0 and sparse_input:
            kernels.sparse_rows_times(activations[0][:m], weights[0], z)
        else:
            np.dot(activations[l][:m], weights[l], z)
        is_output = l == layers - 1
        kernels.add_bias_and_activate(z, biases[l], activations[l + 1][:m],
                                      output if is_output else hidden)
        if dropout > 0.0 and not is_output:
            kernels.fill_dropout_mask(masks[l][:m], dropout)
            kernels.apply_dropout_mask(activations[l + 1][:m], masks[l][:m])


@njit(cache=True, nogil=True)
def backward(weights, activations, zs, deltas, masks, grad_w, grad_b, labels, m,
             hidden, output, cost, dropout, sparse_input):
    """Backpropagate the first m rows after ``forward``; returns (cost_sum, correct)."""
    layers = len(weights)
    last = layers - 1
    cost_sum, correct = kernels.output_delta_and_cost(
        zs[last][:m], activations[layers][:m], labels, output, cost, deltas[last][:m])
    for l in range(last, -1, -1):
        delta = deltas[l][:m]
        if l == 0 and sparse_input:
            kernels.sparse_rows_transposed_times(activations[0][:m], delta, grad_w[0])
        else:
            np.dot(activations[l][:m].T, delta, grad_w[l])
        kernels.column_sums(delta, grad_b[l])
        if l > 0:
            previous = deltas[l - 1][:m]
            np.dot(delta, weights[l].T, previous)
            kernels.multiply_by_derivative(previous, zs[l - 1][:m], hidden)
            if dropout > 0.0:
                kernels.apply_dropout_mask(previous, masks[l - 1][:m])
    return cost_sum, correct
