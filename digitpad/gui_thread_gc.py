"""Python's cycle collector runs on the GUI thread only, never on a worker thread.

Why: the collector runs in whichever thread happens to allocate when a generation's count passes
its threshold — often a worker (training, loading a collection). If the garbage it finds holds a
Qt object (a menu, a widget dropped in a reference cycle), the object's destructor then runs on
that worker: Qt takes its own lock and waits for the interpreter lock, while the GUI thread, inside
PySide's "delete in the main thread" path, holds the interpreter lock and waits for Qt's. Both
wait forever. Collecting on a timer of the GUI thread instead (automatic collection switched off)
rules this out; PySide's and pyqtgraph's authors recommend the same.

Switching automatic collection off also keeps a long allocation loop on a worker (reading 10 000
drawings) from paying for collections of the whole heap while it builds its objects.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

#: How often the GUI thread looks whether a collection is due (the collector's own thresholds
#: decide which generations it collects).
CHECK_INTERVAL_S = 1.0

_collector: GarbageCollector | None = None


def collect_garbage_on_gui_thread() -> None:
    """Switch automatic collection off and collect on a timer of the calling (GUI) thread.

    Call it on the GUI thread once a QApplication exists; later calls do nothing.
    """
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=CHECK_INTERVAL_S)
    elif gc.isenabled():  # something switched it back on: the timer alone is not enough
        gc.disable()


def collect_if_due() -> None:
    """Collect on the calling (GUI) thread what the timer would collect at its next tick.

    For code that runs long stretches without an event loop, such as a test suite between cases.
    """
    if _collector is not None:
        _collector.check()
