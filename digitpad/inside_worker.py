"""Computes what the network view shows (``trainer.core.attribution.look_inside``) off the GUI thread,
at most a few times a second.

While the user draws, the live predictor delivers a result for almost every mouse move; the view
does not need them all. :class:`InsideComputer` keeps only the newest (network, input), sends it to
its own worker thread when the previous computation has ended and at least
:data:`MIN_INTERVAL_MS` have passed since the last one started, and reports the result through
:attr:`InsideComputer.computed`. So the GUI thread only ever stores an array and, a few times a
second, draws the result; the arithmetic (a few milliseconds in NumPy for a 784-800-800-10
network, mostly in matrix products that release the GIL) runs beside it, on a plain daemon
thread fed through a queue (nothing to stop at exit).
"""

from __future__ import annotations

import functools
import queue
import threading
import time

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from trainer.core import attribution

#: The view is computed and redrawn at most this often while the user draws (about 7 times a
#: second): its redraws cost the GUI thread a few milliseconds each (bench_ui_responsiveness.py).
MIN_INTERVAL_MS = 150


@functools.lru_cache(maxsize=2)
def _empty_input_layers(network):
    """The empty input's layers, once per network (the app replaces, never edits, its network)."""
    return attribution.empty_input_layers(network)


def look_inside(network, x):
    return attribution.look_inside(network, x, _empty_input_layers(network))


class InsideComputer(QObject):
    """Throttled, coalescing computation of :func:`trainer.core.attribution.look_inside`."""

    #: The Inside of the newest input sent; ``None`` for no input or no network.
    computed = Signal(object)
    failed = Signal(str)
    _done = Signal(int, object, str)  # job number, Inside or None, error (queued to this thread)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pending = None  # (network, x) not yet sent
        self._latest = (None, None)  # (network, x) asked for last
        self._fresh = True  # the result for _latest has been delivered
        self._job = 0  # number of the newest job sent
        self._in_flight = False
        self._last_start = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._send_pending)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._done.connect(self._on_done)
        threading.Thread(target=self._work, name="digitpad-inside", daemon=True).start()

    def request(self, network, x) -> None:
        """Compute for ``network`` and ``x`` soon (an input with no ink or no network: at once)."""
        self._pending = self._latest = (network, x)
        self._fresh = False
        if network is None or x is None:
            self._timer.stop()
            self._finish_latest(None)
            return
        if not self._in_flight and not self._timer.isActive():
            self._schedule()

    def is_fresh(self) -> bool:
        """Whether :attr:`computed` has delivered the result of the newest request."""
        return self._fresh

    def compute_now(self) -> None:
        """Compute the newest request on this thread, unless its result was delivered already,
        and deliver it through :attr:`computed` before returning (for the test hooks)."""
        if self._fresh:
            return
        self._timer.stop()
        network, x = self._latest
        self._finish_latest(None if network is None or x is None else look_inside(network, x))

    def shutdown(self) -> None:
        """Stop the worker thread after the computation in flight (if any)."""
        self._timer.stop()
        self._jobs.put(None)

    def _work(self) -> None:
        """The worker thread: one job at a time until :meth:`shutdown`."""
        while (job := self._jobs.get()) is not None:
            number, network, x = job
            try:
                inside, error = look_inside(network, x), ""
            except Exception as exc:  # a broken model: reported, never fatal
                inside, error = None, str(exc) or type(exc).__name__
            try:
                self._done.emit(number, inside, error)
            except RuntimeError:  # the window, and this object with it, is gone
                return

    def _finish_latest(self, inside) -> None:
        self._pending = None
        self._job += 1  # a result still in flight is older now
        self._fresh = True
        self.computed.emit(inside)

    @Slot()
    def _send_pending(self) -> None:
        if self._pending is None or self._in_flight:
            return
        network, x = self._pending
        self._pending = None
        self._job += 1
        self._in_flight = True
        self._last_start = time.perf_counter()
        self._jobs.put((self._job, network, x))

    @Slot(int, object, str)
    def _on_done(self, job: int, inside, error: str) -> None:
        self._in_flight = False
        if job == self._job:
            self._fresh = self._pending is None
            if error:
                self.failed.emit(f"Could not look inside the network: {error}")
            else:
                self.computed.emit(inside)
        if self._pending is not None:
            self._schedule()

    def _schedule(self) -> None:
        """Send the pending request once MIN_INTERVAL_MS have passed since the last one."""
        wait_ms = MIN_INTERVAL_MS - 1000 * (time.perf_counter() - self._last_start)
        self._timer.start(max(0, int(wait_ms)))
