"""Where the menu starts a training run: presets, hyperparameters, live curves, keep or discard.

The form is built from ``trainer.config.TrainingConfig``: one field per setting, filled from the
presets in ``trainer.config.PRESETS``. The dialog only parses text into numbers; whether a run is
legal is decided by ``TrainingConfig.validate()``, whose message is shown before anything starts.

The run itself happens in :class:`digitpad.training_worker.TrainingWorker` (its own thread). The
dialog is not modal, so the user keeps drawing with the current model meanwhile. At the end it shows
the new model's test accuracy beside the current one's and offers **Keep** (saved atomically as the
user's model, and used from now on and at the next start) or **Discard**. A cancelled, diverged or
failed run is reported and never offered.
"""
from __future__ import annotations

import math
import time

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from digitpad.curves import CurveChart
from digitpad.training_insight import UnitWeightsStrip, ValidationMistakes
from digitpad.training_worker import WATCHED_UNITS, TrainingOutcome, TrainingWorker

ERROR_STYLE = "color: #b3261e;"
GOOD_STYLE = "color: #1f7a45;"


def _choices() -> dict[str, tuple[str, ...]]:
    from trainer import config, kernels, network, optimizers

    return {
        "hidden_activation": tuple(kernels.HIDDEN_ACTIVATIONS),
        "output_activation": tuple(kernels.OUTPUT_ACTIVATIONS),
        "cost": tuple(kernels.COSTS),
        "init": tuple(network.INITIALISATIONS),
        "optimizer": tuple(optimizers.KINDS),
        "lr_schedule": tuple(config.SCHEDULES),
    }


#: (group, field, label, tooltip) in the order shown; every TrainingConfig field appears once.
FIELDS = (
    ("Network", "hidden_layers", "Hidden layers", "Sizes of the hidden layers, e.g. 30 or 512, 512"),
    ("Network", "hidden_activation", "Hidden activation", ""),
    ("Network", "output_activation", "Output activation", ""),
    ("Network", "cost", "Cost", ""),
    ("Network", "init", "Initialisation", "normal: N(0,1) as in Nielsen's book; he; glorot (Keras)"),
    ("Optimisation", "optimizer", "Optimiser", ""),
    ("Optimisation", "learning_rate", "Learning rate η", ""),
    ("Optimisation", "momentum", "Momentum μ", "Only used by the momentum optimiser"),
    ("Optimisation", "batch_size", "Batch size", ""),
    ("Optimisation", "epochs", "Epochs", ""),
    ("Optimisation", "lr_schedule", "η schedule", "constant, exponential (η·decay^epoch) or cosine"),
    ("Optimisation", "lr_decay", "η decay", "Factor of the exponential schedule, in (0, 1]"),
    ("Optimisation", "weight_decay", "Weight decay λ", "L2 penalty on the weights"),
    ("Optimisation", "dropout", "Dropout", "Probability of dropping a hidden unit, in [0, 1)"),
    ("Data", "augment", "Augmentation", "Random affine and elastic distortions every epoch"),
    ("Data", "slashed_zeros", "Slashed zeros",
     "Share of the training zeros given a slash (Ø) every epoch, in [0, 1)"),
    ("Data", "validation_share", "Validation share",
     "Share of the 60 000 training images held out for validation"),
    ("Data", "early_stopping", "Early stopping",
     "Stop after this many epochs without a better validation loss (0 = never)"),
    ("Data", "train_subset", "Training subset", "Use only this many training images (0 = all)"),
    ("Data", "seed", "Seed", "Seeds initialisation, shuffling, dropout and augmentation"),
)


def _format_number(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


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

    def __init__(self, parent: QWidget | None = None, *, current_network=None,
                 current_accuracy: float | None = None, mnist_dir=None) -> None:
        super().__init__(parent)
        from trainer.config import PRESETS, TrainingConfig

        self.setWindowTitle("Retrain the network")
        self.setModal(False)
        self._config_type = TrainingConfig
        self._presets = PRESETS
        self._choices = _choices()
        self._defaults = TrainingConfig()
        self.current_network = current_network
        self.current_accuracy = current_accuracy
        self.mnist_dir = mnist_dir
        self.worker: TrainingWorker | None = None
        self.outcome: TrainingOutcome | None = None
        self._loading_preset = False
        self._shown: dict[str, tuple[str, object]] = {}  # field -> (text shown, exact value)
        self._progress_started: tuple[float, float] | None = None  # (time, fraction done)

        # --- the form
        self.preset_box = QComboBox()
        self.preset_box.addItems(list(PRESETS))
        self.preset_box.addItem("custom")
        self.preset_box.setToolTip("Fill the form with a named set of hyperparameters")
        self.fields: dict[str, QWidget] = {}
        groups: dict[str, QFormLayout] = {}
        group_boxes = []
        label_width = max(self.fontMetrics().horizontalAdvance(label) for _, _, label, _ in FIELDS)
        for group, name, label, tip in FIELDS:
            if group not in groups:
                box = QGroupBox(group)
                groups[group] = QFormLayout(box)
                groups[group].setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
                group_boxes.append(box)
            widget = self._make_field(name)
            if tip:
                widget.setToolTip(tip)
            widget.setObjectName(f"field_{name}")
            self.fields[name] = widget
            label_widget = QLabel(label)
            label_widget.setMinimumWidth(label_width + 8)
            groups[group].addRow(label_widget, widget)
        self.error_label = QLabel()
        self.error_label.setObjectName("validationMessage")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)

        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Preset"))
        preset_row.addWidget(self.preset_box, 1)
        form_column = QVBoxLayout()
        form_column.addLayout(preset_row)
        for box in group_boxes:
            form_column.addWidget(box)
        form_column.addWidget(self.error_label)
        form_column.addStretch(1)
        self.form_widget = QWidget()
        self.form_widget.setLayout(form_column)
        self.form_widget.setMinimumWidth(300)

        # --- progress and curves
        self.phase_label = QLabel("Choose a preset or set the hyperparameters, then press Start.")
        self.phase_label.setWordWrap(True)
        self.epoch_bar = QProgressBar()
        self.epoch_bar.setFormat("epoch %v of %m")
        self.batch_bar = QProgressBar()
        self.batch_bar.setFormat("batch %v of %m")
        self.time_label = QLabel("")
        self.loss_chart = CurveChart("Loss")
        self.accuracy_chart = CurveChart("Accuracy", percent=True)
        for chart in (self.loss_chart, self.accuracy_chart):
            chart.add_series("training")
            chart.add_series("validation")
        self.result_label = QLabel("")
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
        for b in (self.start_button, self.cancel_button, self.keep_button, self.discard_button,
                  self.close_button):
            buttons.addWidget(b)

        top = QHBoxLayout()
        top.addWidget(self.form_widget, 0)
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
        self._set_state("idle")
        self.resize(980, 640)

    # ------------------------------------------------------------------ the form
    def _make_field(self, name: str) -> QWidget:
        if name in self._choices:
            box = QComboBox()
            box.addItems(list(self._choices[name]))
            box.currentTextChanged.connect(self._edited)
            return box
        if isinstance(getattr(self._defaults, name), bool):
            check = QCheckBox("on")
            check.toggled.connect(self._edited)
            return check
        edit = QLineEdit()
        edit.textEdited.connect(self._edited)
        return edit

    def _edited(self, *_args) -> None:
        if self._loading_preset:
            return
        self.error_label.clear()
        self.preset_box.blockSignals(True)
        self.preset_box.setCurrentText("custom")
        self.preset_box.blockSignals(False)

    def set_preset(self, name: str) -> None:
        """Fill the form with preset ``name`` ("custom" leaves the form as it is)."""
        if name not in self._presets:
            return
        self.set_config(self._presets[name])
        self.preset_box.blockSignals(True)
        self.preset_box.setCurrentText(name)
        self.preset_box.blockSignals(False)

    def set_config(self, config) -> None:
        self._loading_preset = True
        try:
            for name, widget in self.fields.items():
                value = getattr(config, name)
                if isinstance(widget, QComboBox):
                    widget.setCurrentText(str(value))
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                else:
                    text = (", ".join(str(n) for n in value) if name == "hidden_layers"
                            else _format_number(value))
                    widget.setText(text)
                    self._shown[name] = (text, value)
        finally:
            self._loading_preset = False
        self.error_label.clear()

    def set_field(self, name: str, value) -> None:
        """Set one field from a Python value or text (for tests and scripting)."""
        widget = self.fields[name]
        if isinstance(widget, QComboBox):
            widget.setCurrentText(str(value))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(value, (tuple, list)):
            widget.setText(", ".join(str(v) for v in value))
        else:
            widget.setText(str(value))
        self._edited()

    def config_from_form(self):
        """The ``TrainingConfig`` the form describes, validated; raises ValueError with a message
        naming the field (``ConfigError``, a ValueError, for an illegal setting)."""
        values = {}
        labels = {name: label for _, name, label, _ in FIELDS}
        for name, widget in self.fields.items():
            if isinstance(widget, QComboBox):
                values[name] = widget.currentText()
            elif isinstance(widget, QCheckBox):
                values[name] = widget.isChecked()
            else:
                values[name] = self._parse(name, labels[name], widget.text())
        return self._config_type(**values).validate()

    def _parse(self, name: str, label: str, text: str):
        shown = self._shown.get(name)
        if shown is not None and text == shown[0]:
            return shown[1]  # untouched: the preset's exact value (1/6, not 0.166667)
        text = text.strip()
        default = getattr(self._defaults, name)
        if name == "hidden_layers":
            parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
            if not parts:
                raise ValueError(f"{label}: give at least one layer size, e.g. 30 or 512, 512")
            try:
                return tuple(int(p) for p in parts)
            except ValueError:
                raise ValueError(f"{label}: {text!r} is not a list of whole numbers, "
                                 f"e.g. 30 or 512, 512") from None
        if not text:
            raise ValueError(f"{label}: please enter a value")
        if isinstance(default, int):
            try:
                return int(text)
            except ValueError:
                try:
                    number = float(text)
                except ValueError:
                    raise ValueError(f"{label}: {text!r} is not a whole number") from None
                if number.is_integer():
                    return int(number)
                raise ValueError(f"{label}: {text!r} is not a whole number") from None
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ValueError(f"{label}: {text!r} is not a number") from None
        if not math.isfinite(number):
            raise ValueError(f"{label}: {text!r} is not a finite number")
        return number

    # ------------------------------------------------------------------ running
    def is_running(self) -> bool:
        return self.worker is not None and self._state == "running"

    def start(self) -> bool:
        """Validate the form and start a run; returns False (with a message shown) if it can't."""
        if self.is_running():
            return False
        try:
            config = self.config_from_form()
        except ValueError as exc:
            self.error_label.setText(str(exc))
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
        self.loss_chart.clear()
        self.accuracy_chart.clear()
        for chart in (self.loss_chart, self.accuracy_chart):
            chart.set_epochs_planned(config.epochs)
        self.epoch_bar.setRange(0, config.epochs)
        self.epoch_bar.setValue(0)
        self.batch_bar.setRange(0, 1)
        self.batch_bar.setValue(0)
        self.time_label.setText("")
        self.result_label.clear()
        self._progress_started = None
        self.worker = TrainingWorker(config, mnist_dir=self.mnist_dir,
                                     current_network=self.current_network,
                                     current_accuracy=self.current_accuracy)
        self.worker.phase.connect(self.phase_label.setText)
        self.worker.batchProgress.connect(self._on_batch)
        self.worker.epochFinished.connect(self._on_epoch)
        self.worker.unitWeights.connect(self.unit_weights.show_weights)
        self.validation_view.show_verdicts(None)
        self.worker.finished.connect(self._on_finished)
        self._set_state("running")
        self.phase_label.setText("Starting…")
        self.worker.start()
        self.runStarted.emit()
        return True

    def cancel(self) -> None:
        """Stop the run in progress (within a second); the current model stays."""
        if self.is_running():
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.phase_label.setText("Cancelling…")

    @Slot(int, int, int, int, float)
    def _on_batch(self, epoch: int, epochs: int, batch: int, batches: int, loss: float) -> None:
        if self._state != "running":
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
            self.result_label.setText(
                f"New model: <b>{_percent(new)}</b> test accuracy{comparison}<br>"
                f"Current model: {_percent(old)}<br>Keep the new model or discard it?")
            self.result_label.setStyleSheet("")
            self.phase_label.setText(f"Finished: {outcome.message}.")
            self.validation_view.show_verdicts(outcome.validation)
            self._set_state("decide")
        else:
            titles = {"cancelled": "Cancelled", "diverged": "Training diverged",
                      "failed": "Training failed"}
            self.phase_label.setText(f"{titles.get(outcome.status, outcome.status)}.")
            self.result_label.setText(
                f"{titles.get(outcome.status, outcome.status)}: {outcome.message}. "
                "The current model stays in use.")
            self.result_label.setStyleSheet(ERROR_STYLE if outcome.status != "cancelled" else "")
            self._set_state("idle")
        self.runEnded.emit(outcome)

    def keep(self) -> bool:
        """Save the new model as the user's model and hand it to the app."""
        outcome = self.outcome
        if self._state != "decide" or outcome is None or not outcome.usable:
            return False
        from digitpad import model_store

        try:
            path = model_store.keep_model(outcome.network, outcome.metadata)
        except Exception as exc:
            QMessageBox.warning(self, "Could not save the model",
                                f"The new model could not be saved: {exc}\n"
                                "Your previous model is unchanged.")
            return False
        self.result_label.setText(f"Kept: the new model ({_percent(outcome.test_accuracy)}) is in "
                                  f"use now and at the next start.")
        self.result_label.setStyleSheet(GOOD_STYLE)
        self.current_network = outcome.network
        self.current_accuracy = outcome.test_accuracy
        self._set_state("idle")
        self.modelKept.emit(outcome.network, outcome.metadata, path)
        return True

    def discard(self) -> None:
        if self._state != "decide":
            return
        self.result_label.setText("Discarded: the current model stays in use.")
        self.result_label.setStyleSheet("")
        if self.outcome is not None:
            self.outcome.network = None
        self._set_state("idle")

    def _set_state(self, state: str) -> None:
        """idle (form editable) | running | decide (keep or discard)."""
        self._state = state
        self.form_widget.setEnabled(state == "idle")
        self.start_button.setVisible(state == "idle")
        self.cancel_button.setVisible(state == "running")
        self.cancel_button.setEnabled(state == "running")
        self.keep_button.setVisible(state == "decide")
        self.discard_button.setVisible(state == "decide")

    def state(self) -> str:
        return self._state

    def _wind_down(self) -> None:
        """Closing the dialog cancels a run and discards an undecided model.

        It does not wait for the run to end: that is within 0.1 s, except during the first run's
        JIT compilation, which cannot be interrupted (seconds) and must not freeze the app. The
        cancelled run ends in the background (``training_worker`` waits for it at exit)."""
        if self.is_running():
            self.cancel()
        if self._state == "decide":
            self.discard()

    def closeEvent(self, event: QCloseEvent) -> None:
        self._wind_down()
        super().closeEvent(event)

    def reject(self) -> None:  # Esc, the window's close button
        self._wind_down()
        super().reject()
