"""The user's collection of labelled drawings (trainer/data/collection.py): saving, reading back,
delete/relabel with undo, import and export in the pen-digits format."""

from __future__ import annotations

import json

import pytest

from trainer.data.collection import Collection, CollectionError, new_drawing
from trainer.data.pen_digits import NOT_A_DIGIT, read_pen_digits

SEVEN = [[[10.0, 10.0], [60.0, 10.0], [30.0, 90.0]], [[20.0, 50.0], [50.0, 50.0]]]
ONE = [[[40.0, 5.0], [40.0, 95.0]]]


@pytest.fixture
def collection(tmp_path):
    return Collection(tmp_path / "my-digits.jsonl")


def test_a_saved_drawing_reads_back_with_its_label_strokes_time_and_canvas(collection):
    assert collection.append(new_drawing(7, SEVEN, canvas=(420, 380))) == 1
    assert collection.append(new_drawing(NOT_A_DIGIT, ONE)) == 2
    again = Collection(collection.path).load()
    assert [d.label for d in again] == [7, NOT_A_DIGIT]
    assert again[0].strokes == SEVEN
    assert again[0].canvas == (420, 380) and again[0].time.endswith("+00:00")
    # the file is the pen-digits format: the trainer and digitpad-eval read it as it is
    assert [d.label for d in read_pen_digits(collection.path)] == [7, NOT_A_DIGIT]


def test_a_bad_label_or_an_empty_drawing_is_refused(collection):
    with pytest.raises(CollectionError, match="a label is a digit 0-9"):
        new_drawing(12, SEVEN)
    with pytest.raises(CollectionError, match="a label is a digit 0-9"):
        new_drawing(True, SEVEN)
    with pytest.raises(CollectionError, match="stroke 0 must be a list of finite"):
        new_drawing(1, [[[1.0, float("nan")]]])
    with pytest.raises(CollectionError, match="no points"):
        new_drawing(3, [[]])


def test_delete_and_relabel_are_undone_in_reverse_order(collection):
    drawings = [new_drawing(label, SEVEN) for label in (1, 7, 7, 4)]
    for drawing in drawings:
        collection.append(drawing)
    assert collection.delete([drawings[1].id]) == 1
    assert collection.relabel([drawings[2].id], 1) == 1
    assert [d.label for d in Collection(collection.path).load()] == [1, 1, 4]
    assert collection.undo()
    assert [d.label for d in Collection(collection.path).load()] == [1, 7, 4]
    assert collection.undo()
    assert [d.id for d in Collection(collection.path).load()] == [d.id for d in drawings]
    assert not collection.undo()


def test_an_undo_keeps_what_another_copy_of_the_app_appended_meanwhile(collection):
    first = new_drawing(2, SEVEN)
    collection.append(first)
    collection.delete([first.id])
    Collection(collection.path).append(new_drawing(5, ONE))  # the other running copy
    collection.undo()
    assert sorted(d.label for d in Collection(collection.path).load()) == [2, 5]


def test_export_then_import_round_trips(collection, tmp_path):
    collection.append(new_drawing(3, SEVEN))
    collection.append(new_drawing(NOT_A_DIGIT, ONE))
    exported = tmp_path / "mine.jsonl.gz"
    assert collection.export(exported) == 2
    other = Collection(tmp_path / "other.jsonl")
    assert other.import_file(exported) == 2
    assert [(d.label, d.strokes) for d in Collection(other.path).load()] == [
        (d.label, d.strokes) for d in collection.drawings
    ]


def test_an_import_of_a_bad_file_changes_nothing_and_says_why(collection, tmp_path):
    collection.append(new_drawing(3, SEVEN))
    before = collection.path.read_bytes()
    bad = tmp_path / "bad.jsonl"
    good_line = json.dumps({"label": 1, "strokes": ONE})
    bad.write_text(f'{good_line}\n{good_line}\n{{"label": 11, "strokes": []}}\n')
    with pytest.raises(CollectionError, match=r"nothing was imported: .*line 3: 'label'"):
        collection.import_file(bad)
    with pytest.raises(CollectionError, match="nothing was imported: .*cannot read"):
        collection.import_file(tmp_path / "missing.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(CollectionError, match="holds no drawings"):
        collection.import_file(empty)
    assert collection.path.read_bytes() == before


def test_reading_a_collection_that_does_not_exist_creates_nothing(tmp_path):
    collection = Collection(tmp_path / "user-data" / "my-digits.jsonl")
    assert collection.load() == [] and collection.damaged == []
    assert not (tmp_path / "user-data").exists()
