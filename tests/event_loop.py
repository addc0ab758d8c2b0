"""A heartbeat that measures how long the Qt event loop was stalled (for the GUI fault tests)."""

import time


class Heartbeat:
    """A QTimer every ``interval_ms``; ``max_gap`` is the longest time between two beats, i.e. the
    longest the event loop was stalled (plus the interval)."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)
        self._timer.start()

    def _beat(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    @property
    def max_gap(self) -> float:
        return max(self.gaps, default=0.0)

    def stop(self) -> None:
        self._timer.stop()
