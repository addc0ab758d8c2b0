"""The drawing canvas (digitpad/canvas.py) on Qt's offscreen platform, driven by real input events."""

from __future__ import annotations

import pytest
from mouse import NONE, RIGHT, click, move
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication

from digitpad.canvas import INK_COLOR, PAPER_COLOR, DrawingCanvas

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
    canvas.strokesChanged.connect(
        lambda: seen.append((canvas.is_drawing(), len(canvas.strokes()[-1])))
    )
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


def right_click(canvas) -> None:
    click(canvas, (50, 50), RIGHT)


def test_right_click_erases_the_last_stroke(canvas, app_draw):
    send, _ = app_draw
    send(canvas, [ZIGZAG, VERTICAL])
    right_click(canvas)
    assert canvas.strokes() == [[(float(x), float(y)) for x, y in ZIGZAG]]


def test_moves_without_the_left_button_do_not_draw(canvas):
    move(canvas, (10, 10), buttons=NONE)
    assert canvas.is_empty()


def test_stylus_draws(canvas):
    device = QPointingDevice.primaryPointingDevice()
    for kind, point, button, buttons in (
        (QEvent.Type.TabletPress, (30, 30), Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton),
        (QEvent.Type.TabletMove, (60, 90), Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton),
        (QEvent.Type.TabletRelease, (90, 150), Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton),
    ):
        local = QPointF(*point)
        event = QTabletEvent(
            kind,
            device,
            local,
            canvas.mapToGlobal(local),
            0.5,
            0.0,
            0.0,
            0.0,
            0.0,
            0.0,
            Qt.KeyboardModifier.NoModifier,
            button,
            buttons,
        )
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


def test_the_drawing_scales_and_moves_with_the_paper(canvas, app_draw, qtbot):
    """Resizing keeps the drawing's place on the square paper and its proportions, so the
    network reads the same digit; nothing is cut off when the canvas shrinks."""
    from trainer.strokes.strokes_to_input import strokes_to_input

    send, _ = app_draw
    send(canvas, [ZIGZAG, VERTICAL])
    before = canvas.strokes()
    for width, height in ((500, 400), (200, 260), (300, 300)):
        canvas.resize(width, height)
        qtbot.waitUntil(lambda: canvas.size().width() == width)
        paper = canvas.paper()
        assert paper.width() == paper.height() == min(width, height)
        assert paper.center().x() == pytest.approx(width / 2)
        assert all(paper.contains(QPointF(*p)) for s in canvas.strokes() for p in s)
        assert strokes_to_input(canvas.strokes()) == pytest.approx(
            strokes_to_input(before), abs=0.02
        )
    assert canvas.strokes() == [[pytest.approx(p) for p in s] for s in before]
    assert canvas.pen_width() > 0


def test_ink_dragged_past_the_edge_stops_at_the_edge(canvas, app_draw):
    send, _ = app_draw
    send(canvas, [[(250, 150), (290, 150), (360, 150), (400, 420)]])
    assert canvas.strokes() == [[(250.0, 150.0), (290.0, 150.0), (300.0, 150.0), (300.0, 300.0)]]


def test_a_stroke_begun_beside_the_paper_starts_at_its_edge(canvas, app_draw, qtbot):
    send, _ = app_draw
    canvas.resize(500, 300)  # the paper is the centred 300 x 300 square, x from 100 to 400
    qtbot.waitUntil(lambda: canvas.width() == 500)
    send(canvas, [[(40, 100), (150, 100)], [(150, 200), (480, 200)]])
    assert canvas.strokes() == [[(100.0, 100.0), (150.0, 100.0)], [(150.0, 200.0), (400.0, 200.0)]]


def test_right_click_on_a_cleared_canvas_brings_nothing_back(canvas, app_draw):
    send, _ = app_draw
    send(canvas, [ZIGZAG])
    canvas.clear()
    right_click(canvas)
    assert canvas.is_empty()
    canvas.undo()  # the Clear itself stays undoable
    assert len(canvas.strokes()) == 1


def test_the_hint_is_gone_once_drawing_starts_again_after_a_clear(canvas, app_draw, qtbot):
    """The first stroke after a Clear repaints the whole paper (not just around the new ink,
    which would leave the rest of the hint on screen), and the hint is then not drawn."""
    from PySide6.QtCore import QObject

    send, _ = app_draw
    send(canvas, [ZIGZAG])
    canvas.clear()
    qtbot.wait(50)
    painted = []

    class PaintRecorder(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                painted.append(event.region().boundingRect())
            return False

    recorder = PaintRecorder()
    canvas.installEventFilter(recorder)
    send(canvas, [[(20, 250), (40, 280)]])  # far from the hint in the middle
    qtbot.waitUntil(lambda: bool(painted))
    qtbot.wait(50)
    canvas.removeEventFilter(recorder)
    assert any(rect.contains(canvas.paper().toRect()) for rect in painted), painted
    image = canvas.grab().toImage()
    assert all(
        image.pixelColor(x, y) == PAPER_COLOR for x in range(60, 240, 3) for y in range(135, 165, 2)
    )
