"""Dialogs open tall enough for their wrapped text.

A ``QLabel`` that wraps needs more height the narrower it is, which ``QWidget.sizeHint`` does not
tell (``resize(480, 10)`` left the last lines hidden). :func:`fit_height` asks the layout how tall
the dialog must be at a width, and makes it at least that tall; call it again when a text changes.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def fit_height(dialog: QWidget, width: int | None = None) -> None:
    """Resize ``dialog`` to ``width`` (default: its current width) and at least the height its
    contents need at that width, never taller than its screen's free area."""
    width = width or dialog.width()
    layout = dialog.layout()
    needed = layout.totalHeightForWidth(width) if layout.hasHeightForWidth() else -1
    height = max(
        needed, layout.totalSizeHint().height(), dialog.height() if dialog.isVisible() else 0
    )
    screen = dialog.screen()
    if screen is not None:
        height = min(height, screen.availableGeometry().height() - 40)
    dialog.resize(width, height)
