"""Model ▸ Load a small model to explore: trains Nielsen's 784-30-10 sigmoid network for a few
epochs in the background, then uses it for this session.

Thirty hidden units are few enough to look at one by one in the network view, and their weight
pictures are the ones Nielsen's first chapter asks about. The run is the ``nielsen`` preset of
``digitpad-train`` with :data:`EPOCHS` epochs, so the same network comes from the command line:

    digitpad-train --preset nielsen --epochs 10 --out small.npz

(94.39 % on MNIST's test set in 5.7 s of training when we ran it; in the app the first run also
compiles the training kernels, a minute at most). Nothing is saved: File ▸ Save model as… keeps it, and the model
the app starts with is unchanged.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction

from digitpad import model_store
from digitpad.training_worker import TrainingOutcome, TrainingWorker

EPOCHS = 10
NAME = "small 784-30-10 sigmoid net to explore"


class SmallModelTrainer(QObject):
    """Trains the small model off the GUI thread and hands it to the window."""

    #: A line for the status bar while it trains.
    progress = Signal(str)
    #: The run ended: a :class:`digitpad.model_store.LoadedModel`, or a message saying why not.
    ready = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.config = None  # the nielsen preset with EPOCHS epochs, unless a test changes it
        self.worker: TrainingWorker | None = None

    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_running()

    def start(self) -> None:
        if self.is_running():
            return
        if self.config is None:
            from trainer.config import PRESETS  # imports Numba: not on the way to a ready window

            self.config = PRESETS["nielsen"].replace(epochs=EPOCHS)
        self.worker = TrainingWorker(self.config)
        self.worker.phase.connect(self.progress)
        self.worker.batchProgress.connect(self._batch)
        self.worker.finished.connect(self._finished)
        self.progress.emit("Training a small 784-30-10 network to explore…")
        self.worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()

    def _batch(self, epoch: int, epochs: int, batch: int, batches: int, _loss: float) -> None:
        share = ((epoch - 1) + batch / max(batches, 1)) / epochs
        self.progress.emit(
            f"Training a small 784-30-10 network to explore: epoch {epoch} of "
            f"{epochs}, {100 * share:.0f} % done"
        )

    def _finished(self, outcome: TrainingOutcome) -> None:
        if not outcome.usable:
            self.failed.emit(f"The small model was not trained: {outcome.message}")
            return
        metadata = {**outcome.metadata, "name": NAME}
        self.ready.emit(
            model_store.LoadedModel(
                outcome.network, metadata, None, model_store.ModelSource.EXPLICIT
            )
        )


def add_action(window, menu) -> QAction:
    """Add "Load a small model to explore" to ``menu``; the window uses the model when ready."""
    trainer = SmallModelTrainer(window)
    action = QAction("Load a small &model to explore", window)
    action.setStatusTip(
        "Train Nielsen's 784-30-10 network for ten epochs (seconds, "
        "plus a first compilation) and use it: 30 hidden units to look at one by one"
    )

    def finish(message: str) -> None:
        window._set_busy(None)
        action.setEnabled(True)
        window.statusBar().showMessage(message, 8000)

    def use(loaded) -> None:
        window.set_model(loaded)
        finish(
            f"Now using the {NAME} (test accuracy {100 * loaded.test_accuracy:.1f} %); "
            f"File ▸ Save model as… keeps it."
        )

    def start() -> None:
        action.setEnabled(False)
        trainer.start()

    trainer.progress.connect(window._set_busy)
    trainer.ready.connect(use)
    trainer.failed.connect(finish)
    action.triggered.connect(start)
    menu.addAction(action)
    window.small_model_trainer = trainer
    return action
