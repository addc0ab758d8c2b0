"""A training run off the GUI thread: a QObject living in a QThread that calls
``trainer.core.training.train``.

Progress is forwarded through Qt signals (queued to the GUI thread); :meth:`TrainingWorker.cancel`
sets a ``threading.Event`` that ``train`` checks between chunks of about 0.1 s of work, so a cancel
takes effect well within a second. The worker never touches the app's current model: it trains a
fresh network and hands it back in a :class:`TrainingOutcome`; a cancelled or diverged run carries
no network at all, so it cannot be offered as a replacement.
"""

from __future__ import annotations

import atexit
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from trainer.named_values import RunStatus


@dataclass
class TrainingOutcome:
    status: RunStatus
    message: str
    network: object | None = None  # only for a usable run
    metadata: dict = field(default_factory=dict)
    test_accuracy: float | None = None
    current_test_accuracy: float | None = None
    epochs: list = field(default_factory=list)
    seconds: float = 0.0
    #: With the user's drawings: their accuracy (before, after), each drawing measured by a model
    #: fine-tuned without it (``trainer.core.personal.held_out_accuracy``); None when not measured.
    my_digits_accuracy: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()
    #: what the new network says about each validation digit (``digitpad.mistakes.Verdicts``)
    validation: object | None = None

    def __post_init__(self) -> None:
        self.status = RunStatus(self.status)  # "cancelled" from a caller is RunStatus.CANCELLED

    @property
    def usable(self) -> bool:
        return self.network is not None


#: Workers started and not yet known to be done; kept alive here, and waited for at exit, because a
#: QThread destroyed while it runs aborts the process (closing the app during the first run's JIT
#: compilation did: the cancelled run only ends once the compilation has).
_started: set = set()
EXIT_WAIT_MS = 120_000
#: First-layer units whose weight pictures the Retrain dialog shows epoch by epoch.
WATCHED_UNITS = 6


@atexit.register
def _wait_for_workers() -> None:
    for worker in list(_started):
        worker.cancel()
        worker.wait(EXIT_WAIT_MS)


class TrainingWorker(QObject):
    """Runs one training run; create it, call :meth:`start`, listen to the signals."""

    #: A phase message for the user ("Loading MNIST…", "Training…", "Evaluating…").
    phase = Signal(str)
    #: epoch (1-based), epochs, batch (done in this epoch), batches per epoch, running loss.
    batchProgress = Signal(int, int, int, int, float)
    #: One finished epoch: ``trainer.core.training.EpochRecord``.
    epochFinished = Signal(object)
    #: (epoch, (784, k) copy of the first layer's incoming weights of units 0..k-1): before the
    #: first epoch (epoch 0) and after each one.
    unitWeights = Signal(int, object)
    #: The run ended (in any way): a :class:`TrainingOutcome`.
    finished = Signal(object)

    def __init__(
        self,
        config,
        *,
        mnist_dir=None,
        current_network=None,
        current_accuracy: float | None = None,
        my_digits=None,
        fine_tune: bool = False,
    ) -> None:
        """``my_digits``: the user's drawings (with ``label`` and ``strokes``) to learn too;
        ``fine_tune``: start from a copy of ``current_network`` instead of a fresh network."""
        super().__init__()
        self.my_digits = list(my_digits or ())
        self.fine_tune = fine_tune
        self.config = config
        self.mnist_dir = mnist_dir
        self.current_network = current_network
        self.current_accuracy = current_accuracy
        self._cancel = threading.Event()
        self._thread: QThread | None = None
        self.outcome: TrainingOutcome | None = None

    # ------------------------------------------------------------------ control (GUI thread)
    def start(self) -> None:
        thread = QThread()
        thread.setObjectName("TrainingWorker")
        self.moveToThread(thread)
        thread.started.connect(self.run)
        # Direct: quit from the worker thread itself, so waiting for it never needs the GUI loop.
        self.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread = thread
        for done in [w for w in _started if not w.is_running()]:
            _started.discard(done)
        _started.add(self)
        thread.start()

    def cancel(self) -> None:
        """Ask the run to stop; it ends with status ``cancelled`` within a fraction of a second."""
        self._cancel.set()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Wait for the thread to end (after :attr:`finished`)."""
        return self._thread is None or self._thread.wait(timeout_ms)

    # ------------------------------------------------------------------ the run (worker thread)
    @Slot()
    def run(self) -> None:
        started = time.perf_counter()
        try:
            outcome = self._run()
        except Exception as exc:  # anything unexpected ends the run, reported, never a crash
            outcome = TrainingOutcome(RunStatus.FAILED, f"training failed: {exc}")
        outcome.seconds = time.perf_counter() - started
        self.outcome = outcome
        self.finished.emit(outcome)

    def _run(self) -> TrainingOutcome:
        from trainer.core import training
        from trainer.core.evaluation import evaluate
        from trainer.data.mnist import MnistError, load_mnist
        from trainer.model_metadata import model_metadata

        config = self.config.validate()
        self.phase.emit("Loading MNIST…")
        try:
            mnist = load_mnist(self.mnist_dir, download=False)
        except MnistError as exc:
            return TrainingOutcome(RunStatus.FAILED, str(exc))
        if self._cancel.is_set():
            return TrainingOutcome(RunStatus.CANCELLED, "cancelled before training started")
        from trainer.core import personal

        network = (
            personal.copy_network(self.current_network)
            if self.fine_tune
            else training.network_for(config)
        )
        mine = personal.personal_set(self.my_digits, network.layer_sizes[-1])
        data = (
            personal.personal_training_data(mine, mnist, config)
            if len(mine.labels)
            else training.split_for_training(mnist, config)
        )
        self._emit_unit_weights(0, network)
        self.phase.emit("Preparing the trainer… (its first run compiles the training kernels)")
        train_started = time.perf_counter()
        result = training.train(
            network,
            config,
            data,
            on_batch=lambda b: self.batchProgress.emit(
                b.epoch, b.epochs, b.batch, b.batches, float(b.running_loss)
            ),
            on_epoch=lambda record: self._epoch_finished(record, network),
            cancel=self._cancel,
        )
        seconds = time.perf_counter() - train_started
        if not result.usable:
            status = (
                RunStatus.CANCELLED if result.status == RunStatus.CANCELLED else RunStatus.DIVERGED
            )
            return TrainingOutcome(status, result.message, epochs=list(result.epochs))

        held_out = None
        if len(mine.labels) and self.fine_tune:
            self.phase.emit("Measuring on your drawings (each by a model that never saw it)…")
            held_out = personal.held_out_accuracy(
                self.current_network, mine, mnist, config, cancel=self._cancel
            )
        self.phase.emit("Measuring test accuracy…")
        test_eval = evaluate(network, mnist.test_images, mnist.test_labels)
        current = self.current_accuracy
        if current is None and self.current_network is not None:
            try:
                current = evaluate(
                    self.current_network, mnist.test_images, mnist.test_labels
                ).accuracy
            except Exception:  # e.g. a model of another input size: no comparison then
                current = None
        if not np.isfinite(test_eval.loss) and not np.isfinite(test_eval.accuracy):
            return TrainingOutcome(
                RunStatus.DIVERGED,
                "the trained network gives non-finite outputs",
                epochs=list(result.epochs),
            )
        if self._cancel.is_set():  # pressed while the test set was evaluated: still a cancel
            return TrainingOutcome(
                RunStatus.CANCELLED, "cancelled after the last epoch", epochs=list(result.epochs)
            )
        metadata = model_metadata(
            config,
            result,
            test_eval,
            mnist,
            seconds,
            name=f"retrained {time.strftime('%Y-%m-%d %H:%M')}",
            preset="app retrain dialog",
        )
        from digitpad.mistakes import verdicts_for

        return TrainingOutcome(
            RunStatus(result.status),
            result.message,
            network=network,
            metadata=metadata,
            test_accuracy=test_eval.accuracy,
            current_test_accuracy=current,
            epochs=list(result.epochs),
            my_digits_accuracy=held_out,
            notes=mine.skipped,
            validation=verdicts_for(network, data.val_images, data.val_labels),
        )

    def _epoch_finished(self, record, network) -> None:
        self._emit_unit_weights(record.epoch, network)
        self.epochFinished.emit(record)

    def _emit_unit_weights(self, epoch: int, network) -> None:
        self.unitWeights.emit(epoch, network.weights[0][:, :WATCHED_UNITS].copy())
