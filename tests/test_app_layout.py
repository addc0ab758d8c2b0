"""The main window looks intended at every size it allows (offscreen, real widgets)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QScrollArea


@pytest.fixture
def shown(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.mark.parametrize("size", [(720, 480), (1366, 768), (1920, 1200)])
def test_every_text_fits_and_the_paper_is_square(shown, qtbot, app_draw, label_fits, size):
    send, fit = app_draw
    shown.resize(*size)
    qtbot.waitUntil(lambda: shown.width() == max(size[0], shown.minimumWidth()))
    canvas = shown.canvas
    send(canvas, fit([[(0, 0), (10, 0), (0, 20), (10, 20)]], canvas.width(), canvas.height()))
    assert shown.wait_for_prediction()
    QApplication.processEvents()
    clipped = [
        label.text()
        for label in shown.findChildren(QLabel)
        if label.isVisible() and label.text() and not label_fits(label)
    ]
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
    assert all(
        image.pixelColor(x, y) == background
        for x in range(0, image.width(), 7)
        for y in range(bottom, image.height(), 7)
    )


def test_a_warning_never_moves_the_canvas(shown, qtbot):
    before = shown.canvas.geometry()
    shown.show_warning("The model file broken.npz could not be read: the file is empty.")
    QApplication.processEvents()
    assert shown.banner.isVisible()
    assert shown.canvas.geometry() == before


def visible_labels(dialog):
    return [label for label in dialog.findChildren(QLabel) if label.isVisible() and label.text()]


@pytest.mark.parametrize("which", ["about", "shortcuts", "mnist", "mnist after an error"])
def test_dialogs_open_big_enough_for_all_their_text(window, qtbot, label_fits, which):
    from digitpad.about import about_dialog, shortcuts_dialog
    from digitpad.mnist_dialog import MnistDialog

    if which.startswith("mnist"):
        dialog = MnistDialog("MNIST is not on this computer yet (looked in /nowhere).", window)
    else:
        dialog = {"about": about_dialog, "shortcuts": shortcuts_dialog}[which](window)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    if which == "mnist after an error":
        dialog.show_error("download failed: every mirror failed: " + "no route to host; " * 12)
    QApplication.processEvents()
    labels = visible_labels(dialog)
    assert labels and all(label_fits(label) for label in labels), [
        label.text()[:60] for label in labels if not label_fits(label)
    ]
    for label in labels:  # no text drawn over another
        others = [o for o in labels if o is not label]
        assert not any(label.geometry().intersects(o.geometry()) for o in others)


def test_the_mnist_folder_chosen_is_remembered_at_the_next_start(
    window, qtbot, tmp_path, mnist_dir
):
    """The folder picked in the MNIST dialog is what the next session's Retrain dialog uses."""

    from digitpad import settings
    from digitpad.mnist_dialog import MnistDialog
    from digitpad.retrain_dialog import RetrainDialog
    from trainer.data.mnist import MNIST_FILES

    folder = tmp_path / "my mnist"
    folder.mkdir()
    real = mnist_dir
    for name in MNIST_FILES:
        (folder / f"{name}.gz").symlink_to((real / f"{name}.gz").resolve())
    assert RetrainDialog().mnist_dir is None
    dialog = MnistDialog("missing", window)
    qtbot.addWidget(dialog)
    assert dialog.use_folder(folder)
    assert settings.settings_path().is_file()
    later = RetrainDialog()  # a new dialog, as at the next start
    qtbot.addWidget(later)
    assert later.mnist_dir == folder.resolve()
    settings.settings_path().write_text("{ damaged")  # a damaged file is forgotten, not fatal
    assert RetrainDialog().mnist_dir is None


def test_about_this_model_speaks_plainly_with_the_details_one_click_away(qtbot, label_fits):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QToolButton

    from digitpad import model_store
    from digitpad.about import model_info_dialog

    loaded = model_store.load_startup_model()  # the shipped model and its full metadata
    dialog = model_info_dialog(loaded)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    body = dialog.findChild(QLabel, "body").text()
    assert "Cross-entropy" in body and "He (for ReLU)" in body and "Adam" in body
    val = loaded.metadata["metrics"]["val_accuracy"]  # a fraction in the file, a percentage here
    assert "cross_entropy" not in body and repr(val) not in body
    assert f"{100 * val:.2f}\u00a0%" in body
    assert "sha256" not in body.lower()
    details = dialog.findChild(QLabel, "details")
    assert not details.isVisible() and "mnist_sha256" in details.text()
    qtbot.mouseClick(dialog.findChild(QToolButton, "detailsToggle"), Qt.MouseButton.LeftButton)
    assert details.isVisible()
    area = dialog.findChild(QScrollArea)
    QApplication.processEvents()
    assert not area.horizontalScrollBar().isVisible()
    assert area.widget().width() <= area.viewport().width()


def _caption_ink_rows(height: int) -> int:
    """How many pixel rows of the "not a digit" caption are drawn by a bar chart ``height`` tall
    (eleven outputs, all zero: the caption is muted text at the start of the empty track)."""
    import numpy as np
    from PySide6.QtGui import QImage

    from digitpad.activation_bars import MAX_ROW_HEIGHT, MUTED_COLOR, TRACK_COLOR, BarChart

    chart = BarChart()
    chart.resize(320, height)
    chart.set_values(np.zeros(11), highlight=None, unsure=False)
    image = chart.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    row = min(MAX_ROW_HEIGHT, chart.height() / 11)
    top, bottom = int(10 * row) - 2, min(int(11 * row) + 2, image.height())
    width = image.width()
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), width, 4)
    band = pixels[top:bottom, : width // 2, :3].astype(int)
    track = np.array([TRACK_COLOR.blue(), TRACK_COLOR.green(), TRACK_COLOR.red()])
    muted = np.array([MUTED_COLOR.blue(), MUTED_COLOR.green(), MUTED_COLOR.red()])
    # text pixels: nearer the muted text colour than the track's (anti-aliased edges included)
    darker = np.abs(band - muted).sum(axis=2) < np.abs(band - track).sum(axis=2)
    darker[:, :20] = False  # the row's label "✗" left of the track
    return int(darker.any(axis=1).sum())


def test_the_not_a_digit_caption_is_whole_in_the_smallest_window(qapp):
    """At the smallest window the bars are thin; the caption inside the eleventh one used to be
    clipped to the bar's height (its "g" cut off)."""
    assert _caption_ink_rows(165) == _caption_ink_rows(330)
