"""Fault injection, the drawing canvas under a storm of real mouse events (QMouseEvent through
QApplication.sendEvent): 10 000 moves in one stroke, a press without a release, a release without a
press, the window resized while drawing, a seeded random storm of presses, moves, releases, keys and
resizes, and a stroke drawn while a retraining run finishes and its model is kept. After everything
the strokes are intact and the activations shown are exactly those of the current strokes and model.

Found here: a press that follows a lost release used to join the unfinished stroke to the new press
point with a straight line, and a stroke whose release was lost stayed "in progress" for good (Undo
disabled) even after the button was up; it now ends at the first move without the button. The live
path's BLAS-free forward pass for a single input (trainer.core.network.infer, for the pen lag) is
checked against ``predict_proba`` at the end.
"""

from __future__ import annotations

import random
import time

import numpy as np
import pytest
from mouse import LEFT, NONE, RIGHT, move, press, release
from mouse import send_mouse as mouse
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtWidgets import QApplication

from digitpad.live_predictor import compute

pytestmark = pytest.mark.usefixtures("app_user_data")


@pytest.fixture
def window(window, qtbot):
    """The main window of conftest.py on screen, recording the predictor's failures. The network
    dock is closed: these tests draw at widget points up to (400, 400), which must lie on the
    canvas's paper, and the dock would take that width."""
    window.network_view.hide()
    window.resize(1000, 640)
    window.show()
    qtbot.waitExposed(window)
    failures = []
    window.predictor.failed.connect(failures.append)
    window.failures = failures
    return window


def assert_shows_current(window) -> None:
    """What is shown is exactly the activations of the current strokes and model."""
    assert window.wait_for_prediction(10000)
    strokes = window.canvas.strokes()
    x, p = compute(strokes, window.model.network)
    if x is None:
        assert window.probabilities() == [0.0] * 10 and not window.preview.has_input()
    else:
        assert np.isfinite(window.probabilities()).all()
        assert window.probabilities() == pytest.approx(list(p), abs=1e-6)
        assert np.allclose(window.input_image(), x)
    assert window.failures == []


def on_paper(canvas, point):
    """Where the canvas keeps ``point``: on its paper, at the nearest point."""
    paper = canvas.paper()
    return (
        min(max(point[0], paper.left()), paper.right()),
        min(max(point[1], paper.top()), paper.bottom()),
    )


def lissajous(n, width, height, *, outside_every=0):
    t = np.linspace(0, 2 * np.pi, n)
    xs = width / 2 + 0.4 * width * np.sin(3 * t)
    ys = height / 2 + 0.4 * height * np.sin(2 * t + 0.5)
    points = [(float(x), float(y)) for x, y in zip(xs, ys)]
    if outside_every:  # the pen leaves the canvas, far: the mouse is grabbed, moves keep coming
        for i in range(outside_every, n, outside_every):
            points[i] = (-5000.0 if i % 2 else width + 1e6, height + 300.0 if i % 3 else -1e6)
    return points


def test_ten_thousand_moves_in_one_stroke(window, qtbot):
    canvas = window.canvas
    points = lissajous(10_001, canvas.width(), canvas.height(), outside_every=997)
    started = time.perf_counter()
    press(canvas, points[0])
    for i, point in enumerate(points[1:]):
        move(canvas, point)
        if i % 25 == 0:  # now and then results come back and the window repaints
            QApplication.processEvents()
    release(canvas, points[-1])
    seconds = time.perf_counter() - started
    strokes = canvas.strokes()
    assert len(strokes) == 1 and len(strokes[0]) == len(points)
    assert strokes[0] == [on_paper(canvas, p) for p in points]  # what is off it stops at its edge
    assert 0 < window.predictor.runs < len(points)  # coalesced: never one computation per move
    assert_shows_current(window)
    print(f"10 000 moves in {seconds:.1f} s, {window.predictor.runs} computations")


def test_press_without_release_then_another_press(window):
    canvas = window.canvas
    first = [(100, 100), (140, 120), (180, 160)]
    press(canvas, first[0])
    for point in first[1:]:
        move(canvas, point)
    press(canvas, (300, 300))  # the release of the first stroke never came
    move(canvas, (320, 340))
    release(canvas, (330, 360))
    strokes = canvas.strokes()
    assert strokes[0] == [(float(x), float(y)) for x, y in first]  # no line to the new press
    assert strokes[1] == [(300.0, 300.0), (320.0, 340.0), (330.0, 360.0)]
    assert not canvas.is_drawing() and window.undo_action.isEnabled()
    assert_shows_current(window)


def test_lost_release_ends_the_stroke_at_the_next_move_without_the_button(window):
    canvas = window.canvas
    press(canvas, (100, 100))
    move(canvas, (150, 200))
    move(canvas, (400, 400), buttons=NONE)  # the button is up: its release went elsewhere
    assert not canvas.is_drawing()
    assert canvas.strokes() == [[(100.0, 100.0), (150.0, 200.0)]]
    assert window.undo_action.isEnabled()
    move(canvas, (420, 420), buttons=NONE)
    assert canvas.strokes() == [[(100.0, 100.0), (150.0, 200.0)]]
    assert_shows_current(window)


def test_release_and_moves_without_a_press_do_nothing(window):
    canvas = window.canvas
    release(canvas, (50, 50))
    move(canvas, (60, 60))  # says the left button is down, but no press ever came
    release(canvas, (70, 70), RIGHT)
    assert canvas.is_empty() and not canvas.is_drawing()
    press(canvas, (100, 100))
    move(canvas, (200, 200))
    release(canvas, (200, 200))
    release(canvas, (300, 300))  # a second release
    assert canvas.strokes() == [[(100.0, 100.0), (200.0, 200.0)]]
    mouse(canvas, QEvent.Type.MouseButtonDblClick, (250, 250), LEFT, LEFT)  # a double click's
    release(canvas, (250, 250))  # second press and release: a dot, as a click
    assert canvas.strokes() == [[(100.0, 100.0), (200.0, 200.0)], [(250.0, 250.0)]]
    assert_shows_current(window)


def test_right_click_and_shortcuts_in_the_middle_of_a_stroke(window, qtbot):
    canvas = window.canvas
    press(canvas, (100, 100))
    release(canvas, (150, 150))
    press(canvas, (200, 200))
    move(canvas, (220, 260))
    press(canvas, (230, 230), RIGHT)  # right-click while drawing: ignored, the stroke goes on
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo: not now
    assert canvas.is_drawing() and len(canvas.strokes()) == 2
    move(canvas, (240, 300))
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)  # clear: drops the stroke in progress
    assert canvas.is_empty() and not canvas.is_drawing()
    move(canvas, (260, 320))
    release(canvas, (260, 320))
    assert canvas.is_empty()
    assert_shows_current(window)
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the clear
    assert canvas.strokes() == [[(100.0, 100.0), (150.0, 150.0)]]
    assert_shows_current(window)


def test_window_resized_while_drawing(window, qtbot):
    canvas = window.canvas
    points = lissajous(400, 500, 400)
    press(canvas, points[0])
    sizes = [(720, 480), (1600, 1000), (800, 500), (1000, 640)]
    for i, point in enumerate(points[1:], start=1):
        move(canvas, point)
        if i % 100 == 0:
            window.resize(*sizes[i // 100 - 1])
            QApplication.processEvents()
            pixmap = canvas._pixmap
            assert pixmap.width() >= canvas.width() and pixmap.height() >= canvas.height()
            assert canvas.is_drawing()
    release(canvas, points[-1])
    (stroke,) = canvas.strokes()  # scaled with the paper at each resize, never cut off
    assert all(canvas.paper().contains(QPointF(*p)) for p in stroke)
    assert stroke[-1] == on_paper(canvas, points[-1])
    assert_shows_current(window)


def test_closing_the_window_in_the_middle_of_a_stroke(qtbot, app_random_model):
    from digitpad.app import MainWindow

    window = MainWindow(app_random_model)
    qtbot.addWidget(window)
    window.show()
    press(window.canvas, (100, 100))
    for i in range(50):
        move(window.canvas, (100 + 3 * i, 100 + 2 * i))
    window.close()
    assert not window.predictor._thread.isRunning()
    move(window.canvas, (400, 400))  # late events after the close
    release(window.canvas, (400, 400))


def test_random_storm_of_events(window, qtbot):
    """3000 seeded random events: presses, moves and releases of any button anywhere (also far
    outside), Esc, Ctrl+Z, Ctrl+Y, resizes; now and then the event loop runs. The invariants are
    checked all along and the result must be exact at the end."""
    canvas = window.canvas
    rng = random.Random(2026)
    buttons = [LEFT, LEFT, LEFT, RIGHT, Qt.MouseButton.MiddleButton]
    canvas.setFocus()
    for step in range(3000):
        x = rng.choice([rng.uniform(0, canvas.width()), rng.uniform(-1e5, 1e5)])
        y = rng.choice([rng.uniform(0, canvas.height()), rng.uniform(-1e5, 1e5)])
        roll = rng.random()
        if roll < 0.06:
            press(canvas, (x, y), rng.choice(buttons))
        elif roll < 0.1:
            release(canvas, (x, y), rng.choice(buttons))
        elif roll < 0.11:
            key = rng.choice(
                [
                    (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
                    (Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier),
                    (Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier),
                ]
            )
            qtbot.keyClick(canvas, *key)
        elif roll < 0.113:
            window.resize(rng.randint(720, 1400), rng.randint(480, 900))
        else:
            move(canvas, (x, y), rng.choice([LEFT, LEFT, NONE]))
        if step % 7 == 0:
            QApplication.processEvents()
        if step % 500 == 0:
            for stroke in canvas.strokes():
                assert stroke and np.isfinite(stroke).all()
            assert window.undo_action.isEnabled() == canvas.can_undo()
    if canvas.is_drawing():
        release(canvas, (10, 10))
    assert_shows_current(window)


def test_a_stroke_drawn_while_a_retraining_run_finishes_and_is_kept(
    window, qtbot, monkeypatch, app_user_data, mnist_dir
):
    """The pen keeps moving while a real (short) run ends, while its model is kept and after:
    every activation shown comes from the network in use at that moment — none from the old one
    once the new one is in."""
    canvas, old = window.canvas, window.model.network
    shown = []
    window.predictor.predicted.connect(
        lambda x, p: shown.append((x, p, window.predictor.network)) if p is not None else None
    )
    dialog = window.open_retrain_dialog()
    dialog.mnist_dir = mnist_dir
    dialog.set_preset("nielsen")
    dialog.set_field("epochs", 1)
    dialog.set_field("train_subset", 3000)
    points = lissajous(100_000, canvas.width(), canvas.height())
    press(canvas, points[0])
    assert dialog.start()
    i, kept_at = 1, None
    while i < len(points) - 1:
        move(canvas, points[i])
        QApplication.processEvents()
        i += 1
        if kept_at is None and dialog.state() == "decide":
            for _ in range(30):  # the run has finished: draw on for a bit, then keep
                move(canvas, points[i])
                QApplication.processEvents()
                i += 1
            assert canvas.is_drawing()
            kept_at = len(shown)  # what is shown from here on must come from the new network
            assert dialog.keep()
        elif kept_at is not None and len(shown) > kept_at + 20:
            break
    release(canvas, points[i])
    assert kept_at is not None, "the run did not finish while the stroke was drawn"
    new = window.model.network
    assert new is not old and window.predictor.network is new
    assert len(shown) > kept_at + 20
    for number, (x, p, network) in enumerate(shown):
        expected_network = old if number < kept_at else new
        assert network is expected_network
        assert np.allclose(p, expected_network.predict_proba(x), atol=1e-6)
    assert_shows_current(window)
    assert (app_user_data / "model.npz").exists()
    dialog.close()


# --- the live path's own forward pass -------------------------------------------------------------


@pytest.mark.parametrize("output", ["sigmoid", "softmax"])
@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu"])
def test_live_activations_are_predict_probas(hidden, output):
    """A single input's activations are computed without BLAS (trainer.core.network.infer, for the
    pen lag); they must equal the batched BLAS path's, for every activation and float64 too."""
    from trainer.core.network import Network
    from trainer.strokes.strokes_to_input import strokes_to_input

    rng = np.random.default_rng(8)
    inputs = [
        strokes_to_input([lissajous(300, 400, 300)]),
        rng.random(784, dtype=np.float32),
        np.zeros(784, np.float32),
    ]
    for dtype in (np.float32, np.float64):
        network = Network(
            [784, 50, 30, 10], hidden, output, "cross_entropy", "glorot", dtype=dtype, seed=4
        )
        batch = np.stack(inputs + [rng.random(784, dtype=np.float32)] * 5)  # > SMALL_BATCH rows
        batched = network.predict_proba(batch)
        for index, x in enumerate(inputs):
            live = network.predict_proba(x)
            assert live.shape == (10,) and live.dtype == dtype
            np.testing.assert_allclose(live, batched[index], rtol=1e-5, atol=1e-6)
