"""Reading and verifying MNIST.

The four canonical IDX files are read either gzipped (``NAME.gz``) or not (``NAME``). Every file is
checked in full before any array is handed out: the IDX header (magic number, 28x28 images), the
length against the header, image count against label count, the expected 60000/10000 counts and
finally the SHA-256 of the *decompressed* content (gzip wrappers differ between mirrors, the content
does not). Any problem raises :class:`MnistError` naming the file, the problem and the fix.

Where the files are found: the explicit ``mnist_dir`` argument (the ``--mnist-dir`` option), else
the ``DIGITPAD_MNIST_DIR`` environment variable, else the user cache folder, where
:mod:`trainer.data.mnist_download` puts them when they are missing.
"""

from __future__ import annotations

import functools
import hashlib
import os
import struct
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import numpy as np

from trainer import paths

#: SHA-256 of the decompressed content of each canonical MNIST file: the single source of truth,
#: also used by :mod:`trainer.data.mnist_download`.
MNIST_SHA256: Mapping[str, str] = MappingProxyType(
    {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    }
)

#: The four file names, without the ``.gz`` suffix.
MNIST_FILES: tuple[str, ...] = tuple(MNIST_SHA256)

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
IMAGE_SIDE = 28
TRAIN_COUNT = 60000
TEST_COUNT = 10000

#: (images file, labels file, expected count) for the training and the test set.
_SPLITS = (
    ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", TRAIN_COUNT),
    ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", TEST_COUNT),
)
#: The two files of the test set: all that evaluating a model needs.
TEST_FILES: tuple[str, ...] = _SPLITS[1][:2]

_FIX_WHERE = "point --mnist-dir / DIGITPAD_MNIST_DIR at a folder with the four MNIST files"

#: ``progress(done_bytes, total_bytes, file_name)``; total_bytes is 0 when unknown.
ProgressCallback = Callable[[int, int, str], None]


class MnistError(Exception):
    """MNIST is missing, damaged or unreadable; the message names the file and the fix."""


class _BadContent(Exception):
    """One file's content is wrong; the message is the reason, without file name or fix."""


@dataclass(frozen=True, eq=False)
class MnistData:
    """The MNIST training and test sets; the arrays are read-only (they are shared by a cache)."""

    train_images: np.ndarray  # (60000, 784) float32 in [0, 1]
    train_labels: np.ndarray  # (60000,) uint8
    test_images: np.ndarray  # (10000, 784) float32 in [0, 1]
    test_labels: np.ndarray  # (10000,) uint8
    source_dir: Path
    sha256: dict[str, str]  # file name without ".gz" -> SHA-256 of its decompressed content


def find_mnist_dir(
    mnist_dir: str | os.PathLike[str] | None = None, names: tuple[str, ...] = MNIST_FILES
) -> Path | None:
    """The folder to read MNIST (the files ``names``) from, or None when only a download would help.

    Search order: ``mnist_dir``, then ``$DIGITPAD_MNIST_DIR``, then the user cache folder. A folder
    the user named (argument or environment variable) that lacks a file is an error rather than a
    silent fall-through, so a typo never triggers a 50 MB download.
    """
    if mnist_dir is not None:
        return _checked_user_dir(Path(mnist_dir).expanduser(), "given with --mnist-dir", names)
    from_env = os.environ.get(paths.MNIST_DIR_ENV)
    if from_env:
        return _checked_user_dir(
            Path(from_env).expanduser(), f"given by {paths.MNIST_DIR_ENV}", names
        )
    cache = paths.mnist_cache_dir()
    return cache if not _missing_files(cache, names) else None


def load_mnist(
    mnist_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> MnistData:
    """Find, verify and decode MNIST, downloading it into the user cache when it is nowhere.

    ``progress`` and ``cancel`` only matter for the download (see
    :func:`trainer.data.mnist_download.download_mnist`); decoding takes well under a second.
    """
    return _load_dir(_found_or_downloaded(mnist_dir, MNIST_FILES, download, progress, cancel))


def load_mnist_test(
    mnist_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """MNIST's test set only, as (images (10000, 784) float32, labels (10000,) uint8), verified
    like :func:`load_mnist`: evaluating a model never reads nor downloads the training set."""
    directory = _found_or_downloaded(mnist_dir, TEST_FILES, download, progress, cancel)
    files = {name: file_in(directory, name) for name in TEST_FILES}
    if None in files.values():  # deleted since the folder was found
        raise MnistError(f"{directory} no longer holds the MNIST test files; run again.")
    arrays, _ = _decoded(files, _SPLITS[1:])
    images_name, labels_name = TEST_FILES
    return _as_float(arrays[images_name]), _read_only(arrays[labels_name])


def _found_or_downloaded(mnist_dir, names, download, progress, cancel) -> Path:
    """The folder holding ``names`` (see :func:`find_mnist_dir`), downloading them into the user
    cache when they are nowhere and ``download`` allows it."""
    directory = find_mnist_dir(mnist_dir, names)
    if directory is not None:
        return directory
    cache = paths.mnist_cache_dir()
    if not download:
        raise MnistError(
            f"MNIST not found: no --mnist-dir given, {paths.MNIST_DIR_ENV} is not set and the "
            f"cache folder {cache} lacks {', '.join(_missing_files(cache, names))}. "
            f"Allow the download, or {_FIX_WHERE}."
        )
    # Imported here because mnist_download imports this module.
    from trainer.data.mnist_download import download_mnist

    return download_mnist(cache, progress=progress, cancel=cancel, names=names)


def validation_split(
    images: np.ndarray, labels: np.ndarray, share: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split a training set into (train_x, train_y, val_x, val_y) by a seeded random permutation.

    The same inputs, share and seed always give the same split. Returns new (writeable) arrays.
    """
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    if not 0.0 <= share < 1.0:
        raise ValueError(f"validation share must be in [0, 1), got {share}")
    order = np.random.default_rng(seed).permutation(len(images))
    n_val = round(len(images) * share)
    val, train = order[:n_val], order[n_val:]
    return images[train], labels[train], images[val], labels[val]


def content_problem(path: Path, name: str) -> str | None:
    """Why ``path`` does not hold the genuine MNIST file ``name``, or None if its content is right.

    Reads the whole file, decompressing it when ``path`` ends in ``.gz``; raises OSError when the
    file cannot be read.
    """
    try:
        _check_sha256(name, _decompressed(path))
    except _BadContent as problem:
        return str(problem)
    return None


def file_in(directory: Path, name: str) -> Path | None:
    """The file holding ``name`` in ``directory``: ``name`` itself, else ``name.gz``, else None."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _missing_files(directory: Path, names: tuple[str, ...] = MNIST_FILES) -> list[str]:
    return [name for name in names if file_in(directory, name) is None]


def _checked_user_dir(directory: Path, origin: str, names: tuple[str, ...]) -> Path:
    if not directory.is_dir():
        raise MnistError(f"MNIST folder {directory} ({origin}) does not exist; {_FIX_WHERE}.")
    missing = _missing_files(directory, names)
    if missing:
        raise MnistError(
            f"MNIST folder {directory} ({origin}) lacks {', '.join(missing)} (plain or .gz); "
            f"{_FIX_WHERE}, or unset both to download MNIST into {paths.mnist_cache_dir()}."
        )
    return directory


def _load_dir(directory: Path) -> MnistData:
    missing = _missing_files(directory)
    if missing:  # deleted since the folder was found
        raise MnistError(f"{directory} no longer holds {', '.join(missing)}; run again.")
    files = [file_in(directory, name) for name in MNIST_FILES]
    try:
        stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    except OSError as exc:
        raise MnistError(f"cannot read the MNIST files in {directory}: {exc}") from exc
    cached = _load_files(directory.resolve(), stamp)
    # The arrays are read-only; the dict is copied so no caller can alter the cached one.
    return replace(cached, source_dir=directory, sha256=dict(cached.sha256))


@functools.lru_cache(maxsize=1)  # one entry is ~220 MB of float32
def _load_files(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> MnistData:
    """Decode and verify the four files.

    ``stamp`` holds (file name, size, mtime) of each file in MNIST_FILES order, so that the cache
    entry is not reused once a file changes.
    """
    files = {name: directory / file_name for name, (file_name, _, _) in zip(MNIST_FILES, stamp)}
    arrays, sha256 = _decoded(files, _SPLITS)
    return MnistData(
        train_images=_as_float(arrays["train-images-idx3-ubyte"]),
        train_labels=_read_only(arrays["train-labels-idx1-ubyte"]),
        test_images=_as_float(arrays["t10k-images-idx3-ubyte"]),
        test_labels=_read_only(arrays["t10k-labels-idx1-ubyte"]),
        source_dir=directory,
        sha256=sha256,
    )


def _decoded(files: dict[str, Path], splits) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The uint8 arrays and content SHA-256 of the ``files`` (name -> path) of ``splits``."""
    raw = {name: _read(path) for name, path in files.items()}
    arrays = {name: _parse(files[name], name, raw[name]) for name in files}
    # Structure first, then counts, then checksums: the most specific message wins.
    for images_name, labels_name, _ in splits:
        _check_pair(
            files[images_name], files[labels_name], arrays[images_name], arrays[labels_name]
        )
    for images_name, _, expected in splits:
        if len(arrays[images_name]) != expected:
            raise _bad_file(
                files[images_name], f"holds {len(arrays[images_name])} images, expected {expected}"
            )
    sha256 = {}
    for name in files:
        try:
            sha256[name] = _check_sha256(name, raw[name])
        except _BadContent as problem:
            raise _bad_file(files[name], str(problem)) from None
    return arrays, sha256


def _read(path: Path) -> bytes:
    try:
        return _decompressed(path)
    except _BadContent as problem:
        raise _bad_file(path, str(problem)) from None
    except OSError as exc:
        raise MnistError(f"{path}: cannot read it ({exc}). {_fix_hint(path)}") from exc


#: The largest MNIST file, decompressed (train-images-idx3-ubyte: 60 000 × 784 + 16 bytes). A
#: file or a gzip expanding to more is not MNIST, and is refused before it is held in memory.
MAX_FILE_BYTES = 60000 * 784 + 16


def _decompressed(path: Path) -> bytes:
    with open(path, "rb") as stream:
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise _BadContent(f"larger than any MNIST file ({MAX_FILE_BYTES} bytes)")
    if path.suffix != ".gz":
        return data
    # One call that releases the GIL (the app reads MNIST beside its event loop), stopping early.
    stream = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip framing
    try:
        content = stream.decompress(data, MAX_FILE_BYTES + 1)
    except zlib.error as exc:
        raise _BadContent(f"not a complete gzip file, truncated or corrupt ({exc})") from None
    if len(content) > MAX_FILE_BYTES:
        raise _BadContent(f"expands to more than any MNIST file ({MAX_FILE_BYTES} bytes)")
    if not stream.eof:
        raise _BadContent(
            "not a complete gzip file, truncated or corrupt (it ends before the "
            "end-of-stream marker)"
        )
    return content


def _parse(path: Path, name: str, data: bytes) -> np.ndarray:
    """The uint8 array of an IDX file: (n, 784) for images, (n,) for labels."""
    is_images = "images" in name
    magic, header_size = (IMAGES_MAGIC, 16) if is_images else (LABELS_MAGIC, 8)
    if len(data) < header_size:
        raise _bad_file(path, f"only {len(data)} bytes, too short for an IDX header")
    found_magic, count = struct.unpack_from(">II", data)
    if found_magic != magic:
        kind = "images" if is_images else "labels"
        raise _bad_file(
            path, f"wrong magic number {found_magic}, expected {magic} (IDX {kind} file)"
        )
    item_size = 1
    if is_images:
        rows, cols = struct.unpack_from(">II", data, 8)
        if (rows, cols) != (IMAGE_SIDE, IMAGE_SIDE):
            raise _bad_file(path, f"images are {rows}x{cols}, expected {IMAGE_SIDE}x{IMAGE_SIDE}")
        item_size = IMAGE_SIDE * IMAGE_SIDE
    expected_size = header_size + count * item_size
    if len(data) != expected_size:
        state = "truncated" if len(data) < expected_size else "has trailing bytes"
        raise _bad_file(
            path,
            f"{state}: its header announces {count} items, i.e. {expected_size} bytes, "
            f"but it holds {len(data)} bytes",
        )
    array = np.frombuffer(data, dtype=np.uint8, offset=header_size)
    return array.reshape(count, item_size) if is_images else array


def _check_pair(
    images_path: Path, labels_path: Path, images: np.ndarray, labels: np.ndarray
) -> None:
    if len(images) != len(labels):
        raise MnistError(
            f"image/label count mismatch: {images_path} holds {len(images)} images but "
            f"{labels_path} holds {len(labels)} labels. {_fix_hint(images_path)}"
        )


def _check_sha256(name: str, data: bytes) -> str:
    """The SHA-256 of ``data``, the decompressed content of ``name``; raises if it is wrong."""
    digest = hashlib.sha256(data).hexdigest()
    if digest != MNIST_SHA256[name]:
        raise _BadContent(
            f"checksum mismatch: SHA-256 of the decompressed content is {digest}, "
            f"expected {MNIST_SHA256[name]}"
        )
    return digest


def _bad_file(path: Path, problem: str) -> MnistError:
    return MnistError(f"{path}: {problem}. {_fix_hint(path)}")


def _fix_hint(path: Path) -> str:
    if path.parent.resolve() == paths.mnist_cache_dir().resolve():
        return "Delete it and run again to re-download it."
    return (
        "Replace it with an intact copy of the original MNIST file, or "
        f"{_FIX_WHERE}, or unset both to download MNIST into {paths.mnist_cache_dir()}."
    )


def _as_float(pixels: np.ndarray) -> np.ndarray:
    return _read_only(np.divide(pixels, np.float32(255), dtype=np.float32))


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
