"""The main window (digitpad/main_window.py) with a real model file, driven by real mouse events."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from digitpad.app import parse_args

pytestmark = pytest.mark.usefixtures("app_user_data")

# A "7": a bar and a slanted stem, in canvas pixels.
SEVEN = [
    [(80, 80), (120, 80), (160, 80), (200, 80), (240, 80)],
    [(240, 80), (225, 130), (210, 180), (195, 230), (180, 280)],
]


@pytest.fixture
def window(window, qtbot):
    """The main window of conftest.py, on screen at the size the strokes are drawn for."""
    window.resize(1000, 640)
    window.show()
    qtbot.waitExposed(window)
    return window


def canvas_of(win) -> QWidget:
    canvas = win.findChild(QWidget, "canvas")
    assert canvas is not None
    return canvas


def test_constructs_without_a_dialog_and_reports_the_model(window, app_random_model):
    assert QApplication.activeModalWidget() is None
    assert window.model.path == app_random_model
    assert window.model_warning() is None
    status = window.model_label.text()
    assert "random test net" in status and "10.00 %" in status


def test_empty_canvas_shows_no_verdict_and_empty_bars(window):
    assert window.verdict() is None
    probabilities = window.probabilities()
    assert len(probabilities) == 10 and all(isinstance(p, float) for p in probabilities)
    assert probabilities == [0.0] * 10
    assert not window.preview.has_input()


def test_preview_and_bars_change_while_the_stroke_is_drawn(window, app_draw, qtbot):
    send, _ = app_draw
    canvas = canvas_of(window)
    snapshots = []

    def on_move(stroke, point):
        if stroke == 1 and point in (1, 4):  # in the middle of the second stroke
            assert canvas.is_drawing()
            assert window.wait_for_prediction()
            snapshots.append((window.input_image(), window.probabilities()))

    send(canvas, SEVEN, on_move=on_move)
    (x1, p1), (x2, p2) = snapshots
    assert x1.sum() > 0 and not np.array_equal(x1, x2)
    assert sum(p1) == pytest.approx(1.0, abs=1e-4) and p1 != p2
    # After the release the result is current at once (computed synchronously).
    final = window.probabilities()
    assert final != [0.0] * 10 and window.predictor.is_idle()


def test_result_is_current_right_after_release(window, app_draw):
    from digitpad.live_predictor import compute

    send, _ = app_draw
    send(canvas_of(window), SEVEN)
    x, p = compute(canvas_of(window).strokes(), window.model.network)
    assert window.probabilities() == pytest.approx(list(p), abs=1e-6)
    assert np.allclose(window.input_image(), x)


def test_undo_and_clear_via_menu_shortcuts(window, app_draw, qtbot):
    send, _ = app_draw
    canvas = canvas_of(window)
    send(canvas, SEVEN)
    one_stroke = None
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(canvas.strokes()) == 1
    one_stroke = window.probabilities()
    assert one_stroke != [0.0] * 10
    qtbot.keyClick(
        canvas,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert len(canvas.strokes()) == 2
    qtbot.keyClick(canvas, Qt.Key.Key_Escape)
    assert canvas.is_empty()
    assert window.probabilities() == [0.0] * 10 and window.verdict() is None
    assert not window.preview.has_input()
    qtbot.keyClick(canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the clear
    assert len(canvas.strokes()) == 2
    qtbot.keyClick(canvas, Qt.Key.Key_Delete)
    assert canvas.is_empty()


def test_menus_hold_the_commands(window):
    titles = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert list(titles) == ["File", "Edit", "View", "Model", "Help"]
    entries = {
        name: [a.text().replace("&", "") for a in menu.actions() if not a.isSeparator()]
        for name, menu in titles.items()
    }
    assert entries == {
        "File": ["Open model…", "Save model as…", "Export my digits…", "Import digits…", "Quit"],
        "Edit": ["Undo", "Redo", "Clear"],
        "View": ["Inside the network"],
        "Model": [
            "Retrain…",
            "My digits…",
            "Learn my handwriting…",
            "Reset to the shipped model",
            "Load a small model to explore",
            "Mistakes…",
            "About this model",
        ],
        "Help": ["Keyboard shortcuts", "About DigitPad"],
    }


def test_open_and_save_model(window, tmp_path, app_random_model):
    target = tmp_path / "copy"
    assert window.save_model(target)
    saved = tmp_path / "copy.npz"
    assert saved.exists()
    assert window.open_model(saved)
    assert window.model.path == saved and window.model.name == "random test net"


def test_model_info_text_lists_architecture_and_metrics(window):
    from digitpad.about import model_info_html

    text = model_info_html(window.model)
    assert "784-30-10" in text and "10.00 %" in text


def test_parse_model_option():
    assert parse_args(["--model", "x.npz"])[0].model == "x.npz"
    assert parse_args([])[0].model is None
    assert parse_args(["-platform", "offscreen"])[1] == ["-platform", "offscreen"]


def test_activation_panel_states(qtbot):
    from digitpad.activation_bars import NOT_SURE_THRESHOLD, ActivationPanel

    panel = ActivationPanel()
    qtbot.addWidget(panel)
    assert panel.verdict() is None and panel.probabilities() == [0.0] * 10
    assert panel.verdict_label.text() == "–" and not panel.is_unsure()

    sure = np.full(10, 0.01)
    sure[3] = 0.91
    panel.set_probabilities(sure)
    assert panel.verdict() == 3 and panel.verdict_label.text() == "3"
    assert "91.0\u00a0% confident" in panel.detail_label.text()  # no line break inside

    unsure = np.full(10, (1 - (NOT_SURE_THRESHOLD - 0.05)) / 9)
    unsure[8] = NOT_SURE_THRESHOLD - 0.05
    panel.set_probabilities(unsure)
    assert panel.verdict() is None and panel.is_unsure()
    assert panel.verdict_label.text() == "?"
    assert "Not sure" in panel.detail_label.text()
    shown = f"best guess 8\u00a0({round(100 * unsure[8])}\u00a0%)"
    assert shown in panel.detail_label.text()  # "(50 %)" never alone on a line
    assert panel.probabilities() == pytest.approx(list(unsure))

    panel.set_probabilities(None)
    assert panel.verdict() is None and panel.probabilities() == [0.0] * 10
