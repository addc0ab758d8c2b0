"""A heartbeat that measures how long the Qt event loop was stalled: the one used by the GUI fault
tests and by ``bench/bench_ui_responsiveness.py``."""

import time


class Heartbeat:
    """A precise QTimer every ``interval_ms``; each beat records (time, gap since the previous
    beat) in seconds. ``max_gap`` is the longest the event loop was stalled (plus the interval)."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.beats: list[tuple[float, float]] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)
        self._timer.start()

    def _beat(self) -> None:
        now = time.perf_counter()
        self.beats.append((now, now - self._last))
        self._last = now

    @property
    def max_gap(self) -> float:
        return max((gap for _, gap in self.beats), default=0.0)

    def gaps_ms(self, start: float = -1.0, stop: float = float("inf")) -> list[float]:
        """The gaps (ms) of the beats between ``start`` and ``stop`` (perf_counter times)."""
        return [1000 * gap for at, gap in self.beats if start <= at - gap and at <= stop] or [0.0]

    def stop(self) -> None:
        self._timer.stop()
