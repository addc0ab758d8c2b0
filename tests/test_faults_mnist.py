"""Fault injection, MNIST downloads: a local mirror on 127.0.0.1 serves every kind of bad file and
bad transfer; each download ends in a message naming the file, the mirror and the problem, and
nothing bad is ever left in the cache — not even after the downloading process is SIGKILLed.

The IDX-level faults in a local folder (truncated gzip, wrong magic number, wrong counts,
image/label count mismatch, checksum mismatch) are in ``tests/test_mnist.py``;
``tests/test_mnist_download.py`` has the basic cut/wrong/missing mirrors. Here: the same faults
*served* by a mirror, transfer faults (reset, stall, no length), a killed download, the app's
download dialog cancelled over and over, bad MNIST reaching ``digitpad-train`` and the retrain
dialog, and a folder of gzip bombs refused before they are held.
"""

from __future__ import annotations

import functools
import gzip
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from event_loop import Heartbeat
from hostile_inputs import run_measured, write_gzip_bomb
from local_mirror import LocalServer, isolate_downloads, real_gz_files, send, send_slowly

from trainer.data import mnist_download
from trainer.data.mnist import MNIST_FILES, MnistError, find_mnist_dir, load_mnist
from trainer.data.mnist_download import MIRRORS_ENV, download_mnist

REPO = Path(__file__).resolve().parents[1]
FIRST = f"{MNIST_FILES[0]}.gz"  # the file every download starts with


def _idx(
    name: str, count: int, *, magic: int | None = None, header_count: int | None = None
) -> bytes:
    """A well-formed (but not genuine) IDX file for ``name`` with ``count`` items."""
    if "images" in name:
        head = struct.pack(
            ">IIII",
            2051 if magic is None else magic,
            count if header_count is None else header_count,
            28,
            28,
        )
        return head + bytes(count * 784)
    head = struct.pack(
        ">II", 2049 if magic is None else magic, count if header_count is None else header_count
    )
    return head + bytes(i % 10 for i in range(count))


@functools.cache
def _bad_content(kind: str, name: str) -> bytes:
    """The body a mirror of ``kind`` serves for ``name`` (a ``.gz`` file name)."""
    base = name[:-3]
    count = 60000 if base.startswith("train") else 10000
    if kind == "truncated-gzip":
        whole = gzip.compress(_idx(base, 100), mtime=0)
        return whole[: len(whole) // 2]
    if kind == "wrong-magic":
        return gzip.compress(_idx(base, 100, magic=2052), mtime=0)
    if kind == "wrong-counts":
        return gzip.compress(_idx(base, 100, header_count=count), mtime=0)
    if kind == "count-mismatch":  # every file plausible on its own, labels one short
        return gzip.compress(_idx(base, count - ("labels" in base)), compresslevel=1, mtime=0)
    if kind == "checksum":  # right structure and counts, not MNIST's bytes
        return gzip.compress(_idx(base, count), compresslevel=1, mtime=0)
    if kind == "html":  # a captive portal's "200 OK"
        return b"<!doctype html><html><body>Please sign in to the Wi-Fi</body></html>"
    raise ValueError(kind)


#: kind -> a phrase the error message gives for it.
CONTENT_FAULTS = {
    "truncated-gzip": "not a complete gzip file",
    "wrong-magic": "checksum mismatch",
    "wrong-counts": "checksum mismatch",
    "count-mismatch": "checksum mismatch",
    "checksum": "checksum mismatch",
    "html": "not a complete gzip file",
}
TRANSFER_FAULTS = {
    "cut": "transfer cut off",  # announces the full length, sends half, closes
    "cut-no-length": "not a complete gzip file",  # no Content-Length, half the body, closes
    # half the body, then a TCP reset: whether the reset or the short body is seen first is up to
    # the kernel's timing, and either is a true account of what happened
    "reset": ("transfer failed", "transfer cut off"),
    "stall": "no answer within",  # half the body, then silence
    "missing": "HTTP error 404",
}


def _says(reason: str | tuple[str, ...], text: str) -> bool:
    """Whether ``text`` gives the reason (or one of the reasons) expected for a fault."""
    return any(r in text for r in ((reason,) if isinstance(reason, str) else reason))


class FaultyMirror(LocalServer):
    """A mirror on 127.0.0.1 with one URL prefix per fault (``/good/``, ``/cut/``, …)."""

    def __init__(self, real: dict[str, bytes] | None) -> None:
        self.real = real or {}
        self.release = threading.Event()  # ends every stall
        super().__init__()

    def answer(self, handler, kind: str, name: str) -> None:
        real_body = self.real.get(name)
        body = real_body if real_body is not None else _bad_content("checksum", name)
        if kind == "good" and real_body is not None:
            send(handler, body)
        elif kind in CONTENT_FAULTS:
            send(handler, _bad_content(kind, name))
        elif kind == "cut":
            send(handler, body[: len(body) // 2], length=len(body))
        elif kind == "cut-no-length":
            send(handler, body[: len(body) // 2], length=None)
        elif kind == "reset":
            send(handler, body[: len(body) // 2], length=len(body), flush=True)
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        elif kind == "stall":
            send(handler, body[:65536], length=len(body), flush=True)
            self.release.wait(30)
        elif kind == "slow":
            send_slowly(handler, body, pause=0.02)
        else:
            handler.send_error(404)

    def close(self) -> None:
        self.release.set()
        super().close()


@pytest.fixture(scope="module")
def real_files(mnist_dir) -> dict[str, bytes]:
    return real_gz_files(mnist_dir)


@pytest.fixture
def mirror(real_files):
    server = FaultyMirror(real_files)
    yield server
    server.close()


@pytest.fixture
def needs_real(real_files):
    return real_files


@pytest.fixture(autouse=True)
def cache(monkeypatch, tmp_path) -> Path:
    """The user's MNIST cache, in tmp_path; 127.0.0.1 reached without a proxy."""
    return isolate_downloads(monkeypatch, tmp_path)


def _left_in(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


@pytest.mark.parametrize("kind", [*CONTENT_FAULTS, *TRANSFER_FAULTS])
def test_bad_mirror_is_reported_and_leaves_nothing(mirror, cache, kind):
    reason = {**CONTENT_FAULTS, **TRANSFER_FAULTS}[kind]
    with pytest.raises(MnistError) as caught:
        download_mnist(cache, mirrors=[mirror.url(kind)], progress=lambda *a: None, timeout=1.0)
    message = str(caught.value)
    assert f"could not download {FIRST} into {cache}" in message
    assert f"{mirror.url(kind)}{FIRST}: " in message and _says(reason, message), message
    assert _left_in(cache) == []


def test_load_mnist_through_every_bad_mirror_leaves_the_cache_empty(mirror, cache, monkeypatch):
    kinds = [*CONTENT_FAULTS, *TRANSFER_FAULTS]
    monkeypatch.setenv(MIRRORS_ENV, " ".join(mirror.url(kind) for kind in kinds))
    monkeypatch.setattr(
        mnist_download,
        "download_mnist",
        lambda *a, **k: download_mnist(*a, **{**k, "timeout": 1.0}),
    )
    with pytest.raises(MnistError) as caught:
        load_mnist(progress=lambda *a: None)
    message = str(caught.value)
    lines = message.splitlines()
    for kind in kinds:  # every mirror is listed with its own reason
        line = next(line for line in lines if f"{mirror.url(kind)}{FIRST}: " in line)
        assert _says({**CONTENT_FAULTS, **TRANSFER_FAULTS}[kind], line), line
    assert _left_in(cache) == []
    assert find_mnist_dir() is None


def test_bad_mirrors_then_a_good_one_fill_the_cache_with_verified_files_only(
    mirror, cache, monkeypatch, needs_real
):
    kinds = ["html", "cut", "checksum", "reset", "good"]
    monkeypatch.setenv(MIRRORS_ENV, " ".join(mirror.url(kind) for kind in kinds))
    data = load_mnist(progress=lambda *a: None)
    assert _left_in(cache) == sorted(f"{name}.gz" for name in MNIST_FILES)
    for name in MNIST_FILES:
        assert (cache / f"{name}.gz").read_bytes() == needs_real[f"{name}.gz"]
    assert data.train_images.shape == (60000, 784) and data.source_dir == cache


def test_a_killed_download_leaves_nothing_that_is_ever_read(mirror, cache):
    """SIGKILL while a file streams in: only a hidden ``.part.gz`` is left, which is never taken
    for MNIST; the next download (here: from a mirror that has nothing) deletes it once stale."""
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom trainer.data.mnist_download import download_mnist\n"
            "def progress(done, total, name):\n"
            "    if done: print('streaming', flush=True)\n"
            "download_mnist(sys.argv[1], mirrors=[sys.argv[2]], progress=progress)\n",
            str(cache),
            mirror.url("slow"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert child.stdout.readline().strip() == "streaming"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(30)
        child.stdout.close()
    left = _left_in(cache)
    assert (
        len(left) == 1
        and left[0].startswith(f".{MNIST_FILES[0]}.")
        and left[0].endswith(".part.gz")
    ), left
    assert find_mnist_dir() is None  # not taken for MNIST
    with pytest.raises(MnistError, match="lacks"):
        load_mnist(cache, download=False)

    with pytest.raises(MnistError):  # a fresh part file is left alone (it may be another's)
        download_mnist(cache, mirrors=[mirror.url("missing")], progress=lambda *a: None)
    assert _left_in(cache) == left
    stale = time.time() - 2 * mnist_download.STALE_PART_SECONDS
    os.utime(cache / left[0], (stale, stale))
    with pytest.raises(MnistError):
        download_mnist(cache, mirrors=[mirror.url("missing")], progress=lambda *a: None)
    assert _left_in(cache) == []


# --- the app's download dialog ------------------------------------------------------------------


def test_download_dialog_cancelled_again_and_again_stays_responsive(
    mirror, cache, monkeypatch, qtbot
):
    from digitpad.mnist_dialog import MnistDialog

    monkeypatch.setenv(MIRRORS_ENV, mirror.url("slow"))
    dialog = MnistDialog("MNIST is missing")
    qtbot.addWidget(dialog)
    dialog.show()
    heartbeat = Heartbeat()
    for delay_ms in (0, 0, 30, 150, 400):
        dialog.start_download()
        if delay_ms:
            qtbot.wait(delay_ms)
        dialog.cancel_download()
        dialog.cancel_download()  # a double click
        qtbot.waitUntil(
            lambda: not dialog.is_downloading() and dialog.download_button.isEnabled(),
            timeout=10000,
        )
        assert "cancelled" in dialog.status_label.text()
        assert dialog.isVisible() and dialog.result() != dialog.DialogCode.Accepted
        assert _left_in(cache) == []
    heartbeat.stop()
    assert heartbeat.max_gap < 0.5, f"the event loop stalled {heartbeat.max_gap:.3f} s"


def test_closing_the_download_dialog_on_a_stalled_mirror_does_not_freeze_the_app(
    mirror, cache, monkeypatch, qtbot
):
    """The server sends a little and then nothing: closing the dialog must not block the event
    loop until the transfer times out; the dialog closes as soon as the transfer ends."""
    from digitpad.mnist_dialog import MnistDialog

    monkeypatch.setenv(MIRRORS_ENV, mirror.url("stall"))
    dialog = MnistDialog("MNIST is missing")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.start_download()
    qtbot.waitUntil(lambda: "MB" in dialog.status_label.text(), timeout=10000)
    started = time.perf_counter()
    dialog.reject()  # Close, Esc or the window's close button
    assert time.perf_counter() - started < 0.5
    assert "Cancelling" in dialog.status_label.text()
    mirror.release.set()  # the transfer goes on, sees the cancel, stops
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10000)
    assert not dialog.is_downloading() and dialog.result() == dialog.DialogCode.Rejected
    assert _left_in(cache) == []


# --- bad MNIST reaching the trainer and the app -------------------------------------------------


def _bad_mnist_folder(folder: Path) -> Path:
    """Four files, one of them with a wrong magic number."""
    folder.mkdir(parents=True)
    for name in MNIST_FILES:
        content = _idx(name, 6, magic=2052 if name == "t10k-labels-idx1-ubyte" else None)
        (folder / f"{name}.gz").write_bytes(gzip.compress(content, mtime=0))
    return folder


def test_digitpad_train_refuses_bad_mnist_naming_the_file(tmp_path, capsys):
    from trainer.cli import train_cli

    folder = _bad_mnist_folder(tmp_path / "mnist")
    out = tmp_path / "model.npz"
    code = train_cli.main(
        [
            "--preset",
            "nielsen",
            "--epochs",
            "1",
            "--mnist-dir",
            str(folder),
            "--out",
            str(out),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"{folder / 't10k-labels-idx1-ubyte.gz'}: wrong magic number 2052" in err
    assert not out.exists()


def test_retrain_dialog_reports_bad_mnist_and_keeps_the_model(
    tmp_path, qtbot, app_user_data, app_random_model
):
    from digitpad.app import MainWindow

    window = MainWindow(app_random_model)
    qtbot.addWidget(window)
    old = window.model
    dialog = window.open_retrain_dialog()
    dialog.mnist_dir = _bad_mnist_folder(tmp_path / "mnist")
    dialog.set_preset("nielsen")
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.state() != "running", timeout=30000)
    assert dialog.outcome.status == "failed" and not dialog.outcome.usable
    assert "wrong magic number 2052" in dialog.result_label.text()
    assert "t10k-labels-idx1-ubyte.gz" in dialog.result_label.text()
    assert window.model is old and not (app_user_data / "model.npz").exists()
    dialog.close()


# --- a folder of gzip bombs ---------------------------------------------------------------------


def test_an_mnist_gzip_bomb_is_refused_before_it_is_held(tmp_path):
    bomb = write_gzip_bomb(tmp_path / "bomb.gz", 1024)  # 1 MB expanding to 1 GiB
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (folder / f"{name}.gz").symlink_to(bomb)
    done = run_measured(["-m", "trainer.cli.eval_cli", "--mnist-dir", str(folder), "--no-download"])
    assert done.returncode == 2, done.stderr
    assert "expands to more than any MNIST file" in done.stderr, done.stderr
    assert done.peak_mb < 400, done.peak_mb  # held all of it before
