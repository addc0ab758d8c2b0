"""Retraining from the menu (digitpad/retrain_dialog.py + training_worker.py) on real MNIST.

The runs are short (a few thousand images, one epoch); MNIST is read from ``$DIGITPAD_MNIST_DIR``
(conftest.py's ``mnist_env``; skipped, saying so, without it).
"""

from __future__ import annotations

import time

import pytest

from digitpad import model_store
from trainer import paths

pytestmark = pytest.mark.usefixtures("app_user_data")


@pytest.fixture
def dialog(window, qtbot):
    dlg = window.open_retrain_dialog()
    qtbot.waitExposed(dlg)
    yield dlg
    dlg.cancel()
    qtbot.waitUntil(lambda: not dlg.is_running(), timeout=10000)
    dlg.discard()
    dlg.close()


def quick(dialog, **changes):
    """A small, fast run: the nielsen preset on 3000 images for one epoch."""
    dialog.set_preset("nielsen")
    settings = {"epochs": 1, "train_subset": 3000, "hidden_layers": "30"} | changes
    for name, value in settings.items():
        dialog.set_field(name, value)


def test_the_form_has_every_training_setting(dialog):
    import dataclasses

    from trainer.config import TrainingConfig

    assert sorted(dialog.form.fields) == sorted(f.name for f in dataclasses.fields(TrainingConfig))


def test_presets_fill_the_form(dialog):
    from trainer.config import PRESETS

    for name, preset in PRESETS.items():
        dialog.set_preset(name)
        assert dialog.config_from_form() == preset
    dialog.set_field("learning_rate", "0.5")
    assert dialog.preset_box.currentText() == "custom"


@pytest.mark.parametrize(
    "field, text, message",
    [
        ("learning_rate", "fast", "Learning rate η: 'fast' is not a number"),
        ("epochs", "2.5", "Epochs: '2.5' is not a whole number"),
        ("hidden_layers", "30, x", "Hidden layers: '30, x' is not a list of whole numbers"),
        ("epochs", "0", "epochs must be a whole number from 1 to 10000"),
        ("validation_share", "1.5", "the validation share must be between 0 and 1"),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(dialog, field, text, message):
    dialog.set_field(field, text)
    assert not dialog.start()
    assert message in dialog.error_label.text()
    assert dialog.worker is None and dialog.state() == "idle"


def test_short_run_completes_and_is_kept(window, dialog, qtbot, mnist_env, app_user_data):
    old_network = window.model.network
    quick(dialog)
    assert dialog.start()
    # The user keeps drawing with the current model meanwhile.
    assert window.predictor.network is old_network
    qtbot.waitUntil(lambda: dialog.state() != "running", timeout=60000)
    outcome = dialog.outcome
    assert outcome.status == "completed", outcome.message
    assert dialog.state() == "decide" and dialog.keep_button.isVisible()
    assert outcome.test_accuracy > 0.5
    assert (
        "New model" in dialog.result_label.text()
        and "Current model: 10.00 %" in dialog.result_label.text()
    )
    assert len(dialog.loss_chart.series("validation")) == 1
    assert dialog.epoch_bar.value() == 1
    assert window.predictor.network is old_network  # not used before it is accepted

    assert dialog.keep()
    kept = app_user_data / "model.npz"
    assert kept.exists()
    assert window.model.network is outcome.network and window.predictor.network is outcome.network
    assert window.model.source == "user"
    assert f"{100 * outcome.test_accuracy:.2f} %" in window.model_label.text()
    # ... and it is the app's model at the next start.
    again = model_store.load_startup_model()
    assert again.source == "user" and again.path == kept and again.warning is None
    assert again.test_accuracy == pytest.approx(outcome.test_accuracy)


def test_cancel_stops_within_a_second_and_keeps_the_old_model(
    window, dialog, qtbot, mnist_env, app_user_data
):
    old = window.model
    quick(dialog, epochs=50, train_subset=0)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.batch_bar.value() > 0, timeout=60000)
    started = time.perf_counter()
    dialog.cancel()
    qtbot.waitUntil(lambda: dialog.state() != "running", timeout=5000)
    assert time.perf_counter() - started < 1.0
    assert dialog.outcome.status == "cancelled" and not dialog.outcome.usable
    assert not dialog.keep_button.isVisible() and not dialog.keep()
    assert window.model is old and window.predictor.network is old.network
    assert not (app_user_data / "model.npz").exists()


@pytest.mark.parametrize(
    "changes",
    [
        # The example: Nielsen's sigmoid network with η=100 saturates (all 50 000 images).
        {"learning_rate": 100, "train_subset": 0},
        # ReLU + softmax with η=100: the cost becomes NaN/inf within a few batches.
        {
            "learning_rate": 100,
            "hidden_activation": "relu",
            "output_activation": "softmax",
            "cost": "cross_entropy",
        },
    ],
    ids=["nielsen-eta-100", "relu-eta-100"],
)
def test_diverging_run_is_reported_and_never_offered(
    window, dialog, qtbot, mnist_env, app_user_data, changes
):
    old = window.model
    quick(dialog, **changes)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.state() != "running", timeout=60000)
    assert dialog.outcome.status == "diverged"
    assert "diverged" in dialog.result_label.text().lower()
    assert not dialog.keep_button.isVisible() and not dialog.keep()
    assert window.model is old
    assert not (app_user_data / "model.npz").exists()


def test_missing_mnist_is_offered_for_download_or_folder(monkeypatch, tmp_path, qtbot, mnist_env):
    from digitpad.mnist_dialog import MnistDialog, mnist_available

    monkeypatch.delenv(paths.MNIST_DIR_ENV)
    monkeypatch.setattr(paths, "mnist_cache_dir", lambda: tmp_path / "cache" / "mnist")
    ok, reason = mnist_available()
    assert not ok and "not on this computer" in reason
    dlg = MnistDialog(reason)
    qtbot.addWidget(dlg)
    assert not dlg.use_folder(tmp_path)  # an empty folder is refused with the reason
    assert "lacks" in dlg.status_label.text()
    assert dlg.use_folder(mnist_env)
    assert dlg.mnist_dir == mnist_env


def test_download_with_progress_and_cancel(monkeypatch, tmp_path, qtbot, mnist_env):
    """The download dialog against a mirror on the local file system (file:// URLs)."""
    from digitpad.mnist_dialog import MnistDialog
    from trainer.data.mnist_download import MIRRORS_ENV

    cache = tmp_path / "cache" / "mnist"
    monkeypatch.delenv(paths.MNIST_DIR_ENV)
    monkeypatch.setattr(paths, "mnist_cache_dir", lambda: cache)
    monkeypatch.setenv(MIRRORS_ENV, mnist_env.as_uri() + "/")
    dlg = MnistDialog("missing")
    qtbot.addWidget(dlg)

    dlg.start_download()
    dlg.cancel_download()
    qtbot.waitUntil(lambda: not dlg.is_downloading(), timeout=30000)
    qtbot.waitUntil(lambda: dlg.download_button.isEnabled(), timeout=5000)
    assert "cancelled" in dlg.status_label.text()
    assert dlg.result() != dlg.DialogCode.Accepted

    dlg.start_download()
    qtbot.waitUntil(lambda: dlg.result() == dlg.DialogCode.Accepted, timeout=60000)
    assert sorted(p.name for p in cache.glob("*.gz")) == sorted(
        p.name for p in mnist_env.glob("*-ubyte.gz")
    )


# --- closing never loses a run or an unkept model without asking ------------------------------
def close_by(how: str, dialog, qtbot) -> None:
    from PySide6.QtCore import Qt

    if how == "Close button":
        qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    elif how == "Esc":
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    else:  # the window manager's close button
        dialog.close()


def test_close_is_not_the_default_button(dialog):
    assert not dialog.close_button.isDefault() and not dialog.close_button.autoDefault()
    assert dialog.start_button.isDefault()


@pytest.mark.parametrize("how", ["Close button", "Esc", "window close"])
def test_closing_asks_before_losing_a_finished_model(
    window, dialog, qtbot, mnist_env, app_user_data, answer_question, how
):
    from PySide6.QtCore import Qt

    quick(dialog)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.state() == "decide", timeout=60000)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter neither closes nor discards
    assert dialog.isVisible() and dialog.state() == "decide"

    asked = []
    answer_question("Cancel", asked)
    close_by(how, dialog, qtbot)
    assert asked and "not kept yet" in asked[0]
    assert dialog.isVisible() and dialog.state() == "decide"

    answer_question("Keep it and close", asked)
    close_by(how, dialog, qtbot)
    assert len(asked) == 2 and not dialog.isVisible()
    assert (app_user_data / "model.npz").exists()
    assert window.model.network is dialog.outcome.network


def test_closing_asks_before_stopping_a_run(
    dialog, qtbot, mnist_env, app_user_data, answer_question
):
    quick(dialog, epochs=50, train_subset=0)
    assert dialog.start()
    asked = []
    answer_question("Keep training", asked)
    close_by("Close button", dialog, qtbot)
    assert asked and "in progress" in asked[0]
    assert dialog.isVisible() and dialog.is_running()

    answer_question("Stop the run and close", asked)
    close_by("Esc", dialog, qtbot)
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=10000)
    assert dialog.outcome.status == "cancelled"


def test_quitting_the_app_asks_about_an_unkept_model(
    window, dialog, qtbot, mnist_env, answer_question
):
    window.show()
    qtbot.waitExposed(window)
    quick(dialog)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.state() == "decide", timeout=60000)
    asked = []
    answer_question("Cancel", asked)
    assert not window.close()
    assert asked and window.isVisible() and dialog.state() == "decide"
    dialog.discard()  # pytest-qt closes the window before the dialog fixture's teardown


# --- how the dialog looks -------------------------------------------------------------------------
def test_choices_show_words_for_people_and_train_with_the_trainers_names(dialog):
    dialog.set_preset("default")
    shown = {name: dialog.form.fields[name].currentText() for name in ("cost", "init", "optimizer")}
    assert shown == {"cost": "Cross-entropy", "init": "He (for ReLU)", "optimizer": "Adam"}
    config = dialog.config_from_form()
    assert (config.cost, config.init, config.optimizer) == ("cross_entropy", "he", "adam")


def test_the_dialog_fits_a_1366x768_screen(qtbot):
    from digitpad.retrain_dialog import RetrainDialog

    dlg = RetrainDialog()
    qtbot.addWidget(dlg)
    assert dlg.minimumSizeHint().height() <= 768 - 60  # title bar and a panel
    assert dlg.minimumSizeHint().width() <= 1366
    screen = dlg.screen().availableGeometry()
    assert dlg.height() <= screen.height() and dlg.width() <= screen.width()


def test_progress_bars_appear_with_a_run_and_agree_with_the_text(dialog, qtbot, mnist_env):
    assert not dialog.epoch_bar.isVisible() and not dialog.batch_bar.isVisible()
    quick(dialog, epochs=2)
    assert dialog.start()
    assert dialog.epoch_bar.isVisible() and dialog.batch_bar.isVisible()
    seen = []  # (the text's running epoch, the bar's text), after each batch the dialog shows
    dialog.worker.batchProgress.connect(
        lambda epoch, *_: seen.append((epoch, dialog.epoch_bar.text()))
    )
    qtbot.waitUntil(lambda: dialog.state() != "running", timeout=60000)
    assert {epoch for epoch, _ in seen} == {1, 2}
    for epoch, bar in seen:  # "epoch 2 of 2" running: 1 done (2 once its last batch is in)
        assert bar in (f"{epoch - 1} of 2 epochs done", f"{epoch} of 2 epochs done")
    assert any(bar == f"{epoch - 1} of 2 epochs done" for epoch, bar in seen)
    dialog.cancel()  # pytest-qt closes the window before the dialog fixture's teardown
    qtbot.waitUntil(lambda: not dialog.is_running(), timeout=10000)
