"""A local HTTP server standing in for MNIST's mirrors, for the download tests."""
from __future__ import annotations

import gzip
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from trainer.mnist import MNIST_FILES


def real_gz_files(folder: str | Path) -> dict[str, bytes]:
    """The four MNIST files in ``folder`` as gzip bytes, keyed by ``NAME.gz`` (files stored
    uncompressed are compressed here)."""
    files = {}
    for name in MNIST_FILES:
        gz, plain = Path(folder, f"{name}.gz"), Path(folder, name)
        files[f"{name}.gz"] = gz.read_bytes() if gz.exists() else gzip.compress(plain.read_bytes())
    return files


class LocalServer:
    """Serves ``handler_class`` on 127.0.0.1, on a free port, from a background thread.

    Subclasses give each kind of mirror a URL prefix (``url(kind)``). Handler threads are daemons
    and ``close`` does not wait for them: a test may leave a transfer hanging.
    """

    def __init__(self, handler_class: type[BaseHTTPRequestHandler]) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def url(self, kind: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{kind}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def send_slowly(handler: BaseHTTPRequestHandler, body: bytes, pause: float) -> None:
    """Answer with ``body`` in 16 KiB pieces, ``pause`` seconds apart (a client may give up)."""
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    for start in range(0, len(body), 16384):
        handler.wfile.write(body[start:start + 16384])
        handler.wfile.flush()
        time.sleep(pause)
    handler.close_connection = True
