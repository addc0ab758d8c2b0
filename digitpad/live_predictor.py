"""Turns the canvas's strokes into a prediction, live, without blocking the UI or queueing stale work.

One computation is ``trainer.strokes_to_input.strokes_to_input`` (about 0.6 ms) followed by the
network's output activations (``network.predict_proba``, which for one input stays in one thread,
without BLAS: see ``trainer.network.infer``), which for a 784-800-800-10 network measured 1–2 ms on an idle 2-core machine but
10–30 ms when other processes kept both cores busy — too long to run on the GUI thread at every
mouse move. So:

* **While a stroke is drawn** (:meth:`LivePredictor.request`) the work runs on a worker thread
  (the kernels are compiled by Numba with ``nogil``, so they really run beside the GUI). At most
  one computation is in flight; requests arriving meanwhile only mark the drawing as changed, and
  when the running computation ends the newest strokes are sent at once. A result is therefore at
  most one computation behind the pen, and nothing stale ever piles up.
* **When the drawing settles** (stroke finished, undo, redo, clear: :meth:`LivePredictor.run_now`)
  the computation runs synchronously, so the shown result is exact the moment the event has been
  handled. Results carry a generation number and anything older than what is shown is dropped.
* The first computation compiles Numba's kernels (seconds on a cold cache). Until the predictor is
  told it is warm (:meth:`LivePredictor.mark_warm`, after the app's loader thread has run
  :func:`compute` once, or :meth:`LivePredictor.warm_up_blocking`), every computation goes to the
  worker, so the window never waits for the JIT.
"""
from __future__ import annotations

import atexit
import time
import weakref
from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QObject, QThread, Signal, Slot


StrokeSource = Callable[[], Sequence[Sequence[tuple[float, float]]]]

#: A tiny drawing used to compile the kernels before the user draws.
WARM_UP_STROKES = [[(0.0, 0.0), (3.0, 8.0), (6.0, 0.0)]]


def compute(strokes, network) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The network input and the output activations for ``strokes`` (see :class:`LivePredictor`)."""
    from trainer.strokes_to_input import strokes_to_input

    x = strokes_to_input(strokes)
    if x is None or network is None:
        return x, None
    return x, np.asarray(network.predict_proba(x), dtype=np.float64).reshape(-1)


#: Predictors whose thread runs: stopped at interpreter exit if nobody closed their window.
_running: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for predictor in list(_running):
        predictor.shutdown()


class _Worker(QObject):
    """Lives in the predictor's thread; computes one job at a time."""

    done = Signal(int, object, object, float, str)  # generation, x, p, seconds, error

    @Slot(int, object, object)
    def run(self, generation: int, strokes, network) -> None:
        start = time.perf_counter()
        x = p = None
        error = ""
        try:
            x, p = compute(strokes, network)
        except Exception as exc:  # StrokeError, a broken model...: reported, never fatal
            error = str(exc) or type(exc).__name__
        self.done.emit(generation, x, p, time.perf_counter() - start, error)


class LivePredictor(QObject):
    """Computes the network input and activations for the strokes that ``strokes_source`` returns.

    Results arrive through :attr:`predicted` as ``(input, probabilities)``: the (784,) input and the
    (10,) activations; both ``None`` for an empty drawing, ``probabilities`` alone ``None`` while no
    network is set.
    """

    predicted = Signal(object, object)
    #: A computation failed (e.g. non-finite coordinates); the message is for the status bar.
    failed = Signal(str)
    #: The first computation (which compiles Numba's kernels) has finished.
    ready = Signal()
    _submit = Signal(int, object, object)

    def __init__(self, strokes_source: StrokeSource, network=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = strokes_source
        self._network = network
        self._generation = 0        # bumped at every change of strokes or network
        self._shown = -1            # generation of the result shown last
        self._in_flight = False
        self._warm = False
        self.last_seconds = 0.0     # duration of the last computation
        self.runs = 0               # computations finished so far
        self.last_input: np.ndarray | None = None
        self.last_probabilities: np.ndarray | None = None

        self._thread = QThread(self)
        self._thread.setObjectName("LivePredictor")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._worker.done.connect(self._on_done)
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.start()
        _running.add(self)

    # ------------------------------------------------------------------ public API
    @property
    def network(self):
        return self._network

    def is_warm(self) -> bool:
        """True once the kernels are compiled (the first computation has finished)."""
        return self._warm

    def is_idle(self) -> bool:
        """No computation in flight and the shown result is for the current strokes and network."""
        return not self._in_flight and self._shown == self._generation

    def set_network(self, network) -> None:
        """Use ``network`` (or ``None``) from now on and recompute for the current strokes."""
        self._network = network
        self.run_now()

    def warm_up_blocking(self, network=None) -> bool:
        """Compile the kernels now, in this thread, with ``network`` (default: the current one).

        For tests and harnesses; returns :meth:`is_warm`.
        """
        if not self._warm:
            try:
                compute(WARM_UP_STROKES, self._network if network is None else network)
            except Exception:  # reported by the first real computation
                return False
            self.mark_warm()
        return self._warm

    def request(self) -> None:
        """The strokes changed while drawing: recompute on the worker, coalescing requests."""
        self._generation += 1
        if not self._in_flight:
            self._send()

    def run_now(self) -> None:
        """The drawing settled: compute synchronously (or on the worker while still cold)."""
        self._generation += 1
        if not self._warm:
            if not self._in_flight:
                self._send()
            return
        start = time.perf_counter()
        x = p = None
        error = ""
        try:
            x, p = compute(self._source(), self._network)
        except Exception as exc:
            error = str(exc) or type(exc).__name__
        self._deliver(self._generation, x, p, time.perf_counter() - start, error)

    def wait_until_idle(self, timeout_ms: int = 10000) -> bool:
        """Process events until :meth:`is_idle` (for tests and harnesses); returns whether it is."""
        timer = QElapsedTimer()
        timer.start()
        while not self.is_idle() and timer.elapsed() < timeout_ms:
            QCoreApplication.processEvents()
            QThread.msleep(1)
        return self.is_idle()

    def shutdown(self) -> None:
        """Stop the worker thread (waits for the computation in flight)."""
        _running.discard(self)
        try:
            if self._thread.isRunning():
                self._thread.quit()
                self._thread.wait(5000)
        except RuntimeError:  # the C++ side is already gone
            pass

    # ------------------------------------------------------------------ internals
    def _send(self) -> None:
        self._in_flight = True
        self._submit.emit(self._generation, self._source(), self._network)

    def mark_warm(self) -> None:
        """Record that the kernels are compiled (e.g. by a loader thread that ran :func:`compute`)."""
        if not self._warm:
            self._warm = True
            self.ready.emit()

    @Slot(int, object, object, float, str)
    def _on_done(self, generation: int, x, p, seconds: float, error: str) -> None:
        self._in_flight = False
        if not error:
            self.mark_warm()
        self._deliver(generation, x, p, seconds, error)
        if self._shown < self._generation:
            self._send()  # the strokes changed meanwhile: compute for the newest ones

    def _deliver(self, generation: int, x, p, seconds: float, error: str) -> None:
        if generation <= self._shown:
            return  # an older result than what is shown
        self._shown = generation
        self.last_seconds = seconds
        self.runs += 1
        if error:
            x = p = None
            self.failed.emit(f"Could not read the drawing: {error}")
        self.last_input, self.last_probabilities = x, p
        self.predicted.emit(x, p)
