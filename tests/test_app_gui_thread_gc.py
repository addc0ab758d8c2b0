"""Python's cycle collector never runs on a worker thread (digitpad/gui_thread_gc.py): garbage
dropped by a worker is finalized on the GUI thread, by the timer, where Qt objects may die."""

from __future__ import annotations

import gc
import threading

from digitpad.gui_thread_gc import collect_garbage_on_gui_thread
from digitpad.main_window import MainWindow

finalized_on: list[str] = []


class _InACycle:
    """Garbage only the cycle collector can free; records the thread that finalizes it."""

    def __init__(self) -> None:
        self.me = self

    def __del__(self) -> None:
        finalized_on.append(threading.current_thread().name)


def _drop_a_cycle_then_allocate_a_lot() -> None:
    _InACycle()
    # With automatic collection on, these allocations would start a collection on this thread.
    keep = [[i] for i in range(50 * gc.get_threshold()[0])]
    del keep


def test_a_workers_garbage_is_finalized_on_the_gui_thread(qtbot):
    window = MainWindow()  # the window puts the app's policy in place
    qtbot.addWidget(window)
    assert not gc.isenabled()
    finalized_on.clear()

    worker = threading.Thread(target=_drop_a_cycle_then_allocate_a_lot, name="worker")
    worker.start()
    worker.join()
    assert finalized_on == []  # nothing was collected on the worker

    qtbot.waitUntil(lambda: bool(finalized_on), timeout=5000)  # the GUI thread's timer collects it
    assert finalized_on == [threading.main_thread().name]


def test_automatic_collection_switched_back_on_is_switched_off_again():
    collect_garbage_on_gui_thread()
    gc.enable()
    collect_garbage_on_gui_thread()
    assert not gc.isenabled()
