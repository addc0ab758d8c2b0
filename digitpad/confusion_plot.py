"""A confusion matrix as a pyqtgraph heat map: rows are the true digits, columns what the network
said, each cell labelled with its count; a click on a cell reports (true, said).

The colour scale is logarithmic (log(1 + count)): the diagonal holds about a thousand digits per
cell and the mistakes a handful, and on a linear scale every mistake would be white. Cells on the
diagonal are green, mistakes orange, so right and wrong read apart at a glance.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

from digitpad import plots

RIGHT = pg.ColorMap([0.0, 1.0], [(247, 252, 245), (35, 139, 69)])


def confusion_matrix(labels: np.ndarray, said: np.ndarray, outputs: int) -> np.ndarray:
    """(10, outputs) counts: row = true digit, column = the output the network chose."""
    matrix = np.zeros((10, outputs), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), np.asarray(said, dtype=np.int64)), 1)
    return matrix


class ConfusionMatrixPlot(pg.GraphicsLayoutWidget):
    """Shows a confusion matrix; :attr:`cellClicked` gives (true digit, chosen output)."""

    cellClicked = Signal(int, int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("confusionMatrix")
        self.plot = self.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        view = self.plot.getViewBox()
        view.invertY(True)
        view.setAspectLocked(True)
        view.setMouseEnabled(False, False)
        self.plot.setLabel("left", "true digit")
        self.plot.setLabel("bottom", "what the network said")
        self.mistakes_image = pg.ImageItem(axisOrder="row-major")
        self.mistakes_image.setColorMap(plots.ACTIVITY)
        self.right_image = pg.ImageItem(axisOrder="row-major")
        self.right_image.setColorMap(RIGHT)
        self.plot.addItem(self.mistakes_image)
        self.plot.addItem(self.right_image)
        self._texts: list[pg.TextItem] = []
        self.matrix = np.zeros((10, 10), dtype=np.int64)
        self.scene().sigMouseClicked.connect(self._clicked)
        # Square cells wide enough for a four-digit count (the diagonal), 11 columns with "not a
        # digit", plus the axes (tests/test_plots.py).
        self.setMinimumSize(400, 380)

    def set_matrix(self, matrix: np.ndarray) -> None:
        self.matrix = np.asarray(matrix)
        rows, columns = self.matrix.shape
        shade = np.log1p(self.matrix).astype(np.float32)
        top = float(shade.max()) or 1.0
        diagonal = np.eye(rows, columns, dtype=bool)
        self.mistakes_image.setImage(np.where(diagonal, np.nan, shade), levels=(0, top))
        self.right_image.setImage(np.where(diagonal, shade, np.nan), levels=(0, top))
        for text in self._texts:
            self.plot.removeItem(text)
        self._texts = []
        for r in range(rows):
            for c in range(columns):
                if self.matrix[r, c]:
                    dark = shade[r, c] > 0.6 * top
                    text = pg.TextItem(
                        str(self.matrix[r, c]),
                        anchor=(0.5, 0.5),
                        color="#ffffff" if dark else plots.TEXT_COLOR,
                    )
                    text.textItem.document().setDocumentMargin(0)  # centred on the count
                    text.setPos(c + 0.5, r + 0.5)
                    self.plot.addItem(text)
                    self._texts.append(text)
        ticks = [[(c + 0.5, plots.output_tick(c)) for c in range(columns)]]
        self.plot.getAxis("bottom").setTicks(ticks)
        self.plot.getAxis("left").setTicks([[(r + 0.5, str(r)) for r in range(rows)]])
        self.plot.getViewBox().setRange(xRange=(0, columns), yRange=(0, rows), padding=0)

    def cell_centre(self, true: int, said: int):
        """Where cell (true, said) is drawn, in this widget's coordinates (for tests)."""
        scene = self.plot.getViewBox().mapViewToScene(pg.Point(said + 0.5, true + 0.5))
        return self.mapFromScene(scene)

    def _clicked(self, event) -> None:
        view = self.plot.getViewBox()
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        point = view.mapSceneToView(event.scenePos())
        row, column = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= row < self.matrix.shape[0] and 0 <= column < self.matrix.shape[1]:
            self.cellClicked.emit(row, column)
