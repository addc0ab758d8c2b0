"""The drawing canvas: owns the user's strokes and how they look, nothing else.

Modelled on Qt's *scribble* example. Strokes are kept as lists of ``(x, y)`` points in logical
(device-independent) pixels, because the network input is computed from them, never from a
screenshot. On screen they are drawn anti-aliased with round caps and joins, as quadratic curves
through the midpoints of consecutive samples, into a backing pixmap at the screen's device pixel
ratio (so HiDPI screens get sharp ink); a fast stroke is a chain of connected segments, so it has
no gaps however far apart the mouse events are.

What the network reads is always what the user sees. The paper is the largest square that fits
the widget, centred; points beside it (a press in the margin, a drag past the edge) are kept on
its edge, so the ink stops there, on screen and in the strokes. When the widget is resized, the
strokes are scaled and moved with the paper, so the drawing keeps its place and its proportions.

Input: the left mouse button, a stylus (tablet events; pressure is ignored) or one finger (touch
events). **Right-click erases the last stroke** (it undoes the last stroke added, and does nothing
on a cleared canvas); Clear is a separate command (Esc or Delete in the app). Undo and Redo work
on whole strokes, and a Clear can be undone too.

The canvas emits :attr:`DrawingCanvas.strokesChanged` whenever the strokes change, including on
every point added while a stroke is still being drawn, and :attr:`DrawingCanvas.historyChanged`
when what Undo/Redo can do changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QTabletEvent,
    QTouchEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

Point = tuple[float, float]
Stroke = list[Point]

PAPER_COLOR = QColor("#fdfdfb")
INK_COLOR = QColor("#1d2430")
HINT_COLOR = QColor("#9aa3ad")
FRAME_COLOR = QColor("#c9ced6")

#: On-screen pen width as a share of the canvas's shorter side (the model input does not depend
#: on it: ``strokes_to_input`` renders the points with its own pen).
PEN_WIDTH_SHARE = 0.045
MIN_PEN_WIDTH = 6.0


@dataclass(frozen=True)
class _Action:
    """One undoable step: a stroke added, or the canvas cleared (``strokes`` is what was removed)."""

    kind: str  # "add" or "clear"
    strokes: tuple[tuple[Point, ...], ...]


def _smooth_path(points: list[Point]) -> QPainterPath:
    """A smooth path through ``points``: straight to the first midpoint, then quadratic curves
    with each sample as control point and the midpoints as ends, straight to the last point."""
    path = QPainterPath(QPointF(*points[0]))
    if len(points) == 1:
        return path
    for i in range(1, len(points) - 1):
        (cx, cy), (nx, ny) = points[i], points[i + 1]
        path.quadTo(cx, cy, (cx + nx) / 2.0, (cy + ny) / 2.0)
    path.lineTo(*points[-1])
    return path


class DrawingCanvas(QWidget):
    """A widget the user draws digits on with mouse, stylus or finger."""

    #: The strokes changed: a point was added to the stroke in progress, a stroke was finished,
    #: undone, redone, or the canvas was cleared.
    strokesChanged = Signal()
    #: Whether Undo / Redo are possible changed: ``(can_undo, can_redo)``.
    historyChanged = Signal(bool, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(200, 200)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMouseTracking(
            True
        )  # moves without a button too: they end a stroke whose release was lost
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setToolTip(
            "Draw a digit with the left mouse button.\nRight-click erases the last stroke."
        )

        self._strokes: list[Stroke] = []  # finished strokes
        self._current: Stroke | None = None  # the stroke being drawn
        self._undo: list[_Action] = []
        self._redo: list[_Action] = []
        self._pixmap = QPixmap()
        self._paper = QRectF(0, 0, 1, 1)  # the square drawn on, in widget coordinates
        self._pen_width = MIN_PEN_WIDTH
        self._touch_id: int | None = None
        self._by_mouse = False  # the stroke in progress was begun by a mouse press

    # ------------------------------------------------------------------ the strokes (public API)
    def strokes(self) -> list[list[Point]]:
        """All strokes, the one being drawn included (last), as lists of logical-pixel points."""
        done = [list(s) for s in self._strokes]
        if self._current:
            done.append(list(self._current))
        return done

    def is_empty(self) -> bool:
        return not self._strokes and not self._current

    def is_drawing(self) -> bool:
        return self._current is not None

    def can_undo(self) -> bool:
        return bool(self._undo) and self._current is None

    def can_redo(self) -> bool:
        return bool(self._redo) and self._current is None

    def pen_width(self) -> float:
        return self._pen_width

    def paper(self) -> QRectF:
        """The square the user draws on, in widget coordinates; every point lies on it."""
        return QRectF(self._paper)

    def undo(self) -> None:
        """Take back the last stroke added (or the last Clear)."""
        if not self.can_undo():
            return
        action = self._undo.pop()
        if action.kind == "add":
            self._strokes.pop()
        else:
            self._strokes = [list(s) for s in action.strokes]
        self._redo.append(action)
        self._history_changed()

    def redo(self) -> None:
        if not self.can_redo():
            return
        action = self._redo.pop()
        if action.kind == "add":
            self._strokes.append(list(action.strokes[0]))
        else:
            self._strokes = []
        self._undo.append(action)
        self._history_changed()

    def clear(self) -> None:
        """Remove all strokes (undoable); a stroke being drawn is dropped."""
        self._current = None
        if not self._strokes:
            self._rebuild()
            self.strokesChanged.emit()
            return
        self._undo.append(_Action("clear", tuple(tuple(s) for s in self._strokes)))
        self._redo.clear()
        self._strokes = []
        self._history_changed()

    def erase_last_stroke(self) -> None:
        """What right-click does: undo the last stroke added, so it can be redone. It never
        undoes a Clear: on a cleared canvas there is nothing to erase."""
        if self._strokes and self._undo and self._undo[-1].kind == "add":
            self.undo()

    # ------------------------------------------------------------------ stroke building
    def begin_stroke(self, pos: QPointF) -> None:
        if self._current is not None:  # its release was lost: it ended where it was, not here
            self.end_stroke()
        self._fit_paper()  # a widget never shown has had no resize event
        if self.is_empty():
            self.update()  # the whole hint goes, not just where the first ink is painted
        self._current = [self._on_paper(pos)]
        self._paint_segment(self._current, final=False)
        self.strokesChanged.emit()

    def extend_stroke(self, pos: QPointF) -> None:
        if self._current is None:
            return
        p = self._on_paper(pos)
        if p == self._current[-1]:
            return
        self._current.append(p)
        self._paint_segment(self._current, final=False)
        self.strokesChanged.emit()

    def end_stroke(self, pos: QPointF | None = None) -> None:
        if self._current is None:
            return
        if pos is not None and self._on_paper(pos) != self._current[-1]:
            self._current.append(self._on_paper(pos))
        stroke, self._current = self._current, None
        self._paint_segment(stroke, final=True)
        self._strokes.append(stroke)
        self._undo.append(_Action("add", (tuple(stroke),)))
        self._redo.clear()
        self.historyChanged.emit(self.can_undo(), self.can_redo())
        self.strokesChanged.emit()

    def _on_paper(self, pos: QPointF) -> Point:
        """``pos`` moved onto the paper's nearest point (itself when it is on the paper)."""
        paper = self._paper
        return (
            min(max(pos.x(), paper.left()), paper.right()),
            min(max(pos.y(), paper.top()), paper.bottom()),
        )

    def _fit_paper(self) -> None:
        """Make the paper the largest centred square, scaling and moving the strokes with it."""
        side = float(min(self.width(), self.height()))
        paper = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        old, self._paper = self._paper, paper
        if old == paper:
            return
        scale = side / old.width()

        def moved(stroke):
            return [
                (paper.left() + (x - old.left()) * scale, paper.top() + (y - old.top()) * scale)
                for x, y in stroke
            ]

        self._strokes = [moved(s) for s in self._strokes]
        if self._current is not None:
            self._current = moved(self._current)

        def moved_action(action: _Action) -> _Action:
            return _Action(action.kind, tuple(tuple(moved(s)) for s in action.strokes))

        self._undo = [moved_action(a) for a in self._undo]
        self._redo = [moved_action(a) for a in self._redo]

    def _history_changed(self) -> None:
        self._rebuild()
        self.historyChanged.emit(self.can_undo(), self.can_redo())
        self.strokesChanged.emit()

    # ------------------------------------------------------------------ input events
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.begin_stroke(event.position())
            self._by_mouse = True
            event.accept()
        elif event.button() == Qt.MouseButton.RightButton:
            if self._current is None:
                self.erase_last_stroke()
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._current is not None and event.buttons() & Qt.MouseButton.LeftButton:
            self.extend_stroke(event.position())
            event.accept()
        elif self._current is not None and self._by_mouse:
            # The button is up but its release never came here (another window or a popup took
            # it): the stroke ended, or it would stay "in progress" for good, with Undo disabled.
            self.end_stroke()
            event.accept()
        else:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._current is not None:
            self.end_stroke(event.position())
            event.accept()
        else:
            super().mouseReleaseEvent(event)

    def tabletEvent(self, event: QTabletEvent) -> None:
        # Accepting the tablet event stops Qt from synthesising a mouse event from it.
        kind = event.type()
        if kind == QEvent.Type.TabletPress:
            if event.button() == Qt.MouseButton.RightButton:
                self.erase_last_stroke()
            else:
                self.begin_stroke(event.position())
                self._by_mouse = False
        elif kind == QEvent.Type.TabletMove:
            if self._current is not None:
                self.extend_stroke(event.position())
        elif kind == QEvent.Type.TabletRelease:
            self.end_stroke(event.position())
        event.accept()

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (
            QEvent.Type.TouchBegin,
            QEvent.Type.TouchUpdate,
            QEvent.Type.TouchEnd,
            QEvent.Type.TouchCancel,
        ):
            self._touch_event(event)  # type: ignore[arg-type]
            return True
        return super().event(event)

    def _touch_event(self, event: QTouchEvent) -> None:
        """One finger draws; further fingers are ignored."""
        event.accept()
        if event.type() == QEvent.Type.TouchCancel:
            if self._touch_id is not None:
                self._touch_id = None
                self.end_stroke()
            return
        for point in event.points():
            if self._touch_id is None and point.state() == point.State.Pressed:
                self._touch_id = point.id()
                self.begin_stroke(point.position())
                self._by_mouse = False
            elif point.id() == self._touch_id:
                if point.state() == point.State.Released:
                    self._touch_id = None
                    self.end_stroke(point.position())
                elif point.state() == point.State.Updated:
                    self.extend_stroke(point.position())

    # ------------------------------------------------------------------ painting
    def _make_pen(self) -> QPen:
        pen = QPen(INK_COLOR, self._pen_width)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _painter(self) -> QPainter:
        painter = QPainter(self._pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(self._make_pen())
        painter.setBrush(Qt.BrushStyle.NoBrush)
        return painter

    def _rebuild(self) -> None:
        """Redraw the backing pixmap from the point lists (after resize, undo, clear...)."""
        dpr = self.devicePixelRatioF()
        size = self.size()
        self._pen_width = max(MIN_PEN_WIDTH, PEN_WIDTH_SHARE * min(size.width(), size.height()))
        pixmap = QPixmap(
            max(1, math.ceil(size.width() * dpr)), max(1, math.ceil(size.height() * dpr))
        )
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        self._pixmap = pixmap
        painter = self._painter()
        for stroke in self._strokes + ([self._current] if self._current else []):
            self._draw_stroke(painter, stroke)
        painter.end()
        self.update()

    def _draw_stroke(self, painter: QPainter, stroke: Stroke) -> None:
        if len(stroke) == 1:
            painter.drawPoint(QPointF(*stroke[0]))
        else:
            painter.drawPath(_smooth_path(stroke))

    def _paint_segment(self, stroke: Stroke, *, final: bool) -> None:
        """Add the newest piece of the stroke in progress to the pixmap and repaint just that.

        While drawing, the piece from the previous midpoint to the newest midpoint is added (its
        control point is the previous sample); at the end, the straight piece to the last point.
        The ink is opaque, so the overlapping round caps of consecutive pieces don't show.
        """
        if self._pixmap.isNull():
            self._rebuild()
            return
        n = len(stroke)
        path: QPainterPath
        if n == 1:
            path = QPainterPath(QPointF(*stroke[0]))
            path.lineTo(QPointF(*stroke[0]))
        elif final:
            if n == 2:
                path = QPainterPath(QPointF(*stroke[0]))
            else:
                (ax, ay), (bx, by) = stroke[-3], stroke[-2]
                path = QPainterPath(QPointF((ax + bx) / 2, (ay + by) / 2))
                path.quadTo(bx, by, *stroke[-1])
                self._stroke_path(path)
                return
            path.lineTo(*stroke[-1])
        elif n == 2:
            (ax, ay), (bx, by) = stroke
            path = QPainterPath(QPointF(ax, ay))
            path.lineTo((ax + bx) / 2, (ay + by) / 2)
        else:
            (ax, ay), (bx, by), (cx, cy) = stroke[-3:]
            path = QPainterPath(QPointF((ax + bx) / 2, (ay + by) / 2))
            path.quadTo(bx, by, (bx + cx) / 2, (by + cy) / 2)
        self._stroke_path(path)

    def _stroke_path(self, path: QPainterPath) -> None:
        painter = self._painter()
        if path.elementCount() == 1 or path.length() == 0:
            painter.drawPoint(path.currentPosition())
        else:
            painter.drawPath(path)
        painter.end()
        margin = self._pen_width / 2 + 2
        self.update(
            path.controlPointRect().adjusted(-margin, -margin, margin, margin).toAlignedRect()
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        had_strokes = not self.is_empty()
        self._fit_paper()
        self._rebuild()
        if had_strokes:
            self.strokesChanged.emit()  # the same drawing, at the paper's new size

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.ScreenChangeInternal, QEvent.Type.DevicePixelRatioChange):
            self._rebuild()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(event.rect(), self.palette().window())
        painter.fillRect(self._paper, PAPER_COLOR)
        if abs(self._pixmap.devicePixelRatio() - self.devicePixelRatioF()) > 1e-6:
            self._rebuild()
        if self.is_empty():
            painter.setPen(HINT_COLOR)
            font = QFont(self.font())
            font.setPointSizeF(max(11.0, self.font().pointSizeF() * 1.6))
            painter.setFont(font)
            painter.drawText(self._paper, Qt.AlignmentFlag.AlignCenter, "Draw a digit here")
        painter.setClipRect(self._paper)  # round caps at the edge stop there, like the strokes
        painter.drawPixmap(0, 0, self._pixmap)
        painter.setClipping(False)
        painter.setPen(QPen(FRAME_COLOR, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRect(self._paper.adjusted(0.5, 0.5, -0.5, -0.5))
        painter.end()
