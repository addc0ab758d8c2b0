"""The Qt binding must keep Python's reference counts.

PySide6 6.12.0 on Python 3.11 takes one reference away from ``None`` at every call of a method
returning nothing, and from ``True`` at every ``Signal.emit()``; a few thousand calls later (a few
strokes on the canvas) the interpreter aborts with "Fatal Python error: none_dealloc". This test
names the cause at once instead of letting the app crash somewhere later.

From Python 3.12 ``None`` and ``True`` are immortal: their reference counts never change, so the
bug cannot crash the app there and this test could not fail; it is skipped, saying so.
"""

from __future__ import annotations

import gc
import sys

import PySide6
import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel


class _Emitter(QObject):
    changed = Signal()


@pytest.mark.skipif(
    sys.version_info >= (3, 12),
    reason="None and True are immortal from Python 3.12: their reference counts cannot be lost",
)
def test_qt_calls_keep_the_reference_counts_of_none_and_true(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    emitter = _Emitter()
    gc.collect()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(200):
        label.setText("x")
        emitter.changed.emit()
    gc.collect()
    lost_none = none_before - sys.getrefcount(None)
    lost_true = true_before - sys.getrefcount(True)
    assert lost_none < 50 and lost_true < 50, (
        f"PySide6 {PySide6.__version__} on Python {sys.version.split()[0]} loses references "
        f"(None: {lost_none}, True: {lost_true} in 200 calls) and will crash the app: "
        f"use another PySide6 version (6.11.x works)"
    )
