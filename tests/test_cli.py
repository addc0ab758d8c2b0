"""digitpad-train and digitpad-eval, run as a user runs them (in a subprocess)."""

import gzip
import json
import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest

from trainer.config import NEGATIVES_SHARE
from trainer.model_io import load_model

PEN_DIGITS = Path(__file__).resolve().parents[2] / "shared/data/pen-digits-dev.jsonl.gz"
needs_mnist = pytest.mark.needs_mnist


def run(module, *args, env=None):
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("cli") / "nielsen.npz"
    done = run(
        "trainer.cli.train_cli",
        "--preset",
        "nielsen",
        "--epochs",
        "2",
        "--subset",
        "8000",
        "--json",
        "--out",
        str(out),
    )
    return done, out


@needs_mnist
def test_train_prints_keras_style_lines_and_a_json_summary(trained):
    done, out = trained
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("Epoch 1/2 - ") and "val_accuracy:" in lines[0]
    summary = json.loads(lines[-1])
    assert 0.8 < summary["test_accuracy"] <= 1.0
    assert summary["train_samples"] == 8000
    assert [e["epoch"] for e in summary["epochs"]] == [1, 2]
    for record in summary["epochs"]:
        assert {"seconds", "loss", "accuracy", "val_loss", "val_accuracy"} <= set(record)


@needs_mnist
def test_the_json_summary_counts_the_negatives_among_the_training_samples():
    done = run(
        "trainer.cli.train_cli",
        *("--preset", "nielsen", "--epochs", "1", "--subset", "900", "--negatives"),
        *("--quiet", "--json"),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    non_digits = round(900 * NEGATIVES_SHARE / (1 - NEGATIVES_SHARE))  # their share of the samples
    assert summary["train_samples"] == 900 + non_digits and non_digits > 100


@needs_mnist
def test_the_saved_model_carries_its_metadata(trained):
    _, out = trained
    network, metadata = load_model(out)
    assert network.layer_sizes == [784, 30, 10]
    assert metadata["training"]["preset"] == "nielsen"
    assert metadata["training"]["epochs"] == 2
    assert 0.8 < metadata["metrics"]["mnist_test_accuracy"] <= 1.0
    assert set(metadata["mnist_sha256"]) == {
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    }
    assert metadata["preprocessing_version"].startswith("strokes-")


@needs_mnist
def test_eval_reports_mnist_accuracy_as_json(trained):
    _, out = trained
    done = run("trainer.cli.eval_cli", "--model", str(out), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    _, metadata = load_model(out)
    assert report["n"] == 10000
    assert report["accuracy"] == pytest.approx(metadata["metrics"]["mnist_test_accuracy"])
    assert sum(map(sum, report["confusion"])) == 10000


@needs_mnist
@pytest.mark.skipif(not PEN_DIGITS.exists(), reason=f"{PEN_DIGITS} is not there")
def test_eval_on_strokes_reports_per_source(trained, tmp_path):
    _, out = trained
    sample = tmp_path / "sample.jsonl"
    with gzip.open(PEN_DIGITS, "rt") as source:
        sample.write_text("".join(line for _, line in zip(range(300), source)))
    done = run("trainer.cli.eval_cli", "--model", str(out), "--strokes", str(sample), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["n"] == 300
    assert sum(entry["n"] for entry in report["per_source"].values()) == 300
    assert 0.5 < report["accuracy"] <= 1.0


def test_bad_arguments_exit_2_with_a_message():
    done = run("trainer.cli.train_cli", "--preset", "nielsen", "--batch-size", "0")
    assert done.returncode == 2 and "batch size" in done.stderr
    done = run("trainer.cli.train_cli", "--hidden", "30,abc")
    assert done.returncode == 2 and "--hidden" in done.stderr


def test_missing_mnist_folder_exits_2_naming_it(tmp_path):
    done = run("trainer.cli.train_cli", "--mnist-dir", str(tmp_path / "nowhere"), "--epochs", "1")
    assert done.returncode == 2 and "nowhere" in done.stderr


def test_eval_refuses_a_corrupt_model_naming_it(tmp_path):
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(b"PK\x03\x04 definitely not a model")
    done = run("trainer.cli.eval_cli", "--model", str(bad))
    assert done.returncode == 2 and "corrupt.npz" in done.stderr


@needs_mnist
def test_train_without_out_says_it_saves_nothing_and_says_1_epoch(tmp_path):
    done = run(
        "trainer.cli.train_cli",
        "--preset",
        "nielsen",
        "--epochs",
        "1",
        "--subset",
        "2000",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    assert "1 epoch)" in done.stderr and "1 epochs" not in done.stderr + done.stdout
    assert "trained 1 epoch;" in done.stdout
    assert done.stderr.count("the trained model is not saved") == 1
    assert done.stdout.splitlines()[-1].startswith("No --out given: the trained model is not saved")


def test_eval_reads_only_the_test_set(tmp_path, monkeypatch, mnist_dir):
    """The two test files alone are enough: the training set is neither read nor downloaded."""
    mnist = mnist_dir
    only_test = tmp_path / "only-test"
    only_test.mkdir()
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (only_test / name).symlink_to(Path(mnist, name).resolve())
    done = run("trainer.cli.eval_cli", "--mnist-dir", str(only_test), "--no-download", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["n"] == 10000 and report["accuracy"] > 0.98


@pytest.mark.parametrize("module", ["trainer.cli.train_cli", "trainer.cli.eval_cli"])
def test_help_lists_every_option(module):
    """--help prints every option (a '%' in a help text once made argparse crash here)."""
    done = run(module, "--help")
    assert done.returncode == 0, done.stderr
    parser = import_module(module).build_parser()
    for action in parser._actions:
        for option in action.option_strings:
            assert option in done.stdout
