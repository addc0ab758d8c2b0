"""End to end: real pen digits replayed as mouse strokes on the window read by the shipped model.

Digits from ``../shared/data/pen-digits-dev.jsonl.gz`` (UNIPEN, written with a stylus) are scaled
into the canvas and sent as real QMouseEvents (press, moves with the left button, release); the
verdict the window shows must be right for a clear majority of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from digitpad.assets import shipped_model_path

from digitpad.app import MainWindow
from trainer.data.pen_digits import read_pen_digits

REPO = Path(__file__).resolve().parents[1]
PEN_DIGITS = REPO.parent / "shared" / "data" / "pen-digits-dev.jsonl.gz"
PER_LABEL = 10  # 100 digits: 10 of each label, spread over the file
REQUIRED_SHARE = 0.80  # shown verdict right (a "not sure" counts as wrong)

pytestmark = pytest.mark.usefixtures("app_user_data")


@pytest.fixture(scope="module")
def pen_digits():
    if not PEN_DIGITS.exists():
        pytest.skip(f"the pen-digit set {PEN_DIGITS} is not there")
    digits = read_pen_digits(PEN_DIGITS)
    chosen = []
    for label in range(10):
        of_label = [d for d in digits if d.label == label]
        step = len(of_label) / PER_LABEL
        chosen += [of_label[int(i * step)] for i in range(PER_LABEL)]
    return chosen


@pytest.fixture
def window(qtbot):
    path = shipped_model_path()
    if not path.exists():
        pytest.skip(f"the shipped model {path} does not exist yet (train it as the README says)")
    win = MainWindow()
    qtbot.addWidget(win)
    win.resize(1000, 640)
    win.show()
    qtbot.waitExposed(win)
    assert win.model.source == "shipped" and win.model_warning() is None
    return win


def test_window_reads_real_pen_digits(window, pen_digits, app_draw):
    send, fit = app_draw
    canvas = window.canvas
    right, unsure, wrong = 0, 0, []
    for digit in pen_digits:
        window.clear_action.trigger()
        assert window.verdict() is None
        send(canvas, fit(digit.strokes, canvas.width(), canvas.height()))
        shown = window.verdict()
        if shown == digit.label:
            right += 1
        elif shown is None:
            unsure += 1
        else:
            wrong.append((digit.id, digit.label, shown))
    share = right / len(pen_digits)
    assert share >= REQUIRED_SHARE, (
        f"{right}/{len(pen_digits)} right, {unsure} not sure, wrong: {wrong[:10]}"
    )
