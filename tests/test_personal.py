"""Learning someone's handwriting: trainer/core/personal.py and digitpad-train --from --my-digits."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from trainer.config import PRESETS
from trainer.core.network import Network
from trainer.core.personal import COPIES, fine_tune, personal_set
from trainer.data.mnist import load_mnist
from trainer.data.pen_digits import NOT_A_DIGIT, PenDigit, write_pen_digits
from trainer.model_io import load_model, save_model
from trainer.strokes.strokes_to_input import strokes_to_input

needs_mnist = pytest.mark.needs_mnist

BAR = ((10.0, 50.0), (90.0, 50.0))  # a horizontal bar: no digit looks like it
CROSS = (((10.0, 10.0), (90.0, 90.0)), ((90.0, 10.0), (10.0, 90.0)))


def drawings():
    return [
        PenDigit(4, (BAR,)),
        PenDigit(4, ((BAR[0], (90.0, 55.0)),)),
        PenDigit(NOT_A_DIGIT, CROSS),
    ]


def test_not_a_digit_trains_the_eleventh_unit_or_is_skipped_with_a_note():
    eleven = personal_set(drawings(), 11)
    assert eleven.labels.tolist() == [4, 4, 10] and eleven.skipped == ()
    np.testing.assert_array_equal(eleven.images[2], strokes_to_input(CROSS))
    ten = personal_set(drawings(), 10)
    assert ten.labels.tolist() == [4, 4]
    assert ten.skipped == (
        '1 "not a digit" drawing(s) skipped: this model has no "not a digit" output',
    )


@needs_mnist
def test_the_fine_tune_learns_the_users_drawings():
    network = Network([784, 64, 10], seed=1)
    bar = strokes_to_input((BAR,))
    mine = personal_set(drawings(), 10)
    # a small untrained network needs bigger steps than the preset's to learn in 14 steps
    config = PRESETS["personal"].replace(train_subset=500, learning_rate=3e-3)
    result = fine_tune(network, mine, load_mnist(), config)
    assert result.usable, result.message
    assert len(mine.labels) * COPIES + 500 == 580
    assert network.predict(bar) == 4  # a bar is no 4 but this user says it is


def run_train(*args):
    return subprocess.run(
        [sys.executable, "-m", "trainer.cli.train_cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_personal_preset_needs_a_model_to_start_from():
    done = run_train("--preset", "personal", "--my-digits", "x.jsonl")
    assert done.returncode == 2
    assert "the personal preset fine-tunes a model: give --from MODEL.npz" in done.stderr


def test_a_bad_drawings_file_exits_2_naming_the_line(tmp_path):
    model = tmp_path / "model.npz"
    save_model(Network([784, 16, 10]), model)
    bad = tmp_path / "mine.jsonl"
    bad.write_text('{"label": 3, "strokes": [[[1, 2]]]}\n{"label": "seven"}\n')
    done = run_train("--from", str(model), "--my-digits", str(bad), "--preset", "personal")
    assert done.returncode == 2
    assert f"{bad}, line 2: 'label' must be an integer 0-9 or 'not-a-digit'" in done.stderr


@needs_mnist
def test_digitpad_train_fine_tunes_a_model_on_my_digits(tmp_path):
    model, out, mine = tmp_path / "model.npz", tmp_path / "me.npz", tmp_path / "mine.jsonl.gz"
    save_model(Network([784, 48, 10], seed=2), model, {"name": "start"})
    write_pen_digits(mine, drawings())
    done = run_train(
        "--from",
        str(model),
        "--my-digits",
        str(mine),
        "--my-digits",
        str(mine),
        "--preset",
        "personal",
        "--subset",
        "400",
        "--out",
        str(out),
        "--json",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    assert '2 "not a digit" drawing(s) skipped' in done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["preset"] == "personal" and summary["seconds"] > 0
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert "on 560 images" in done.stderr  # 4 drawings x COPIES + 400 MNIST
    network, metadata = load_model(out)
    assert network.layer_sizes == [784, 48, 10]
    assert metadata["training"]["hidden_layers"] == [48]
    assert metadata["training"]["preset"] == "personal"
    start, _ = load_model(model)
    assert not np.array_equal(start.weights[0], network.weights[0])


def test_digitpad_eval_reads_an_exported_collection_leaving_out_not_a_digit(tmp_path):
    mine = tmp_path / "mine.jsonl"
    write_pen_digits(mine, drawings())
    done = subprocess.run(
        [sys.executable, "-m", "trainer.cli.eval_cli", "--strokes", str(mine), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["n"] == 2
