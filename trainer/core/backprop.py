"""Where gradients are computed: the forward and backward pass of a mini-batch.

A batch is a matrix with one sample per row and Wˡ has shape (n_in, n_out), so layer l computes
    zˡ = aˡ⁻¹ Wˡ + bˡ,   aˡ = σ(zˡ)
and backpropagation runs the four equations of Nielsen's chapter 2, batched (his column-vector
equations, transposed), each marked where it is computed:
    BP1  δᴸ = ∇ₐC ⊙ σ′(zᴸ)                   (kernels.output_delta_and_cost)
    BP2  δˡ = (δˡ⁺¹ (Wˡ⁺¹)ᵀ) ⊙ σ′(zˡ)        (a BLAS product, then kernels.multiply_by_derivative)
    BP3  ∂C/∂bˡ = Σ_rows δˡ
    BP4  ∂C/∂Wˡ = (aˡ⁻¹)ᵀ δˡ
The gradients are *sums* over the batch; the optimisers divide by the batch size.

The input layer's products go through ``input_layer.py``, which fences off two speed tricks for
MNIST's mostly blank images (products over the inked pixels only; plain SGD's step written
straight onto the inked rows of W¹). On training's two threads the other layers' work is shared
out as well, with the same numbers bit for bit: the forward product by columns
(``split_products.py``), and each layer's BP2 on one thread while its BP4 and BP3 run on the other
(``layer_backward``). Everything else here is the maths as written above.

Compiled code takes the network as a ``Net`` and the batch's buffers as a ``Workspace``, both named
tuples; every array lives in the workspace, so that a training epoch allocates nothing.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from trainer.fast import aligned, input_layer, kernels, split_products


class Net(NamedTuple):
    """The network as compiled code sees it: its parameters and its functions' integer codes."""

    weights: tuple  # Wˡ, shape (n_in, n_out)
    biases: tuple  # bˡ, shape (n_out,)
    hidden: int  # σ of the hidden layers (``activations.ACTIVATIONS``)
    output: int  # σ of the output layer
    cost: int  # C (``activations.COSTS``)


def net(network) -> Net:
    """The ``Net`` of a ``network.Network``: the same arrays, so updates change the network."""
    return Net(network.weights, network.biases, *network.codes)


class Workspace(NamedTuple):
    """Buffers for batches of up to ``batch_size`` samples (make one with ``allocate``).

    ``activations[0]`` holds a dense input batch; ``activations[l + 1]``, ``zs[l]``, ``deltas[l]``
    and ``dropout_masks[l]`` belong to layer l; ``grad_w``/``grad_b`` have the parameters' shapes.
    """

    activations: tuple  # aˡ
    zs: tuple  # zˡ
    deltas: tuple  # δˡ
    dropout_masks: tuple
    grad_w: tuple  # ∂C/∂Wˡ, summed over the batch
    grad_b: tuple  # ∂C/∂bˡ, summed over the batch

    @classmethod
    def allocate(cls, layer_sizes: list[int], batch_size: int, dtype) -> Workspace:
        def zeros(shapes):
            return tuple(aligned.zeros(shape, dtype) for shape in shapes)

        pairs = list(zip(layer_sizes[:-1], layer_sizes[1:]))
        outputs = [(batch_size, n_out) for _, n_out in pairs]
        return cls(
            activations=zeros([(batch_size, n) for n in layer_sizes]),
            zs=zeros(outputs),
            deltas=zeros(outputs),
            dropout_masks=zeros(outputs),
            grad_w=zeros(pairs),
            grad_b=zeros([n_out for _, n_out in pairs]),
        )

    @property
    def batch_size(self) -> int:
        return self.activations[0].shape[0]


@njit(cache=True, nogil=True)
def forward(net, space, inputs, rows, dropout):
    """Fill zs and activations[1:] for the batch of the samples ``rows`` of ``inputs``.

    With dropout > 0 each hidden layer's output is multiplied by a fresh inverted-dropout mask.
    """
    m = rows.shape[0]
    layers = len(net.weights)
    for l in range(layers):
        z = space.zs[l][:m]
        if l == 0:  # z¹ = x W¹, dense or over the inked pixels
            input_layer.batch_times_weights(
                inputs, rows, space.activations[0][:m], net.weights[0], z
            )
        else:
            split_products.times(space.activations[l][:m], net.weights[l], z, inputs.threads)
        is_output = l == layers - 1
        kernels.add_bias_and_activate(
            z, net.biases[l], space.activations[l + 1][:m], net.output if is_output else net.hidden
        )
        if dropout > 0.0 and not is_output:
            kernels.drop_out(space.activations[l + 1][:m], space.dropout_masks[l][:m], dropout)


@njit(cache=True, nogil=True)
def backward(net, space, inputs, rows, labels, dropout):
    """Backpropagate the batch of ``forward`` into deltas, grad_w and grad_b.

    Returns (cost_sum, correct) of the batch, whose targets are the class ``labels``.
    """
    m = rows.shape[0]
    last = len(net.weights) - 1
    # BP1: δᴸ = ∇ₐC ⊙ σ′(zᴸ)
    cost_sum, correct = kernels.output_delta_and_cost(
        space.zs[last][:m],
        space.activations[last + 1][:m],
        labels,
        net.output,
        net.cost,
        space.deltas[last][:m],
    )
    for l in range(last, 0, -1):
        layer_backward(net, space, l, m, dropout > 0.0, inputs.threads)
    # The input layer: its BP4 through ``input_layer`` (no BP2: there is no layer below)
    delta = space.deltas[0][:m]
    input_layer.weight_gradient(inputs, rows, space.activations[0][:m], delta, space.grad_w[0])
    kernels.column_sums(delta, space.grad_b[0])
    return cost_sum, correct


@njit(cache=True, nogil=True)
def layer_backward(net, space, l, m, masked, threads):
    """BP2, BP4 and BP3 of layer l > 0 for the batch's first m samples (``masked``: its forward
    pass applied dropout). With ``threads`` > 1, BP2 runs on one thread while BP4 and BP3 run on
    another (BLAS held to one thread by the caller, as training does)."""
    delta, weights, a = space.deltas[l][:m], net.weights[l], space.activations[l][:m]
    below = space.deltas[l - 1][:m], space.zs[l - 1][:m], space.dropout_masks[l - 1][:m]
    if threads > 1:
        _bp2_beside_bp4_and_bp3(
            delta, weights, a, *below, net.hidden, masked, space.grad_w[l], space.grad_b[l]
        )
    else:
        # BP2 first: it reads Wˡ, which the forward pass read last, while more of it is still in
        # the caches (a few per cent faster, measured)
        _bp2(delta, weights, a, *below, net.hidden, masked)
        _bp4_and_bp3(delta, a, space.grad_w[l], space.grad_b[l])


@njit(cache=True, nogil=True)
def _bp2(delta, weights, a, previous, z, mask, hidden, masked):
    """BP2: δˡ⁻¹ = (δˡ (Wˡ)ᵀ) ⊙ σ′(zˡ⁻¹) into ``previous``, and through the same dropout mask as
    forward (``masked``); ``a`` = aˡ⁻¹ = σ(zˡ⁻¹), from which σ′ is read."""
    np.dot(delta, weights.T, previous)
    kernels.multiply_by_derivative(previous, z, a, hidden, mask, masked)


@njit(cache=True, nogil=True)
def _bp4_and_bp3(delta, a, grad_w, grad_b):
    """BP4: ∂C/∂Wˡ = (aˡ⁻¹)ᵀ δˡ, and BP3: ∂C/∂bˡ = Σ_rows δˡ, for a layer above the input."""
    np.dot(a.T, delta, grad_w)
    kernels.column_sums(delta, grad_b)


@njit(cache=True, nogil=True, parallel=True)
def _bp2_beside_bp4_and_bp3(delta, weights, a, previous, z, mask, hidden, masked, grad_w, grad_b):
    """A layer's BP2 on one thread while its BP4 and BP3 run on another: they only read δˡ, Wˡ
    and aˡ⁻¹, and write different arrays. Each product then runs whole on one core, which here
    does more per second than one product split over two (``split_products.py``)."""
    for task in prange(2):
        if task == 0:
            _bp2(delta, weights, a, previous, z, mask, hidden, masked)
        else:
            _bp4_and_bp3(delta, a, grad_w, grad_b)
