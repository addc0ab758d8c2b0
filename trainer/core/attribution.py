"""Why this verdict: how much each input pixel and each hidden unit moved each output's score.

Method: DeepLIFT's *rescale rule* (Shrikumar et al., 2017) with the empty input (all 784 pixels
zero) as the reference. Every unit gets the multiplier

    m = (h(x) − h(0)) / (z(x) − z(0))

(its activation's change over its pre-activation's change, relative to the empty input; the
activation's slope f'(z) where z barely changed). Along the network every change is then an exact
product of changes: Δh = m ⊙ Δz and Δz_next = Δh · W, so chaining the multipliers back from an
output gives contributions that **add up exactly** to that output's pre-activation change:

    Σ_i attribution[i, d] = z_d(x) − z_d(empty input)

(the *summation-to-delta* property; ``tests/test_attribution.py`` checks it for many drawings, every
output and several networks). The same holds one layer down: the contributions of a hidden layer's
units to output d add up to the same difference. For a single hidden layer this is plain
arithmetic: unit j contributes (h_j(x) − h_j(0)) · W[j, d] to output d. The score z_d is the
output unit's pre-activation (the logit, before softmax or sigmoid), so a pixel's share is in the
units the network adds, not in probabilities, which do not add up.

One backward pass serves every output (10, or 11 with a "not a digit" unit): a few milliseconds
for a 784-800-800-10 network, in plain NumPy (no Numba), so it can run at every live prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trainer.core.forward import forward_layers

#: Below this change of a pre-activation, the multiplier is the activation's slope instead.
_TINY_CHANGE = 1e-6


@dataclass(frozen=True)
class Inside:
    """What the network computes for one input, and why.

    x                   (n_in,) the input
    hidden              one (n_units,) activation array per hidden layer
    empty_hidden        the same for the empty input
    output              (n_out,) output activations (probabilities)
    scores              (n_out,) output pre-activations for x
    empty_scores        (n_out,) output pre-activations for the empty input
    pixel_attribution   (n_in, n_out): pixel i's share of scores[d] − empty_scores[d]
    unit_contribution   one (n_units, n_out) array per hidden layer: unit j's share of the same
                        difference
    """

    x: np.ndarray
    hidden: list[np.ndarray]
    empty_hidden: list[np.ndarray]
    output: np.ndarray
    scores: np.ndarray
    empty_scores: np.ndarray
    pixel_attribution: np.ndarray
    unit_contribution: list[np.ndarray]

    @property
    def score_change(self) -> np.ndarray:
        """(n_out,) what the attributions of each output add up to."""
        return self.scores - self.empty_scores


def empty_input_layers(network) -> list[tuple[np.ndarray, np.ndarray]]:
    """(pre-activation, activation) of every layer for the empty input: the reference, the same
    for every drawing, so a caller that looks inside often can compute it once per network."""
    return forward_layers(network, np.zeros(network.layer_sizes[0], dtype=network.dtype))


def look_inside(network, x, empty=None) -> Inside:
    """Hidden activations, output scores and the rescale-rule attributions of ``x`` ((n_in,)).

    ``empty``: :func:`empty_input_layers` of ``network``, if the caller has it already.
    The backward pass runs in the network's float type (float32); the sums still match the
    score changes to about 1e-5 relative.
    """
    x = np.asarray(x, dtype=network.dtype).reshape(-1)
    drawn = forward_layers(network, x)
    empty = empty_input_layers(network) if empty is None else empty
    hidden_layers = len(network.weights) - 1
    multipliers = [
        _rescale_multipliers(z, z0, a, a0, network.hidden_activation)
        for (z, a), (z0, a0) in zip(drawn[:hidden_layers], empty[:hidden_layers])
    ]

    # to_outputs[j, d]: how much output d's score moves per unit change of the current layer's
    # activation j (starting at the last hidden layer, where it is simply the weights).
    to_outputs = network.weights[-1]
    unit_contribution: list[np.ndarray] = [None] * hidden_layers
    for l in range(hidden_layers - 1, -1, -1):
        change = drawn[l][1] - empty[l][1]
        unit_contribution[l] = change[:, None].astype(np.float64) * to_outputs
        # ... per change of its pre-activation
        to_outputs = multipliers[l][:, None].astype(network.dtype) * to_outputs
        if l > 0:
            to_outputs = _product(network.weights[l], to_outputs)
    pixel_attribution = np.zeros((x.size, to_outputs.shape[1]))
    inked = np.flatnonzero(x)  # the empty input is the reference: blank pixels contribute nothing
    pixel_attribution[inked] = x[inked, None] * _product(network.weights[0][inked], to_outputs)
    return Inside(
        x=x,
        hidden=[a for _z, a in drawn[:hidden_layers]],
        empty_hidden=[a for _z, a in empty[:hidden_layers]],
        output=drawn[-1][1],
        scores=drawn[-1][0].astype(np.float64),
        empty_scores=empty[-1][0].astype(np.float64),
        pixel_attribution=pixel_attribution,
        unit_contribution=unit_contribution,
    )


def _product(w: np.ndarray, c: np.ndarray) -> np.ndarray:
    """w @ c for a few columns c, without BLAS (its threads would compete with the GUI thread
    for the cores, as in ``trainer/core/forward.py``): rows of w against contiguous columns of c."""
    return np.einsum("ij,dj->id", w, np.ascontiguousarray(c.T))


def _rescale_multipliers(z, z0, a, a0, activation: str) -> np.ndarray:
    """Δa / Δz per unit, or the slope f'(z) where z hardly changed."""
    dz = z.astype(np.float64) - z0
    da = a.astype(np.float64) - a0
    tiny = np.abs(dz) < _TINY_CHANGE
    return np.where(
        tiny,
        _slope(z.astype(np.float64), a.astype(np.float64), activation),
        da / np.where(tiny, 1.0, dz),
    )


def _slope(z: np.ndarray, a: np.ndarray, activation: str) -> np.ndarray:
    if activation == "relu":
        return (z > 0).astype(np.float64)
    if activation == "tanh":
        return 1 - a * a
    if activation == "sigmoid":
        return a * (1 - a)
    raise ValueError(f"unknown hidden activation {activation!r}")
