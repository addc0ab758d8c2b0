"""Fault suite for the user's collection (``trainer/data/collection.py``): crashes mid-save, damaged
lines, two copies of the app writing at once, and opening a large collection. Then hostile inputs
(issue 17, see docs/hardening.md): a collection that is a link to ``/dev/zero`` or a FIFO, one too
large to read, lines Python or the tools cannot take (set aside, the rest kept) and a full disk
while appending."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from hostile_inputs import GOOD_LINE

from trainer.data.collection import Collection, CollectionError, new_drawing

SEVEN = [[[10.0, 10.0], [60.0, 10.0], [30.0, 90.0]]]

APPENDER = """
import sys
from trainer.data.collection import Collection, new_drawing
collection = Collection(sys.argv[1])
for i in range(int(sys.argv[2])):
    drawing = new_drawing(i % 10, [[[float(i), 0.0], [5.0, float(i) + 9.0]] * 40])
    collection.append(drawing)
    print(drawing.id, flush=True)
"""


def _appenders(path, count, copies):
    return [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, str(path), str(count)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(copies)
    ]


def test_a_truncated_last_line_is_reported_kept_aside_and_never_glued_to_the_next(tmp_path):
    collection = Collection(tmp_path / "my-digits.jsonl")
    collection.append(new_drawing(7, SEVEN))
    cut = new_drawing(1, SEVEN).to_json()[:25]
    with open(collection.path, "a") as stream:
        stream.write(cut)  # what a crash in the middle of a save leaves
    collection.append(new_drawing(4, SEVEN))  # the next save starts on a new line
    again = Collection(collection.path)
    assert [d.label for d in again.load()] == [7, 4]
    assert [(line.number, line.text) for line in again.damaged] == [(2, cut)]
    assert "not valid JSON" in again.damaged[0].reason
    assert again.damaged_path.read_text() == cut + "\n"
    assert [d.label for d in Collection(collection.path).load()] == [7, 4]  # set aside once


def test_garbage_lines_are_set_aside_and_the_good_ones_kept(tmp_path):
    path = tmp_path / "my-digits.jsonl"
    good = new_drawing(2, SEVEN).to_json()
    garbage = [
        "\x00\x01 garbage",
        json.dumps({"label": 5}),
        json.dumps({"label": 42, "strokes": SEVEN}),
    ]
    path.write_text("\n".join([good, *garbage, good]) + "\n")
    collection = Collection(path)
    assert [d.label for d in collection.load()] == [2, 2]
    assert [line.number for line in collection.damaged] == [2, 3, 4]
    assert collection.damaged_path.read_text().splitlines() == garbage
    assert "'strokes' must be a list" in collection.damaged[1].reason


def test_kill_9_during_appends_loses_at_most_the_drawing_being_saved(tmp_path):
    path = tmp_path / "my-digits.jsonl"
    (child,) = _appenders(path, 100000, 1)
    saved = [child.stdout.readline().strip() for _ in range(50)]
    time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    saved += child.stdout.read().split()  # every id the child was told is saved
    collection = Collection(path)
    ids = {d.id for d in collection.load()}
    assert set(saved) <= ids
    assert len(collection.damaged) <= 1


def test_two_copies_appending_at_once_corrupt_nothing(tmp_path):
    path = tmp_path / "my-digits.jsonl"
    children = _appenders(path, 150, 2)
    outputs = [child.communicate()[0].split() for child in children]
    assert all(child.returncode == 0 for child in children)
    collection = Collection(path)
    assert {d.id for d in collection.load()} == set(outputs[0]) | set(outputs[1])
    assert len(collection.drawings) == 300 and collection.damaged == []


def test_ten_thousand_drawings_load(tmp_path):
    """10 000 drawings load whole. How fast is a benchmark's question, not a unit test's: a CPU-time
    limit here failed on a clean CI run (2.50 s against 2.0 s) while passing on others."""
    path = tmp_path / "my-digits.jsonl"
    line = new_drawing(3, [[[i + 0.5, i * i % 97 + 0.25] for i in range(60)]]).to_json()
    path.write_text((line + "\n") * 10000)
    drawings = Collection(path).load()
    assert len(drawings) == 10000


def _run_isolated(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``code`` in a child with 1.5 GiB of address space, so that a hang or a memory blow-up
    on broken code fails the test instead of the machine."""
    limited = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024**2, 1536 * 1024**2))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", limited + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_collection_that_is_not_a_regular_file_is_refused_at_once(tmp_path, target):
    path = tmp_path / "my-digits.jsonl"
    if target == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to(target)
    try:
        result = _run_isolated(
            f"""
            from trainer.data.collection import Collection, CollectionError, new_drawing
            for attempt in ("load", "append"):
                collection = Collection({str(path)!r})
                try:
                    if attempt == "load":
                        collection.load()
                    else:
                        collection.append(new_drawing(3, [[(1, 2), (3, 4)]]))
                except CollectionError as error:
                    print(attempt, error)
            """,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("reading or appending to the collection hung")
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.count("is not a regular file") == 2, result.stdout
    assert path.is_symlink() or path.exists()  # left as it was


def test_oversized_collection_is_refused_without_reading_it(tmp_path, monkeypatch):
    import trainer.data.collection as collection_module

    monkeypatch.setattr(collection_module, "MAX_TEXT_BYTES", 100)
    path = tmp_path / "my-digits.jsonl"
    path.write_text((GOOD_LINE + "\n") * 10)
    with pytest.raises(CollectionError, match="too large for a collection"):
        Collection(path).load()
    assert path.read_text() == (GOOD_LINE + "\n") * 10


def test_lone_surrogate_id_does_not_block_every_export(tmp_path):
    path = tmp_path / "my-digits.jsonl"
    path.write_text('{"id":"\\ud800","label":2,"strokes":[[[1,2],[3,4]]]}\n' + GOOD_LINE + "\n")
    collection = Collection(path)
    assert len(collection.load()) == 2
    assert collection.export(tmp_path / "out.jsonl") == 2
    assert Collection(tmp_path / "again.jsonl").import_file(tmp_path / "out.jsonl") == 2


@pytest.mark.parametrize(
    "hostile",
    [
        '{"label":3,"strokes":[[[1' + "0" * 5000 + ",2],[3,4]]]}",  # 5 000-digit number
        "[" * 100_000,  # deep nesting
        "\udcff\udcfe garbage",  # not UTF-8 at all
        '{"label":"\\ud800","strokes":[[[1,2],[3,4]]]}',  # lone surrogate label
        '{"label":"<b>7</b>","strokes":[[[1,2],[3,4]]]}',  # a weird string label
        '{"label":true,"strokes":[[[1,2],[3,4]]]}',
        '{"label":3,"strokes":[[[1,2],[3,4]]],"canvas":[0,5]}',
    ],
)
def test_hostile_line_is_set_aside_and_the_rest_kept(tmp_path, hostile):
    path = tmp_path / "my-digits.jsonl"
    path.write_bytes(
        hostile.encode("utf-8", "surrogateescape") + b"\n" + GOOD_LINE.encode() + b"\n"
    )
    collection = Collection(path)
    assert [d.label for d in collection.load()] == [3]
    assert len(collection.damaged) == 1
    assert collection.damaged_path.stat().st_size > 0
    assert path.read_text().count("\n") == 1


def test_full_folder_append_reports_and_keeps_the_collection(tmp_path):
    """RLIMIT_FSIZE stands in for a full disk: the append fails with a clear message, the
    drawings already saved stay readable."""
    path = tmp_path / "my-digits.jsonl"
    path.write_text(GOOD_LINE + "\n")
    result = _run_isolated(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(GOOD_LINE) + 10}, {len(GOOD_LINE) + 10}))
        from trainer.data.collection import Collection, CollectionError, new_drawing
        try:
            Collection({str(path)!r}).append(new_drawing(5, [[(1, 2), (3, 4)]] * 5))
        except CollectionError as error:
            print("refused:", error)
        """)
    assert "refused: could not save" in result.stdout, (result.stdout, result.stderr[-300:])
    collection = Collection(path)
    assert [d.label for d in collection.load()] == [3]


def test_float_label_is_set_aside_so_the_collection_stays_readable_by_the_tools(tmp_path):
    """Before: "label": 1.0 was accepted (1.0 == 1) and exported as 1.0, which digitpad-train
    --my-digits and digitpad-eval --strokes refuse, so the whole collection became unusable."""
    from trainer.data.pen_digits import read_pen_digits

    path = tmp_path / "my-digits.jsonl"
    path.write_text('{"label":1.0,"strokes":[[[1,2],[3,4]]]}\n' + GOOD_LINE + "\n")
    collection = Collection(path)
    assert [d.label for d in collection.load()] == [3]
    assert [d.label for d in read_pen_digits(path)] == [3]
