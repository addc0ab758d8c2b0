"""Showing text that came from a file (a model's name, an error quoting its metadata, a path).

Qt guesses whether a label's or a message box's text is HTML (``Qt.AutoText``): a model named
``<h1>Model OK</h1>`` would be rendered as a heading, with images and colours if it likes. Every
widget that shows such text uses plain text instead, through these helpers.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget


def make_plain(label: QLabel) -> QLabel:
    """``label`` set to show its text literally, never as HTML; returns it."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def warn(parent: QWidget | None, title: str, text: str) -> None:
    """A modal warning box whose text is shown literally."""
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.exec()


def set_plain_tooltip(widget: QWidget, text: str) -> None:
    """A tooltip showing ``text`` literally (tooltips have no text format: Qt guesses HTML, so the
    text goes in as escaped HTML)."""
    widget.setToolTip(f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>" if text else "")
