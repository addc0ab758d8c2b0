"""The main window looks intended at every size it allows (offscreen, real widgets)."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QLabel


@pytest.fixture
def shown(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    return window


def fits(label: QLabel) -> bool:
    """The label's whole text is visible: wide enough, or wrapped into the height it has."""
    if label.wordWrap():
        return label.heightForWidth(label.width()) <= label.height()
    return label.sizeHint().width() <= label.width()


@pytest.mark.parametrize("size", [(720, 480), (1366, 768), (1920, 1200)])
def test_every_text_fits_and_the_paper_is_square(shown, qtbot, app_draw, size):
    send, fit = app_draw
    shown.resize(*size)
    qtbot.waitUntil(lambda: shown.width() == max(size[0], shown.minimumWidth()))
    canvas = shown.canvas
    send(canvas, fit([[(0, 0), (10, 0), (0, 20), (10, 20)]], canvas.width(), canvas.height()))
    assert shown.wait_for_prediction()
    QApplication.processEvents()
    clipped = [label.text() for label in shown.findChildren(QLabel)
               if label.isVisible() and label.text() and not fits(label)]
    assert not clipped
    paper = canvas.paper()
    assert paper.width() == paper.height() == min(canvas.width(), canvas.height())
    assert shown.activations.bars.width() >= 300  # the bars and their percentages, whole


def test_the_bars_stay_together_in_a_tall_window(shown, qtbot):
    from digitpad.activation_bars import MAX_ROW_HEIGHT

    shown.resize(1920, 1200)
    qtbot.waitUntil(lambda: shown.height() >= 1000)
    image = shown.activations.bars.grab().toImage()
    # Nothing is painted in the lower part: ten rows of at most MAX_ROW_HEIGHT from the top.
    bottom = int(10 * MAX_ROW_HEIGHT) + 5
    assert image.height() > bottom + 50
    background = image.pixelColor(2, image.height() - 2)
    assert all(image.pixelColor(x, y) == background
               for x in range(0, image.width(), 7) for y in range(bottom, image.height(), 7))


def test_a_warning_never_moves_the_canvas(shown, qtbot):
    before = shown.canvas.geometry()
    shown.show_warning("The model file broken.npz could not be read: the file is empty.")
    QApplication.processEvents()
    assert shown.banner.isVisible()
    assert shown.canvas.geometry() == before
