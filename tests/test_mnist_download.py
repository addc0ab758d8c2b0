"""Downloading MNIST (trainer/data/mnist_download.py), against mirrors served on 127.0.0.1.

The test server serves, under one prefix per kind of mirror: the real files (``/good/``), the same
cut off half-way (``/cut/``), a gzip file with the wrong content (``/wrong/``), nothing
(``/missing/``, 404) and the real files trickled slowly (``/slow/``). The real files come from
``DIGITPAD_MNIST_DIR``.
"""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Iterator

import local_mirror
import pytest

from trainer.data.mnist import MNIST_FILES, MnistError, load_mnist
from trainer.data.mnist_download import (
    DEFAULT_MIRRORS,
    MIRRORS_ENV,
    DownloadCancelled,
    download_mnist,
    mirror_list,
)

GZ_NAMES = [f"{name}.gz" for name in MNIST_FILES]


@pytest.fixture(autouse=True)
def isolated_mnist_env(monkeypatch, tmp_path):
    """No test touches the user's cache; 127.0.0.1 is reached without any proxy."""
    return local_mirror.isolate_downloads(monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def real_gz_files(mnist_dir) -> dict[str, bytes]:
    """The four real files as gzip bytes, keyed by ``NAME.gz``."""
    return local_mirror.real_gz_files(mnist_dir)


class MirrorServer(local_mirror.LocalServer):
    """A local HTTP server with one URL prefix per kind of mirror; records every request path."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        super().__init__()

    def answer(self, handler, kind: str, name: str) -> None:
        content = self.files.get(name)
        if kind == "missing" or content is None:
            handler.send_error(404)
        elif kind == "good":
            local_mirror.send(handler, content)
        elif kind == "cut":
            local_mirror.send(handler, content[: len(content) // 2], length=len(content))
        elif kind == "wrong":
            local_mirror.send(handler, gzip.compress(b"this is not MNIST"))
        elif kind == "slow":
            local_mirror.send_slowly(handler, content, pause=0.05)


@pytest.fixture
def server(real_gz_files) -> Iterator[MirrorServer]:
    mirror = MirrorServer(real_gz_files)
    yield mirror
    mirror.close()


def test_good_mirror_after_bad_ones_succeeds(server, real_gz_files, tmp_path):
    dest = tmp_path / "dest"
    calls: list[tuple[int, int, str]] = []
    kinds = ["missing", "cut", "wrong", "good"]
    result = download_mnist(
        dest, mirrors=[server.url(kind) for kind in kinds], progress=lambda *a: calls.append(a)
    )
    assert result == dest
    assert sorted(os.listdir(dest)) == sorted(GZ_NAMES)  # no temporary file left behind
    for name in GZ_NAMES:
        assert (dest / name).read_bytes() == real_gz_files[name]
        assert server.requests.count(f"/good/{name}") == 1
        tried = [path for path in server.requests if path.endswith(name)]
        assert tried == [f"/{kind}/{name}" for kind in kinds]  # in the given order
        final = [call for call in calls if call[2] == name][-1]
        assert final == (len(real_gz_files[name]), len(real_gz_files[name]), name)


def test_all_mirrors_failing_lists_each_mirror_and_reason(server, tmp_path):
    dest = tmp_path / "dest"
    mirrors = [server.url(kind) for kind in ("missing", "cut", "wrong")]
    with pytest.raises(MnistError) as caught:
        download_mnist(dest, mirrors=mirrors, progress=lambda *a: None)
    message = str(caught.value)
    first_file = GZ_NAMES[0]
    assert f"could not download {first_file}" in message
    assert f"{mirrors[0]}{first_file}: HTTP error 404" in message
    assert f"{mirrors[1]}{first_file}: transfer cut off" in message
    assert f"{mirrors[2]}{first_file}: checksum mismatch" in message
    assert MIRRORS_ENV in message and "--mnist-dir" in message
    assert os.listdir(dest) == []


def test_cancel_from_progress_callback_stops_and_cleans_up(server, real_gz_files, tmp_path):
    dest = tmp_path / "dest"
    cancel = threading.Event()
    seen: list[int] = []

    def progress(done: int, total: int, name: str) -> None:
        seen.append(done)
        if done > 0:
            cancel.set()

    with pytest.raises(DownloadCancelled):
        download_mnist(dest, mirrors=[server.url("good")], progress=progress, cancel=cancel)
    assert max(seen) < len(real_gz_files[GZ_NAMES[0]])  # stopped within the first file
    assert os.listdir(dest) == []


def test_cancel_from_another_thread_is_prompt(server, tmp_path):
    dest = tmp_path / "dest"
    cancel = threading.Event()
    timer = threading.Timer(0.3, cancel.set)
    timer.start()
    start = time.monotonic()
    with pytest.raises(DownloadCancelled):
        download_mnist(dest, mirrors=[server.url("slow")], cancel=cancel, progress=lambda *a: None)
    timer.join()
    assert time.monotonic() - start < 2.0  # the whole slow transfer would take about 30 s
    assert os.listdir(dest) == []


def test_cancel_before_start_makes_no_request(server, tmp_path):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadCancelled):
        download_mnist(tmp_path / "dest", mirrors=[server.url("good")], cancel=cancel)
    assert server.requests == []


def test_intact_files_are_kept_and_bad_ones_replaced(server, real_gz_files, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    for name in GZ_NAMES[:3]:
        (dest / name).write_bytes(real_gz_files[name])
    broken = GZ_NAMES[3]
    (dest / broken).write_bytes(real_gz_files[broken][:100])
    download_mnist(dest, mirrors=[server.url("good")], progress=lambda *a: None)
    assert server.requests == [f"/good/{broken}"]
    assert (dest / broken).read_bytes() == real_gz_files[broken]


def test_mirrors_from_env_var_are_tried_in_order(server, monkeypatch, tmp_path):
    monkeypatch.setenv(MIRRORS_ENV, f"{server.url('missing')}  {server.url('good')}")
    dest = download_mnist(tmp_path / "dest")  # no callback: tqdm, silent when not on a terminal
    assert sorted(os.listdir(dest)) == sorted(GZ_NAMES)
    assert server.requests[:2] == [f"/missing/{GZ_NAMES[0]}", f"/good/{GZ_NAMES[0]}"]


def test_mirror_list_precedence(monkeypatch):
    assert mirror_list() == list(DEFAULT_MIRRORS)
    monkeypatch.setenv(MIRRORS_ENV, "http://a.example/mnist http://b.example/")
    assert mirror_list() == ["http://a.example/mnist/", "http://b.example/"]
    assert mirror_list(["http://c.example"]) == ["http://c.example/"]
    with pytest.raises(MnistError, match="no MNIST mirror"):
        mirror_list([])


def test_load_mnist_downloads_into_the_cache(server, monkeypatch, isolated_mnist_env):
    monkeypatch.setenv(MIRRORS_ENV, server.url("good"))
    calls: list[tuple[int, int, str]] = []
    data = load_mnist(progress=lambda *a: calls.append(a))
    assert data.source_dir == isolated_mnist_env
    assert sorted(os.listdir(isolated_mnist_env)) == sorted(GZ_NAMES)
    assert data.train_images.shape == (60000, 784)
    assert data.test_labels[:5].tolist() == [7, 2, 1, 0, 4]
    assert {call[2] for call in calls} == set(GZ_NAMES)
