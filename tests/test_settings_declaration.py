"""Every training setting has one home: its declaration in ``trainer.config``, from which the
validation, ``digitpad-train``'s options and the Retrain dialog's form are all derived."""

from __future__ import annotations

import dataclasses

import pytest

from trainer import config
from trainer.cli import train_cli
from trainer.config import (
    NEGATIVES_SHARE,
    PERSONAL_NEGATIVES_SHARE,
    ConfigError,
    Range,
    TrainingConfig,
    setting,
    settings,
)


@dataclasses.dataclass(frozen=True)
class _Extended(TrainingConfig):
    """TrainingConfig with one more declared setting, as a future change would add it."""

    colour_depth: int = setting(
        3,
        Range(1, 8, whole=True),
        noun="the colour depth",
        label="Colour depth",
        group="Data",
        option="--colour-depth",
        help="bits per colour channel",
        tip="Bits per colour channel",
    )


@pytest.fixture
def extended(monkeypatch):
    """TrainingConfig replaced by _Extended everywhere the settings are read."""
    presets = {
        name: _Extended(**{f.name: getattr(p, f.name) for f in dataclasses.fields(p)})
        for name, p in config.PRESETS.items()
    }
    from digitpad import retrain_dialog, settings_form

    monkeypatch.setattr(config, "TrainingConfig", _Extended)
    monkeypatch.setattr(config, "PRESETS", presets)
    monkeypatch.setattr(train_cli, "PRESETS", presets)
    monkeypatch.setattr(settings_form, "TrainingConfig", _Extended)
    monkeypatch.setattr(retrain_dialog, "PRESETS", presets)
    return _Extended


def test_every_field_has_one_declaration():
    declared = [s.name for s in settings()]
    assert declared == [f.name for f in dataclasses.fields(TrainingConfig)]
    assert len({s.option for s in settings()}) == len(declared)
    assert len({s.label for s in settings()}) == len(declared)


def test_a_new_setting_is_validated(extended):
    assert extended(colour_depth=8).validate().colour_depth == 8
    with pytest.raises(ConfigError, match=r"the colour depth must be a whole number from 1 to 8"):
        extended(colour_depth=9).validate()


def test_a_new_setting_is_a_command_line_option(extended):
    parser = train_cli.build_parser()
    assert "--colour-depth COLOUR_DEPTH" in parser.format_help()
    assert "bits per colour channel" in parser.format_help()
    config_ = train_cli.config_from_args(parser.parse_args(["--colour-depth", "5"]))
    assert config_.colour_depth == 5
    with pytest.raises(ConfigError, match="the colour depth must be"):
        train_cli.config_from_args(parser.parse_args(["--colour-depth", "0"]))


def test_a_new_setting_is_a_field_of_the_retrain_dialog(extended, qtbot):
    from PySide6.QtWidgets import QLabel, QLineEdit

    from digitpad.retrain_dialog import RetrainDialog

    dialog = RetrainDialog()
    qtbot.addWidget(dialog)
    field = dialog.form.fields["colour_depth"]
    assert isinstance(field, QLineEdit) and field.toolTip() == "Bits per colour channel"
    assert "Colour depth" in [label.text() for label in dialog.findChildren(QLabel)]
    assert field.text() == "3"
    dialog.set_field("colour_depth", "6")
    assert dialog.config_from_form().colour_depth == 6
    dialog.set_field("colour_depth", "9")
    assert not dialog.start()
    assert "the colour depth must be a whole number from 1 to 8" in dialog.error_label.text()
    dialog.set_field("colour_depth", "deep")
    assert not dialog.start()
    assert dialog.error_label.text() == "Colour depth: 'deep' is not a whole number"


def test_the_command_line_help_shows_every_setting():
    """The help is derived from the declarations (it used to crash on the "10% of" of
    --negatives, which argparse read as a %-format)."""
    text = " ".join(train_cli.build_parser().format_help().split())
    for declared in settings():
        assert declared.option in text
        assert " ".join(declared.help_text().split()) in text
    assert "(20% of the samples, 5% in a personal fine-tune; the default preset has it on)" in text


def test_layer_sizes_are_parsed_in_one_place():
    assert config.parse_layer_sizes("512, 512") == (512, 512)
    assert config.parse_layer_sizes("30;10 5") == (30, 10, 5)
    with pytest.raises(ConfigError, match="give at least one hidden layer"):
        config.parse_layer_sizes(" , ")
    with pytest.raises(ConfigError, match="'30,x' is not a list of whole numbers"):
        config.parse_layer_sizes("30,x")


@pytest.mark.parametrize(
    ("preset", "flag", "share"),
    [
        ("personal", None, PERSONAL_NEGATIVES_SHARE),
        ("personal", "--negatives", PERSONAL_NEGATIVES_SHARE),
        ("personal", "--no-negatives", 0.0),
        ("nielsen", "--negatives", NEGATIVES_SHARE),
        ("default", None, NEGATIVES_SHARE),
    ],
)
def test_a_switched_share_keeps_the_presets_own_value_on_the_command_line(preset, flag, share):
    """The personal fine-tune's smaller share of negatives is not replaced by the full run's
    when the option is given; a preset without negatives gets the full share."""
    parser = train_cli.build_parser()
    args = parser.parse_args(["--preset", preset, *([flag] if flag else [])])
    assert train_cli.config_from_args(args).negatives == share


def test_a_switched_share_keeps_the_presets_own_value_in_the_retrain_dialog(qtbot):
    from digitpad.retrain_dialog import RetrainDialog

    dialog = RetrainDialog()
    qtbot.addWidget(dialog)
    dialog.set_preset("personal")
    assert dialog.config_from_form().negatives == PERSONAL_NEGATIVES_SHARE
    dialog.set_field("negatives", False)
    assert dialog.config_from_form().negatives == 0.0
    dialog.set_field("negatives", True)
    assert dialog.config_from_form().negatives == PERSONAL_NEGATIVES_SHARE
    dialog.set_preset("nielsen")
    dialog.set_field("negatives", True)
    assert dialog.config_from_form().negatives == NEGATIVES_SHARE
    dialog.set_preset("default")
    assert dialog.config_from_form().negatives == NEGATIVES_SHARE
