"""Reading and writing digits stored as strokes (``.jsonl`` or ``.jsonl.gz``).

One JSON object per line::

    {"id": "apa/apa00/app0032.dat#0", "source": "unipen-1a/apa", "writer": "apa/ArloReeves",
     "label": 9, "strokes": [[[x, y], [x, y], ...], ...]}

``label`` (an integer 0–9, or the string ``"not-a-digit"`` for a drawing its writer marked as no
digit at all; with ``any_label=True`` also any other short text, e.g. a letter, for measuring how
the app answers things that are not digits) and ``strokes`` (a list of strokes, each a list of
[x, y] points in screen pixels, y down) are required; ``source``, ``writer`` and ``id`` are
optional strings. Blank lines are skipped. A digit must have at least one point. Gzip is
recognised by the file's content (magic bytes), so a compressed file is read whatever its name;
:func:`write_pen_digits` compresses when the name ends in ``.gz``.

Every problem raises :class:`PenDigitsError` naming the file, the line number and what is wrong.

A file is untrusted input, so reading is bounded by what a real drawing file can be (the 5 159
digits of pen-digits-dev are 3.3 MB of text, 7.4 KB per line at most): at most ``MAX_TEXT_BYTES``
of text once decompressed, ``MAX_LINE_BYTES`` per line, ``MAX_LINES`` lines and ``MAX_POINTS``
points per digit. Devices (``/dev/zero``) are refused. :func:`iter_pen_digits` reads one line at a
time, so a caller that converts each digit as it comes (``digitpad-eval``) holds no more than one
digit's points.
"""

from __future__ import annotations

import gzip
import json
import math
import numbers
import os
import stat
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from trainer.atomic_write import write_atomically

__all__ = [
    "NOT_A_DIGIT",
    "PenDigit",
    "PenDigitsError",
    "iter_pen_digits",
    "read_pen_digits",
    "write_pen_digits",
]

#: The label of a drawing that is not a digit (DigitPad's own collection marks them so).
NOT_A_DIGIT = "not-a-digit"

Point = tuple[float, float]
Stroke = tuple[Point, ...]

_GZIP_MAGIC = b"\x1f\x8b"
MAX_TEXT_BYTES = 256 * 1024 * 1024
MAX_LINE_BYTES = 1024 * 1024
MAX_LINES = 500_000
MAX_POINTS = 50_000


class PenDigitsError(ValueError):
    """A pen-digit file cannot be read or written.

    ``PenDigitsError(path, line, reason)`` — ``path``, ``line`` (1-based, or None) and ``reason`` are
    kept as attributes and the message reads ``"<path>, line <n>: <reason>"``. A caller with its own
    complete message may also write ``PenDigitsError(message)`` (then ``path`` and ``line`` are None).
    """

    def __init__(self, path, line: int | None = None, reason: str | None = None):
        if reason is None and line is None:
            self.path = None
            self.line = None
            self.reason = str(path)
            super().__init__(self.reason)
            return
        self.path = str(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class PenDigit:
    """One digit written with a pen: its label and its strokes (tuples of (x, y) float points)."""

    label: int | str  # 0-9, NOT_A_DIGIT, or (any_label) another short text
    strokes: tuple[Stroke, ...]
    source: str | None = None
    writer: str | None = None
    id: str | None = None


def _check_digit(obj, any_label: bool = False) -> PenDigit:
    """Validate one decoded JSON object (or a PenDigit) and return a PenDigit; raise ValueError.

    ``any_label``: a label may also be a non-empty string of at most 32 characters.
    """
    if isinstance(obj, PenDigit):  # writing: the same rules as reading (NumPy strokes are welcome)
        obj = {
            "label": obj.label,
            "strokes": obj.strokes,
            "source": obj.source,
            "writer": obj.writer,
            "id": obj.id,
        }
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    if "label" not in obj:
        raise ValueError("missing 'label'")
    label = obj["label"]
    if label == NOT_A_DIGIT or (any_label and isinstance(label, str) and 0 < len(label) <= 32):
        return _with_label(obj, label)
    if isinstance(label, bool) or not isinstance(label, numbers.Integral) or not 0 <= label <= 9:
        raise ValueError(f"'label' must be an integer 0-9 or {NOT_A_DIGIT!r}, got {label!r}")
    return _with_label(obj, int(label))


def _with_label(obj: dict, label: int | str) -> PenDigit:
    """The PenDigit of a checked label and the object's strokes and optional fields."""
    if "strokes" not in obj:
        raise ValueError("missing 'strokes'")
    raw = obj["strokes"]
    if hasattr(raw, "tolist") and not isinstance(raw, (list, tuple)):  # a NumPy array
        raw = raw.tolist()
    if not isinstance(raw, (list, tuple)):
        raise ValueError(f"'strokes' must be a list of strokes, got {type(raw).__name__}")
    strokes = []
    n_points = 0
    for i, stroke in enumerate(raw):
        if hasattr(stroke, "tolist") and not isinstance(stroke, (list, tuple)):  # a NumPy array
            stroke = stroke.tolist()
        if not isinstance(stroke, (list, tuple)):
            raise ValueError(
                f"stroke {i} must be a list of [x, y] points, got {type(stroke).__name__}"
            )
        pts = []
        for j, p in enumerate(stroke):
            if not isinstance(p, (list, tuple)) or len(p) != 2:
                raise ValueError(f"stroke {i}, point {j} must be [x, y], got {p!r}")
            x, y = p
            for v in (x, y):
                if isinstance(v, bool) or not isinstance(v, numbers.Real):
                    raise ValueError(
                        f"stroke {i}, point {j}: coordinates must be numbers, got {p!r}"
                    )
            try:
                xf, yf = float(x), float(y)
            except OverflowError:
                raise ValueError(
                    f"stroke {i}, point {j}: coordinate too large, got {p!r}"
                ) from None
            if not (math.isfinite(xf) and math.isfinite(yf)):
                raise ValueError(f"stroke {i}, point {j}: coordinates must be finite, got {p!r}")
            pts.append((xf, yf))
        n_points += len(pts)
        strokes.append(tuple(pts))
        if n_points > MAX_POINTS:
            raise ValueError(
                f"the digit has more than {MAX_POINTS} points; no drawing has that many"
            )
    if n_points == 0:
        raise ValueError("the digit has no points")
    extras = {}
    for key in ("source", "writer", "id"):
        v = obj.get(key)
        if v is not None and not isinstance(v, str):
            raise ValueError(f"'{key}' must be a string, got {v!r}")
        if v is not None and not _is_unicode_text(v):
            raise ValueError(f"'{key}' is not valid Unicode text (it holds a lone surrogate)")
        extras[key] = v
    return PenDigit(label=label, strokes=tuple(strokes), **extras)


def _is_unicode_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_pen_digits(path, any_label: bool = False) -> list[PenDigit]:
    """All digits of a ``.jsonl`` / ``.jsonl.gz`` file, in file order.

    ``any_label``: also accept records whose label is not a digit (see the module docstring).

    Raises :class:`PenDigitsError` (a ValueError) for a missing or unreadable file, corrupt gzip,
    text that is not UTF-8, or any line that is not a valid digit — with the file and line number.
    """
    return list(iter_pen_digits(path, any_label))


def _open_text_bytes(path: Path):
    """The file's bytes as a stream, decompressed if it is gzip; devices are refused."""
    try:
        stream = open(path, "rb")
    except OSError as e:
        raise PenDigitsError(path, None, f"cannot read the file ({e.strerror or e})") from e
    mode = os.fstat(stream.fileno()).st_mode
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISDIR(mode):
        stream.close()
        raise PenDigitsError(path, None, "not a regular file (a device or a folder)")
    try:
        head = stream.peek(2)[:2]
    except OSError as e:
        stream.close()
        raise PenDigitsError(path, None, f"cannot read the file ({e.strerror or e})") from e
    return gzip.GzipFile(fileobj=stream, mode="rb") if head == _GZIP_MAGIC else stream


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each line, within the size bounds of the module doc."""
    total = 0
    with _open_text_bytes(path) as stream:
        for lineno in range(1, MAX_LINES + 2):
            try:
                raw = stream.readline(MAX_LINE_BYTES + 1)
            except (OSError, EOFError, zlib.error) as e:
                raise PenDigitsError(path, None, f"corrupt gzip data ({e})") from e
            if not raw:
                return
            total += len(raw)
            if len(raw) > MAX_LINE_BYTES:
                raise PenDigitsError(
                    path,
                    lineno,
                    f"the line is longer than {MAX_LINE_BYTES} bytes; no digit takes that much",
                )
            if total > MAX_TEXT_BYTES:
                raise PenDigitsError(
                    path,
                    None,
                    f"more than {MAX_TEXT_BYTES // 1024**2} MiB of "
                    f"text; too large for a drawing file",
                )
            if lineno > MAX_LINES:
                raise PenDigitsError(
                    path, None, f"more than {MAX_LINES} lines; too many for a drawing file"
                )
            yield lineno, raw


def iter_pen_digits(path, any_label: bool = False) -> Iterator[PenDigit]:
    """The digits of a ``.jsonl`` / ``.jsonl.gz`` file one at a time, in file order; the errors
    of :func:`read_pen_digits`, raised when the reader reaches them."""
    path = Path(path)
    for lineno, raw in _lines(path):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise PenDigitsError(path, lineno, f"not UTF-8 text ({e.reason})") from None
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise PenDigitsError(
                path, lineno, f"not valid JSON ({e.msg}, column {e.colno})"
            ) from None
        except ValueError as e:  # an integer of more than 4 300 digits
            raise PenDigitsError(path, lineno, f"not valid JSON ({e})") from None
        except RecursionError:
            raise PenDigitsError(path, lineno, "not valid JSON (nested too deeply)") from None
        try:
            digit = _check_digit(obj, any_label)
        except ValueError as e:
            raise PenDigitsError(path, lineno, str(e)) from None
        yield digit


def _to_json(d: PenDigit) -> str:
    obj = {}
    if d.id is not None:
        obj["id"] = d.id
    if d.source is not None:
        obj["source"] = d.source
    if d.writer is not None:
        obj["writer"] = d.writer
    obj["label"] = d.label
    obj["strokes"] = [[[x, y] for x, y in s] for s in d.strokes]
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def write_pen_digits(path, digits: Iterable[PenDigit]) -> None:
    """Write digits to ``path`` atomically (``trainer.atomic_write``).

    Gzip-compressed when the name ends in ``.gz``. Every digit is validated first, exactly as
    :func:`read_pen_digits` would (the "line" in an error is the digit's 1-based position), so a file
    this writes can always be read back; on any error the previous file, if any, is left untouched.
    """
    path = Path(path)
    lines = []
    for k, d in enumerate(digits, start=1):
        try:
            if not isinstance(d, PenDigit):
                raise ValueError(f"expected a PenDigit, got {type(d).__name__}")
            d = _check_digit(d)
        except ValueError as e:
            raise PenDigitsError(path, k, str(e)) from None
        lines.append(_to_json(d) + "\n")
    payload = "".join(lines).encode("utf-8")
    if path.name.endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=9, mtime=0)
    try:
        write_atomically(path, lambda stream: stream.write(payload))
    except OSError as e:
        raise PenDigitsError(path, None, f"cannot write the file ({e.strerror or e})") from e
