"""The shared plot pieces: a 28×28 picture is painted in Qt's native image format (painting an
indexed image converts it every time, on the GUI thread, while the pen moves) with the diverging
colours the legend promises — white at zero, red above, blue below; the confusion matrix has room
for its counts at its least size."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage

from digitpad import plots


def test_a_picture_is_rendered_once_in_the_native_format_with_the_colour_map(qtbot):
    _plot, image = plots.image_plot(plots.DIVERGING)
    values = np.zeros(784, dtype=np.float32)
    values[0], values[1] = 2.0, -2.0  # row 0: the first two pixels; the rest is zero
    plots.set_picture(image, values, (-2.0, 2.0))
    image.render()
    rendered = image.qimage
    assert rendered.format() == QImage.Format.Format_ARGB32_Premultiplied
    assert (rendered.width(), rendered.height()) == (28, 28)

    def colour(x: int, y: int) -> tuple[int, int, int]:
        c = QColor(rendered.pixel(x, y))
        return c.red(), c.green(), c.blue()

    assert colour(0, 0) == (178, 24, 43)  # the largest value: red
    assert colour(1, 0) == (33, 102, 172)  # the smallest: blue
    # zero: white, within the colour table's steps (256 colours over the levels)
    assert np.abs(np.subtract(colour(5, 5), (247, 247, 247))).max() <= 2


def test_the_confusion_matrix_at_its_least_size_has_room_for_every_count(qtbot):
    """Each cell is wider and taller than its count, even a four-digit one of an 11-output model
    (the Mistakes window at its minimum size clipped "1132" to ".132")."""
    from digitpad.confusion_plot import ConfusionMatrixPlot

    plot = ConfusionMatrixPlot()
    qtbot.addWidget(plot)
    matrix = np.full((10, 11), 7, dtype=np.int64)
    np.fill_diagonal(matrix, 1132)
    plot.set_matrix(matrix)
    plot.resize(plot.minimumSize())
    plot.show()
    qtbot.waitExposed(plot)
    qtbot.wait(50)
    assert plot.size() == plot.minimumSize()
    width = plot.cell_centre(0, 1).x() - plot.cell_centre(0, 0).x()
    height = plot.cell_centre(1, 0).y() - plot.cell_centre(0, 0).y()
    widest = max(text.textItem.boundingRect().width() for text in plot._texts)
    tallest = max(text.textItem.boundingRect().height() for text in plot._texts)
    assert width >= widest and height >= tallest
