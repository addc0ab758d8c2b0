"""Issue 17, third pass: hostile inputs against the batch's new features (the user's collection,
its import/export, the personal fine-tune, the "not a digit" output). See docs/hardening.md."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from trainer.data.collection import Collection, CollectionError

GOOD = '{"label":3,"strokes":[[[1,2],[3,4]]]}'


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
    path.write_text((GOOD + "\n") * 10)
    with pytest.raises(CollectionError, match="too large for a collection"):
        Collection(path).load()
    assert path.read_text() == (GOOD + "\n") * 10


def test_lone_surrogate_id_does_not_block_every_export(tmp_path):
    path = tmp_path / "my-digits.jsonl"
    path.write_text('{"id":"\\ud800","label":2,"strokes":[[[1,2],[3,4]]]}\n' + GOOD + "\n")
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
    path.write_bytes(hostile.encode("utf-8", "surrogateescape") + b"\n" + GOOD.encode() + b"\n")
    collection = Collection(path)
    assert [d.label for d in collection.load()] == [3]
    assert len(collection.damaged) == 1
    assert collection.damaged_path.stat().st_size > 0
    assert path.read_text().count("\n") == 1


def test_full_folder_append_reports_and_keeps_the_collection(tmp_path):
    """RLIMIT_FSIZE stands in for a full disk: the append fails with a clear message, the
    drawings already saved stay readable."""
    path = tmp_path / "my-digits.jsonl"
    path.write_text(GOOD + "\n")
    result = _run_isolated(f"""
        import resource
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(GOOD) + 10}, {len(GOOD) + 10}))
        from trainer.data.collection import Collection, CollectionError, new_drawing
        try:
            Collection({str(path)!r}).append(new_drawing(5, [[(1, 2), (3, 4)]] * 5))
        except CollectionError as error:
            print("refused:", error)
        """)
    assert "refused: could not save" in result.stdout, (result.stdout, result.stderr[-300:])
    collection = Collection(path)
    assert [d.label for d in collection.load()] == [3]


@pytest.mark.parametrize(
    "content, reason",
    [
        ("", "the files hold no drawings"),
        (
            '{"label":"not-a-digit","strokes":[[[1,2],[3,4]]]}\n',
            'skipped: this model has no "not a digit" output',
        ),
    ],
)
def test_my_digits_with_nothing_learnable_exits_2_before_training(tmp_path, content, reason):
    """Before: the fine-tune ran on MNIST alone and saved a model as if it had learnt the
    writer's handwriting."""
    from trainer.core.network import Network
    from trainer.model_io import save_model

    model, mine, out = tmp_path / "model.npz", tmp_path / "mine.jsonl", tmp_path / "me.npz"
    save_model(Network([784, 16, 10]), model)
    mine.write_text(content)
    done = _fine_tune(model, mine, "--subset", "200", "--out", str(out))
    assert done.returncode == 2, done.stderr[-500:]
    assert "--my-digits: no drawing to learn from" in done.stderr and reason in done.stderr
    assert not out.exists()


def test_float_label_is_set_aside_so_the_collection_stays_readable_by_the_tools(tmp_path):
    """Before: "label": 1.0 was accepted (1.0 == 1) and exported as 1.0, which digitpad-train
    --my-digits and digitpad-eval --strokes refuse, so the whole collection became unusable."""
    from trainer.data.pen_digits import read_pen_digits

    path = tmp_path / "my-digits.jsonl"
    path.write_text('{"label":1.0,"strokes":[[[1,2],[3,4]]]}\n' + GOOD + "\n")
    collection = Collection(path)
    assert [d.label for d in collection.load()] == [3]
    assert [d.label for d in read_pen_digits(path)] == [3]


def test_from_a_12_output_model_exits_2_naming_the_outputs(tmp_path):
    from trainer.core.network import Network
    from trainer.model_io import save_model

    model, mine = tmp_path / "twelve.npz", tmp_path / "mine.jsonl"
    save_model(Network([784, 16, 12]), model)
    mine.write_text(GOOD + "\n")
    done = _fine_tune(model, mine)
    assert done.returncode == 2, done.stderr[-500:]
    assert "maps 784 inputs to 12 outputs" in done.stderr
    assert "Traceback" not in done.stderr


def _fine_tune(model, mine, *more: str) -> subprocess.CompletedProcess:
    """``digitpad-train --from MODEL --my-digits MINE --preset personal --no-download`` (and
    ``more``) as a real process."""
    command = ["--from", str(model), "--my-digits", str(mine), "--preset", "personal"]
    return subprocess.run(
        [sys.executable, "-m", "trainer.cli.train_cli", *command, "--no-download", *more],
        capture_output=True,
        text=True,
        timeout=600,
    )
