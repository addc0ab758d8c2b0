"""Turns the canvas's strokes into a prediction, live, without blocking the UI or queueing stale work.

One computation is ``trainer.strokes.strokes_to_input.strokes_to_input`` (about 0.6 ms) followed by the
network's output activations (``network.predict_proba``, which for one input stays in one thread,
without BLAS: see ``trainer.fast.kernels.infer``), which for a 784-800-800-10 network measured 1–2 ms on an idle 2-core machine but
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
* Until Numba's kernels are ready, computations run in plain NumPy (``compiled=False`` of
  :func:`compute`: ``trainer/strokes/stroke_numpy.py`` and ``trainer/core/forward.py``), which need no JIT, so
  a drawing is read as soon as the model is loaded, even on a first start with no compiled kernels
  cached. The app's loader thread then compiles the kernels (or loads them from Numba's cache) with
  :func:`prepare_compiled` and calls :meth:`LivePredictor.use_compiled`: from then on the compiled
  kernels run (several times faster per drawing, and mostly without holding the GIL). Both give the same
  probabilities within 1e-5 (``tests/test_forward_paths.py``).
"""

from __future__ import annotations

import atexit
import logging
import time
import weakref
from collections.abc import Callable, Sequence

import numpy as np
from PySide6.QtCore import QCoreApplication, QElapsedTimer, QObject, QThread, Signal, Slot

log = logging.getLogger(__name__)

StrokeSource = Callable[[], Sequence[Sequence[tuple[float, float]]]]

#: A tiny drawing used to compile the kernels.
WARM_UP_STROKES = [[(0.0, 0.0), (3.0, 8.0), (6.0, 0.0)]]


def compute(
    strokes, network, *, compiled: bool = False
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The network input and the output activations for ``strokes`` (see :class:`LivePredictor`):
    with Numba's compiled kernels, or (``compiled=False``) in plain NumPy, with nothing to compile."""
    from trainer.strokes.strokes_to_input import strokes_to_input

    x = strokes_to_input(strokes, compiled=compiled)
    if x is None or network is None:
        return x, None
    if compiled:
        p = network.predict_proba(x)
    else:
        from trainer.core.forward import predict_proba

        p = predict_proba(network, x)
    return x, np.asarray(p, dtype=np.float64).reshape(-1)


def prepare_compiled(network) -> bool:
    """Compile Numba's kernels for ``network`` (or load them from the cache) by running them once.

    Seconds on a first start, a fraction of one later. Returns whether they work; a failure is
    logged and the NumPy path simply stays in use.
    """
    try:
        compute(WARM_UP_STROKES, network, compiled=True)
    except Exception as exc:
        log.warning("preparing the compiled kernels failed (NumPy stays in use): %s", exc)
        return False
    return True


#: Predictors whose thread runs: stopped at interpreter exit if nobody closed their window.
_running: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for predictor in list(_running):
        predictor.shutdown()


class _Worker(QObject):
    """Lives in the predictor's thread; computes one job at a time."""

    done = Signal(int, object, object, float, str)  # generation, x, p, seconds, error

    @Slot(int, object, object, bool)
    def run(self, generation: int, strokes, network, compiled: bool) -> None:
        start = time.perf_counter()
        x = p = None
        error = ""
        try:
            x, p = compute(strokes, network, compiled=compiled)
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
    _submit = Signal(int, object, object, bool)

    def __init__(
        self, strokes_source: StrokeSource, network=None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._source = strokes_source
        self._network = network
        self._generation = 0  # bumped at every change of strokes or network
        self._shown = -1  # generation of the result shown last
        self._in_flight = False
        self._compiled = False  # NumPy until the compiled kernels are ready
        self.last_seconds = 0.0  # duration of the last computation
        self.runs = 0  # computations finished so far

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

    def is_compiled(self) -> bool:
        """True once the compiled kernels compute (before that, the NumPy path does)."""
        return self._compiled

    def is_idle(self) -> bool:
        """No computation in flight and the shown result is for the current strokes and network."""
        return not self._in_flight and self._shown == self._generation

    def set_network(self, network) -> None:
        """Use ``network`` (or ``None``) from now on and recompute for the current strokes."""
        self._network = network
        self.run_now()

    def warm_up_blocking(self, network=None) -> bool:
        """Compile the kernels now, in this thread, with ``network`` (default: the current one),
        and use them from now on. For tests and harnesses; returns :meth:`is_compiled`."""
        if not self._compiled and prepare_compiled(self._network if network is None else network):
            self.use_compiled()
        return self._compiled

    @Slot()
    def use_compiled(self) -> None:
        """Compute with the compiled kernels from now on (:func:`prepare_compiled` has run)."""
        self._compiled = True

    def request(self) -> None:
        """The strokes changed while drawing: recompute on the worker, coalescing requests."""
        self._generation += 1
        if not self._in_flight:
            self._send()

    def run_now(self) -> None:
        """The drawing settled: compute synchronously."""
        self._generation += 1
        start = time.perf_counter()
        x = p = None
        error = ""
        try:
            x, p = compute(self._source(), self._network, compiled=self._compiled)
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
        self._submit.emit(self._generation, self._source(), self._network, self._compiled)

    @Slot(int, object, object, float, str)
    def _on_done(self, generation: int, x, p, seconds: float, error: str) -> None:
        self._in_flight = False
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
        self.predicted.emit(x, p)
