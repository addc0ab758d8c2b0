"""pen_digits: reading the real dev set, round trips, and a clear error for every kind of bad line."""

from __future__ import annotations

import collections
import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

from trainer.data.pen_digits import PenDigit, PenDigitsError, read_pen_digits, write_pen_digits
from trainer.strokes.strokes_to_input import strokes_to_input

PEN_DEV = Path(__file__).resolve().parents[2] / "shared/data/pen-digits-dev.jsonl.gz"

GOOD = {
    "id": "a#0",
    "source": "test/x",
    "writer": "x/Ann",
    "label": 7,
    "strokes": [[[0, 0], [10.5, 0], [4, 20]], [[2, 10], [8, 10]]],
}


def _write_lines(path: Path, lines) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_reads_the_real_dev_set():
    if not PEN_DEV.exists():
        pytest.skip(
            f"pen-digit dev set not found at {PEN_DEV} (it lives in ../shared/data, not in git)"
        )
    digits = read_pen_digits(PEN_DEV)
    assert len(digits) == 5159
    counts = collections.Counter(d.label for d in digits)
    assert [counts[k] for k in range(10)] == [503, 646, 585, 552, 534, 502, 465, 457, 468, 447]
    sources = collections.Counter(d.source for d in digits)
    assert sources["unipen-1a/apb"] == 2033 and sources["unipen-1a/pri"] == 78
    first = digits[0]
    assert first.id == "apa/apa00/app0032.dat#0" and first.writer == "apa/ArloReeves"
    assert first.label == 9
    assert first.strokes[0][:2] == ((0.0, 21.2), (1.3, 21.8))
    assert all(isinstance(x, float) for s in first.strokes for p in s for x in p)
    # every digit has ink and becomes a network input
    v = strokes_to_input(digits[100].strokes)
    assert v.shape == (784,) and v.max() == 1.0


def test_minimal_line_and_defaults(tmp_path):
    p = _write_lines(tmp_path / "d.jsonl", ['{"label": 0, "strokes": [[[1, 2]]]}'])
    (d,) = read_pen_digits(p)
    assert d == PenDigit(label=0, strokes=(((1.0, 2.0),),), source=None, writer=None, id=None)


@pytest.mark.parametrize("name", ["digits.jsonl", "digits.jsonl.gz"])
def test_write_then_read_round_trip(tmp_path, name):
    digits = [
        PenDigit(
            label=3,
            strokes=(((0.0, 0.0), (1.25, -3.5)), ((1e-7, 12345.678),)),
            source="me",
            writer="me/1",
            id="x1",
        ),
        PenDigit(label=9, strokes=(((0.1, 0.2),),)),
        PenDigit(label=0, strokes=((), ((5.0, 5.0), (6.0, 7.0)))),  # an empty stroke is kept
    ]
    path = tmp_path / name
    write_pen_digits(path, digits)
    assert read_pen_digits(path) == digits
    raw = path.read_bytes()
    assert raw[:2] == b"\x1f\x8b" if name.endswith(".gz") else raw.startswith(b"{")
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert [f.name for f in tmp_path.iterdir()] == [name]  # no temp file left behind


def test_gzip_is_recognised_by_content(tmp_path):
    p = tmp_path / "looks-plain.jsonl"
    p.write_bytes(gzip.compress((json.dumps(GOOD) + "\n").encode()))
    (d,) = read_pen_digits(p)
    assert d.label == 7 and len(d.strokes) == 2


def test_blank_lines_are_skipped(tmp_path):
    p = _write_lines(tmp_path / "d.jsonl", ["", json.dumps(GOOD), "   ", json.dumps(GOOD), ""])
    assert len(read_pen_digits(p)) == 2


def _bad(**change):
    obj = dict(GOOD)
    for k, v in change.items():
        if v is _DROP:
            del obj[k]
        else:
            obj[k] = v
    return json.dumps(obj)


_DROP = object()


@pytest.mark.parametrize(
    "line, reason",
    [
        ('{"label": 1, "strokes": [[[0, 0]]', "not valid JSON"),
        ("[1, 2, 3]", "expected a JSON object"),
        (_bad(label=_DROP), "missing 'label'"),
        (_bad(label=10), "'label' must be an integer 0-9"),
        (_bad(label=-1), "'label' must be an integer 0-9"),
        (_bad(label="3"), "'label' must be an integer 0-9"),
        (_bad(label=3.0), "'label' must be an integer 0-9"),
        (_bad(label=True), "'label' must be an integer 0-9"),
        (_bad(strokes=_DROP), "missing 'strokes'"),
        (_bad(strokes="abc"), "'strokes' must be a list"),
        (_bad(strokes=[[0, 0]]), "stroke 0, point 0 must be [x, y]"),
        (_bad(strokes=[[[0, 0], [1]]]), "stroke 0, point 1 must be [x, y]"),
        (_bad(strokes=[[[0, 0]], [[1, 2, 3]]]), "stroke 1, point 0 must be [x, y]"),
        (_bad(strokes=[[[0, "1"]]]), "coordinates must be numbers"),
        (_bad(strokes=[[[0, None]]]), "coordinates must be numbers"),
        (_bad(strokes=[[[0, True]]]), "coordinates must be numbers"),
        ('{"label": 1, "strokes": [[[0, NaN]]]}', "coordinates must be finite"),
        ('{"label": 1, "strokes": [[[Infinity, 0]]]}', "coordinates must be finite"),
        ('{"label": 1, "strokes": [[[1e999, 0]]]}', "coordinates must be finite"),
        (_bad(strokes=[[[10**400, 0]]]), "coordinate too large"),
        (_bad(strokes=[]), "the digit has no points"),
        (_bad(strokes=[[], []]), "the digit has no points"),
        (_bad(strokes=[{"x": 1}]), "stroke 0 must be a list"),
        (_bad(source=3), "'source' must be a string"),
        (_bad(writer=["w"]), "'writer' must be a string"),
        (_bad(id=17), "'id' must be a string"),
    ],
)
def test_bad_line_names_file_line_and_problem(tmp_path, line, reason):
    p = _write_lines(tmp_path / "bad.jsonl", [json.dumps(GOOD), "", line, json.dumps(GOOD)])
    with pytest.raises(PenDigitsError) as info:
        read_pen_digits(p)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.line == 3 and e.path == str(p)
    assert str(e).startswith(f"{p}, line 3: ")
    assert reason in str(e)


def test_error_with_a_ready_message():
    e = PenDigitsError("digits.jsonl: digit 3: something")
    assert str(e) == "digits.jsonl: digit 3: something" and e.line is None and e.path is None


def test_not_utf8(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_bytes(json.dumps(GOOD).encode() + b"\n" + b'{"label": 1, "\xff": 2}\n')
    with pytest.raises(PenDigitsError, match=r"line 2: not UTF-8"):
        read_pen_digits(p)


def test_missing_file_and_corrupt_gzip(tmp_path):
    with pytest.raises(PenDigitsError, match="cannot read the file") as info:
        read_pen_digits(tmp_path / "nope.jsonl")
    assert info.value.line is None
    p = tmp_path / "broken.jsonl.gz"
    p.write_bytes(gzip.compress(json.dumps(GOOD).encode() * 50)[:60])
    with pytest.raises(PenDigitsError, match="corrupt gzip"):
        read_pen_digits(p)


def test_write_is_atomic_and_validates_first(tmp_path):
    path = tmp_path / "mine.jsonl.gz"
    good = [PenDigit(label=1, strokes=(((0.0, 0.0), (0.0, 9.0)),))]
    write_pen_digits(path, good)
    before = path.read_bytes()
    bad = good + [PenDigit(label=11, strokes=(((0.0, 0.0),),))]
    with pytest.raises(PenDigitsError, match=r"line 2: 'label' must be an integer 0-9"):
        write_pen_digits(path, bad)
    with pytest.raises(PenDigitsError, match="coordinates must be finite"):
        write_pen_digits(path, [PenDigit(label=1, strokes=(((float("nan"), 0.0),),))])
    with pytest.raises(PenDigitsError, match="expected a PenDigit"):
        write_pen_digits(path, [{"label": 1, "strokes": [[[0, 0]]]}])
    assert path.read_bytes() == before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["mine.jsonl.gz"]


def test_write_keeps_the_existing_files_mode(tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text("")
    os.chmod(path, 0o600)
    write_pen_digits(path, [PenDigit(label=4, strokes=(((1.0, 1.0),),))])
    assert path.stat().st_mode & 0o777 == 0o600
    assert read_pen_digits(path)[0].label == 4


def test_write_accepts_numpy_strokes_and_labels(tmp_path):
    d = PenDigit(label=np.int64(5), strokes=(np.array([[0.0, 1.0], [2.5, 3.0]], np.float32),))
    path = tmp_path / "d.jsonl"
    write_pen_digits(path, [d])
    (back,) = read_pen_digits(path)
    assert back.label == 5 and type(back.label) is int
    assert back.strokes == (((0.0, 1.0), (2.5, 3.0)),)


def test_write_into_missing_folder(tmp_path):
    with pytest.raises(PenDigitsError, match="cannot write"):
        write_pen_digits(tmp_path / "no" / "such" / "d.jsonl", [])


def test_written_strokes_render_like_the_originals(tmp_path):
    d = PenDigit(label=2, strokes=(((0.0, 0.0), (10.0, 0.0), (0.0, 12.0), (10.0, 12.0)),))
    path = tmp_path / "d.jsonl"
    write_pen_digits(path, [d])
    (back,) = read_pen_digits(path)
    assert np.array_equal(strokes_to_input(back.strokes), strokes_to_input(d.strokes))
