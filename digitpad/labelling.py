"""Saying what a drawing really is: the digit keys 0-9, a click on a digit's bar, or the
"That's a…" button (which also offers "not a digit").

The labelled drawing (its strokes, the label, the time and the canvas size) is appended to the
user's collection (``trainer.data.collection``), the canvas clears and the status bar says so
("Saved as 7 · 23 of your digits"). Corrections of misreads and confirmations count alike. If the
drawing cannot be saved, a message says why and the canvas keeps it, so nothing is lost.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolButton

from digitpad.plain_text import warn
from trainer.data.collection import Collection, CollectionError, new_drawing
from trainer.data.pen_digits import NOT_A_DIGIT

NOT_A_DIGIT_KEY = "N"
#: The bar of the "not a digit" output (after the ten digits).
NOT_A_DIGIT_ROW = 10


def label_text(label) -> str:
    """How a label reads on screen."""
    return "not a digit" if label == NOT_A_DIGIT else str(label)


class Labelling(QObject):
    """Labels the window's current drawing and saves it to ``collection``.

    ``window`` must have ``canvas`` (a DrawingCanvas) and ``activations`` (an ActivationPanel).
    """

    saved = Signal(object, int)  # the Drawing, how many drawings the collection now holds

    def __init__(self, window: QMainWindow, collection: Collection | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.collection = collection if collection is not None else Collection()
        self._loaded = False
        self.actions: dict[object, QAction] = {}
        for label in (*range(10), NOT_A_DIGIT):
            key = str(label) if label != NOT_A_DIGIT else NOT_A_DIGIT_KEY
            action = QAction(
                f"That's a {label_text(label)}" if label != NOT_A_DIGIT else "That's not a digit",
                window,
            )
            action.setShortcut(QKeySequence(key))
            action.setStatusTip("Save the drawing with this label in My digits")
            action.triggered.connect(lambda _checked=False, chosen=label: self.save(chosen))
            window.addAction(action)
            self.actions[label] = action
        menu = QMenu(window)
        menu.addActions([self.actions[d] for d in range(10)])
        menu.addSeparator()
        menu.addAction(self.actions[NOT_A_DIGIT])
        self.button = QToolButton()
        self.button.setObjectName("thatsAButton")
        self.button.setText("That's a…")
        self.button.setToolTip(
            "Tell DigitPad what you drew (or press its digit key, or click "
            "its bar): the drawing joins My digits"
        )
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setMenu(menu)
        self.button.setMinimumWidth(self.button.sizeHint().width())
        window.activations.bars.digitClicked.connect(
            lambda row: self.save(NOT_A_DIGIT if row == NOT_A_DIGIT_ROW else row)
        )

    def ensure_loaded(self) -> None:
        """Read the collection once (damaged lines are set aside and reported in the banner)."""
        if self._loaded:
            return
        self._loaded = True
        try:
            self.collection.load()
        except CollectionError as error:
            self.window.show_warning(f"My digits cannot be read: {error}")
            return
        if self.collection.damaged:
            self.window.show_warning(
                f"{len(self.collection.damaged)} damaged line(s) of My digits were set aside in "
                f"{self.collection.damaged_path} (the rest is intact)"
            )

    def save(self, label) -> bool:
        """Save the current drawing as ``label``; False (and a note) if there is nothing to save
        or it could not be saved."""
        canvas = self.window.canvas
        if canvas.is_empty() or canvas.is_drawing():
            self.window.statusBar().showMessage("Draw something first, then say what it is.", 4000)
            return False
        self.ensure_loaded()
        try:
            drawing = new_drawing(label, canvas.strokes(), (canvas.width(), canvas.height()))
            count = self.collection.append(drawing)
        except CollectionError as error:
            warn(
                self.window,
                "Cannot save the drawing",
                f"{error}\n\nThe drawing stays on the canvas.",
            )
            return False
        canvas.clear()
        self.window.statusBar().showMessage(
            f"Saved as {label_text(label)} · {count} of your digits", 6000
        )
        self.saved.emit(drawing, count)
        return True
