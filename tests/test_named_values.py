"""Run status, model source and the Retrain dialog's state are enums whose values are the words
saved in files and printed by ``--json``: the files and the output do not change."""

from __future__ import annotations

import json

from trainer.named_values import RunStatus


def test_a_run_status_is_saved_and_printed_as_its_word():
    from trainer.core import training

    assert json.dumps({"status": RunStatus.EARLY_STOPPED}) == '{"status": "early_stopped"}'
    assert f"{RunStatus.CANCELLED}" == str(RunStatus.CANCELLED) == "cancelled"
    assert RunStatus(training.DIVERGED) is RunStatus.DIVERGED
    assert {s.value for s in RunStatus} >= {
        training.COMPLETED,
        training.EARLY_STOPPED,
        training.CANCELLED,
        training.DIVERGED,
    }
    assert RunStatus.DIVERGED.title == "Training diverged"


def test_the_worker_outcome_always_holds_a_run_status():
    from digitpad.training_worker import TrainingOutcome

    assert TrainingOutcome("failed", "no MNIST").status is RunStatus.FAILED


def test_one_table_says_where_a_model_came_from(tmp_path):
    from digitpad.model_store import LoadedModel, ModelSource

    kept = LoadedModel(None, {}, tmp_path / "model.npz", "user")
    assert kept.source is ModelSource.USER and kept.name == "your kept model"
    assert LoadedModel(None, {}, None, ModelSource.SHIPPED).name == "the shipped model"
    assert LoadedModel(None, {}, tmp_path / "m.npz", ModelSource.EXPLICIT).name == "m.npz"
    assert LoadedModel(None, {"name": "mine"}, None, ModelSource.USER).name == "mine"
    assert LoadedModel(None).source is ModelSource.NONE and LoadedModel(None).name == "no model"
    assert [s.mark for s in ModelSource] == ["", "your kept model", "shipped", ""]


def test_the_retrain_dialog_state_is_an_enum(qtbot):
    from digitpad.retrain_dialog import DialogState, RetrainDialog

    dialog = RetrainDialog()
    qtbot.addWidget(dialog)
    assert dialog.state() is DialogState.IDLE and dialog.state() == "idle"
