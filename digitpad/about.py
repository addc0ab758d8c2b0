"""The informational dialogs: About DigitPad, Keyboard shortcuts, About this model."""

from __future__ import annotations

import html
import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad import model_store
from digitpad.choice_names import CHOICE_NAMES, choice_name
from digitpad.dialog_size import fit_height
from trainer.core.training import epochs_phrase

#: (keys, what they do), shown in the shortcuts dialog; the menus use the same key sequences.
SHORTCUTS = (
    ("Left mouse button / stylus / finger", "Draw"),
    ("Right-click on the canvas", "Erase the last stroke (same as Undo)"),
    ("Ctrl+Z", "Undo the last stroke"),
    ("Ctrl+Shift+Z (or Ctrl+Y)", "Redo"),
    ("Esc or Delete", "Clear the canvas (undoable)"),
    ("Ctrl+O", "Open a model file"),
    ("Ctrl+S", "Save the current model as…"),
    ("Ctrl+R", "Retrain…"),
    ("Ctrl+I", "About this model"),
    ("F1", "Keyboard shortcuts"),
    ("Ctrl+Q", "Quit"),
)


def _text_label(body_html: str, name: str) -> QLabel:
    label = QLabel(body_html)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setWordWrap(True)
    label.setOpenExternalLinks(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    label.setObjectName(name)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setContentsMargins(8, 8, 8, 8)
    return label


def _dialog(
    parent: QWidget | None,
    title: str,
    body_html: str,
    *,
    scroll: bool = False,
    details_html: str = "",
) -> QDialog:
    """A dialog showing ``body_html``; ``details_html``, if any, one click away below it."""
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    label = _text_label(body_html, "body")
    layout = QVBoxLayout(dialog)
    if scroll:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content = QWidget()
        column = QVBoxLayout(content)
        column.addWidget(label)
        if details_html:
            details = _text_label(details_html, "details")
            details.hide()
            toggle = QToolButton()
            toggle.setObjectName("detailsToggle")
            toggle.setText("Technical details")
            toggle.setCheckable(True)
            toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            toggle.setArrowType(Qt.ArrowType.RightArrow)
            toggle.setAutoRaise(True)

            def show_details(shown: bool) -> None:
                details.setVisible(shown)
                toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

            toggle.toggled.connect(show_details)
            column.addWidget(toggle)
            column.addWidget(details)
        column.addStretch(1)
        area.setWidget(content)
        layout.addWidget(area)
        dialog.setMinimumSize(380, 320)  # a scroll area alone would let it shrink to nothing
        dialog.resize(560, 560)
    else:
        layout.addWidget(label)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout.addWidget(buttons)
    if not scroll:
        fit_height(dialog, 520)
    return dialog


def about_dialog(parent: QWidget | None = None) -> QDialog:
    from digitpad import __version__

    return _dialog(
        parent,
        "About DigitPad",
        f"""
        <h2>DigitPad {html.escape(__version__)}</h2>
        <p>Draw a digit and watch a neural network read it live.</p>
        <p>The network is our own multilayer perceptron, written with NumPy and Numba
        (package <code>trainer</code>), trained on the MNIST database of handwritten digits
        (Y. LeCun, C. Cortes, C. J. C. Burges; CC BY-SA 3.0). Your drawing is kept as pen
        strokes and turned into a 28×28 image the way MNIST's digits were made.</p>
        <p>Licence: MIT. Built with Qt for Python (PySide6).</p>""",
    )


def shortcuts_dialog(parent: QWidget | None = None) -> QDialog:
    rows = "".join(
        f"<tr><td style='padding-right:18px'><b>{html.escape(k)}</b></td>"
        f"<td>{html.escape(v)}</td></tr>"
        for k, v in SHORTCUTS
    )
    return _dialog(parent, "Keyboard shortcuts", f"<table cellspacing='4'>{rows}</table>")


def _rows(pairs) -> str:
    return "".join(
        f"<tr><td style='padding-right:18px; color:#4a525c'>{html.escape(str(k))}</td>"
        f"<td>{html.escape(str(v))}</td></tr>"
        for k, v in pairs
    )


def _value_text(value, key: str = "") -> str:
    if isinstance(value, float) and "accuracy" in key and 0.0 <= value <= 1.0:
        return f"{100 * value:.2f}\u00a0%"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, str):
        return choice_name(value) if value in CHOICE_NAMES else value
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _setting_label(key: str) -> str:
    """The Retrain dialog's label for a training setting ("Learning rate η"), else the key in
    words ("mnist_test_loss" -> "MNIST test loss")."""
    from trainer.config import settings

    labels = {declared.name: declared.label for declared in settings()}
    words = key.replace("_", " ").replace("val ", "validation ").replace("mnist", "MNIST")
    return labels.get(key, words[:1].upper() + words[1:])


def _path_text(path) -> str:
    """A file path that can wrap after each folder (a zero-width space after every /)."""
    return str(path).replace("/", "/\u200b")


#: Metadata for the curious, shown under "Technical details": file format, checksums, versions.
TECHNICAL_KEYS = (
    "format",
    "format_version",
    "trainer_version",
    "preprocessing_version",
    "created",
    "mnist_sha256",
)


def model_info_html(loaded: model_store.LoadedModel) -> str:
    """Architecture, training settings and metrics of a model, from the network and its metadata.

    Reads the record ``digitpad-train`` and the retrain dialog write: ``training`` (the settings),
    ``metrics``, ``history`` (per epoch); anything else is listed under "More".
    """
    meta = dict(loaded.metadata or {})
    network = loaded.network
    parts = [f"<h3>{html.escape(loaded.name)}</h3>"]
    general = [
        ("File", _path_text(loaded.path) if loaded.path else "—"),
        ("Source", loaded.source.phrase),
    ]
    if network is not None:
        general.append(("Architecture", model_store.architecture_text(network)))
        general.append(("Parameters", f"{network.parameter_count:,}".replace(",", " ")))
    parts.append("<table>" + _rows(general) + "</table>")

    accuracy = model_store.model_accuracy(meta)
    metrics = [
        ("MNIST test accuracy", "unknown" if accuracy is None else f"{100 * accuracy:.2f} %")
    ]
    if isinstance(meta.get("metrics"), dict):
        metrics += [
            (_setting_label(k), _value_text(v, k))
            for k, v in meta["metrics"].items()
            if k != "mnist_test_accuracy"
        ]
    parts.append("<h4>Metrics</h4><table>" + _rows(metrics) + "</table>")

    settings = meta.get("training")
    if isinstance(settings, dict) and settings:
        parts.append(
            "<h4>Training settings</h4><table>"
            + _rows((_setting_label(k), _value_text(v, k)) for k, v in settings.items())
            + "</table>"
        )
    history = meta.get("history")
    if isinstance(history, list) and history:
        parts.append(f"<p>Trained for {epochs_phrase(len(history))}.</p>")
    shown = {
        "name",
        "training",
        "metrics",
        "history",
        "layer_sizes",
        "init",
        "hidden_activation",
        "output_activation",
        "cost",
        *TECHNICAL_KEYS,
    }
    other = [
        (k.replace("_", " "), _value_text(v, k))
        for k, v in meta.items()
        if k not in shown and not isinstance(v, dict)
    ]
    if other:
        parts.append("<h4>More</h4><table>" + _rows(other) + "</table>")
    return "".join(parts)


def model_technical_html(loaded: model_store.LoadedModel) -> str:
    """The file format, versions and checksums, and any other structured metadata, as is."""
    meta = dict(loaded.metadata or {})
    rows = [
        (k, json.dumps(v, indent=1, sort_keys=True) if isinstance(v, dict) else str(v))
        for k, v in meta.items()
        if k in TECHNICAL_KEYS or isinstance(v, dict) and k not in ("training", "metrics")
    ]
    return "".join(
        f"<p><b>{html.escape(k)}</b><br><code>{html.escape(v).replace(chr(10), '<br>')}</code></p>"
        for k, v in rows
    )


def model_info_dialog(loaded: model_store.LoadedModel, parent: QWidget | None = None) -> QDialog:
    return _dialog(
        parent,
        "About this model",
        model_info_html(loaded),
        scroll=True,
        details_html=model_technical_html(loaded),
    )
