"""Which model the app starts with (digitpad/model_store.py): kept, shipped, or a fall-back with a
warning when a file is corrupt — never a crash, never a dialog."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QApplication

from digitpad import model_store
from digitpad.app import MainWindow
from trainer import model_io
from trainer.core.network import Network

pytestmark = pytest.mark.usefixtures("app_user_data")


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A real model standing in for the shipped one (the tests must not depend on assets/)."""
    path = tmp_path / "shipped" / "model.npz"
    model_io.save_model(
        Network([784, 20, 10], seed=3),
        path,
        {"name": "stand-in shipped", "metrics": {"mnist_test_accuracy": 0.9}},
    )
    monkeypatch.setattr(model_store, "shipped_model_path", lambda: path)
    return path


def write_corrupt(path, how):
    path.parent.mkdir(parents=True, exist_ok=True)
    if how == "garbage":
        path.write_bytes(b"this is not a model" * 50)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        model_io.save_model(Network([784, 30, 10]), path, {})
        path.write_bytes(path.read_bytes()[:5000])


def make_window(qtbot, *args, **kwargs):
    window = MainWindow(*args, **kwargs)
    qtbot.addWidget(window)
    assert QApplication.activeModalWidget() is None
    return window


def test_shipped_model_when_nothing_was_kept(qtbot, shipped):
    window = make_window(qtbot)
    assert window.model.source == "shipped" and window.model.path == shipped
    assert window.model_warning() is None
    assert "stand-in shipped" in window.model_label.text()
    assert "90.00 %" in window.model_label.text()


def test_kept_model_wins_over_the_shipped_one(qtbot, shipped, app_user_data):
    model_store.keep_model(
        Network([784, 12, 10]), {"name": "mine", "metrics": {"mnist_test_accuracy": 0.5}}
    )
    window = make_window(qtbot)
    assert window.model.source == "user" and window.model.name == "mine"
    assert window.model.network.layer_sizes == [784, 12, 10]


@pytest.mark.parametrize("how", ["garbage", "empty", "truncated"])
def test_corrupt_kept_model_falls_back_to_shipped_with_a_warning(
    qtbot, shipped, app_user_data, how, caplog
):
    write_corrupt(app_user_data / "model.npz", how)
    window = make_window(qtbot)
    assert window.model.source == "shipped" and window.model.path == shipped
    warning = window.model_warning()
    assert warning is not None
    assert "Your kept model" in warning and "could not be loaded" in warning
    assert "Using the shipped model" in warning
    assert any("could not be loaded" in r.message for r in caplog.records)
    assert window.probabilities() == [0.0] * 10  # and the app works normally


def test_corrupt_model_option_falls_back(qtbot, shipped, tmp_path):
    bad = tmp_path / "bad.npz"
    write_corrupt(bad, "garbage")
    window = make_window(qtbot, bad)
    assert window.model.source == "shipped"
    assert "bad.npz could not be loaded" in window.model_warning()


def test_no_usable_model_at_all_still_starts(qtbot, tmp_path, monkeypatch, app_draw):
    missing = tmp_path / "nowhere" / "model.npz"
    monkeypatch.setattr(model_store, "shipped_model_path", lambda: missing)
    window = make_window(qtbot)
    assert window.model.network is None
    assert "No usable model" in window.model_warning()
    assert window.model_label.text() == "No model loaded"
    send, _ = app_draw
    send(window.canvas, [[(10, 10), (50, 60), (90, 120)]])
    assert window.preview.has_input() and window.verdict() is None


def test_reset_to_shipped_forgets_the_kept_model(qtbot, shipped, app_user_data):
    model_store.keep_model(Network([784, 12, 10]), {"name": "mine"})
    window = make_window(qtbot)
    assert window.model.source == "user"
    window.reset_to_shipped(confirm=False)
    assert window.model.source == "shipped"
    assert not (app_user_data / "model.npz").exists()
    assert shipped.exists()


def test_keeping_never_touches_the_shipped_model(shipped):
    before = shipped.read_bytes()
    path = model_store.keep_model(Network([784, 12, 10]), {"name": "mine"})
    assert path == model_store.user_model_path() and path != shipped
    assert shipped.read_bytes() == before


def test_background_start_returns_at_once_and_loads_later(qtbot, shipped):
    started = time.perf_counter()
    window = make_window(qtbot, background=True)
    window.show()
    assert time.perf_counter() - started < 1.0
    assert window.busy_label.text()  # progress note in the status bar
    qtbot.waitUntil(lambda: window.model.network is not None, timeout=60000)
    assert window.model.path == shipped
    assert window.busy_label.text() == ""
    qtbot.waitUntil(window.predictor.is_compiled, timeout=120000)  # then the compiled kernels
