"""trainer/core/attribution.py against a plain float64 forward pass written out here: the hidden
activations match it, the pixel attributions of every output add up to that output's score minus
its score for the empty input (within 2 %, for many drawings, every output, several networks,
10 or 11 outputs), and so do each hidden layer's unit contributions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from digitpad.assets import shipped_model_path

from trainer.core.attribution import look_inside
from trainer.core.network import Network
from trainer.data.pen_digits import read_pen_digits
from trainer.model_io import load_model
from trainer.strokes.strokes_to_input import strokes_to_input

ROOT = Path(__file__).resolve().parents[1]
PEN_DIGITS = ROOT.parent / "shared" / "data" / "pen-digits-dev.jsonl.gz"

NETWORKS = {
    "nielsen-784-30-10-sigmoid": Network(
        [784, 30, 10], "sigmoid", "sigmoid", "quadratic", "normal", seed=3
    ),
    "784-800-800-10-relu": Network([784, 800, 800, 10], seed=4),
    "784-64-32-16-10-tanh": Network([784, 64, 32, 16, 10], "tanh", init="glorot", seed=5),
    "784-100-11-relu": Network([784, 100, 11], seed=6),
}


def reference_scores(network, x) -> tuple[list[np.ndarray], np.ndarray]:
    """Hidden activations and output pre-activations, in float64, one layer after another."""
    functions = {
        "relu": lambda z: np.maximum(z, 0),
        "tanh": np.tanh,
        "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
    }
    a = np.asarray(x, dtype=np.float64)
    hidden = []
    for w, b in zip(network.weights[:-1], network.biases[:-1]):
        a = functions[network.hidden_activation](a @ w.astype(np.float64) + b)
        hidden.append(a)
    return hidden, a @ network.weights[-1].astype(np.float64) + network.biases[-1]


def drawings(count: int, seed: int) -> list[np.ndarray]:
    """Inputs of random pen-like strokes (one to three strokes of 2–40 points)."""
    rng = np.random.default_rng(seed)
    inputs = []
    while len(inputs) < count:
        strokes = [
            [tuple(p) for p in np.cumsum(rng.normal(0, 15, (rng.integers(2, 40), 2)), 0)]
            for _ in range(rng.integers(1, 4))
        ]
        x = strokes_to_input(strokes, compiled=False)
        if x is not None:
            inputs.append(x)
    return inputs


def assert_complete(inside, network) -> None:
    _, scores = reference_scores(network, inside.x)
    _, empty = reference_scores(network, np.zeros(784))
    change = scores - empty
    # within 2 % of the change, or of the typical score change where one output hardly moved
    tolerance = 0.02 * np.maximum(np.abs(change), np.abs(change).mean())
    sums = inside.pixel_attribution.sum(axis=0)
    assert np.all(np.abs(sums - change) <= tolerance), (sums, change)
    for contribution in inside.unit_contribution:
        assert np.all(np.abs(contribution.sum(axis=0) - change) <= tolerance)


@pytest.mark.parametrize("name", NETWORKS)
def test_attributions_add_up_to_the_score_change_for_every_output(name):
    network = NETWORKS[name]
    for x in drawings(40, seed=len(name)):
        inside = look_inside(network, x)
        assert inside.pixel_attribution.shape == (784, network.layer_sizes[-1])
        assert_complete(inside, network)
        # blank pixels get nothing: the reference is the empty input
        assert not inside.pixel_attribution[x == 0].any()


def test_attributions_add_up_for_the_shipped_model_on_real_pen_digits():
    if not PEN_DIGITS.exists():
        pytest.skip(f"the pen-digit set {PEN_DIGITS} is not there")
    network, _ = load_model(shipped_model_path())
    digits = read_pen_digits(PEN_DIGITS)[::7]
    assert len({d.label for d in digits}) == 10 and len(digits) >= 50
    for digit in digits:
        assert_complete(
            look_inside(network, strokes_to_input(digit.strokes, compiled=False)), network
        )


@pytest.mark.parametrize("name", NETWORKS)
def test_hidden_activations_and_scores_match_a_plain_forward_pass(name):
    network = NETWORKS[name]
    for x in drawings(5, seed=1):
        inside = look_inside(network, x)
        hidden, scores = reference_scores(network, x)
        assert len(inside.hidden) == len(hidden)
        for shown, expected in zip(inside.hidden, hidden):
            np.testing.assert_allclose(shown, expected, rtol=0, atol=1e-4)
        np.testing.assert_allclose(inside.scores, scores, rtol=1e-4, atol=1e-4)


def test_one_hidden_layer_unit_contribution_is_its_activation_change_times_its_weight():
    network = NETWORKS["nielsen-784-30-10-sigmoid"]
    x = drawings(1, seed=9)[0]
    inside = look_inside(network, x)
    hidden, _ = reference_scores(network, x)
    empty_hidden, _ = reference_scores(network, np.zeros(784))
    expected = (hidden[0] - empty_hidden[0])[:, None] * network.weights[1]
    np.testing.assert_allclose(inside.unit_contribution[0], expected, rtol=1e-4, atol=1e-5)
