"""pyqtgraph pieces shared by the network view, the Mistakes window and the Retrain dialog:
colour maps, a 28×28 picture with a labelled colour bar, and output names.

Colour maps: activations run from white (0) to dark orange (strongest); weights and attributions
use a diverging map — blue below zero, white at zero, red above — always with levels symmetric
around zero, so white really means "nothing".
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QGraphicsItem

SIDE = 28
#: Blue (negative) – white (zero) – red (positive), ColorBrewer's RdBu.
DIVERGING = pg.ColorMap([0.0, 0.5, 1.0], [(33, 102, 172), (247, 247, 247), (178, 24, 43)])
#: White (no activity) to dark orange (strongest).
ACTIVITY = pg.ColorMap([0.0, 0.5, 1.0], [(252, 252, 250), (247, 160, 60), (140, 45, 4)])
#: Light grey to ink: how an input digit looks on paper.
INK = pg.ColorMap([0.0, 1.0], [(253, 253, 251), (29, 36, 48)])
BACKGROUND = "#ffffff"
TEXT_COLOR = "#1d2430"

pg.setConfigOptions(antialias=False, background=BACKGROUND, foreground=TEXT_COLOR)


def output_name(index: int) -> str:
    """What output unit ``index`` stands for: a digit, or "not a digit" for an 11th unit."""
    return str(index) if index < 10 else "not a digit"


def output_tick(index: int) -> str:
    """A short axis label for output unit ``index``."""
    return str(index) if index < 10 else "none"


def cached(item: QGraphicsItem) -> QGraphicsItem:
    """Paint ``item`` from a pixmap until it changes: colour bars and titles change rarely, and
    repainting them with every live update cost more than the pictures themselves."""
    item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


class Picture(pg.ImageItem):
    """An image item whose colour-mapped image is kept in the format Qt paints fastest.

    pyqtgraph renders a picture with a colour map as an indexed 8-bit image, which Qt's raster
    engine converts every time it paints it scaled: about ten times slower than the premultiplied
    ARGB it draws directly (0.17 against 0.014 ms for a 28×28 picture scaled six-fold). The live
    pictures are painted a few times a second while the pen moves, on the GUI thread that also
    delivers the pen's events; the conversion is done once here, when the image changes.
    """

    def render(self) -> None:
        super().render()
        native = QImage.Format.Format_ARGB32_Premultiplied
        if self.qimage is not None and self.qimage.format() != native:
            self.qimage = self.qimage.convertToFormat(native)


def image_plot(colour_map: pg.ColorMap, title: str = "") -> tuple[pg.PlotItem, pg.ImageItem]:
    """A plot without axes holding one image in ``colour_map``, row 0 at the top, square pixels,
    no mouse zoom."""
    plot = pg.PlotItem(title=title)
    cached(plot.titleLabel)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.setMenuEnabled(False)
    plot.hideButtons()
    view = plot.getViewBox()
    view.invertY(True)
    view.setAspectLocked(True)
    view.setMouseEnabled(False, False)
    view.setRange(xRange=(0, SIDE), yRange=(0, SIDE), padding=0)
    image = Picture(axisOrder="row-major")
    image.setColorMap(colour_map)
    plot.addItem(image)
    return plot, image


def set_title(plot: pg.PlotItem, text: str, size: str = "9pt") -> None:
    """Change a plot's title only if it changed (laying a title out again takes a while)."""
    if getattr(plot, "_shown_title", None) != text:
        plot._shown_title = text
        plot.setTitle(text, size=size)


def colour_bar(colour_map: pg.ColorMap, label: str, levels=(-1.0, 1.0)) -> pg.ColorBarItem:
    """A vertical colour bar with a label along it and numbers at its ticks (not draggable)."""
    return cached(
        pg.ColorBarItem(
            values=levels,
            colorMap=colour_map,
            label=label,
            interactive=False,
            width=12,
            pen=TEXT_COLOR,
            rounding=1e-4,
            colorMapMenu=False,
        )
    )


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 1.5, 2, 3, 5, 7 times a power of ten that is ≥ ``value`` (> 0): colour
    bars keep their scale while a drawing changes a little (and are not laid out again)."""
    value = max(float(value), 1e-9)
    power = 10.0 ** np.floor(np.log10(value))
    steps = (1, 1.5, 2, 3, 5, 7, 10)
    return float(next(power * m for m in steps if power * m >= value * (1 - 1e-9)))


def symmetric(values: np.ndarray) -> tuple[float, float]:
    """Levels (−m, m), m a :func:`nice_ceiling` of the largest magnitude: zero in the middle."""
    m = nice_ceiling(np.max(np.abs(values)) if np.size(values) else 0.0)
    return -m, m


def set_levels(bar: pg.ColorBarItem, levels) -> None:
    """Change a colour bar's levels only if they changed (its axis is laid out again)."""
    if tuple(bar.levels()) != tuple(levels):
        bar.setLevels(levels)


def set_picture(image: pg.ImageItem, values: np.ndarray, levels) -> None:
    """Show (784,) ``values`` as a 28×28 picture between ``levels``."""
    image.setImage(np.asarray(values, dtype=np.float32).reshape(SIDE, SIDE), levels=levels)
