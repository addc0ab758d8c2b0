"""The 28×28 input the network sees, enlarged and pixel-sharp.

Each input pixel becomes a square of a whole number of *device* pixels, drawn without smoothing,
so the preview stays crisp on HiDPI screens. Ink is shown dark on light like the canvas
(intensity 1 = darkest), on a faint grid so single pixels can be told apart.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

SIDE = 28
BACKGROUND = QColor("#fdfdfb")
GRID_COLOR = QColor(0, 0, 0, 18)
FRAME_COLOR = QColor("#c9ced6")
# Ink ramp: paper (#fdfdfb) at 0 to the canvas ink (#1d2430) at 1.
_PAPER = np.array([0xFD, 0xFD, 0xFB], dtype=np.float32)
_INK = np.array([0x1D, 0x24, 0x30], dtype=np.float32)


class InputPreview(QWidget):
    """Shows a (784,) array in [0, 1] as a 28×28 image."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inputPreview")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(SIDE * 4 + 2, SIDE * 4 + 2)
        self.setToolTip("The 28×28 image the network sees")
        self._values = np.zeros(SIDE * SIDE, dtype=np.float32)
        self._has_input = False
        self._image = self._to_image(self._values)
        self._grid: tuple[int, QImage] | None = None

    def sizeHint(self) -> QSize:
        return QSize(SIDE * 7 + 2, SIDE * 7 + 2)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return width

    # ------------------------------------------------------------------ data
    def set_input(self, values: np.ndarray | None) -> None:
        """Show ``values`` ((784,) floats in [0, 1]); ``None`` shows an empty input."""
        if values is None:
            self._values = np.zeros(SIDE * SIDE, dtype=np.float32)
            self._has_input = False
        else:
            self._values = np.clip(
                np.asarray(values, dtype=np.float32).reshape(SIDE * SIDE), 0.0, 1.0
            )
            self._has_input = True
        self._image = self._to_image(self._values)
        self.update()

    def values(self) -> np.ndarray:
        """A copy of the 784 values shown (zeros when empty)."""
        return self._values.copy()

    def has_input(self) -> bool:
        return self._has_input

    @staticmethod
    def _to_image(values: np.ndarray) -> QImage:
        v = values.reshape(SIDE, SIDE, 1)
        rgb = np.round(_PAPER + (_INK - _PAPER) * v).astype(np.uint8)
        rgb = np.ascontiguousarray(rgb)
        image = QImage(rgb.data, SIDE, SIDE, SIDE * 3, QImage.Format.Format_RGB888)
        return image.copy()  # own the pixels: ``rgb`` goes away

    # ------------------------------------------------------------------ painting
    def _grid_image(self, cell: int) -> QImage:
        """The grid as a transparent overlay, drawn once per cell size: Qt's raster engine takes
        ~1.5 ms for 54 semi-transparent lines, and this repaint follows every live prediction."""
        if self._grid is None or self._grid[0] != cell:
            side = cell * SIDE
            grid = QImage(side, side, QImage.Format.Format_ARGB32_Premultiplied)
            grid.fill(0)
            painter = QPainter(grid)
            painter.setPen(QPen(GRID_COLOR, 1))
            for i in range(1, SIDE):
                painter.drawLine(i * cell, 0, i * cell, side - 1)
                painter.drawLine(0, i * cell, side - 1, i * cell)
            painter.end()
            self._grid = (cell, grid)
        return self._grid[1]

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        dpr = self.devicePixelRatioF()
        # Work in device pixels so every input pixel is a whole number of them.
        painter.scale(1.0 / dpr, 1.0 / dpr)
        width, height = round(self.width() * dpr), round(self.height() * dpr)
        cell = max(1, (min(width, height) - 2) // SIDE)
        side = cell * SIDE
        left, top = (width - side) // 2, (height - side) // 2
        target = QRect(left, top, side, side)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.fillRect(target, BACKGROUND)
        painter.drawImage(target, self._image)
        if cell >= 4:
            painter.drawImage(left, top, self._grid_image(cell))
        painter.setPen(QPen(FRAME_COLOR, max(1, math.floor(dpr))))
        painter.drawRect(target.adjusted(-1, -1, 0, 0))
        painter.end()
