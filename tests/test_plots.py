"""The shared plot pieces: a 28×28 picture is painted in Qt's native image format (painting an
indexed image converts it every time, on the GUI thread, while the pen moves) with the diverging
colours the legend promises — white at zero, red above, blue below."""

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
