"""What the Retrain dialog shows of the network while and after it learns.

* :class:`UnitWeightsStrip` — the first layer's incoming weights of a few units as 28×28 pictures
  (blue negative, white zero, red positive, one colour bar), replaced after every epoch: they
  start as noise and sharpen into strokes and blobs as the units learn what to look for.
* :class:`ValidationMistakes` — at the end, the new network's confusion matrix on the validation
  digits; a click on a cell lists those digits.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from digitpad import plots
from digitpad.confusion_plot import ConfusionMatrixPlot
from digitpad.mistakes import DigitBrowser, Verdicts, cell_title


class UnitWeightsStrip(QWidget):
    """A row of unit weight pictures, updated with :meth:`show_weights` after every epoch."""

    def __init__(self, units: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel("The first layer's incoming weights of a few units appear here "
                              "when training starts, and change after every epoch.")
        self.caption.setWordWrap(True)
        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setObjectName("unitWeightsStrip")
        self.pictures = []
        for i in range(units):
            item, image = plots.image_plot(plots.DIVERGING, f"unit {i}")
            self.plot.addItem(item, i // 3, i % 3)
            self.pictures.append(image)
        self.bar = plots.colour_bar(plots.DIVERGING, "incoming weight")
        self.plot.addItem(self.bar, 0, 3, rowspan=2)
        note = QLabel("Red: ink on those pixels turns the unit on; blue: turns it off. Each "
                      "epoch has its own scale (the colour bar).")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.plot, 1)
        layout.addWidget(note)
        self.epoch = -1

    def show_weights(self, epoch: int, weights: np.ndarray) -> None:
        """``weights``: (784, units) incoming weights after ``epoch`` epochs."""
        self.epoch = epoch
        levels = plots.symmetric(np.percentile(np.abs(weights), 99.5))
        for i, image in enumerate(self.pictures):
            if i < weights.shape[1]:
                plots.set_picture(image, weights[:, i], levels)
            else:
                image.clear()
        plots.set_levels(self.bar, levels)
        self.caption.setText("Before training: random weights." if epoch == 0 else
                             f"After epoch {epoch}: what these first-layer units look for.")

    def weights_shown(self, unit: int) -> np.ndarray:
        return np.asarray(self.pictures[unit].image).reshape(-1)


class ValidationMistakes(QWidget):
    """The validation confusion matrix and the digits of a clicked cell."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdicts: Verdicts | None = None
        self.summary = QLabel("When the run ends: the new network's confusion matrix on the "
                              "validation digits (held out from training).")
        self.summary.setWordWrap(True)
        self.matrix_plot = ConfusionMatrixPlot()
        self.matrix_plot.cellClicked.connect(self.show_cell)
        self.cell_label = QLabel("Click a cell to see its digits.")
        self.browser = DigitBrowser()
        right = QVBoxLayout()
        right.addWidget(self.cell_label)
        right.addWidget(self.browser, 1)
        body = QHBoxLayout()
        body.addWidget(self.matrix_plot, 3)
        body.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(body, 1)

    def show_verdicts(self, verdicts: Verdicts | None) -> None:
        self.verdicts = verdicts
        self.browser.clear()
        if verdicts is None:
            self.matrix_plot.set_matrix(np.zeros((10, 10), dtype=np.int64))
            return
        right = int((verdicts.said == verdicts.labels).sum())
        self.summary.setText(f"Validation: {right:,} of {len(verdicts.labels):,} digits right "
                             f"({100 * right / len(verdicts.labels):.2f} %). Rows: the true digit; "
                             f"columns: what the new network said.")
        self.matrix_plot.set_matrix(verdicts.matrix)
        self.cell_label.setText("Click a cell to see its digits.")

    def show_cell(self, true: int, said: int) -> None:
        if self.verdicts is None:
            return
        indices = self.verdicts.cell(true, said)
        self.cell_label.setText(f"{cell_title(true, said)}: {len(indices)}, most confident "
                                f"first")
        self.browser.show_digits(self.verdicts, indices)
