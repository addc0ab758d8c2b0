"""The plain NumPy paths (trainer/strokes/stroke_numpy.py, trainer/core/forward.py), which the app reads drawings
with until Numba's kernels are ready, against the compiled kernels: the same 28×28 inputs for real
pen digits, the same probabilities (within 1e-5) and verdicts for several networks; and the app's
way to a ready window imports no Numba at all."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from digitpad.assets import shipped_model_path

from trainer.core import forward
from trainer.core.network import Network
from trainer.data.pen_digits import read_pen_digits
from trainer.model_io import load_model
from trainer.strokes.strokes_to_input import strokes_to_input

ROOT = Path(__file__).resolve().parents[1]
PEN_DIGITS = ROOT.parent / "shared" / "data" / "pen-digits-dev.jsonl.gz"
TOLERANCE = 1e-5

#: (layer sizes, hidden, output, init): Nielsen's net, the shipped model's shape, deeper and
#: narrower ones, and an 11th output unit.
NETWORKS = [
    ([784, 30, 10], "sigmoid", "sigmoid", "normal"),
    ([784, 800, 800, 10], "relu", "softmax", "he"),
    ([784, 64, 32, 16, 10], "tanh", "softmax", "glorot"),
    ([784, 100, 11], "relu", "softmax", "he"),
]


def lissajous(n: int) -> list[tuple[float, float]]:
    t = np.linspace(0, 2 * np.pi, n)
    return list(zip((200 + 150 * np.sin(3 * t)).tolist(), (150 + 120 * np.sin(2 * t)).tolist()))


#: Drawings that reach every branch of the stroke pipeline: dots, duplicate and dense points, a
#: straight line, several strokes, huge and tiny coordinates.
ODD_DRAWINGS = [
    [[(5.0, 5.0)]],
    [[(5.0, 5.0), (5.0, 5.0), (5.0, 5.0)]],
    [[(0.0, 0.0), (100.0, 0.0)]],
    [[(0.0, 0.0), (0.0, 50.0)], [(10.0, 10.0)], [(-5.0, 25.0), (20.0, 25.0)]],
    [lissajous(2000)],
    [[(0.0, 0.0), (1e-3, 0.0), (2e-3, 1e-3), (50.0, 80.0), (50.0 + 1e-9, 80.0)]],
    [[(1e305, -1e305), (-1e305, 1e305), (3e304, 0.0)]],
    [[(1e-300, 0.0), (0.0, 1e-300)]],
]


@pytest.fixture(scope="module")
def pen_drawings():
    if not PEN_DIGITS.exists():
        pytest.skip(f"the pen-digit set {PEN_DIGITS} is not there")
    return read_pen_digits(PEN_DIGITS)


def test_numpy_stroke_function_matches_the_compiled_one_on_every_pen_digit(pen_drawings):
    worst = 0.0
    for digit in pen_drawings:
        compiled = strokes_to_input(digit.strokes)
        plain = strokes_to_input(digit.strokes, compiled=False)
        assert plain.dtype == np.float32 and plain.shape == (784,)
        worst = max(worst, float(np.abs(plain - compiled).max()))
    assert worst <= 1e-6


@pytest.mark.parametrize("strokes", ODD_DRAWINGS, ids=range(len(ODD_DRAWINGS)))
def test_numpy_stroke_function_matches_on_odd_drawings(strokes):
    compiled = strokes_to_input(strokes)
    plain = strokes_to_input(strokes, compiled=False)
    assert plain.max() > 0
    np.testing.assert_allclose(plain, compiled, rtol=0, atol=1e-6)


def assert_same_predictions(network, inputs: np.ndarray) -> None:
    """Probabilities within TOLERANCE and the same verdicts, one input at a time and batched."""
    compiled = network.predict_proba(inputs)
    plain = forward.predict_proba(network, inputs)
    assert plain.shape == compiled.shape and plain.dtype == network.dtype
    np.testing.assert_allclose(plain, compiled, rtol=0, atol=TOLERANCE)
    np.testing.assert_array_equal(plain.argmax(1), compiled.argmax(1))
    for x, expected in zip(inputs[:50], compiled):
        single = forward.predict_proba(network, x)
        np.testing.assert_allclose(single, expected, rtol=0, atol=TOLERANCE)
        assert int(single.argmax()) == int(expected.argmax())


@pytest.mark.parametrize("sizes,hidden,output,init", NETWORKS)
def test_numpy_forward_pass_matches_the_compiled_one(pen_drawings, sizes, hidden, output, init):
    network = Network(sizes, hidden, output, "cross_entropy", init, seed=11)
    rng = np.random.default_rng(2)
    drawn = np.stack([strokes_to_input(d.strokes, compiled=False) for d in pen_drawings[::10]])
    noise = rng.random((200, 784), dtype=np.float32)
    sparse = noise * (rng.random((200, 784)) < 0.2)
    assert_same_predictions(
        network, np.concatenate([drawn, noise, sparse, np.zeros((1, 784), np.float32)])
    )


def test_numpy_forward_pass_matches_in_float64():
    network = Network([784, 40, 10], "tanh", "softmax", init="glorot", dtype=np.float64, seed=3)
    inputs = np.random.default_rng(4).random((100, 784))
    assert_same_predictions(network, inputs)


def test_shipped_model_reads_every_pen_digit_the_same_on_both_paths(pen_drawings):
    network, _ = load_model(shipped_model_path())
    inputs = np.stack([strokes_to_input(d.strokes, compiled=False) for d in pen_drawings])
    compiled = network.predict_proba(inputs)
    plain = forward.predict_proba(network, inputs)
    assert float(np.abs(plain - compiled).max()) <= TOLERANCE
    assert (plain.argmax(1) == compiled.argmax(1)).all()
    assert (plain.argmax(1) == [d.label for d in pen_drawings]).mean() > 0.95


def test_forward_activations_gives_every_layer():
    network = Network([784, 20, 15, 11], "relu", "softmax", seed=5)
    x = strokes_to_input([lissajous(300)], compiled=False)
    layers = forward.forward_activations(network, x)
    assert [a.shape for a in layers] == [(20,), (15,), (11,)]
    assert (layers[0] >= 0).all() and (layers[1] >= 0).all()
    np.testing.assert_allclose(
        layers[0], np.maximum(x @ network.weights[0] + network.biases[0], 0), rtol=1e-5, atol=1e-6
    )
    assert layers[-1].sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_array_equal(layers[-1], forward.predict_proba(network, x))
    batch = forward.forward_activations(network, np.stack([x, x]))
    assert [a.shape for a in batch] == [(2, 20), (2, 15), (2, 11)]


def test_forward_pass_refuses_inputs_of_the_wrong_size():
    network = Network([784, 10, 10])
    with pytest.raises(ValueError, match="784"):
        forward.predict_proba(network, np.zeros(100, np.float32))


#: The app's start-up as main() does it, with the compiled kernels never prepared: the window must
#: read a drawing without Numba ever having been imported.
NO_NUMBA_START = textwrap.dedent("""
    import sys
    from PySide6.QtWidgets import QApplication
    import digitpad.app
    import digitpad.background_loading
    from digitpad.selftest import KNOWN_DIGITS, _draw, _wait

    digitpad.background_loading.prepare_compiled = lambda network: False  # as if the JIT had not finished
    app = QApplication([])
    window = digitpad.app.MainWindow(sys.argv[1], background=True)
    initial = window.model
    window.show()
    assert _wait(app, lambda: window.model is not initial, 60)
    label, _, strokes = KNOWN_DIGITS[3]
    _draw(window.canvas, strokes)
    assert window.wait_for_prediction(10000)
    print("verdict", window.verdict(), "expected", label)
    print("numba imported:", sorted(m for m in sys.modules if m.split(".")[0] in
                                    ("numba", "llvmlite")) != [])
    window.close()
""")


def test_the_window_reads_a_drawing_without_importing_numba(tmp_path):
    env = dict(
        os.environ,
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    result = subprocess.run(
        [sys.executable, "-c", NO_NUMBA_START, str(shipped_model_path())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "verdict 3 expected 3"
    assert lines[1] == "numba imported: False"
