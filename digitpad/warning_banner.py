"""The warning banner: a dismissable note under the output activations (e.g. a ``--model`` file
that could not be read), instead of a modal dialog that would interrupt the drawing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton

from digitpad.plain_text import make_plain

BANNER_STYLE = (
    "QFrame#warningBanner { background: #fff4d6; border: 1px solid #e8c766; "
    "border-radius: 6px; } QLabel { color: #5c4300; }"
)


class WarningBanner(QFrame):
    """Hidden until :meth:`show_message`; its ✕ hides it again. The text is always plain (it may
    quote a hostile model file) and selectable, so it can be copied into a bug report."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("warningBanner")
        self.setStyleSheet(BANNER_STYLE)
        self.label = make_plain(QLabel())
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dismiss = QToolButton()
        dismiss.setText("✕")
        dismiss.setAutoRaise(True)
        dismiss.setToolTip("Dismiss")
        dismiss.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(dismiss, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, message: str) -> None:
        self.label.setText(message)
        self.show()

    def message(self) -> str | None:
        """The warning shown, or ``None`` when the banner is hidden."""
        return self.label.text() if not self.isHidden() else None
