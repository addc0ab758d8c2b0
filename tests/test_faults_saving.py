"""Fault injection, saving: a disk that fills up, a folder that cannot be written, a process killed
in the middle of a save. The previous file is always intact, nothing half-written is ever taken for
a model, and the user is told. A save through a symbolic link replaces its target and keeps the
link, a save onto a FIFO is refused, and a replaced file keeps its mode.

Three levels of realism: an injected file object that raises ENOSPC after N bytes (anywhere in the
write, or at fsync or rename), the kernel's own limits (``RLIMIT_FSIZE`` → EFBIG, no privileges
needed) and a real 256 KiB tmpfs, mounted in a private user + mount namespace (``unshare -Urm``),
that fills up and is then remounted read-only (skipped where namespaces are not allowed).
``tests/test_model_io.py`` already has the simplest injected ENOSPC and EACCES cases.
"""

from __future__ import annotations

import errno
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from trainer import atomic_write, model_io
from trainer.core.network import Network
from trainer.model_io import ModelFileError, load_model, save_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def old_and_new(tmp_path):
    """An existing model file (the "previous" one) and a different network to save over it."""
    path = tmp_path / "model.npz"
    save_model(Network([784, 16, 10], seed=1), path, {"name": "previous"})
    return path, Network([784, 40, 10], seed=2)


def _assert_intact(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before
    _, metadata = load_model(path)
    assert metadata["name"] == "previous"
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []


class _FullDisk:
    """A file object on a device that fills up after ``room`` bytes: the write that crosses the
    limit writes what fits, then raises ENOSPC, as write(2) does."""

    def __init__(self, raw, room: int) -> None:
        self._raw, self._room = raw, room

    def write(self, data) -> int:
        data = memoryview(data).cast("B")
        if len(data) > self._room:
            self._raw.write(data[: self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._raw.write(data)

    def __getattr__(self, name):
        return getattr(self._raw, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self._raw.close()


def _fill_disk_after(monkeypatch, room: int):
    """From now on model files are written to a disk with ``room`` bytes free; returns a function
    that frees the disk again."""
    real_fdopen = os.fdopen
    monkeypatch.setattr(
        model_io.os, "fdopen", lambda *args, **kwargs: _FullDisk(real_fdopen(*args, **kwargs), room)
    )
    return lambda: monkeypatch.setattr(model_io.os, "fdopen", real_fdopen)


@pytest.mark.parametrize("room", [0, 1, 4096, "half", "all but one"])
def test_disk_full_anywhere_in_the_write_keeps_the_previous_file(old_and_new, monkeypatch, room):
    path, new = old_and_new
    before = path.read_bytes()
    size = 784 * 40 * 4 + 2000
    room = {"half": size // 2, "all but one": size - 1}.get(room, room)
    _fill_disk_after(monkeypatch, room)
    with pytest.raises(ModelFileError) as caught:
        save_model(new, path, {"name": "new"})
    message = str(caught.value)
    assert str(path) in message and "No space left on device" in message
    assert "previous file" in message and "unchanged" in message
    _assert_intact(path, before)


def test_disk_full_on_a_first_save_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    _fill_disk_after(monkeypatch, 10_000)
    with pytest.raises(ModelFileError, match="No space left"):
        save_model(Network([784, 16, 10]), path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "where, error",
    [
        ("fsync", OSError(errno.ENOSPC, "No space left on device")),  # delayed allocation
        ("fsync", OSError(errno.EIO, "Input/output error")),
        ("replace", OSError(errno.EXDEV, "Invalid cross-device link")),
        ("replace", PermissionError(errno.EACCES, "Permission denied")),
    ],
    ids=["fsync-ENOSPC", "fsync-EIO", "rename-EXDEV", "rename-EACCES"],
)
def test_failures_after_the_write_keep_the_previous_file(old_and_new, monkeypatch, where, error):
    path, new = old_and_new
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise error

    real = getattr(os, where)
    monkeypatch.setattr(model_io.os, where, fail)
    try:
        with pytest.raises(ModelFileError) as caught:
            save_model(new, path)
    finally:
        monkeypatch.setattr(model_io.os, where, real)
    assert str(path) in str(caught.value) and error.strerror in str(caught.value)
    _assert_intact(path, before)


_CHILD_PRELUDE = """
import sys
import numpy as np
from trainer.model_io import ModelFileError, load_model, save_model

class Net:
    '''What save_model needs of a network (a real Network takes a second to import and build).'''
    hidden_activation, output_activation, cost, init = "relu", "softmax", "cross_entropy", "he"

    def __init__(self, hidden, seed):
        rng = np.random.default_rng(seed)
        self.layer_sizes = [784, hidden, 10]
        self.weights = [rng.standard_normal((784, hidden), np.float32),
                        rng.standard_normal((hidden, 10), np.float32)]
        self.biases = [rng.standard_normal(hidden, np.float32), rng.standard_normal(10, np.float32)]

    def is_finite(self):
        return True
"""


def _run_child(body: str, *args, prefix=(), timeout=120) -> subprocess.CompletedProcess:
    script = _CHILD_PRELUDE + textwrap.dedent(body)
    return subprocess.run(
        [*prefix, sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
    )


def test_real_file_size_limit_keeps_the_previous_file(tmp_path):
    """The kernel refuses the write (RLIMIT_FSIZE → EFBIG), no injection involved."""
    done = _run_child(
        """
        import resource, signal
        path = sys.argv[1]
        save_model(Net(16, 1), path, {"name": "previous"})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
        try:
            save_model(Net(100, 2), path, {"name": "new"})  # ~320 KB
        except ModelFileError as error:
            print("refused:", error)
        network, metadata = load_model(path)
        print("loaded:", metadata["name"])
    """,
        tmp_path / "model.npz",
    )
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "File too large" in done.stdout
    assert str(tmp_path / "model.npz") in done.stdout
    assert "loaded: previous" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_real_tiny_filesystem_full_then_read_only(tmp_path):
    """A real 256 KiB tmpfs in a private namespace: the save that does not fit fails with ENOSPC,
    then the folder is remounted read-only and the save fails with EROFS; each time the previous
    model is intact and loads."""
    unshare = shutil.which("unshare")
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    probe = None
    if unshare:
        probe = subprocess.run(
            [
                unshare,
                "-Urm",
                "sh",
                "-c",
                f"mount -t tmpfs -o size=256k none {shlex.quote(str(mount_point))}",
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
    if not unshare or probe.returncode != 0:
        pytest.skip(
            "cannot mount a size-limited tmpfs here (needs util-linux unshare and "
            "unprivileged user namespaces): "
            + (probe.stderr.strip() if probe is not None else "no unshare")
        )
    done = _run_child(
        """
        import os, subprocess
        folder = sys.argv[1]
        path = os.path.join(folder, "model.npz")
        save_model(Net(16, 1), path, {"name": "previous"})  # ~50 KB: fits
        try:
            save_model(Net(100, 2), path, {"name": "new"})  # ~320 KB: does not
        except ModelFileError as error:
            print("full:", error)
        print("after full:", load_model(path)[1]["name"], sorted(os.listdir(folder)))
        subprocess.run(["mount", "-o", "remount,ro", folder], check=True)
        try:
            save_model(Net(8, 3), path, {"name": "newer"})
        except ModelFileError as error:
            print("read-only:", error)
        print("after read-only:", load_model(path)[1]["name"], sorted(os.listdir(folder)))
    """,
        mount_point,
        prefix=(
            unshare,
            "-Urm",
            "sh",
            "-c",
            f'mount -t tmpfs -o size=256k none {shlex.quote(str(mount_point))} && exec "$0" "$@"',
        ),
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "full:" in out and "No space left on device" in out
    assert "after full: previous ['model.npz']" in out
    assert "read-only:" in out and "Read-only file system" in out
    assert "after read-only: previous ['model.npz']" in out


@pytest.mark.skipif(
    os.geteuid() == 0,
    reason="root writes into any folder whatever its mode: "
    "the read-only tmpfs test and the injected EACCES cases cover this as root",
)
def test_real_unwritable_folder(old_and_new):
    path, new = old_and_new
    before = path.read_bytes()
    path.parent.chmod(0o555)
    try:
        with pytest.raises(ModelFileError, match="Permission denied"):
            save_model(new, path)
    finally:
        path.parent.chmod(0o755)
    _assert_intact(path, before)


# --- links, special files and file modes --------------------------------------------------------


def test_a_save_through_a_link_replaces_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "models" / "real.npz"
    target.parent.mkdir()
    save_model(Network([784, 5, 10], seed=1), target)
    link = tmp_path / "current.npz"
    link.symlink_to(target)
    save_model(Network([784, 5, 10], seed=2), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    np.testing.assert_array_equal(
        load_model(target)[0].weights[0], Network([784, 5, 10], seed=2).weights[0]
    )
    assert not list(tmp_path.rglob("*.tmp"))


@pytest.mark.parametrize(
    "umask, existing, expected",
    [(0o022, None, 0o644), (0o027, None, 0o640), (0o077, 0o644, 0o644), (0o022, 0o600, 0o600)],
)
def test_a_saved_model_keeps_the_mode_of_the_file_it_replaces(tmp_path, umask, existing, expected):
    path = tmp_path / "m.npz"
    if existing is not None:
        path.write_bytes(b"old")
        path.chmod(existing)
    old = os.umask(umask)
    try:
        save_model(Network([784, 5, 10]), path)
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == expected  # was always 0600


def test_model_file_error_is_what_a_refused_out_raises(tmp_path):
    os.mkfifo(tmp_path / "f")
    with pytest.raises(ModelFileError):
        save_model(Network([784, 5, 10]), tmp_path / "f")
    assert (tmp_path / "f").is_fifo()


# --- the app tells the user ---------------------------------------------------------------------


def test_save_as_on_a_full_disk_tells_the_user(window, old_and_new, monkeypatch, warnings_shown):
    from PySide6.QtWidgets import QFileDialog

    path, _ = old_and_new
    before = path.read_bytes()
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), ""))
    )
    _fill_disk_after(monkeypatch, 5000)
    window.save_action.trigger()  # File ▸ Save model as…
    assert len(warnings_shown) == 1
    title, text = warnings_shown[0]
    assert title == "Cannot save the model"
    assert str(path) in text and "No space left on device" in text and "unchanged" in text
    _assert_intact(path, before)


def test_save_as_into_an_unwritable_folder_tells_the_user(
    window, old_and_new, monkeypatch, warnings_shown
):
    path, _ = old_and_new
    before = path.read_bytes()

    def refuse(*args, **kwargs):  # what creating a file meets in a folder the user may not write to
        raise PermissionError(errno.EACCES, "Permission denied", str(path.parent))

    monkeypatch.setattr(atomic_write, "create_new", refuse)
    assert not window.save_model(path)
    title, text = warnings_shown[-1]
    assert str(path) in text and "Permission denied" in text
    _assert_intact(path, before)


def _decide(window):
    """The retrain dialog as a finished run leaves it: a usable new network, Keep offered."""
    from digitpad.training_worker import TrainingOutcome

    dialog = window.open_retrain_dialog()
    outcome = TrainingOutcome(
        "completed",
        "trained 1 epochs",
        network=Network([784, 24, 10], seed=9),
        metadata={"name": "retrained", "metrics": {"mnist_test_accuracy": 0.9}},
        test_accuracy=0.9,
        current_test_accuracy=0.1,
    )
    dialog._on_finished(outcome)  # what the worker's finished signal calls
    assert dialog.state() == "decide"
    return dialog, outcome


def test_keep_on_a_full_disk_keeps_the_previous_model_and_allows_a_retry(
    window, app_user_data, monkeypatch, warnings_shown
):
    from digitpad import model_store

    kept = model_store.keep_model(Network([784, 16, 10], seed=1), {"name": "previous"})
    before, current = kept.read_bytes(), window.model
    dialog, outcome = _decide(window)
    free_space = _fill_disk_after(monkeypatch, 20_000)
    assert not dialog.keep()
    title, text = warnings_shown[-1]
    assert title == "Could not save the model"
    assert str(kept) in text and "No space left on device" in text
    assert "Your previous model is unchanged" in text
    _assert_intact(kept, before)
    assert window.model is current and dialog.state() == "decide"  # the user may free space, retry
    free_space()
    assert dialog.keep()
    assert window.model.network is outcome.network
    assert load_model(kept)[1]["name"] == "retrained"
    dialog.close()


def test_keep_when_the_data_folder_cannot_be_made(window, app_user_data, warnings_shown):
    app_user_data.parent.mkdir(parents=True, exist_ok=True)
    app_user_data.write_text("a file where the folder should be")
    current = window.model
    dialog, _ = _decide(window)
    assert not dialog.keep()
    title, text = warnings_shown[-1]
    assert str(app_user_data) in text and "previous model is unchanged" in text
    assert window.model is current
    assert app_user_data.read_text() == "a file where the folder should be"
    dialog.discard()  # closing would ask first: the model is not kept
    dialog.close()


# --- SIGKILL in the middle of a save ------------------------------------------------------------


def test_sigkill_during_saves_always_leaves_the_last_good_model(tmp_path, monkeypatch):
    """A child saves two different networks alternately into one path as fast as it can; it is
    killed at random moments; after every kill the file loads as exactly one of the two, with the
    matching metadata. Leftover temporary files are never read, and start-up clears them once old."""
    path = tmp_path / "model.npz"
    loop = """
        import sys
        path = sys.argv[1]
        nets = [Net(192, 1), Net(192, 2)]
        i = 0
        while True:
            save_model(nets[i % 2], path, {"name": f"net-{i % 2}"})
            i += 1
            if i == 2:
                print("saving", flush=True)
    """
    references = {}
    for seed in (1, 2):
        r = np.random.default_rng(seed)
        references[f"net-{seed - 1}"] = r.standard_normal((784, 192), np.float32)
    random_delays = random.Random(7)
    kills, mid_save = 8, 0
    for _ in range(kills):
        child = subprocess.Popen(
            [sys.executable, "-c", _CHILD_PRELUDE + textwrap.dedent(loop), str(path)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        try:
            assert child.stdout.readline().strip() == "saving"
            time.sleep(random_delays.uniform(0.0, 0.15))
            child.send_signal(signal.SIGKILL)
        finally:
            child.kill()
            child.wait(30)
            child.stdout.close()
        leftovers = list(tmp_path.glob(".model.npz.*.tmp"))
        mid_save += bool(leftovers)
        network, metadata = load_model(path)
        assert np.array_equal(network.weights[0], references[metadata["name"]])
    print(f"{kills} kills, {mid_save} of them in the middle of a save (temporary file left)")
    assert mid_save >= 1, "no kill landed during a save: the test did not test anything"

    # A restart: the kept model loads, and old leftovers are cleared, young ones left alone.
    from digitpad import model_store

    monkeypatch.setattr(model_store, "user_model_path", lambda: path)
    monkeypatch.setattr(model_store, "shipped_model_path", lambda: tmp_path / "no-shipped.npz")
    leftovers = sorted(tmp_path.glob(".model.npz.*.tmp"))
    old = time.time() - 3600
    for leftover in leftovers[1:]:
        os.utime(leftover, (old, old))
    loaded = model_store.load_startup_model()
    assert loaded.source == "user" and loaded.warning is None
    assert sorted(tmp_path.glob(".model.npz.*.tmp")) == leftovers[:1]
