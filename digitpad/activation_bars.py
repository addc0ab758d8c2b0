"""The network's output activations as labelled bars, and the verdict in large type.

The bars are the ten digits, plus "not a digit" for a model that has that eleventh output. The
verdict is decided by ``trainer.core.verdict.decide``: the most probable digit with its confidence; "not
sure" with the best guess in small type; "not a digit"; or, for a mark too small to read, a hint to
keep drawing. With no input the bars are empty and there is no verdict.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from trainer.core.verdict import NOT_SURE_THRESHOLD, State, decide

#: The label of the eleventh bar, and the text written in its track.
NOT_A_DIGIT_LABEL, NOT_A_DIGIT_TEXT = "✗", "not a digit"

BAR_COLOR = QColor("#3b6fd4")
TOP_BAR_COLOR = QColor("#1f9d55")
UNSURE_TOP_COLOR = QColor("#d08a1e")
TRACK_COLOR = QColor("#e7eaef")
TEXT_COLOR = QColor("#1d2430")
MUTED_COLOR = QColor("#6b7480")


#: Rows never grow taller than this: in a tall window the bars stay together, at the top.
MAX_ROW_HEIGHT = 30.0


class BarChart(QWidget):
    """Horizontal bars, one per output (ten digits, and "not a digit" when the model has it), its
    label left and the percentage right; it lays out as many bars as it is given values.

    Clicking a bar emits ``digitClicked`` with its index (the user says what the drawing is; 10 is
    "not a digit")."""

    digitClicked = Signal(int)

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

    def mousePressEvent(self, event: QMouseEvent) -> None:
        rows = len(self._values)
        if event.button() == Qt.MouseButton.LeftButton and rows and self.height() > 0:
            row = int(event.position().y() // self._row_height())
            if 0 <= row < rows:
                self.digitClicked.emit(row)
        super().mousePressEvent(event)

    def _row_height(self) -> float:
        return min(MAX_ROW_HEIGHT, self.height() / max(len(self._values), 1))

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
        row_h = self._row_height()
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
            label = str(digit) if digit < 10 else NOT_A_DIGIT_LABEL
            painter.drawText(
                QRectF(0, y, label_w - 8, row_h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            track = QRectF(label_w, y + (row_h - bar_h) / 2, bar_w, bar_h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(TRACK_COLOR)
            painter.drawRoundedRect(track, 3, 3)
            filled_w = bar_w * min(value, 1.0)
            if filled_w >= 1.0:
                color = (
                    (UNSURE_TOP_COLOR if self._unsure else TOP_BAR_COLOR) if is_top else BAR_COLOR
                )
                painter.setBrush(color)
                painter.drawRoundedRect(QRectF(track.left(), track.top(), filled_w, bar_h), 3, 3)
            if digit == 10:  # named inside its track: white on the bar, or after it
                on_bar = filled_w > metrics.horizontalAdvance(NOT_A_DIGIT_TEXT) + 12
                painter.setPen(QColor("white") if on_bar else MUTED_COLOR)
                indent = 6 if on_bar else max(filled_w, 0) + 6
                painter.drawText(  # the row's height: a thin bar must not clip the letters
                    QRectF(track.left() + indent, y, bar_w - indent, row_h),
                    Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                    NOT_A_DIGIT_TEXT,
                )
            painter.setPen(TEXT_COLOR if is_top else MUTED_COLOR)
            text = f"{100 * value:.1f} %" if self._highlight is not None else ""
            painter.drawText(
                QRectF(label_w + bar_w, y, pct_w, row_h),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                text,
            )
        painter.end()


class ActivationPanel(QWidget):
    """The verdict (large) above the bar chart of all ten activations."""

    def __init__(
        self, parent: QWidget | None = None, *, threshold: float = NOT_SURE_THRESHOLD
    ) -> None:
        super().__init__(parent)
        self.threshold = threshold
        self._probabilities = np.zeros(10)
        self._verdict: int | None = None
        self._best: int | None = None  # the most probable digit, shown or not
        self._outputs = 10  # bars shown with no input: 10, or 11 with "not a digit"

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

    def set_probabilities(
        self, probabilities: np.ndarray | None, ink_pixels: float | None = None
    ) -> None:
        """Show the outputs (10, or 11 with "not a digit"), or ``None`` for "no input": empty
        bars, no verdict. ``ink_pixels``: the drawing's longer side on screen (None: unknown)."""
        if probabilities is None:
            self._probabilities = np.zeros(self._outputs)
            self._verdict = self._best = None
            self.bars.set_values(self._probabilities, None, False)
            self._set_verdict_text("–", MUTED_COLOR, "Draw a digit to see what the network reads")
            return
        p = np.asarray(probabilities, dtype=float).reshape(-1)
        if not np.all(np.isfinite(p)):
            p = np.nan_to_num(p, nan=0.0, posinf=1.0, neginf=0.0)
        self._probabilities = p
        verdict = decide(p, ink_pixels, threshold=self.threshold)
        self._best = verdict.best_guess
        self._verdict = verdict.digit
        if verdict.state is State.DIGIT:
            self.bars.set_values(p, verdict.best_guess, False)
            self._set_verdict_text(verdict.text, TOP_BAR_COLOR.darker(115), verdict.detail)
        elif verdict.state is State.NOT_A_DIGIT:
            self.bars.set_values(p, len(p) - 1, True)
            self._set_verdict_text(verdict.text, UNSURE_TOP_COLOR, verdict.detail)
        else:
            self.bars.set_values(p, verdict.best_guess, True)
            self._set_verdict_text(
                verdict.text,
                UNSURE_TOP_COLOR if verdict.state is State.NOT_SURE else MUTED_COLOR,
                verdict.detail,
            )

    def set_output_count(self, outputs: int) -> None:
        """The model's number of outputs (10 or 11): how many bars to show with no input."""
        self._outputs = outputs
        if self._best is None:
            self.set_probabilities(None)

    def _set_verdict_text(self, text: str, color: QColor, detail: str) -> None:
        self.verdict_label.setText(text)
        self.verdict_label.setStyleSheet(f"color: {color.name()};")
        self.detail_label.setText(detail)
        self.detail_label.setStyleSheet(f"color: {MUTED_COLOR.name()};")

    def probabilities(self) -> list[float]:
        return [float(v) for v in self._probabilities]

    def verdict(self) -> int | None:
        """The digit shown as the verdict, or ``None`` (no input, not sure, not a digit, too
        small)."""
        return self._verdict

    def is_unsure(self) -> bool:
        return self._best is not None and self._verdict is None
