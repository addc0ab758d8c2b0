"""The user's own collection of labelled drawings ("My digits"): an append-only JSONL file.

The collection is the user's own work and must never be lost:

- It lives in the user data folder as ``my-digits.jsonl``, one drawing per line in the pen-digits
  format (``label``, ``strokes``; plus ``id``, ``time`` and ``canvas`` = [width, height]), so
  ``digitpad-train --my-digits`` and ``digitpad-eval --strokes`` read it as it is.
- Adding a drawing appends one line with a single ``write`` on an ``O_APPEND`` descriptor,
  then ``fsync``: a crash or ``kill -9`` loses at most the drawing being saved. If the last line
  was cut short by such a crash, the next append starts on a new line, so it never glues itself
  onto the broken one.
- Every change takes an exclusive ``fcntl`` lock on ``my-digits.jsonl.lock``, so two running
  copies of the app never interleave or overwrite each other's work.
- A line that cannot be read is reported, copied to ``my-digits.jsonl.damaged`` (synced) and
  only then removed from the collection: never silently dropped.
- Delete, relabel and import rewrite the file atomically (temp file, fsync, rename); delete and
  relabel can be undone. An import validates the whole file first: a bad file changes nothing.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import stat
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from trainer import paths
from trainer.atomic_write import write_atomically
from trainer.data.pen_digits import (
    MAX_TEXT_BYTES,
    NOT_A_DIGIT,
    PenDigit,
    PenDigitsError,
    read_pen_digits,
    write_pen_digits,
)
from trainer.data.pen_digits import _is_unicode_text as is_unicode_text

FILE_NAME = "my-digits.jsonl"
LABELS = (*range(10), NOT_A_DIGIT)


class CollectionError(Exception):
    """The collection cannot be read or changed; the message says why (nothing was changed)."""


@dataclass(frozen=True)
class Drawing:
    """One labelled drawing of the collection."""

    id: str
    label: int | str  # 0-9 or NOT_A_DIGIT
    strokes: list  # strokes: lists of [x, y] points, screen pixels, y down
    time: str | None = None  # when it was labelled (ISO 8601, UTC)
    canvas: tuple[int, int] | None = None  # the canvas size (width, height) it was drawn on

    def to_json(self) -> str:
        record = {
            "id": self.id,
            "label": self.label,
            "time": self.time,
            "canvas": list(self.canvas) if self.canvas else None,
            "strokes": self.strokes,
        }
        return json.dumps(
            {k: v for k, v in record.items() if v is not None},
            separators=(",", ":"),
            allow_nan=False,
        )


def new_drawing(label, strokes, canvas: tuple[int, int] | None = None) -> Drawing:
    """A drawing labelled now, with a fresh id; raises CollectionError for a bad label/strokes."""
    try:
        label = _checked_label(label)
        strokes = _checked_strokes(_as_lists(strokes))
    except (TypeError, ValueError) as error:
        raise CollectionError(f"cannot save this drawing: {error}") from None
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return Drawing(
        uuid.uuid4().hex, label, strokes, now, tuple(int(v) for v in canvas) if canvas else None
    )


def _parsed(line: str | bytes):
    """The line's JSON value. orjson reads a large collection about twice as fast as the standard
    library (10 000 drawings must open in under a second); a line it refuses is read again by the
    standard library, which takes a few things orjson does not (a lone surrogate in an id, which
    :func:`drawing_from_line` then replaces) and words its errors as before."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        raise ValueError(f"not valid JSON ({error})") from None


def drawing_from_line(line: str | bytes) -> Drawing:
    """Parse one line of the collection; raises ValueError saying what is wrong."""
    record = _parsed(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    label = _checked_label(record.get("label"))
    strokes = _checked_strokes(record.get("strokes"))
    canvas = record.get("canvas")
    if canvas is not None and not (
        isinstance(canvas, list)
        and len(canvas) == 2
        and all(isinstance(v, int) and v > 0 for v in canvas)
    ):
        raise ValueError(f"'canvas' must be [width, height] in pixels, got {canvas!r}")
    when = record.get("time")
    if when is not None and not isinstance(when, str):
        raise ValueError(f"'time' must be a string, got {when!r}")
    ident = record.get("id")
    if not (isinstance(ident, str) and is_unicode_text(ident)):
        ident = uuid.uuid4().hex  # a lone surrogate in an id would make every export fail
    return Drawing(ident, label, strokes, when, tuple(canvas) if canvas else None)


def _checked_label(label):
    # 1.0 == 1, but digitpad-train and digitpad-eval refuse a float label: keep ints and the string
    if isinstance(label, bool) or not isinstance(label, (int, str)) or label not in LABELS:
        raise ValueError(f"a label is a digit 0-9 or {NOT_A_DIGIT!r}, got {label!r}")
    return label


def _as_lists(strokes) -> list:
    return [[[float(x), float(y)] for x, y in stroke] for stroke in strokes]


def _checked_strokes(strokes) -> list:
    """The strokes as they are when they are a non-empty list of lists of finite [x, y] numbers;
    else ValueError. Checked with NumPy a stroke at a time: 10 000 drawings open in well under
    a second, where a check point by point in Python takes several."""
    if not isinstance(strokes, list):
        raise ValueError(f"'strokes' must be a list of strokes, got {strokes!r:.40}")
    points = 0
    for index, stroke in enumerate(strokes):
        if not isinstance(stroke, list):
            raise ValueError(f"stroke {index} must be a list of [x, y] points")
        if not stroke:
            continue
        try:
            array = np.array(stroke)
        except ValueError:
            array = None
        if (
            array is None
            or array.ndim != 2
            or array.shape[1] != 2
            or array.dtype.kind not in "iuf"
            or not np.isfinite(array).all()
        ):
            raise ValueError(f"stroke {index} must be a list of finite [x, y] points")
        points += len(stroke)
    if not points:
        raise ValueError("the drawing has no points")
    return strokes


@dataclass(frozen=True)
class DamagedLine:
    number: int  # 1-based line number in the file as it was read
    reason: str
    text: str


class Collection:
    """The collection file at ``path`` (default: the user data folder's ``my-digits.jsonl``).

    ``drawings`` is the list as last read or changed by this object. ``damaged`` lists the lines
    the last :meth:`load` set aside (see the module docstring).
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else paths.user_data_dir() / FILE_NAME
        self.damaged_path = self.path.with_name(self.path.name + ".damaged")
        self.drawings: list[Drawing] = []
        self.damaged: list[DamagedLine] = []
        self._undo: list[Callable[[list[Drawing]], list[Drawing]]] = []

    # --- reading -----------------------------------------------------------------------------
    def load(self) -> list[Drawing]:
        """Read the collection; damaged lines are moved to the ``.damaged`` file and listed in
        ``self.damaged``. A missing file is an empty collection (and nothing is created)."""
        if not self.path.exists():
            self.drawings, self.damaged = [], []
            return self.drawings
        with self._locked():
            drawings, damaged = self._read()
            if damaged:
                self._set_aside(damaged)
                self._write(drawings)
        self.drawings, self.damaged = drawings, damaged
        return drawings

    def _read(self) -> tuple[list[Drawing], list[DamagedLine]]:
        try:
            self._check_regular_file()
            data = self.path.read_bytes()
        except FileNotFoundError:
            return [], []
        except OSError as error:
            raise CollectionError(f"cannot read {self.path} ({error.strerror or error})") from None
        drawings, damaged = [], []
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                drawings.append(drawing_from_line(raw.decode("utf-8")))
            except (UnicodeDecodeError, ValueError) as error:
                text = raw.decode("utf-8", errors="replace")
                damaged.append(DamagedLine(number, str(error), text))
        return drawings, damaged

    def _check_regular_file(self) -> None:
        """CollectionError unless the collection (or what its link points to) is a regular file
        of sane size: reading ``/dev/zero`` never ends and opening a FIFO blocks the app.
        FileNotFoundError passes through (a missing file is an empty collection)."""
        status = self.path.stat()
        if not stat.S_ISREG(status.st_mode):
            raise CollectionError(
                f"{self.path} is not a regular file (a FIFO, a device or a "
                f"folder); move it away to start a new collection"
            )
        if status.st_size > MAX_TEXT_BYTES:
            raise CollectionError(
                f"{self.path} is {status.st_size} bytes, more than "
                f"{MAX_TEXT_BYTES // 1024**2} MiB; too large for a collection"
            )

    def _set_aside(self, damaged: list[DamagedLine]) -> None:
        payload = "".join(line.text + "\n" for line in damaged).encode("utf-8")
        _append_synced(self.damaged_path, payload)

    # --- changing ----------------------------------------------------------------------------
    def append(self, drawing: Drawing) -> int:
        """Add one drawing durably; returns how many drawings the collection now holds."""
        line = (drawing.to_json() + "\n").encode("utf-8")
        with self._locked():
            try:
                self._check_regular_file()
                with open(self.path, "rb") as existing:
                    existing.seek(0, os.SEEK_END)
                    if existing.tell() > 0:
                        existing.seek(-1, os.SEEK_END)
                        if existing.read(1) != b"\n":
                            line = b"\n" + line  # the last line was cut short by a crash
            except FileNotFoundError:
                pass
            except OSError as error:
                raise CollectionError(
                    f"cannot read {self.path} ({error.strerror or error})"
                ) from error
            _append_synced(self.path, line)
        self.drawings.append(drawing)
        return len(self.drawings)

    def delete(self, ids: Iterable[str]) -> int:
        """Remove the drawings with these ids (undoable); returns how many were removed."""
        doomed = set(ids)
        removed: list[tuple[int, Drawing]] = []

        def remove(drawings):
            removed.extend((i, d) for i, d in enumerate(drawings) if d.id in doomed)
            return [d for d in drawings if d.id not in doomed]

        def put_back(drawings):
            drawings = list(drawings)
            for position, drawing in removed:
                drawings.insert(min(position, len(drawings)), drawing)
            return drawings

        self._change(remove, put_back)
        return len(removed)

    def relabel(self, ids: Iterable[str], label) -> int:
        """Give the drawings with these ids a new label (undoable); returns how many changed."""
        try:
            label = _checked_label(label)
        except ValueError as error:
            raise CollectionError(str(error)) from None
        chosen = set(ids)
        old: dict[str, int | str] = {}

        def set_label(drawings):
            old.update((d.id, d.label) for d in drawings if d.id in chosen)
            return [_labelled(d, label) if d.id in chosen else d for d in drawings]

        def restore(drawings):
            return [_labelled(d, old[d.id]) if d.id in old else d for d in drawings]

        self._change(set_label, restore)
        return len(old)

    def undo(self) -> bool:
        """Undo the last delete or relabel of this session; False when there is nothing to undo."""
        if not self._undo:
            return False
        self._rewrite(self._undo.pop())
        return True

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def import_file(self, path) -> int:
        """Add every drawing of a pen-digits file; returns how many. The whole file is checked
        first: if anything in it is wrong, the collection is unchanged and CollectionError says
        what and where."""
        try:
            digits = read_pen_digits(path)
        except PenDigitsError as error:
            raise CollectionError(f"nothing was imported: {error}") from None
        if not digits:
            raise CollectionError(f"nothing was imported: {path} holds no drawings")

        def add(drawings):
            known = {d.id for d in drawings}
            return drawings + [
                Drawing(
                    d.id if d.id and d.id not in known else uuid.uuid4().hex,
                    d.label,
                    _as_lists(d.strokes),
                )
                for d in digits
            ]

        self._rewrite(add)
        return len(digits)

    def export(self, path) -> int:
        """Write the collection to a pen-digits file (atomic; gzip when the name ends in .gz)."""
        try:
            write_pen_digits(
                path, [PenDigit(d.label, d.strokes, writer="me", id=d.id) for d in self.drawings]
            )
        except PenDigitsError as error:
            raise CollectionError(f"could not export: {error}") from None
        return len(self.drawings)

    # --- machinery ---------------------------------------------------------------------------
    def _change(self, apply, inverse) -> None:
        self._rewrite(apply)
        self._undo.append(inverse)

    def _rewrite(self, transform) -> None:
        """Read the file as it is now (another copy of the app may have appended), transform the
        list and write it back atomically, all under the lock."""
        with self._locked():
            drawings, damaged = self._read()
            if damaged:
                self._set_aside(damaged)
                self.damaged = damaged
            drawings = transform(drawings)
            self._write(drawings)
        self.drawings = drawings

    def _write(self, drawings: list[Drawing]) -> None:
        payload = "".join(d.to_json() + "\n" for d in drawings).encode("utf-8")
        try:
            write_atomically(self.path, lambda stream: stream.write(payload))
        except OSError as error:
            raise CollectionError(
                f"could not save {self.path} ({error.strerror or error}); it is unchanged"
            ) from None

    @contextlib.contextmanager
    def _locked(self):
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock = open(self.path.with_name(self.path.name + ".lock"), "a")
        except OSError as error:
            raise CollectionError(
                f"cannot use {self.path.parent} ({error.strerror or error})"
            ) from None
        with lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _labelled(drawing: Drawing, label) -> Drawing:
    return Drawing(drawing.id, label, drawing.strokes, drawing.time, drawing.canvas)


def _append_synced(path: Path, payload: bytes) -> None:
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if os.write(descriptor, payload) != len(payload):
                raise OSError("the disk is probably full")
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError as error:
        raise CollectionError(f"could not save to {path} ({error.strerror or error})") from None
