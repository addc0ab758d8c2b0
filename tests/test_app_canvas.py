"""The drawing canvas (digitpad/canvas.py) on Qt's offscreen platform, driven by real input events."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QMouseEvent, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication

from digitpad.canvas import INK_COLOR, DrawingCanvas

ZIGZAG = [(20, 20), (60, 30), (100, 20), (140, 30), (180, 20)]
VERTICAL = [(100, 40), (100, 80), (100, 120), (100, 160)]


@pytest.fixture
def canvas(qtbot):
    widget = DrawingCanvas()
    qtbot.addWidget(widget)
    widget.resize(300, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_object_name_is_canvas(canvas):
    assert canvas.objectName() == "canvas"
    assert canvas.is_empty()
    assert canvas.strokes() == []


def test_mouse_strokes_are_kept_as_point_lists(canvas, app_draw):
    send, _ = app_draw
    send(canvas, [ZIGZAG, VERTICAL])
    strokes = canvas.strokes()
    assert len(strokes) == 2
    assert strokes[0] == [(float(x), float(y)) for x, y in ZIGZAG]
    assert strokes[1][0] == (100.0, 40.0) and strokes[1][-1] == (100.0, 160.0)
    assert not canvas.is_drawing()


def test_signal_is_emitted_during_the_stroke(canvas, app_draw):
    send, _ = app_draw
    seen = []
    canvas.strokesChanged.connect(lambda: seen.append((canvas.is_drawing(), len(canvas.strokes()[-1]))))
    send(canvas, [ZIGZAG])
    # press + one per move while drawing, then one at release.
    in_progress = [n for drawing, n in seen if drawing]
    assert in_progress == list(range(1, len(ZIGZAG) + 1))
    assert seen[-1] == (False, len(ZIGZAG))


def test_ink_is_drawn_between_distant_mouse_events(canvas, app_draw):
    """A fast stroke (events far apart) leaves no gaps: the pixels between samples are inked."""
    send, _ = app_draw
    send(canvas, [[(20, 150), (280, 150)]])
    image = canvas.grab().toImage()
    dpr = image.devicePixelRatio()
    ink = INK_COLOR
    for x in range(30, 271, 10):
        c = QColor(image.pixel(round(x * dpr), round(150 * dpr)))
        assert abs(c.red() - ink.red()) < 40 and abs(c.blue() - ink.blue()) < 40, x


def test_undo_redo_whole_strokes_and_clear(canvas, app_draw):
    send, _ = app_draw
    send(canvas, [ZIGZAG, VERTICAL])
    canvas.undo()
    assert len(canvas.strokes()) == 1
    canvas.redo()
    assert len(canvas.strokes()) == 2
    canvas.clear()
    assert canvas.is_empty()
    canvas.undo()  # a clear can be undone
    assert len(canvas.strokes()) == 2
    canvas.undo()
    canvas.undo()
    assert canvas.is_empty() and not canvas.can_undo()
    canvas.redo()
    assert len(canvas.strokes()) == 1
    send(canvas, [VERTICAL])  # a new stroke drops the redo history
    assert not canvas.can_redo()


def test_right_click_erases_the_last_stroke(canvas, app_draw):
    send, _ = app_draw
    send(canvas, [ZIGZAG, VERTICAL])
    right = Qt.MouseButton.RightButton
    for kind, buttons in ((QEvent.Type.MouseButtonPress, right),
                          (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):
        event = QMouseEvent(kind, QPointF(50, 50), canvas.mapToGlobal(QPointF(50, 50)), right,
                            buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(canvas, event)
    assert canvas.strokes() == [[(float(x), float(y)) for x, y in ZIGZAG]]


def test_moves_without_the_left_button_do_not_draw(canvas):
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(10, 10), canvas.mapToGlobal(QPointF(10, 10)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(canvas, event)
    assert canvas.is_empty()


def test_stylus_draws(canvas):
    device = QPointingDevice.primaryPointingDevice()
    for kind, point, button, buttons in (
            (QEvent.Type.TabletPress, (30, 30), Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton),
            (QEvent.Type.TabletMove, (60, 90), Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton),
            (QEvent.Type.TabletRelease, (90, 150), Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)):
        local = QPointF(*point)
        event = QTabletEvent(kind, device, local, canvas.mapToGlobal(local), 0.5, 0.0, 0.0, 0.0,
                             0.0, 0.0, Qt.KeyboardModifier.NoModifier, button, buttons)
        QApplication.sendEvent(canvas, event)
        assert event.isAccepted()
    assert canvas.strokes() == [[(30.0, 30.0), (60.0, 90.0), (90.0, 150.0)]]


def test_finger_draws(canvas):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    device = QTest.createTouchDevice()
    QTest.touchEvent(canvas, device).press(0, QPoint(10, 10), canvas).commit()
    QTest.touchEvent(canvas, device).move(0, QPoint(50, 80), canvas).commit()
    QTest.touchEvent(canvas, device).release(0, QPoint(90, 120), canvas).commit()
    assert canvas.strokes() == [[(10.0, 10.0), (50.0, 80.0), (90.0, 120.0)]]


def test_strokes_survive_resizing(canvas, app_draw, qtbot):
    send, _ = app_draw
    send(canvas, [ZIGZAG])
    before = canvas.strokes()
    canvas.resize(500, 400)
    qtbot.waitUntil(lambda: canvas.width() == 500)
    assert canvas.strokes() == before
    assert canvas.pen_width() > 0
