"""The network's 10 output activations as labelled bars, and the verdict in large type.

The verdict is the most probable digit with its confidence, unless that probability is below
:data:`NOT_SURE_THRESHOLD`: then the panel says honestly that the network is not sure (and names
its best guess in small type). With no input the bars are empty and there is no verdict.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

#: Below this best probability the verdict is "not sure".
NOT_SURE_THRESHOLD = 0.6

BAR_COLOR = QColor("#3b6fd4")
TOP_BAR_COLOR = QColor("#1f9d55")
UNSURE_TOP_COLOR = QColor("#d08a1e")
TRACK_COLOR = QColor("#e7eaef")
TEXT_COLOR = QColor("#1d2430")
MUTED_COLOR = QColor("#6b7480")


#: Rows never grow taller than this: in a tall window the bars stay together, at the top.
MAX_ROW_HEIGHT = 30.0


class BarChart(QWidget):
    """Horizontal bars, one per output (ten digits), with its label left and the percentage right;
    it lays out as many bars as it is given values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("activationBars")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(180, 10 * 16)
        self._values = np.zeros(10)
        self._highlight: int | None = None
        self._unsure = False

    def sizeHint(self) -> QSize:
        return QSize(260, 10 * 26)

    def set_values(self, values: np.ndarray, highlight: int | None, unsure: bool) -> None:
        self._values = np.asarray(values, dtype=float)
        self._highlight = highlight
        self._unsure = unsure
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        font = QFont(self.font())
        metrics = QFontMetricsF(font)
        label_w = metrics.horizontalAdvance("0") + 12
        pct_w = metrics.horizontalAdvance("100.0 %") + 10
        rows = len(self._values)
        row_h = min(MAX_ROW_HEIGHT, self.height() / max(rows, 1))
        bar_h = min(18.0, row_h * 0.62)
        bar_w = max(10.0, self.width() - label_w - pct_w)
        for digit in range(rows):
            y = digit * row_h
            value = float(self._values[digit])
            is_top = digit == self._highlight
            bold = QFont(font)
            bold.setBold(is_top)
            painter.setFont(bold)
            painter.setPen(TEXT_COLOR if is_top or value > 0 else MUTED_COLOR)
            painter.drawText(QRectF(0, y, label_w - 8, row_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(digit))
            track = QRectF(label_w, y + (row_h - bar_h) / 2, bar_w, bar_h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(TRACK_COLOR)
            painter.drawRoundedRect(track, 3, 3)
            filled_w = bar_w * min(value, 1.0)
            if filled_w >= 1.0:
                color = (UNSURE_TOP_COLOR if self._unsure else TOP_BAR_COLOR) if is_top else BAR_COLOR
                painter.setBrush(color)
                painter.drawRoundedRect(QRectF(track.left(), track.top(), filled_w, bar_h), 3, 3)
            painter.setPen(TEXT_COLOR if is_top else MUTED_COLOR)
            text = f"{100 * value:.1f} %" if self._highlight is not None else ""
            painter.drawText(QRectF(label_w + bar_w, y, pct_w, row_h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()


class ActivationPanel(QWidget):
    """The verdict (large) above the bar chart of all ten activations."""

    def __init__(self, parent: QWidget | None = None, *, threshold: float = NOT_SURE_THRESHOLD) -> None:
        super().__init__(parent)
        self.threshold = threshold
        self._probabilities = np.zeros(10)
        self._verdict: int | None = None
        self._best: int | None = None  # the most probable digit, shown or not

        self.verdict_label = QLabel()
        self.verdict_label.setObjectName("verdict")
        self.verdict_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        big = QFont(self.font())
        big.setPointSizeF(max(36.0, self.font().pointSizeF() * 4.5))
        big.setBold(True)
        self.verdict_label.setFont(big)
        self.verdict_label.setMinimumHeight(int(QFontMetricsF(big).height()))

        self.detail_label = QLabel()
        self.detail_label.setObjectName("verdictDetail")
        self.detail_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail_label.setWordWrap(True)
        detail = QFont(self.font())
        detail.setPointSizeF(self.font().pointSizeF() * 1.15)
        self.detail_label.setFont(detail)

        self.bars = BarChart()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.verdict_label)
        layout.addWidget(self.detail_label)
        layout.addSpacing(8)
        layout.addWidget(self.bars, 1)
        self.set_probabilities(None)

    def set_probabilities(self, probabilities: np.ndarray | None) -> None:
        """Show ten probabilities, or ``None`` for "no input": empty bars, no verdict."""
        if probabilities is None:
            self._probabilities = np.zeros(10)
            self._verdict = self._best = None
            self.bars.set_values(self._probabilities, None, False)
            self._set_verdict_text("–", MUTED_COLOR, "Draw a digit to see what the network reads")
            return
        p = np.asarray(probabilities, dtype=float).reshape(10)
        if not np.all(np.isfinite(p)):
            p = np.nan_to_num(p, nan=0.0, posinf=1.0, neginf=0.0)
        self._probabilities = p
        best = int(np.argmax(p))
        self._best = best
        confidence = float(p[best])
        if confidence >= self.threshold:
            self._verdict = best
            self.bars.set_values(p, best, False)
            self._set_verdict_text(str(best), TOP_BAR_COLOR.darker(115),
                                   f"{100 * confidence:.1f}\u00a0% confident")
        else:
            self._verdict = None
            self.bars.set_values(p, best, True)
            self._set_verdict_text("?", UNSURE_TOP_COLOR,
                                   f"Not sure – best guess {best}"
                                   f"\u00a0({100 * confidence:.0f}\u00a0%)")

    def _set_verdict_text(self, text: str, color: QColor, detail: str) -> None:
        self.verdict_label.setText(text)
        self.verdict_label.setStyleSheet(f"color: {color.name()};")
        self.detail_label.setText(detail)
        self.detail_label.setStyleSheet(f"color: {MUTED_COLOR.name()};")

    def probabilities(self) -> list[float]:
        return [float(v) for v in self._probabilities]

    def verdict(self) -> int | None:
        """The digit shown as the verdict, or ``None`` (no input, or not sure)."""
        return self._verdict

    def is_unsure(self) -> bool:
        return self._best is not None and self._verdict is None
