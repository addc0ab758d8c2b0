"""A picture of drawings with what the app says about each (for docs/not-a-digit.png).

Each cell shows the strokes as drawn, the 28×28 input the network sees, and the verdict's text in
the colours of the app's panel. Drawn with Qt on an offscreen image.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

CELL_W, CELL_H, COLUMNS = 150, 120, 8
STATE_COLOURS = {
    "digit": "#1a8549",
    "not sure": "#d08a1e",
    "not a digit": "#b23b3b",
    "too small": "#6b7480",
}


def draw_sheet(path: Path, items) -> None:
    """``items``: (strokes, Verdict) pairs; writes a PNG of them in rows of :data:`COLUMNS`."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen
    from PySide6.QtWidgets import QApplication

    from trainer.strokes.strokes_to_input import strokes_to_input

    _app = QApplication.instance() or QApplication([])
    rows = -(-len(items) // COLUMNS)
    image = QImage(COLUMNS * CELL_W, rows * CELL_H, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    font = QFont(painter.font())
    font.setPixelSize(12)
    painter.setFont(font)
    for index, (strokes, verdict) in enumerate(items):
        left, top = (index % COLUMNS) * CELL_W, (index // COLUMNS) * CELL_H
        points = np.array([p for stroke in strokes for p in stroke], dtype=float)
        low, size = points.min(axis=0), max(np.ptp(points, axis=0).max(), 1e-9)
        scale = 70.0 / size
        painter.setPen(
            QPen(
                QColor("#1d2430"),
                2.5,
                Qt.PenStyle.SolidLine,
                Qt.PenCapStyle.RoundCap,
                Qt.PenJoinStyle.RoundJoin,
            )
        )
        for stroke in strokes:
            line = QPainterPath()
            for k, (x, y) in enumerate(stroke):
                point = QPointF(left + 8 + (x - low[0]) * scale, top + 8 + (y - low[1]) * scale)
                line.moveTo(point) if k == 0 else line.lineTo(point)
            painter.drawPath(line)
        pixels = (255 - 255 * strokes_to_input(strokes)).astype(np.uint8).reshape(28, 28)
        seen = QImage(pixels.tobytes(), 28, 28, 28, QImage.Format.Format_Grayscale8)
        painter.drawImage(QRectF(left + 90, top + 8, 56, 56), seen)
        painter.setPen(QColor(STATE_COLOURS[verdict.state.value]))
        painter.drawText(
            QRectF(left + 4, top + 84, CELL_W - 8, 30),
            Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
            f"{verdict.text}  {verdict.detail}",
        )
    painter.end()
    if not image.save(str(path)):
        raise OSError(f"cannot write {path}")
