"""Labelling a drawing (digit keys, a click on a bar, "That's a…") and the My digits window,
driven by real key and mouse events on the real widgets."""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from trainer.data.collection import Collection, new_drawing
from trainer.data.pen_digits import NOT_A_DIGIT

STROKES = [[(60, 40), (140, 40), (90, 200)], [(70, 120), (130, 120)]]


@pytest.fixture
def shown(window, qtbot):
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    window.canvas.setFocus()
    return window


def saved_labels(window):
    return [d.label for d in Collection(window.labelling.collection.path).load()]


def test_a_digit_key_saves_the_drawing_clears_the_canvas_and_says_so(shown, qtbot, app_draw):
    send, _ = app_draw
    send(shown.canvas, STROKES)
    qtbot.keyClick(shown.canvas, Qt.Key.Key_7)
    assert saved_labels(shown) == [7]
    assert shown.canvas.is_empty()
    assert shown.statusBar().currentMessage() == "Saved as 7 · 1 of your digits"
    record = json.loads(shown.labelling.collection.path.read_text())
    assert record["canvas"] == [shown.canvas.width(), shown.canvas.height()]
    paper = shown.canvas.paper()  # the stroke begins on the square paper (at its edge if beside)
    x, y = STROKES[0][0]
    assert record["strokes"][0][0] == [
        min(max(x, paper.left()), paper.right()),
        min(max(y, paper.top()), paper.bottom()),
    ]


def test_a_click_on_a_bar_and_the_not_a_digit_key_label_too(shown, qtbot, app_draw):
    send, _ = app_draw
    send(shown.canvas, STROKES)
    bars = shown.activations.bars
    qtbot.mouseClick(
        bars,
        Qt.MouseButton.LeftButton,
        pos=QPoint(bars.width() // 2, int(bars.height() * 3.5 / 10)),
    )
    send(shown.canvas, STROKES)
    qtbot.keyClick(shown.canvas, Qt.Key.Key_N)
    assert saved_labels(shown) == [3, NOT_A_DIGIT]
    assert shown.statusBar().currentMessage() == "Saved as not a digit · 2 of your digits"


def test_nothing_is_saved_from_an_empty_canvas(shown, qtbot):
    qtbot.keyClick(shown.canvas, Qt.Key.Key_4)
    assert not shown.labelling.collection.path.exists()
    assert shown.statusBar().currentMessage() == "Draw something first, then say what it is."


def test_thats_a_menu_offers_every_digit_and_not_a_digit(shown):
    texts = [a.text() for a in shown.labelling.button.menu().actions() if a.text()]
    assert texts == [f"That's a {d}" for d in range(10)] + ["That's not a digit"]


def test_my_digits_shows_counts_verdicts_and_deletes_and_relabels_with_undo(
    shown, qtbot, app_draw, tmp_path, warnings_shown
):
    send, _ = app_draw
    for key in (Qt.Key.Key_1, Qt.Key.Key_1, Qt.Key.Key_7):
        send(shown.canvas, STROKES)
        qtbot.keyClick(shown.canvas, key)
    dialog = shown.open_my_digits()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    qtbot.waitUntil(lambda: "reads" in dialog.summary.text())
    assert dialog.model.rowCount() == 3
    assert dialog.summary.text().startswith("3 drawings (1: 2 · 7: 1).")
    assert "The current model reads" in dialog.summary.text()
    # the random test model's verdict is the same for the three identical drawings: one or
    # two of them are misreads, marked in the grid
    marked = [dialog.model.data(dialog.model.index(r)) for r in range(3)]
    assert sum("✗ read" in text for text in marked) >= 1
    assert all(
        text.split("\n")[1] == "✓" or text.split("\n")[1].startswith("✗ read ") for text in marked
    )
    dialog.grid.setFocus()
    dialog.grid.setCurrentIndex(dialog.model.index(2))  # the 7 (sorted by label)
    qtbot.keyClick(dialog.grid, Qt.Key.Key_Delete)
    assert saved_labels(shown) == [1, 1]
    assert dialog.model.rowCount() == 2
    qtbot.keyClick(dialog.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert saved_labels(shown) == [1, 1, 7]
    dialog.grid.setCurrentIndex(dialog.model.index(0))
    dialog.relabel_selected(4)
    assert sorted(saved_labels(shown)) == [1, 4, 7]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"label": 5, "strokes": []}\n')
    assert not dialog.import_file(bad)
    assert "nothing was imported" in warnings_shown[-1][1]
    assert sorted(saved_labels(shown)) == [1, 4, 7]


def test_ten_thousand_drawings_open_in_under_a_second(window, qtbot, app_user_data):
    """Opening = building the window and showing its first screenful of thumbnails, with the
    app's kernels warm (as they are in the running app); reading the file is measured in
    tests/test_faults_collection.py."""
    from digitpad.my_digits_window import MyDigitsWindow
    from trainer.strokes.strokes_to_input import strokes_to_input

    collection = Collection()
    strokes = [[[i + 0.5, i * i % 97 + 0.25] for i in range(60)]]
    strokes_to_input(strokes)
    line = new_drawing(3, strokes).to_json()
    app_user_data.mkdir(parents=True, exist_ok=True)
    collection.path.write_text((line + "\n") * 10000)
    collection.load()
    started = time.perf_counter()
    dialog = MyDigitsWindow(collection, window.model.network)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    QApplication.processEvents()
    seconds = time.perf_counter() - started
    assert dialog.model.rowCount() == 10000
    print(f"10 000 drawings opened in {seconds:.2f} s")
    assert seconds < 1.0, f"took {seconds:.2f} s"
    qtbot.waitUntil(
        lambda: (
            "reads 10000 of them" in dialog.summary.text()
            or "reads 0 of them" in dialog.summary.text()
        ),
        timeout=60000,
    )


@pytest.mark.needs_mnist
def test_learn_my_handwriting_fine_tunes_shows_before_and_after_and_can_be_kept(
    shown, qtbot, app_draw
):
    send, _ = app_draw
    for key in (Qt.Key.Key_4, Qt.Key.Key_4, Qt.Key.Key_4, Qt.Key.Key_4):
        send(shown.canvas, STROKES)
        qtbot.keyClick(shown.canvas, key)
    before = shown.model.network
    dialog = shown.learn_my_handwriting()
    assert dialog.preset_box.currentText() == "personal" and dialog.my_digits_box.isChecked()
    assert dialog.my_digits_box.text() == "My digits (4)"
    qtbot.waitUntil(lambda: dialog.state() != "running", timeout=600000)
    assert dialog.state() == "decide", dialog.result_label.text()
    text = dialog.result_label.text()
    assert "On your digits (each read by a model that never saw it)" in text
    assert "MNIST test accuracy" in text
    assert dialog.outcome.network is not before  # a fine-tuned copy, the current one untouched
    assert dialog.outcome.network.layer_sizes == before.layer_sizes
    assert dialog.keep()
    assert shown.model.network is dialog.outcome.network
