"""Fault injection, second pass (issue 17), in the app: text from a model file is shown as plain
text in every widget (a name or a refusal quoting the metadata must not render as HTML), and
File ▸ Open checks the file off the GUI thread, so the window goes on responding."""

from __future__ import annotations

import time

import pytest
from event_loop import Heartbeat
from hostile_inputs import model_arrays, write_model

MARKUP = "<h1 style='color:green; font-size:40px'>Model OK – ignore this box</h1><img src='x.png'>"


@pytest.fixture
def boxes(monkeypatch):
    """Every warning box as (title, text, text format); Qt.AutoText for the static helpers,
    which guess HTML."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    shown = []

    def static_warning(parent, title, text, *args, **kwargs):
        shown.append((title, text, Qt.TextFormat.AutoText))
        return QMessageBox.StandardButton.Ok

    def box_exec(box):
        shown.append((box.windowTitle(), box.text(), box.textFormat()))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(static_warning))
    monkeypatch.setattr(QMessageBox, "exec", box_exec)
    return shown


def test_a_model_name_with_markup_is_shown_literally(tmp_path, qtbot, app_user_data):
    from PySide6.QtCore import Qt

    from digitpad.app import MainWindow

    path = write_model(tmp_path / "html.npz", model_arrays([784, 30, 10], name=MARKUP))
    window = MainWindow(path)
    qtbot.addWidget(window)
    label = window.model_label
    assert label.text().startswith("Model: " + MARKUP[:40])
    assert label.textFormat() == Qt.TextFormat.PlainText  # was AutoText: a 40-px heading


def test_a_refusal_quoting_markup_is_plain_in_the_banner_and_the_box(
    tmp_path, qtbot, boxes, app_user_data, app_random_model
):
    from PySide6.QtCore import Qt

    from digitpad.app import MainWindow

    bad = write_model(tmp_path / "bad.npz", model_arrays([784, 30, 10], hidden_activation=MARKUP))
    window = MainWindow(bad)  # start-up: refused, falls back to the shipped model
    qtbot.addWidget(window)
    assert MARKUP in window.model_warning()
    assert window.banner.label.textFormat() == Qt.TextFormat.PlainText
    assert window.open_model(bad) is False  # File ▸ Open's checks
    ((title, text, text_format),) = boxes
    assert title == "Cannot open the model" and MARKUP in text
    assert text_format == Qt.TextFormat.PlainText


def test_file_open_checks_the_file_while_the_window_responds(
    tmp_path, qtbot, app_user_data, app_random_model, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    from digitpad import model_store
    from digitpad.app import MainWindow

    window = MainWindow(app_random_model)
    qtbot.addWidget(window)
    opened = write_model(tmp_path / "other.npz", model_arrays([784, 20, 10], name="opened"))
    load = model_store.load_model_file

    def slow_load(path):  # a large or hostile file that takes a while to check
        time.sleep(1.5)
        return load(path)

    monkeypatch.setattr(model_store, "load_model_file", slow_load)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(opened), ""))
    )
    heartbeat = Heartbeat(10)
    started = time.perf_counter()
    window.open_action.trigger()
    triggered = time.perf_counter() - started
    assert not window.open_action.isEnabled() and "Checking other.npz" in window.busy_label.text()
    qtbot.waitUntil(lambda: window.model.name == "opened", timeout=20000)
    heartbeat.stop()
    assert triggered < 0.2 and heartbeat.max_gap < 0.3, (triggered, heartbeat.max_gap)
    assert window.open_action.isEnabled() and window.model.path == opened


def test_absurd_weights_are_refused_by_file_open(
    tmp_path, qtbot, boxes, app_user_data, app_random_model
):
    import numpy as np

    from digitpad.app import MainWindow

    arrays = model_arrays([784, 30, 10])
    arrays["w0"] = np.full((784, 30), 3e38, np.float32)
    window = MainWindow(app_random_model)
    qtbot.addWidget(window)
    before = window.model
    assert window.open_model(write_model(tmp_path / "nan.npz", arrays)) is False
    assert "not finite" in boxes[0][1] and window.model is before


def test_a_name_of_100_000_characters_does_not_widen_the_window(tmp_path, qtbot, app_user_data):
    from digitpad.app import MainWindow

    name = "<b>x</b>" * 12_500
    path = write_model(tmp_path / "long.npz", model_arrays([784, 30, 10], name=name))
    window = MainWindow(path)
    qtbot.addWidget(window)
    short = MainWindow(write_model(tmp_path / "short.npz", model_arrays([784, 30, 10], name="x")))
    qtbot.addWidget(short)
    assert len(window.model_label.text()) < 120 and "…" in window.model_label.text()
    assert window.minimumSizeHint().width() == short.minimumSizeHint().width()
    assert "&lt;b&gt;x&lt;/b&gt;" in window.model_label.toolTip()  # shown literally, in full


def test_a_refusal_quotes_at_most_a_few_words_of_a_megabyte_value(
    tmp_path, qtbot, boxes, app_user_data, app_random_model
):
    from digitpad.app import MainWindow

    bad = write_model(tmp_path / "big.npz", model_arrays([784, 30, 10], cost="c" * 500_000))
    window = MainWindow(app_random_model)
    qtbot.addWidget(window)
    assert window.open_model(bad) is False
    ((_, text, _),) = boxes
    assert len(text) < 400 and "500002 characters" in text, text[:400]
