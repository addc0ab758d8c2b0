"""The Retrain dialog's form: one field per training setting, built from the settings declared in
``trainer.config`` (label, group, tooltip, kind of field).

Nothing about a setting is written here: a choice becomes a list, an on/off setting (or a share
that can be switched off) a check box, anything else a text field read by the setting's own
``parse``; whether a run is legal is decided by ``TrainingConfig.validate()``.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from digitpad.choice_names import choice_name
from trainer.config import Choice, ConfigError, Flag, TrainingConfig, settings


def _format_number(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


class SettingsForm(QWidget):
    """The settings of a ``TrainingConfig`` in group boxes; ``fields`` maps each setting's name to
    its widget (objectName ``field_<name>``)."""

    #: The user (or :meth:`set_field`) changed a field; filling the form from a config does not.
    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = {s.name: s for s in settings(TrainingConfig)}
        self._shown: dict[str, tuple[str, object]] = {}  # field -> (text shown, exact value)
        self._shares: dict[str, float] = {}  # switched share -> the config's own value
        self._loading = False
        self.fields: dict[str, QWidget] = {}
        groups: dict[str, QFormLayout] = {}
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        label_width = max(
            self.fontMetrics().horizontalAdvance(declared.label)
            for declared in self._settings.values()
        )
        for declared in self._settings.values():
            if declared.group not in groups:
                box = QGroupBox(declared.group)
                groups[declared.group] = QFormLayout(box)
                groups[declared.group].setFieldGrowthPolicy(
                    QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow
                )
                column.addWidget(box)
            widget = self._make_field(declared)
            if declared.tip:
                widget.setToolTip(declared.tip)
            widget.setObjectName(f"field_{declared.name}")
            self.fields[declared.name] = widget
            label_widget = QLabel(declared.label)
            label_widget.setMinimumWidth(label_width + 8)
            groups[declared.group].addRow(label_widget, widget)

    def _make_field(self, declared) -> QWidget:
        """A list for a choice, a check box for on/off and a switched share, else a text field."""
        if isinstance(declared.rule, Choice):
            box = QComboBox()
            for value in declared.rule.values:
                box.addItem(choice_name(value), value)
                box.setItemData(
                    box.count() - 1, f"{declared.name} = {value}", Qt.ItemDataRole.ToolTipRole
                )
            box.currentIndexChanged.connect(self._edited)
            return box
        if isinstance(declared.rule, Flag) or declared.switched is not None:
            check = QCheckBox("on")
            check.toggled.connect(self._edited)
            return check
        edit = QLineEdit()
        edit.textEdited.connect(self._edited)
        return edit

    def _edited(self, *_args) -> None:
        if not self._loading:
            self.edited.emit()

    def set_config(self, config: TrainingConfig) -> None:
        """Show ``config``'s values (without emitting ``edited``)."""
        self._loading = True
        try:
            for name, widget in self.fields.items():
                value = getattr(config, name)
                if isinstance(widget, QComboBox):
                    widget.setCurrentIndex(widget.findData(str(value)))
                elif isinstance(widget, QCheckBox):
                    widget.setChecked(bool(value))
                    if self._settings[name].switched is not None:
                        self._shares[name] = value
                else:
                    text = (
                        ", ".join(str(n) for n in value)
                        if isinstance(value, tuple)
                        else _format_number(value)
                    )
                    widget.setText(text)
                    self._shown[name] = (text, value)
        finally:
            self._loading = False

    def set_field(self, name: str, value) -> None:
        """Set one field from a Python value or text (for tests and scripting)."""
        widget = self.fields[name]
        if isinstance(widget, QComboBox):  # the trainer's name or the one shown
            index = widget.findData(str(value))
            widget.setCurrentIndex(index if index >= 0 else widget.findText(str(value)))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(value, (tuple, list)):
            widget.setText(", ".join(str(v) for v in value))
        else:
            widget.setText(str(value))
        self._edited()

    def config(self) -> TrainingConfig:
        """The ``TrainingConfig`` the form describes, validated; raises ``ConfigError`` (a
        ValueError) with a message naming the field."""
        values = {}
        for name, widget in self.fields.items():
            declared = self._settings[name]
            if isinstance(widget, QComboBox):
                values[name] = widget.currentData()
            elif declared.switched is not None:
                on = declared.switched_on(self._shares.get(name, 0.0))
                values[name] = on if widget.isChecked() else 0.0
            elif isinstance(widget, QCheckBox):
                values[name] = widget.isChecked()
            else:
                values[name] = self._parse(declared, widget.text())
        return TrainingConfig(**values).validate()

    def _parse(self, declared, text: str):
        shown = self._shown.get(declared.name)
        if shown is not None and text == shown[0]:
            return shown[1]  # untouched: the preset's exact value (1/6, not 0.166667)
        try:
            return declared.parse(text)
        except ConfigError as error:
            raise ConfigError(f"{declared.label}: {error}") from None
