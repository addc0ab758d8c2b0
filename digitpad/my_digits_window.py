"""The "My digits" window: the user's collection as a grid of small renderings, grouped by label.

Each drawing shows as its 28×28 network input with its label; the current model's verdict is
written under it, and a misread is marked in red. Above the grid: how many drawings there are
per label and how many the current model reads right. Delete and relabel work on the selection
and are undoable (Ctrl+Z); File ▸ Export my digits… / Import… use the pen-digits format.

A collection of 10 000 drawings opens at once: the thumbnails are rendered only when the grid
paints them (then kept), and the verdicts are computed on a background thread; the grid and the
summary show them when they arrive.
"""

from __future__ import annotations

import threading
from collections import Counter

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QAction, QColor, QImage, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad.labelling import label_text
from digitpad.plain_text import warn
from trainer.data.collection import LABELS, Collection, CollectionError, Drawing
from trainer.data.pen_digits import NOT_A_DIGIT
from trainer.strokes.strokes_to_input import strokes_to_input

THUMBNAIL = 56
MISREAD_COLOR = QColor("#b3261e")
RIGHT_COLOR = QColor("#1d2430")
_ORDER = {label: position for position, label in enumerate(LABELS)}


class DrawingsModel(QAbstractListModel):
    """The drawings sorted by label; thumbnails rendered on demand, verdicts computed on a
    background thread (``verdictsReady`` when they are shown)."""

    verdictsReady = Signal()
    _computed = Signal(int, object)  # generation, verdicts (from the background thread)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.drawings: list[Drawing] = []
        self.verdicts: list[int | str | None] = []
        self._pixmaps: dict[str, QPixmap] = {}
        self._inputs: dict[str, np.ndarray] = {}
        self._generation = 0
        self._computed.connect(self._show_verdicts)

    def set_drawings(self, drawings: list[Drawing], network) -> None:
        self.beginResetModel()
        self.drawings = sorted(drawings, key=lambda d: _ORDER[d.label])
        self.verdicts = [None] * len(self.drawings)
        self.endResetModel()
        self._generation += 1
        if network is not None and self.drawings:
            threading.Thread(
                target=self._compute,
                name="my-digits-verdicts",
                daemon=True,
                args=(self._generation, list(self.drawings), network),
            ).start()

    def _compute(self, generation: int, drawings: list[Drawing], network) -> None:
        inputs = np.stack([self.input_of(d) for d in drawings])
        units = network.predict(inputs)
        self._computed.emit(generation, [int(u) if u < 10 else NOT_A_DIGIT for u in units])

    def _show_verdicts(self, generation: int, verdicts: list) -> None:
        if generation != self._generation:
            return  # the list changed meanwhile; a newer computation is under way
        self.verdicts = verdicts
        if self.drawings:
            self.dataChanged.emit(self.index(0), self.index(len(self.drawings) - 1))
        self.verdictsReady.emit()

    def input_of(self, drawing: Drawing) -> np.ndarray:
        if drawing.id not in self._inputs:
            image = strokes_to_input(drawing.strokes)
            self._inputs[drawing.id] = np.zeros(784, np.float32) if image is None else image
        return self._inputs[drawing.id]

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.drawings)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        drawing, verdict = self.drawings[index.row()], self.verdicts[index.row()]
        misread = verdict is not None and verdict != drawing.label
        if role == Qt.ItemDataRole.DisplayRole:  # always two lines: the items are of one size
            read = "…" if verdict is None else f"✗ read {label_text(verdict)}" if misread else "✓"
            return f"{label_text(drawing.label)}\n{read}"
        if role == Qt.ItemDataRole.DecorationRole:
            return self._pixmap(drawing)
        if role == Qt.ItemDataRole.ForegroundRole:
            return MISREAD_COLOR if misread else RIGHT_COLOR
        if role == Qt.ItemDataRole.ToolTipRole:
            read = "no verdict" if verdict is None else f"the model reads {label_text(verdict)}"
            return f"labelled {label_text(drawing.label)}; {read}; saved {drawing.time or '?'}"
        return None

    def _pixmap(self, drawing: Drawing) -> QPixmap:
        if drawing.id not in self._pixmaps:
            ink = (255 - 255 * self.input_of(drawing)).astype(np.uint8).reshape(28, 28)
            image = QImage(ink.tobytes(), 28, 28, 28, QImage.Format.Format_Grayscale8)
            self._pixmaps[drawing.id] = QPixmap.fromImage(
                image.scaled(
                    THUMBNAIL,
                    THUMBNAIL,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        return self._pixmaps[drawing.id]


class MyDigitsWindow(QDialog):
    """Browse, delete, relabel, import and export the user's drawings."""

    learnRequested = Signal()

    def __init__(self, collection: Collection, network=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("My digits")
        self.setObjectName("myDigitsWindow")
        self.collection, self.network = collection, network
        self.summary = QLabel()
        self.summary.setObjectName("myDigitsSummary")
        self.summary.setWordWrap(True)
        self.model = DrawingsModel(self)
        self.model.verdictsReady.connect(lambda: self.summary.setText(self.summary_text()))
        self.grid = QListView()
        self.grid.setObjectName("myDigitsGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setUniformItemSizes(True)
        self.grid.setIconSize(QSize(THUMBNAIL, THUMBNAIL))
        self.grid.setGridSize(QSize(THUMBNAIL + 60, THUMBNAIL + 44))
        self.grid.setWordWrap(True)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setModel(self.model)

        self.delete_action = self._action(
            "Delete", self.delete_selected, QKeySequence.StandardKey.Delete
        )
        self.undo_action = self._action("Undo", self.undo, QKeySequence.StandardKey.Undo)
        self.export_action = self._action("Export my digits…", self.export_dialog)
        self.import_action = self._action("Import…", self.import_dialog)
        relabel_menu = QMenu(self)
        for label in LABELS:
            relabel_menu.addAction(
                label_text(label), lambda chosen=label: self.relabel_selected(chosen)
            )
        relabel = QToolButton()
        relabel.setText("Relabel as…")
        relabel.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        relabel.setMenu(relabel_menu)
        buttons = QHBoxLayout()
        for action in (self.delete_action, self.undo_action):
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        buttons.addWidget(relabel)
        buttons.addStretch(1)
        for action in (self.import_action, self.export_action):
            button = QToolButton()
            button.setDefaultAction(action)
            buttons.addWidget(button)
        self.learn_button = QPushButton("Learn my handwriting…")
        self.learn_button.clicked.connect(self.learnRequested)
        buttons.addWidget(self.learn_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.grid, 1)
        layout.addLayout(buttons)
        self.resize(760, 520)
        self.setMinimumSize(680, 360)
        self.refresh()

    def _action(self, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def set_network(self, network) -> None:
        self.network = network
        self.refresh()

    def refresh(self) -> None:
        """Show the collection as it is in memory, with the current model's verdicts."""
        self.model.set_drawings(self.collection.drawings, self.network)
        self.undo_action.setEnabled(self.collection.can_undo)
        self.summary.setText(self.summary_text())

    def summary_text(self) -> str:
        drawings = self.model.drawings
        if not drawings:
            return (
                "No drawings yet. Draw a digit in the main window and press its key (or "
                "click its bar, or use “That's a…”) to add it here."
            )
        counts = Counter(d.label for d in drawings)
        per_label = " · ".join(
            f"{label_text(label)}: {counts[label]}" for label in LABELS if counts[label]
        )
        text = f"{len(drawings)} drawings ({per_label})."
        judged = [(d.label, v) for d, v in zip(drawings, self.model.verdicts) if v is not None]
        if not judged and self.network is not None:
            text += " The current model is reading them…"
        elif judged:
            right = sum(label == verdict for label, verdict in judged)
            text += (
                f" The current model reads {right} of them right "
                f"({100 * right / len(judged):.1f} %); misreads are marked ✗ in red."
            )
        return text

    def selected_ids(self) -> list[str]:
        return [
            self.model.drawings[index.row()].id
            for index in self.grid.selectionModel().selectedIndexes()
        ]

    def _changed(self, change) -> None:
        try:
            change()
        except CollectionError as error:
            warn(self, "My digits", str(error))
        self.refresh()

    def delete_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self._changed(lambda: self.collection.delete(ids))

    def relabel_selected(self, label) -> None:
        ids = self.selected_ids()
        if ids:
            self._changed(lambda: self.collection.relabel(ids, label))

    def undo(self) -> None:
        self._changed(self.collection.undo)

    def export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export my digits", "my-digits.jsonl.gz", "Pen digits (*.jsonl.gz *.jsonl)"
        )
        if path:
            self._changed(lambda: self.collection.export(path))

    def import_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import digits", "", "Pen digits (*.jsonl.gz *.jsonl);;All files (*)"
        )
        if path:
            self.import_file(path)

    def import_file(self, path) -> bool:
        """Add a pen-digits file's drawings; a bad file changes nothing and says why."""
        try:
            count = self.collection.import_file(path)
        except CollectionError as error:
            warn(self, "Cannot import", str(error))
            return False
        self.refresh()
        self.summary.setText(f"Imported {count} drawings. " + self.summary.text())
        return True
