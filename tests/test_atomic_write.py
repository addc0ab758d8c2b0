"""One atomic save for every file DigitPad writes whole (model, collection, pen-digit files, the
app's settings): the same file mode everywhere, the old file intact on failure, no leftovers."""

from __future__ import annotations

import os

import pytest

from trainer import atomic_write
from trainer.atomic_write import temporaries, write_atomically


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    yield
    os.umask(old)


def _save_model(path):
    from trainer.core.network import Network
    from trainer.model_io import save_model

    save_model(Network([784, 3, 10], seed=1), path)


def _save_pen_digits(path):
    from trainer.data.pen_digits import PenDigit, write_pen_digits

    write_pen_digits(path, [PenDigit(label=3, strokes=[[(0.0, 0.0), (5.0, 9.0)]])])


def _save_collection(path):
    from trainer.data.collection import Collection, new_drawing

    collection = Collection(path)
    collection.load()
    collection.append(new_drawing(1, [[(0, 0), (0, 30)]]))
    collection.append(new_drawing(7, [[(0, 0), (20, 0), (5, 30)]]))
    collection.delete([collection.drawings[0].id])  # a delete rewrites the whole file


def _save_settings(path, monkeypatch):
    from digitpad import settings

    monkeypatch.setattr(settings, "settings_path", lambda: path)
    settings.remember_mnist_dir(path.parent)


WRITERS = {
    "model.npz": _save_model,
    "digits.jsonl.gz": _save_pen_digits,
    "collection.jsonl": _save_collection,
}


@pytest.mark.parametrize("name", [*WRITERS, "settings.json"])
def test_every_writer_gives_a_new_file_the_umasks_mode_and_keeps_a_replaced_files(
    name, tmp_path, umask_027, monkeypatch
):
    path = tmp_path / name

    def save():
        if name == "settings.json":
            _save_settings(path, monkeypatch)
        else:
            WRITERS[name](path)

    save()
    assert path.stat().st_mode & 0o777 == 0o640  # 0666 less the umask, not tempfile's 0600
    os.chmod(path, 0o604)
    save()
    assert path.stat().st_mode & 0o777 == 0o604
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(b"old")
    seen = []

    def fail_half_way(stream):
        stream.write(b"new, but")
        seen.extend(temporaries)  # registered while it is written, for a signal's clean-up
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        write_atomically(path, fail_half_way)
    assert path.read_bytes() == b"old"
    assert len(seen) == 1 and seen[0].startswith(str(tmp_path / ".data.bin."))
    assert not temporaries and sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_the_rename_is_made_durable(tmp_path, monkeypatch):
    flushed = []
    monkeypatch.setattr(atomic_write, "fsync_directory", flushed.append)
    write_atomically(tmp_path / "x", lambda stream: stream.write(b"1"))
    assert flushed == [tmp_path] and (tmp_path / "x").read_bytes() == b"1"
