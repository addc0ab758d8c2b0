"""Real mouse events for the app tests, built and delivered one way (``QApplication.sendEvent``,
so the widget's own event handlers run exactly as for a person's mouse)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

LEFT, RIGHT, NONE = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton, Qt.MouseButton.NoButton


def send_mouse(widget, kind: QEvent.Type, point, button=NONE, buttons=NONE) -> None:
    """One mouse event at ``point`` (a QPointF, QPoint or (x, y) in ``widget``'s coordinates)."""
    local = QPointF(point) if isinstance(point, (QPointF, QPoint)) else QPointF(*point)
    event = QMouseEvent(
        kind, local, widget.mapToGlobal(local), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(widget, event)


def press(widget, point, button=LEFT) -> None:
    send_mouse(widget, QEvent.Type.MouseButtonPress, point, button, button)


def move(widget, point, buttons=LEFT) -> None:
    send_mouse(widget, QEvent.Type.MouseMove, point, NONE, buttons)


def release(widget, point, button=LEFT) -> None:
    send_mouse(widget, QEvent.Type.MouseButtonRelease, point, button, NONE)


def click(widget, point, button=LEFT) -> None:
    press(widget, point, button)
    release(widget, point, button)


def send_strokes(widget, strokes, *, on_move=None) -> None:
    """Draw ``strokes`` (lists of (x, y) widget points) on ``widget``: press, moves with the left
    button held, release. ``on_move(stroke_index, point_index)`` is called after each move."""
    for s, stroke in enumerate(strokes):
        press(widget, stroke[0])
        for i, point in enumerate(stroke[1:], start=1):
            move(widget, point)
            if on_move is not None:
                on_move(s, i)
        release(widget, stroke[-1])
