"""Model ▸ Mistakes: the current model's confusion matrix on MNIST's 10 000 test digits and a
browser of the digits it gets wrong, most confident mistakes first.

A click on a mistake shows that digit in the network view (its input, hidden activations and
"why" map), and asks "why this verdict" about the wrong answer; a click on a cell of the matrix
lists only the digits of that cell. The test set is read on a background thread (a second or two
for the shipped 784-800-800-10 network); without MNIST on disk the window says where it looked.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitpad import plots
from digitpad.confusion_plot import ConfusionMatrixPlot, confusion_matrix

THUMBNAIL = 56


@dataclass
class Verdicts:
    """What a network says about each of MNIST's test digits."""

    images: np.ndarray  # (10000, 784)
    labels: np.ndarray  # (10000,)
    said: np.ndarray  # (10000,) the chosen output
    confidence: np.ndarray  # (10000,) its probability
    matrix: np.ndarray  # (10, outputs)

    def mistakes(self) -> np.ndarray:
        """Indices of the wrong digits, most confident first."""
        return self._most_confident_first(np.flatnonzero(self.said != self.labels))

    def cell(self, true: int, said: int) -> np.ndarray:
        """Indices of the digits ``true`` read as ``said``, most confident first."""
        return self._most_confident_first(
            np.flatnonzero((self.labels == true) & (self.said == said))
        )

    def _most_confident_first(self, indices: np.ndarray) -> np.ndarray:
        return indices[np.argsort(-self.confidence[indices], kind="stable")]


def verdicts_for(network, images: np.ndarray, labels: np.ndarray) -> Verdicts:
    from trainer.core.forward import predict_proba

    p = np.concatenate(
        [predict_proba(network, images[i : i + 1000]) for i in range(0, len(images), 1000)]
    )
    said = p.argmax(axis=1)
    return Verdicts(
        images, labels, said, p[np.arange(len(p)), said], confusion_matrix(labels, said, p.shape[1])
    )


def cell_title(true: int, said: int) -> str:
    if true == said:
        return f"{true}s read right"
    return f"{true}s read as {plots.output_name(said)}"


class _Evaluation(QObject):
    done = Signal(object, str)  # Verdicts or None, error

    def start(self, network) -> None:
        threading.Thread(
            target=self._run, args=(network,), name="digitpad-mistakes", daemon=True
        ).start()

    def _run(self, network) -> None:
        from trainer.data.mnist import load_mnist

        try:
            mnist = load_mnist(download=False)
            self.done.emit(verdicts_for(network, mnist.test_images, mnist.test_labels), "")
        except Exception as exc:  # no MNIST, a broken model: a message in the window
            self.done.emit(None, str(exc) or type(exc).__name__)


def _thumbnail(x: np.ndarray) -> QIcon:
    ink = (255 - np.clip(x, 0, 1) * 220).astype(np.uint8).reshape(28, 28)
    image = QImage(ink.tobytes(), 28, 28, 28, QImage.Format.Format_Grayscale8).copy()
    return QIcon(QPixmap.fromImage(image).scaled(THUMBNAIL, THUMBNAIL))


class DigitBrowser(QListWidget):
    """Thumbnails of some digits of a :class:`Verdicts`, each with "true → said" and the
    confidence; :attr:`digitClicked` gives the clicked digit's index."""

    digitClicked = Signal(int)
    LIMIT = 500  # thumbnails shown at most

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("digitBrowser")
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.setGridSize(QSize(THUMBNAIL + 44, THUMBNAIL + 40))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setWordWrap(True)
        self.itemClicked.connect(
            lambda item: self.digitClicked.emit(int(item.data(Qt.ItemDataRole.UserRole)))
        )

    def show_digits(self, verdicts: Verdicts, indices: np.ndarray) -> None:
        self.clear()
        for i in indices[: self.LIMIT]:
            label, chosen = int(verdicts.labels[i]), int(verdicts.said[i])
            confidence = 100 * verdicts.confidence[i]
            item = QListWidgetItem(
                _thumbnail(verdicts.images[i]),
                f"{label} → {plots.output_tick(chosen)}\n{confidence:.0f} %",
            )
            item.setData(Qt.ItemDataRole.UserRole, int(i))
            item.setToolTip(
                f"Digit #{i}: a {label}, read as {plots.output_name(chosen)} with "
                f"{confidence:.1f} % confidence"
            )
            item.setForeground(QColor(plots.TEXT_COLOR))
            self.addItem(item)


class MistakesDialog(QDialog):
    """The confusion matrix and the wrong test digits; :attr:`digitChosen` gives
    (input, caption) for the network view."""

    digitChosen = Signal(object, str)

    def __init__(self, network, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mistakesDialog")
        self.setWindowTitle("Mistakes on the MNIST test set")
        self.network = network
        self.results: Verdicts | None = None
        self.summary = QLabel("Reading MNIST's 10 000 test digits…")
        self.summary.setWordWrap(True)
        self.matrix_plot = ConfusionMatrixPlot()
        self.matrix_plot.cellClicked.connect(self.show_cell)
        matrix_note = QLabel(
            "Rows: the true digit. Columns: what the network said. Green: "
            "right, orange: wrong. Click a cell to list its digits."
        )
        matrix_note.setWordWrap(True)
        matrix_note.setStyleSheet("color: #4a5260;")
        self.list_label = QLabel("Mistakes, most confident first:")
        self.list_label.setObjectName("mistakesListLabel")
        self.browser = DigitBrowser()
        self.browser.setObjectName("mistakesBrowser")
        self.browser.digitClicked.connect(self.choose)
        self.all_button = QPushButton("Show all mistakes")
        self.all_button.clicked.connect(lambda: self.show_cell(None, None))

        left = QVBoxLayout()
        left.addWidget(self.matrix_plot, 1)
        left.addWidget(matrix_note)
        right = QVBoxLayout()
        header = QHBoxLayout()
        header.addWidget(self.list_label, 1)
        header.addWidget(self.all_button)
        right.addLayout(header)
        right.addWidget(self.browser, 1)
        right.addWidget(
            QLabel("Click a digit to see it inside the network (View ▸ Inside the network).")
        )
        body = QHBoxLayout()
        body.addLayout(left, 1)
        body.addLayout(right, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(self.summary)
        outer.addLayout(body, 1)
        self.resize(900, 520)
        self._evaluation = _Evaluation(self)
        self._evaluation.done.connect(self._evaluated)
        self._evaluation.start(network)

    def is_ready(self) -> bool:
        return self.results is not None

    def _evaluated(self, results: Verdicts | None, error: str) -> None:
        if results is None:
            self.summary.setText(f"Cannot measure the mistakes: {error}")
            return
        self.results = results
        right = int(np.trace(results.matrix[:, :10]))
        total = len(results.labels)
        self.summary.setText(
            f"This model reads {right:,} of the {total:,} MNIST test digits right "
            f"({100 * right / total:.2f} %) and gets {total - right:,} wrong."
        )
        self.matrix_plot.set_matrix(results.matrix)
        self.show_cell(None, None)

    def show_cell(self, true: int | None, said: int | None) -> None:
        """List the mistakes of one cell (true digit, chosen output), or all of them."""
        if self.results is None:
            return
        if true is None:
            what, indices = "All mistakes", self.results.mistakes()
        else:
            what, indices = cell_title(true, said), self.results.cell(true, said)
        self.list_label.setText(f"{what}, most confident first: {len(indices)}")
        self.browser.show_digits(self.results, indices)

    def choose(self, index: int) -> None:
        """Show test digit ``index`` in the network view."""
        label, chosen = int(self.results.labels[index]), int(self.results.said[index])
        caption = f"MNIST test digit #{index}, a {label} read as {plots.output_name(chosen)}"
        self.digitChosen.emit(self.results.images[index], caption)


def open_mistakes(window) -> MistakesDialog | None:
    """Open a :class:`MistakesDialog` for ``window``'s model; its digits go to the network view."""
    network = window.model.network
    if network is None:
        return None
    dialog = MistakesDialog(network, window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def show(x, caption: str) -> None:
        view = window.network_view
        view.show()
        view.raise_()
        view.show_input(network, x, caption)

    dialog.digitChosen.connect(show)
    dialog.show()
    return dialog
