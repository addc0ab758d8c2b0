"""What the Retrain dialog shows of the network while and after it learns.

* :class:`UnitWeightsStrip` — the first layer's incoming weights of a few units as 28×28 pictures
  (blue negative, white zero, red positive, one colour bar), replaced after every epoch: they
  start as noise and sharpen into strokes and blobs as the units learn what to look for.
* :class:`ValidationMistakes` — at the end, the new network's confusion matrix on the validation
  digits; a click on a cell lists those digits.

Both sit in tabs of the dialog and build their plots the first time they are shown (a dozen
pyqtgraph plots take a noticeable fraction of a second to build, and the dialog must open at once).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from digitpad import plots
from digitpad.confusion_plot import ConfusionMatrixPlot
from digitpad.mistakes import DigitBrowser, Verdicts, cell_title


class UnitWeightsStrip(QWidget):
    """A grid of unit weight pictures, updated with :meth:`show_weights` after every epoch."""

    def __init__(self, units: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.units = units
        self.caption = QLabel(
            "The first layer's incoming weights of a few units appear here "
            "when training starts, and change after every epoch."
        )
        self.caption.setWordWrap(True)
        note = QLabel(
            "Red: ink on those pixels turns the unit on; blue: turns it off. Each "
            "epoch has its own scale (the colour bar)."
        )
        note.setWordWrap(True)
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.caption)
        self._layout.addWidget(note)
        self.plot = None
        self.pictures = []
        self.epoch = -1
        self._weights = None

    def showEvent(self, event) -> None:
        self._build()
        super().showEvent(event)

    def _build(self) -> None:
        if self.plot is not None:
            return
        self.plot = pg.GraphicsLayoutWidget()
        self.plot.setObjectName("unitWeightsStrip")
        for i in range(self.units):
            item, image = plots.image_plot(plots.DIVERGING, f"unit {i}")
            self.plot.addItem(item, i // 3, i % 3)
            self.pictures.append(image)
        self.bar = plots.colour_bar(plots.DIVERGING, "incoming weight")
        self.plot.addItem(self.bar, 0, 3, rowspan=2)
        self._layout.insertWidget(1, self.plot, 1)
        self._draw()

    def show_weights(self, epoch: int, weights: np.ndarray) -> None:
        """``weights``: (784, units) incoming weights after ``epoch`` epochs."""
        self.epoch, self._weights = epoch, weights
        self.caption.setText(
            "Before training: random weights."
            if epoch == 0
            else f"After epoch {epoch}: what these first-layer units look for."
        )
        self._draw()

    def _draw(self) -> None:
        if self.plot is None or self._weights is None:
            return
        levels = plots.symmetric(np.percentile(np.abs(self._weights), 99.5))
        for i, image in enumerate(self.pictures):
            if i < self._weights.shape[1]:
                plots.set_picture(image, self._weights[:, i], levels)
            else:
                image.clear()
        plots.set_levels(self.bar, levels)

    def weights_shown(self, unit: int) -> np.ndarray:
        self._build()
        return np.asarray(self.pictures[unit].image).reshape(-1)


class ValidationMistakes(QWidget):
    """The validation confusion matrix and the digits of a clicked cell."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.verdicts: Verdicts | None = None
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.cell_label = QLabel("Click a cell to see its digits.")
        self.browser = DigitBrowser()
        self.matrix_plot = None
        self._right = QVBoxLayout()
        self._right.addWidget(self.cell_label)
        self._right.addWidget(self.browser, 1)
        self._body = QHBoxLayout()
        self._body.addLayout(self._right, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(self._body, 1)
        self.show_verdicts(None)

    def showEvent(self, event) -> None:
        if self.matrix_plot is None:
            self.matrix_plot = ConfusionMatrixPlot()
            self.matrix_plot.cellClicked.connect(self.show_cell)
            self._body.insertWidget(0, self.matrix_plot, 3)
            self._draw()
        super().showEvent(event)

    def show_verdicts(self, verdicts: Verdicts | None) -> None:
        self.verdicts = verdicts
        self.browser.clear()
        self.cell_label.setText("Click a cell to see its digits.")
        if verdicts is None:
            self.summary.setText(
                "When the run ends: the new network's confusion matrix on the "
                "validation digits (held out from training)."
            )
        else:
            right = int((verdicts.said == verdicts.labels).sum())
            total = len(verdicts.labels)
            self.summary.setText(
                f"Validation: {right:,} of {total:,} digits right "
                f"({100 * right / total:.2f} %). Rows: the true digit; "
                f"columns: what the new network said."
            )
        self._draw()

    def _draw(self) -> None:
        if self.matrix_plot is not None:
            self.matrix_plot.set_matrix(
                np.zeros((10, 10), dtype=np.int64)
                if self.verdicts is None
                else self.verdicts.matrix
            )

    def show_cell(self, true: int, said: int) -> None:
        if self.verdicts is None:
            return
        indices = self.verdicts.cell(true, said)
        self.cell_label.setText(f"{cell_title(true, said)}: {len(indices)}, most confident first")
        self.browser.show_digits(self.verdicts, indices)
