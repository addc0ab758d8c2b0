"""Where the menu starts a training run: presets, hyperparameters, live curves, keep or discard.

The form (``digitpad/settings_form.py``) is built from the settings declared in ``trainer.config``
and filled from its presets; ``TrainingConfig.validate()``'s message is shown before anything
starts.

The run itself happens in :class:`digitpad.training_worker.TrainingWorker` (its own thread). The
dialog is not modal, so the user keeps drawing with the current model meanwhile. At the end it shows
the new model's test accuracy beside the current one's and offers **Keep** (saved atomically as the
user's model, and used from now on and at the next start) or **Discard**. A cancelled, diverged or
failed run is reported and never offered.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from digitpad import settings
from digitpad.curves import CurveChart
from digitpad.plain_text import make_plain, warn
from digitpad.settings_form import SettingsForm
from digitpad.training_insight import UnitWeightsStrip, ValidationMistakes
from digitpad.training_worker import WATCHED_UNITS, TrainingOutcome, TrainingWorker
from trainer.config import PRESETS
from trainer.named_values import NamedValue, RunStatus

ERROR_STYLE = "color: #b3261e;"
GOOD_STYLE = "color: #1f7a45;"


class DialogState(NamedValue):
    """What the dialog is doing, which decides the buttons shown."""

    IDLE = "idle"  # the form is editable; Start
    RUNNING = "running"  # Cancel run
    DECIDE = "decide"  # a usable model: Keep or Discard


def _percent(value: float | None) -> str:
    return "unknown" if value is None else f"{100 * value:.2f} %"


def _format_duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class RetrainDialog(QDialog):
    """Configure, run and judge a training run."""

    #: The user kept the new model: ``(network, metadata, saved_path)``.
    modelKept = Signal(object, dict, object)
    #: A run started / ended (for the main window's status bar).
    runStarted = Signal()
    runEnded = Signal(object)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        current_network=None,
        current_accuracy: float | None = None,
        mnist_dir=None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Retrain the network")
        self.setModal(False)
        self.current_network = current_network
        self.current_accuracy = current_accuracy
        # The folder the user chose in an earlier session, unless the caller names one.
        self.mnist_dir = mnist_dir if mnist_dir is not None else settings.remembered_mnist_dir()
        self.worker: TrainingWorker | None = None
        self.outcome: TrainingOutcome | None = None
        self._progress_started: tuple[float, float] | None = None  # (time, fraction done)
        self._cancel_requested = False

        # --- the form
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(PRESETS))
        self.preset_box.addItem("custom")
        self.preset_box.setToolTip("Fill the form with a named set of hyperparameters")
        self.form = SettingsForm()
        self.form.edited.connect(self._edited)
        self.error_label = make_plain(QLabel())
        self.error_label.setObjectName("validationMessage")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)

        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Preset"))
        preset_row.addWidget(self.preset_box, 1)
        self.my_digits: list = []
        self.my_digits_box = QCheckBox()
        self.my_digits_box.setObjectName("includeMyDigits")
        self.my_digits_box.setToolTip(
            "Also learn the drawings you labelled (My digits). The "
            "personal preset fine-tunes the current model on them."
        )
        self.set_my_digits([])
        preset_row.addWidget(self.my_digits_box)
        form_column = QVBoxLayout()
        form_column.addLayout(preset_row)
        form_column.addWidget(self.form)
        form_column.addWidget(self.error_label)
        form_column.addStretch(1)
        self.form_widget = QWidget()
        self.form_widget.setLayout(form_column)
        self.form_widget.setMinimumWidth(300)
        # The form scrolls when the screen is not tall enough for all of it (1366×768 is not).
        form_area = QScrollArea()
        form_area.setWidget(self.form_widget)
        form_area.setWidgetResizable(True)
        form_area.setFrameShape(QFrame.Shape.NoFrame)
        form_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form_area.setMinimumWidth(
            self.form_widget.sizeHint().width() + form_area.verticalScrollBar().sizeHint().width()
        )

        # --- progress and curves
        self.phase_label = make_plain(
            QLabel("Choose a preset or set the hyperparameters, then press Start.")
        )
        self.phase_label.setWordWrap(True)
        self.epoch_bar = QProgressBar()
        self.epoch_bar.setFormat("%v of %m epochs done")  # the text says which one is running
        self.batch_bar = QProgressBar()
        self.batch_bar.setFormat("batch %v of %m")
        for bar in (self.epoch_bar, self.batch_bar):
            bar.hide()  # until a run starts: empty bars look like text fields
        self.time_label = QLabel("")
        self.loss_chart = CurveChart("Loss")
        self.accuracy_chart = CurveChart("Accuracy", percent=True)
        for chart in (self.loss_chart, self.accuracy_chart):
            chart.add_series("training")
            chart.add_series("validation")
        self.result_label = make_plain(QLabel(""))
        self.result_label.setObjectName("resultMessage")
        self.result_label.setWordWrap(True)
        big = QFont(self.font())
        big.setPointSizeF(self.font().pointSizeF() * 1.1)
        self.result_label.setFont(big)

        bars = QGridLayout()
        bars.addWidget(self.epoch_bar, 0, 0)
        bars.addWidget(self.batch_bar, 1, 0)
        progress_column = QVBoxLayout()
        progress_column.addWidget(self.phase_label)
        progress_column.addLayout(bars)
        progress_column.addWidget(self.time_label)
        curves = QWidget()
        curves_layout = QVBoxLayout(curves)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        curves_layout.addWidget(self.loss_chart, 1)
        curves_layout.addWidget(self.accuracy_chart, 1)
        self.unit_weights = UnitWeightsStrip(WATCHED_UNITS)
        self.validation_view = ValidationMistakes()
        self.tabs = QTabWidget()
        self.tabs.addTab(curves, "Learning curves")
        self.tabs.addTab(self.unit_weights, "Unit weights")
        self.tabs.addTab(self.validation_view, "Validation mistakes")
        progress_column.addWidget(self.tabs, 1)
        progress_column.addWidget(self.result_label)

        # --- buttons
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel run")
        self.keep_button = QPushButton("Keep new model")
        self.discard_button = QPushButton("Discard")
        self.close_button = QPushButton("Close")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (
            self.start_button,
            self.cancel_button,
            self.keep_button,
            self.discard_button,
            self.close_button,
        ):
            if b is not self.start_button:  # Enter starts a run, and never closes nor discards
                b.setAutoDefault(False)
            buttons.addWidget(b)

        top = QHBoxLayout()
        top.addWidget(form_area, 0)
        top.addLayout(progress_column, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addLayout(buttons)

        self.preset_box.currentTextChanged.connect(self.set_preset)
        self.start_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.keep_button.clicked.connect(self.keep)
        self.discard_button.clicked.connect(self.discard)
        self.close_button.clicked.connect(self.reject)
        self.set_preset("default" if "default" in PRESETS else next(iter(PRESETS)))
        self._set_state(DialogState.IDLE)
        self._fit_to_screen(980, 640)

    def _fit_to_screen(self, width: int, height: int) -> None:
        """Open at ``width`` × ``height``, or smaller if the screen's free area is smaller."""
        screen = self.screen().availableGeometry() if self.screen() is not None else None
        if screen is not None:
            frame = 40  # the window manager's title bar and borders
            width, height = min(width, screen.width() - 16), min(height, screen.height() - frame)
        self.resize(width, height)

    # ------------------------------------------------------------------ the form
    def _edited(self) -> None:
        self.error_label.clear()
        self.preset_box.blockSignals(True)
        self.preset_box.setCurrentText("custom")
        self.preset_box.blockSignals(False)

    def set_my_digits(self, drawings: list) -> None:
        """The user's labelled drawings that the "My digits (N)" box adds to a run."""
        self.my_digits = list(drawings)
        self.my_digits_box.setText(f"My digits ({len(self.my_digits)})")
        self.my_digits_box.setEnabled(bool(self.my_digits))
        if not self.my_digits:
            self.my_digits_box.setChecked(False)

    def set_preset(self, name: str) -> None:
        """Fill the form with preset ``name`` ("custom" leaves the form as it is)."""
        if name not in PRESETS:
            return
        self.set_config(PRESETS[name])
        self.preset_box.blockSignals(True)
        self.preset_box.setCurrentText(name)
        self.preset_box.blockSignals(False)

    def set_config(self, config) -> None:
        self.form.set_config(config)
        self.error_label.clear()

    def set_field(self, name: str, value) -> None:
        """Set one field from a Python value or text (for tests and scripting)."""
        self.form.set_field(name, value)

    def config_from_form(self):
        """The ``TrainingConfig`` the form describes, validated; raises ValueError with a message
        naming the field (``ConfigError``, a ValueError, for an illegal setting)."""
        return self.form.config()

    # ------------------------------------------------------------------ running
    def is_running(self) -> bool:
        return self.worker is not None and self._state is DialogState.RUNNING

    def start(self) -> bool:
        """Validate the form and start a run; returns False (with a message shown) if it can't."""
        if self.is_running():
            return False
        try:
            config = self.config_from_form()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return False
        mine = self.my_digits if self.my_digits_box.isChecked() else []
        fine_tune = self.preset_box.currentText() == "personal"
        if fine_tune and (not mine or self.current_network is None):
            self.error_label.setText(
                "The personal preset fine-tunes the current model on your "
                "digits: label some drawings and tick “My digits”."
            )
            return False
        self.error_label.clear()
        from digitpad.mnist_dialog import MnistDialog, mnist_available

        ok, reason = mnist_available(self.mnist_dir)
        if not ok:
            dialog = MnistDialog(reason, self)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                self.error_label.setText("Training needs MNIST: download it or choose its folder.")
                return False
            self.mnist_dir = dialog.mnist_dir

        self.outcome = None
        self._cancel_requested = False
        self.loss_chart.clear()
        self.accuracy_chart.clear()
        for chart in (self.loss_chart, self.accuracy_chart):
            chart.set_epochs_planned(config.epochs)
        self.epoch_bar.setRange(0, config.epochs)
        self.epoch_bar.setValue(0)
        self.epoch_bar.show()
        self.batch_bar.show()
        self.batch_bar.setRange(0, 1)
        self.batch_bar.setValue(0)
        self.time_label.setText("")
        self.result_label.clear()
        self._progress_started = None
        self.worker = TrainingWorker(
            config,
            mnist_dir=self.mnist_dir,
            current_network=self.current_network,
            current_accuracy=self.current_accuracy,
            my_digits=mine,
            fine_tune=fine_tune,
        )
        self.worker.phase.connect(self.phase_label.setText)
        self.worker.batchProgress.connect(self._on_batch)
        self.worker.epochFinished.connect(self._on_epoch)
        self.worker.unitWeights.connect(self.unit_weights.show_weights)
        self.validation_view.show_verdicts(None)
        self.worker.finished.connect(self._on_finished)
        self._set_state(DialogState.RUNNING)
        self.phase_label.setText("Starting…")
        self.worker.start()
        self.runStarted.emit()
        return True

    def cancel(self) -> None:
        """Stop the run in progress (within a second); the current model stays."""
        if self.is_running():
            self._cancel_requested = True
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.phase_label.setText("Cancelling…")

    @Slot(int, int, int, int, float)
    def _on_batch(self, epoch: int, epochs: int, batch: int, batches: int, loss: float) -> None:
        if self._state is not DialogState.RUNNING:
            return
        self.phase_label.setText(f"Training: epoch {epoch} of {epochs}, running loss {loss:.4f}")
        self.epoch_bar.setRange(0, epochs)
        self.epoch_bar.setValue(epoch - 1 if batch < batches else epoch)
        self.batch_bar.setRange(0, batches)
        self.batch_bar.setValue(batch)
        fraction = ((epoch - 1) * batches + batch) / (epochs * batches)
        now = time.perf_counter()
        if self._progress_started is None:
            self._progress_started = (now, fraction)
            self.time_label.setText("Estimating time left…")
            return
        t0, f0 = self._progress_started
        if fraction > f0 and now - t0 > 0.2:
            left = (now - t0) / (fraction - f0) * (1.0 - fraction)
            self.time_label.setText(f"About {_format_duration(left)} left")

    @Slot(object)
    def _on_epoch(self, record) -> None:
        self.loss_chart.append("training", record.loss)
        self.loss_chart.append("validation", record.val_loss)
        self.accuracy_chart.append("training", record.accuracy)
        self.accuracy_chart.append("validation", record.val_accuracy)
        self.epoch_bar.setValue(record.epoch)

    @Slot(object)
    def _on_finished(self, outcome: TrainingOutcome) -> None:
        if self.worker is not None:
            self.worker.wait(5000)
        self.outcome = outcome
        self.time_label.setText(f"Took {_format_duration(outcome.seconds)}")
        if outcome.usable:
            new, old = outcome.test_accuracy, outcome.current_test_accuracy
            comparison = ""
            if new is not None and old is not None:
                delta = 100 * (new - old)
                comparison = f" ({'+' if delta >= 0 else '−'}{abs(delta):.2f} points)"
            mine = ""
            if outcome.my_digits_accuracy is not None:
                before, after = outcome.my_digits_accuracy
                mine = (
                    f"On your digits (each read by a model that never saw it): "
                    f"<b>{_percent(after)}</b>, before {_percent(before)}<br>"
                )
            notes = "".join(f"{note}<br>" for note in outcome.notes)
            self.result_label.setText(
                f"{mine}New model: <b>{_percent(new)}</b> MNIST test accuracy{comparison}<br>"
                f"Current model: {_percent(old)}<br>{notes}Keep the new model or discard it?"
            )
            self.result_label.setStyleSheet("")
            self.phase_label.setText(f"Finished: {outcome.message}.")
            self.validation_view.show_verdicts(outcome.validation)
            self._set_state(DialogState.DECIDE)
        else:
            title = outcome.status.title
            self.phase_label.setText(f"{title}.")
            self.result_label.setText(
                f"{title}: {outcome.message}. The current model stays in use."
            )
            cancelled = outcome.status is RunStatus.CANCELLED
            self.result_label.setStyleSheet("" if cancelled else ERROR_STYLE)
            self._set_state(DialogState.IDLE)
        self.runEnded.emit(outcome)

    def keep(self) -> bool:
        """Save the new model as the user's model and hand it to the app."""
        outcome = self.outcome
        if self._state is not DialogState.DECIDE or outcome is None or not outcome.usable:
            return False
        from digitpad import model_store

        try:
            path = model_store.keep_model(outcome.network, outcome.metadata)
        except Exception as exc:
            warn(
                self,
                "Could not save the model",
                f"The new model could not be saved: {exc}\nYour previous model is unchanged.",
            )
            return False
        self.result_label.setText(
            f"Kept: the new model ({_percent(outcome.test_accuracy)}) is in "
            f"use now and at the next start."
        )
        self.result_label.setStyleSheet(GOOD_STYLE)
        self.current_network = outcome.network
        self.current_accuracy = outcome.test_accuracy
        self._set_state(DialogState.IDLE)
        self.modelKept.emit(outcome.network, outcome.metadata, path)
        return True

    def discard(self) -> None:
        if self._state is not DialogState.DECIDE:
            return
        self.result_label.setText("Discarded: the current model stays in use.")
        self.result_label.setStyleSheet("")
        if self.outcome is not None:
            self.outcome.network = None
        self._set_state(DialogState.IDLE)

    def _set_state(self, state: DialogState) -> None:
        self._state = state
        self.form_widget.setEnabled(state is DialogState.IDLE)
        self.start_button.setVisible(state is DialogState.IDLE)
        self.cancel_button.setVisible(state is DialogState.RUNNING)
        self.cancel_button.setEnabled(state is DialogState.RUNNING)
        self.keep_button.setVisible(state is DialogState.DECIDE)
        self.discard_button.setVisible(state is DialogState.DECIDE)

    def state(self) -> DialogState:
        return self._state

    def _may_close(self) -> bool:
        """Whether the dialog may close: a running run or a finished model not yet kept is never
        lost without the user saying so (Close, Esc, the window's close button, quitting the app).

        A run the user agrees to stop is cancelled without waiting for it to end: that is within
        0.1 s, except during the first run's JIT compilation, which cannot be interrupted (seconds)
        and must not freeze the app. It ends in the background (``training_worker`` waits for it
        at exit)."""
        if self.is_running() and not self._cancel_requested:  # a cancelled run is no loss
            answer = self._ask(
                "A training run is in progress",
                "Closing this window stops the run; its progress is lost.",
                [
                    ("Stop the run and close", QMessageBox.ButtonRole.DestructiveRole),
                    ("Keep training", QMessageBox.ButtonRole.RejectRole),
                ],
            )
            if answer != "Stop the run and close" or not self.is_running():
                return False
            self.cancel()
        elif self._state is DialogState.DECIDE:
            accuracy = self.outcome.test_accuracy if self.outcome is not None else None
            answer = self._ask(
                "The new model is not kept yet",
                f"The new model ({_percent(accuracy)} test accuracy) is lost unless you keep it.",
                [
                    ("Keep it and close", QMessageBox.ButtonRole.AcceptRole),
                    ("Discard it and close", QMessageBox.ButtonRole.DestructiveRole),
                    ("Cancel", QMessageBox.ButtonRole.RejectRole),
                ],
            )
            if answer == "Keep it and close":
                return self.keep()
            if answer != "Discard it and close" or self._state is not DialogState.DECIDE:
                return False
            self.discard()
        return True

    def _ask(self, title: str, text: str, choices: list[tuple[str, object]]) -> str | None:
        """Ask with a modal message box; returns the text of the button pressed. The last choice
        is the default one, and Esc or closing the box choose it too."""
        box = QMessageBox(QMessageBox.Icon.Question, title, f"<b>{title}.</b>", parent=self)
        box.setInformativeText(text)
        for label, role in choices:
            button = box.addButton(label, role)
        box.setDefaultButton(button)
        box.setEscapeButton(button)
        box.exec()
        clicked = box.clickedButton()
        return clicked.text() if clicked is not None else None

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._may_close():
            event.ignore()
            return
        super().closeEvent(event)

    def reject(self) -> None:  # Close, Esc
        if self._may_close():
            super().reject()
