"""A small QPainter line chart: one value per epoch for a few named series (no matplotlib)."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

AXIS_COLOR = QColor("#9aa3ad")
GRID_COLOR = QColor("#eceef2")
TEXT_COLOR = QColor("#4a525c")
SERIES_COLORS = (QColor("#3b6fd4"), QColor("#d0611e"), QColor("#1f9d55"), QColor("#8e44ad"))


def _nice_step(span: float, ticks: int = 4) -> float:
    """A round tick spacing (1, 2 or 5 times a power of ten) giving about ``ticks`` intervals."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return m * power
    return 10 * power


class CurveChart(QWidget):
    """Plots named series against the epoch number (1, 2, ...); non-finite values are skipped."""

    def __init__(self, title: str, *, percent: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.percent = percent
        self._series: dict[str, list[float]] = {}
        self._epochs_planned = 0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 150)

    def sizeHint(self) -> QSize:
        return QSize(320, 200)

    def set_epochs_planned(self, epochs: int) -> None:
        """Fix the x axis to ``epochs`` so the curves grow from left to right."""
        self._epochs_planned = max(0, int(epochs))
        self.update()

    def add_series(self, name: str) -> None:
        self._series.setdefault(name, [])
        self.update()

    def append(self, name: str, value: float | None) -> None:
        self._series.setdefault(name, []).append(float("nan") if value is None else float(value))
        self.update()

    def clear(self) -> None:
        for values in self._series.values():
            values.clear()
        self.update()

    def series(self, name: str) -> list[float]:
        return list(self._series.get(name, []))

    def _format(self, value: float, step: float) -> str:
        """An axis label; percentages all get the decimals the ``step`` needs ("0 %" and
        "100 %", "97.5 %" and "98.0 %"), never a mix."""
        if self.percent:
            decimals = max(0, -math.floor(math.log10(100 * step) + 1e-9))
            return f"{100 * value:.{decimals}f}\u00a0%"
        return f"{value:.3g}"

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        metrics = QFontMetricsF(self.font())
        line_h = metrics.height()
        finite = [v for vs in self._series.values() for v in vs if math.isfinite(v)]
        n_epochs = max([self._epochs_planned, 1] + [len(vs) for vs in self._series.values()])

        # Value range with round limits.
        if finite:
            lo, hi = min(finite), max(finite)
        else:
            lo, hi = (0.0, 1.0)
        if self.percent:
            lo, hi = max(0.0, lo), min(1.0, hi)
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5 * max(abs(lo), 0.01), hi + 0.5 * max(abs(hi), 0.01)
        step = _nice_step(hi - lo)
        lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step
        if self.percent and hi - lo > step:
            lo, hi = max(0.0, lo), min(1.0, hi)

        labels = [self._format(lo + i * step, step)
                  for i in range(int(round((hi - lo) / step)) + 1)]
        left = max(metrics.horizontalAdvance(t) for t in labels) + 10
        # Title and legend; in a narrow chart the legend goes below the title, not over it.
        legend_w = sum(metrics.horizontalAdvance(name) + 32 for name in self._series)
        below = metrics.horizontalAdvance(self.title) + 16 + legend_w > self.width()
        legend_y = line_h * 1.3 if below else 0.0
        top = line_h * 2.0 + legend_y
        plot = QRectF(left, top, self.width() - left - 10, self.height() - top - line_h * 2.4)
        painter.setPen(TEXT_COLOR)
        painter.drawText(QRectF(0, 0, self.width(), line_h * 1.4),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        x = self.width() - 8.0
        for i, name in reversed(list(enumerate(self._series))):
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            w = metrics.horizontalAdvance(name)
            x -= w
            painter.setPen(TEXT_COLOR)
            painter.drawText(QRectF(x, legend_y, w + 2, line_h * 1.4),
                             Qt.AlignmentFlag.AlignVCenter, name)
            x -= 20
            painter.setPen(QPen(color, 2.5))
            painter.drawLine(QPointF(x, legend_y + line_h * 0.7),
                             QPointF(x + 14, legend_y + line_h * 0.7))
            x -= 12
        if plot.width() < 10 or plot.height() < 10:
            painter.end()
            return

        def to_point(epoch: int, value: float) -> QPointF:
            fx = 0.5 if n_epochs <= 1 else (epoch - 1) / (n_epochs - 1)
            fy = (value - lo) / (hi - lo)
            return QPointF(plot.left() + fx * plot.width(), plot.bottom() - fy * plot.height())

        # Grid and y labels.
        for i, text in enumerate(labels):
            y = plot.bottom() - i * step / (hi - lo) * plot.height()
            painter.setPen(QPen(GRID_COLOR, 1))
            painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            painter.setPen(TEXT_COLOR)
            painter.drawText(QRectF(0, y - line_h / 2, left - 6, line_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        painter.setPen(QPen(AXIS_COLOR, 1))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        # Epoch labels: first, last and a few between.
        tick_every = max(1, math.ceil(n_epochs / 8))
        painter.setPen(TEXT_COLOR)
        for epoch in range(1, n_epochs + 1):
            if epoch == 1 or epoch == n_epochs or (epoch % tick_every == 0 and n_epochs - epoch >= tick_every / 2):
                p = to_point(epoch, lo)
                painter.drawText(QRectF(p.x() - 20, plot.bottom() + 2, 40, line_h),
                                 Qt.AlignmentFlag.AlignCenter, str(epoch))
        painter.drawText(QRectF(plot.left(), plot.bottom() + line_h * 1.2, plot.width(), line_h),
                         Qt.AlignmentFlag.AlignCenter, "epoch")

        # The series.
        for i, (name, values) in enumerate(self._series.items()):
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            path = QPainterPath()
            started = False
            points = []
            for epoch, value in enumerate(values, start=1):
                if not math.isfinite(value):
                    started = False
                    continue
                value = min(max(value, lo), hi)
                p = to_point(epoch, value)
                points.append(p)
                if started:
                    path.lineTo(p)
                else:
                    path.moveTo(p)
                    started = True
            painter.setPen(QPen(color, 2.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
                                Qt.PenJoinStyle.RoundJoin))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            painter.setBrush(color)
            for p in points:
                painter.drawEllipse(p, 2.8, 2.8)
        painter.end()
