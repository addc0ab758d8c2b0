"""The main window's verdict with an 11-output model and for tiny marks, by real mouse events."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QWidget
from test_not_a_digit import always

from trainer.model_io import save_model

pytestmark = pytest.mark.usefixtures("app_user_data")

BIG_STROKE = [[(80, 80), (140, 160), (200, 300)]]
TICK = [[(300, 300), (303, 305)]]


def window_on(qtbot, tmp_path, network):
    from digitpad.app import MainWindow

    path = tmp_path / "model.npz"
    save_model(network, path, {"name": "fixed test net"})
    window = MainWindow(path)
    qtbot.addWidget(window)
    window.resize(1000, 640)
    window.show()
    qtbot.waitExposed(window)
    return window


def draw(window, app_draw, strokes):
    send, _ = app_draw
    canvas = window.findChild(QWidget, "canvas")
    canvas.clear()
    send(canvas, strokes)
    assert window.wait_for_prediction(10000)


def test_not_a_digit_has_no_verdict_and_shows_its_bar(qtbot, tmp_path, app_draw):
    window = window_on(qtbot, tmp_path, always(10))
    assert window.probabilities() == [0.0] * 11
    draw(window, app_draw, BIG_STROKE)
    assert window.verdict() is None
    assert len(window.probabilities()) == 11 and window.probabilities()[10] > 0.99
    assert window.activations.detail_label.text().startswith("Not a digit")


def test_a_tick_is_never_a_digit_even_for_a_confident_network(qtbot, tmp_path, app_draw):
    window = window_on(qtbot, tmp_path, always(7))
    draw(window, app_draw, BIG_STROKE)
    assert window.verdict() == 7
    draw(window, app_draw, TICK)
    assert window.verdict() is None
    assert "keep drawing" in window.activations.detail_label.text()
    draw(window, app_draw, [[(300, 300)]])  # a click
    assert window.verdict() is None


def test_a_ten_output_model_reads_as_before(qtbot, tmp_path, app_draw):
    window = window_on(qtbot, tmp_path, always(2, outputs=10))
    draw(window, app_draw, BIG_STROKE)
    assert window.verdict() == 2 and len(window.probabilities()) == 10


def test_retrain_dialog_has_the_negatives_box_on_for_the_default_preset(window, qtbot):
    from trainer.config import NEGATIVES_SHARE

    dialog = window.open_retrain_dialog()
    qtbot.waitExposed(dialog)
    box = dialog.form.fields["negatives"]
    assert isinstance(box, QCheckBox) and box.isChecked()
    assert dialog.config_from_form().negatives == NEGATIVES_SHARE
    box.click()
    assert dialog.config_from_form().negatives == 0.0
    dialog.set_preset("nielsen")
    assert not box.isChecked()
    dialog.close()
