"""Downloading MNIST from the public mirrors, the way Keras and torchvision do.

Each of the four ``.gz`` files is fetched from the first mirror that delivers it intact: streamed
into a temporary file next to its destination, its decompressed content checked against the SHA-256
in :data:`trainer.data.mnist.MNIST_SHA256`, and only then renamed into place. A wrong, truncated,
interrupted or cancelled download is deleted, so the destination never holds a bad file. Files
already present and intact are not fetched again, so an interrupted download resumes file by file.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from trainer import __version__, paths
from trainer.data.mnist import MNIST_FILES, MnistError, ProgressCallback, content_problem, file_in

#: Tried in this order; override with the ``mirrors`` argument or ``$DIGITPAD_MNIST_MIRRORS``.
DEFAULT_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: Environment variable holding space-separated mirror base URLs, tried in order.
MIRRORS_ENV = "DIGITPAD_MNIST_MIRRORS"

#: Bytes read between two cancel checks.
_CHUNK_SIZE = 64 * 1024

#: A temporary download untouched for this long was left by a killed process (a live download
#: writes every chunk and gives up after ``timeout`` seconds without data); the next download
#: deletes it.
STALE_PART_SECONDS = 600.0


class DownloadCancelled(MnistError):
    """The download was cancelled; no partial file was left behind."""


class _MirrorFailed(Exception):
    """One mirror could not deliver one file; the message is the reason."""


def mirror_list(mirrors: Sequence[str] | None = None) -> list[str]:
    """The mirror base URLs to try: ``mirrors``, else ``$DIGITPAD_MNIST_MIRRORS``, else defaults."""
    if mirrors is None:
        from_env = os.environ.get(MIRRORS_ENV, "").split()
        mirrors = from_env or DEFAULT_MIRRORS
    if not mirrors:
        raise MnistError("no MNIST mirror given: pass at least one base URL")
    return [url if url.endswith("/") else url + "/" for url in mirrors]


def download_mnist(
    dest_dir: str | os.PathLike[str] | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 30.0,
    names: Sequence[str] = MNIST_FILES,
) -> Path:
    """Make sure ``dest_dir`` (default: the user's MNIST cache) holds the intact files ``names``
    (default: all four).

    ``progress(done_bytes, total_bytes, file_name)`` is called for every chunk (total_bytes is 0
    when the server does not say); without it a tqdm bar is shown on a terminal. ``cancel`` is
    checked between chunks: setting it raises :class:`DownloadCancelled` within one chunk, or
    within ``timeout`` seconds if the server stalls. Returns the destination folder.
    """
    dest = Path(dest_dir) if dest_dir is not None else paths.mnist_cache_dir()
    bases = mirror_list(mirrors)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MnistError(f"cannot create the MNIST folder {dest}: {exc}") from exc
    _remove_stale_parts(dest)
    for name in names:
        _check_cancel(cancel)
        if not _is_intact(dest, name):
            _download_file(name, dest / f"{name}.gz", bases, progress, cancel, timeout)
    return dest


def _remove_stale_parts(dest: Path) -> None:
    """Delete the temporary files of downloads that were killed (never read as MNIST anyway)."""
    now = time.time()
    for name in MNIST_FILES:
        for part in dest.glob(f".{name}.*.part.gz"):
            try:
                if now - part.stat().st_mtime >= STALE_PART_SECONDS:
                    part.unlink()
            except OSError:
                pass


def _is_intact(dest: Path, name: str) -> bool:
    existing = file_in(dest, name)
    try:
        return existing is not None and content_problem(existing, name) is None
    except OSError:
        return False


def _download_file(
    name: str,
    target: Path,
    bases: list[str],
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    failures = []
    for base in bases:
        _check_cancel(cancel)
        url = base + target.name
        try:
            _fetch_verified(url, name, target, progress, cancel, timeout)
            return
        except _MirrorFailed as exc:
            failures.append(f"  {url}: {exc}")
    raise MnistError(
        f"could not download {target.name} into {target.parent}; every mirror failed:\n"
        + "\n".join(failures)
        + f"\nCheck the internet connection, set {MIRRORS_ENV} to other mirrors (space-separated "
        "base URLs), or fetch the four MNIST files yourself and point --mnist-dir / "
        "DIGITPAD_MNIST_DIR at their folder."
    )


def _fetch_verified(
    url: str,
    name: str,
    target: Path,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    """Download ``url`` to a temporary file, verify it, then rename it to ``target``.

    The temporary file ends in ``.gz`` so that :func:`content_problem` decompresses it; its name
    never matches an MNIST file name, so a leftover from a killed process is never read as MNIST.
    It is not made by :mod:`tempfile`, which would give the final file mode 0600 instead of the
    umask's.
    """
    tmp = target.with_name(f".{name}.{secrets.token_hex(4)}.part.gz")
    try:
        out = open(tmp, "xb")
    except OSError as exc:
        raise MnistError(f"cannot write into the MNIST folder {target.parent}: {exc}") from exc
    try:
        with out:
            _stream(url, out, target.name, progress, cancel, timeout)
            out.flush()
            os.fsync(out.fileno())
        problem = content_problem(tmp, name)
        if problem is not None:
            raise _MirrorFailed(problem)
        os.replace(tmp, target)
    except OSError as exc:
        raise _MirrorFailed(f"cannot write {tmp}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _stream(
    url: str,
    out: BinaryIO,
    file_name: str,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": f"digitpad/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = _content_length(response)
            done = 0
            with _reporter(progress, total, file_name) as report:
                report(0)
                while chunk := response.read(_CHUNK_SIZE):
                    _check_cancel(cancel)
                    out.write(chunk)
                    done += len(chunk)
                    report(done)
    except urllib.error.HTTPError as exc:
        raise _MirrorFailed(f"HTTP error {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _MirrorFailed(f"cannot connect ({exc.reason})") from exc
    except TimeoutError as exc:
        raise _MirrorFailed(f"no answer within {timeout:g} s") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _MirrorFailed(f"transfer failed ({type(exc).__name__}: {exc})") from exc
    if total and done != total:
        raise _MirrorFailed(f"transfer cut off: received {done} of {total} bytes")


def _content_length(response: http.client.HTTPResponse) -> int:
    try:
        return max(int(response.headers.get("Content-Length", "0")), 0)
    except ValueError:
        return 0


@contextlib.contextmanager
def _reporter(
    progress: ProgressCallback | None, total: int, file_name: str
) -> Iterator[Callable[[int], None]]:
    """Yield ``report(done_bytes)``: the caller's callback, or a tqdm bar on a terminal."""
    if progress is not None:
        yield lambda done: progress(done, total, file_name)
        return
    with tqdm(
        total=total or None,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=file_name,
        disable=None,  # None: only on a terminal
    ) as bar:
        yield lambda done: bar.update(done - bar.n)


def _check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise DownloadCancelled("MNIST download cancelled; no partial file was kept")
