"""A local HTTP server standing in for MNIST's mirrors, for the download tests."""

from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from trainer import paths
from trainer.data.mnist import MNIST_FILES
from trainer.data.mnist_download import MIRRORS_ENV


def real_gz_files(folder: str | Path) -> dict[str, bytes]:
    """The four MNIST files in ``folder`` as gzip bytes, keyed by ``NAME.gz`` (files stored
    uncompressed are compressed here)."""
    files = {}
    for name in MNIST_FILES:
        gz, plain = Path(folder, f"{name}.gz"), Path(folder, name)
        files[f"{name}.gz"] = gz.read_bytes() if gz.exists() else gzip.compress(plain.read_bytes())
    return files


def isolate_downloads(monkeypatch, tmp_path: Path) -> Path:
    """For a download test: the user's MNIST cache inside ``tmp_path`` (returned), no MNIST folder
    or mirrors from the environment, and 127.0.0.1 reached without any proxy."""
    cache = tmp_path / "user-cache" / "mnist"
    monkeypatch.setattr(paths, "mnist_cache_dir", lambda: cache)
    monkeypatch.delenv(paths.MNIST_DIR_ENV, raising=False)
    monkeypatch.delenv(MIRRORS_ENV, raising=False)
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(variable, "127.0.0.1,localhost")
    return cache


class LocalServer:
    """A server on 127.0.0.1, on a free port, from a background thread, with one URL prefix per
    kind of mirror: ``GET /KIND/NAME`` is recorded in ``requests`` and answered by the subclass's
    ``answer(handler, kind, name)``. A client that hangs up mid-answer is no error.

    Handler threads are daemons and ``close`` does not wait for them: a test may leave a transfer
    hanging.
    """

    def __init__(self) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                _, kind, name = self.path.split("/", 2)
                try:
                    server.answer(self, kind, name)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as some tests want

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def answer(self, handler: BaseHTTPRequestHandler, kind: str, name: str) -> None:
        raise NotImplementedError

    def url(self, kind: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{kind}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def send(
    handler: BaseHTTPRequestHandler, body: bytes, length: int | None = -1, flush: bool = False
) -> None:
    """Answer with ``body``, announcing ``length`` bytes (-1: the body's; None: no length).
    Announcing more than the body makes a cut-off transfer."""
    handler.send_response(200)
    if length is not None:
        handler.send_header("Content-Length", str(len(body) if length == -1 else length))
    handler.end_headers()
    handler.wfile.write(body)
    if flush:
        handler.wfile.flush()
    handler.close_connection = True


def send_slowly(handler: BaseHTTPRequestHandler, body: bytes, pause: float) -> None:
    """Answer with ``body`` in 16 KiB pieces, ``pause`` seconds apart (a client may give up)."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    for start in range(0, len(body), 16384):
        handler.wfile.write(body[start : start + 16384])
        handler.wfile.flush()
        time.sleep(pause)
    handler.close_connection = True
