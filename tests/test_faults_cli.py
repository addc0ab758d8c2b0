"""Fault injection, the command lines' edges (``digitpad-train``, ``digitpad-eval``; issue 17).
``--out`` pointing at special files, links to devices and unwritable places (refused before
training), temporaries of killed saves beside it, runs whose settings leave no data or need tens
of GB, and Ctrl-C / SIGTERM at any moment: one line and a documented exit status, never a
traceback. The personal fine-tune (``--from --my-digits``) with nothing to learn or a model of the
wrong shape exits 2 before training. Text from a file (a model's name, a drawing's source) reaches
the terminal escaped. How ``save_model`` itself treats links, special files and file modes is in
``tests/test_faults_saving.py``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_inputs import GOOD_LINE, digit_line, model_arrays, write_model

from trainer.cli import eval_cli, train_cli
from trainer.model_io import load_model

NO_MNIST = ["--mnist-dir", "/nonexistent/mnist", "--no-download"]
needs_mnist = pytest.mark.needs_mnist


def _train(capsys, *args) -> tuple[int, str]:
    code = train_cli.main(["--preset", "nielsen", *args, *NO_MNIST])
    return code, capsys.readouterr().err


# --- --out ----------------------------------------------------------------------------------------


def test_out_on_a_fifo_is_refused_before_training(tmp_path, capsys):
    fifo = tmp_path / "model.npz"
    os.mkfifo(fifo)
    code, err = _train(capsys, "--out", str(fifo))
    assert code == 2 and "not a regular file (a FIFO or a device)" in err, err
    assert "MNIST" not in err and fifo.is_fifo()


def test_out_on_a_link_to_a_device_is_refused_and_the_link_kept(tmp_path, capsys):
    link = tmp_path / "null.npz"
    link.symlink_to("/dev/null")
    code, err = _train(capsys, "--out", str(link))
    assert code == 2 and "not a regular file" in err, err
    assert link.is_symlink() and Path("/dev/null").is_char_device()


@pytest.mark.parametrize("case", ["a folder", "missing folder", "folder is a file"])
def test_an_out_that_cannot_be_written_is_refused_before_training(tmp_path, capsys, case):
    (tmp_path / "file").write_text("x")
    out = {
        "a folder": tmp_path,
        "missing folder": tmp_path / "no" / "m.npz",
        "folder is a file": tmp_path / "file" / "m.npz",
    }[case]
    code, err = _train(capsys, "--out", str(out))
    expected = {
        "a folder": "a folder; refusing to replace it",
        "missing folder": "does not exist",
        "folder is a file": "is not a folder",
    }[case]
    assert code == 2 and expected in err and "MNIST" not in err, err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any folder whatever its mode")
def test_an_out_in_a_read_only_folder_is_refused_before_training(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    code, err = _train(capsys, "--out", str(folder / "m.npz"))
    assert code == 2 and "is not writable" in err, err


def test_stale_temporaries_of_killed_saves_beside_out_are_removed(tmp_path, capsys):
    out = tmp_path / "model.npz"
    stale, young, other = (
        tmp_path / ".model.npz.k1ll3d.tmp",
        tmp_path / ".model.npz.n0w.tmp",
        tmp_path / ".other.npz.k1ll3d.tmp",
    )
    for file in (stale, young, other):
        file.write_bytes(b"\0" * 1000)
    an_hour_ago = time.time() - 3600
    for file in (stale, other):
        os.utime(file, (an_hour_ago, an_hour_ago))
    _train(capsys, "--out", str(out))
    assert not stale.exists()  # was left for good: 65-76 MB each after SIGKILL
    assert young.exists() and other.exists()  # maybe a save in progress; not ours


# --- settings that leave no data or need too much memory ------------------------------------------


@pytest.mark.parametrize(
    "args, words",
    [
        (["--validation-share", "0.99999999"], "fewer than one batch"),
        (["--validation-share", "1e-9"], "holds out no image"),
        (["--subset", "100", "--batch-size", "128"], "fewer than one batch of 128"),
        (["--hidden", ",".join(["8192"] * 40)], "40 hidden layers"),
        (["--hidden", "8192,8192"], "parameters"),
        (["--hidden", "4096,4096", "--batch-size", "50000"], "GiB of memory"),
    ],
)
def test_runs_the_data_or_memory_cannot_hold_are_refused_before_mnist(capsys, args, words):
    code, err = _train(capsys, *args)
    assert code == 2 and words in err and "MNIST" not in err, err
    assert err.count("\n") == 1


# --- signals --------------------------------------------------------------------------------------

_SAVER = """
import sys
from trainer.model_io import save_model
from trainer.core.network import Network

def main():
    network = Network([784, 1500, 1500, 10])
    print("saving", flush=True)
    while True:
        save_model(network, sys.argv[1])
"""


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_during_a_save_ends_with_one_line_and_no_temporary(tmp_path, signum, status):
    (tmp_path / "saver.py").write_text(_SAVER)
    out = tmp_path / "model.npz"
    script = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
        f"from trainer.cli.terminal import run_cli; sys.exit(run_cli('digitpad-train', 'saver'))"
    )
    for delay in (0.05, 0.13, 0.31):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(out)],
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert child.stdout.readline() == "saving\n"
        time.sleep(delay)
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
        assert child.returncode == status and "Traceback" not in err, err
        assert err.count("\n") == 1 and "digitpad-train: " in err
        assert not list(tmp_path.glob(".model.npz.*.tmp"))
        if out.exists():
            load_model(out)


@needs_mnist
@pytest.mark.parametrize(
    "delay, signum, status",
    [
        (0.4, signal.SIGINT, 130),
        (1.5, signal.SIGINT, 130),
        (4.0, signal.SIGINT, 130),
        (1.5, signal.SIGTERM, 143),
    ],
)
def test_the_real_command_interrupted_at_any_moment_says_one_line(tmp_path, delay, signum, status):
    command = Path(sys.executable).with_name("digitpad-train")
    if not command.exists():
        pytest.skip("the digitpad-train console script is not installed beside this Python")
    out = tmp_path / "m.npz"
    child = subprocess.Popen(
        [str(command), "--preset", "default", "--epochs", "1", "--quiet", "--out", str(out)],
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(delay)  # importing NumPy/Numba, reading MNIST, compiling or training
    child.send_signal(signum)
    _, err = child.communicate(timeout=120)
    assert child.returncode == status and "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and ("interrupted" in lines[-1] or "terminated" in lines[-1]), err
    assert not out.exists() and not list(tmp_path.glob("*.tmp"))


# --- the personal fine-tune (--from, --my-digits) -------------------------------------------------


@pytest.mark.parametrize(
    "content, reason",
    [
        ("", "the files hold no drawings"),
        (
            '{"label":"not-a-digit","strokes":[[[1,2],[3,4]]]}\n',
            'skipped: this model has no "not a digit" output',
        ),
    ],
)
def test_my_digits_with_nothing_learnable_exits_2_before_training(tmp_path, content, reason):
    """Before: the fine-tune ran on MNIST alone and saved a model as if it had learnt the
    writer's handwriting."""
    from trainer.core.network import Network
    from trainer.model_io import save_model

    model, mine, out = tmp_path / "model.npz", tmp_path / "mine.jsonl", tmp_path / "me.npz"
    save_model(Network([784, 16, 10]), model)
    mine.write_text(content)
    done = _fine_tune(model, mine, "--subset", "200", "--out", str(out))
    assert done.returncode == 2, done.stderr[-500:]
    assert "--my-digits: no drawing to learn from" in done.stderr and reason in done.stderr
    assert not out.exists()


def test_from_a_12_output_model_exits_2_naming_the_outputs(tmp_path):
    from trainer.core.network import Network
    from trainer.model_io import save_model

    model, mine = tmp_path / "twelve.npz", tmp_path / "mine.jsonl"
    save_model(Network([784, 16, 12]), model)
    mine.write_text(GOOD_LINE + "\n")
    done = _fine_tune(model, mine)
    assert done.returncode == 2, done.stderr[-500:]
    assert "maps 784 inputs to 12 outputs" in done.stderr
    assert "Traceback" not in done.stderr


def _fine_tune(model, mine, *more: str) -> subprocess.CompletedProcess:
    """``digitpad-train --from MODEL --my-digits MINE --preset personal --no-download`` (and
    ``more``) as a real process."""
    command = ["--from", str(model), "--my-digits", str(mine), "--preset", "personal"]
    return subprocess.run(
        [sys.executable, "-m", "trainer.cli.train_cli", *command, "--no-download", *more],
        capture_output=True,
        text=True,
        timeout=600,
    )


# --- text from files on the terminal --------------------------------------------------------------


def test_file_text_is_escaped_on_the_terminal(tmp_path, capsys):
    fake = "\x1b[2J\x1b[Hmodel OK on mnist-test: accuracy 99.99 % of 10000\n"
    model = write_model(tmp_path / "ansi.npz", model_arrays([784, 30, 10], name=fake))
    strokes = tmp_path / "ansi.jsonl"
    strokes.write_text(digit_line(40, source="\x1b]0;owned\x07\u202e"))
    assert eval_cli.main(["--model", str(model), "--strokes", str(strokes)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "\\x1b[2J" in out and "\\x1b]0;owned\\x07\\u202e" in out
    assert out.splitlines()[0].startswith("model \\x1b[2J") and "99.99" not in out.splitlines()[1]
