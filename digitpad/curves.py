"""Learning curves in the Retrain dialog: one value per epoch for a few named series, drawn with
pyqtgraph (labelled axes, a legend, hover for exact values, right-click to export)."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from digitpad import plots

SERIES_COLORS = ("#3b6fd4", "#d0611e", "#1f9d55", "#8e44ad")


class CurveChart(QWidget):
    """Plots named series against the epoch number (1, 2, ...); non-finite values are gaps.

    A QWidget holding a ``pg.PlotWidget`` rather than one: PlotWidget replaces some of its own
    methods (``clear`` among them) with its plot's at construction.
    """

    def __init__(self, title: str, *, percent: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.percent = percent
        self._series: dict[str, list[float]] = {}
        self._lines: dict[str, pg.PlotDataItem] = {}
        self._epochs_planned = 0
        self.view = pg.PlotWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.plot_item = plot = self.view.getPlotItem()
        plot.setTitle(title, size="10pt")
        plot.setLabel("bottom", "epoch")
        plot.setLabel("left", f"{title.lower()}{' (%)' if percent else ''}")
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.showGrid(x=False, y=True, alpha=0.25)
        plot.setMouseEnabled(False, False)
        plot.hideButtons()
        # Where the curves are not: top left for accuracy (it rises), top right for loss (it falls).
        self.legend = plot.addLegend(
            offset=(60, 10) if percent else (-10, 10), labelTextColor=plots.TEXT_COLOR
        )
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(220, 150)
        self._update_range()

    def set_epochs_planned(self, epochs: int) -> None:
        """Fix the x axis to ``epochs`` so the curves grow from left to right."""
        self._epochs_planned = max(0, int(epochs))
        self._update_range()

    def add_series(self, name: str) -> None:
        if name in self._lines:
            return
        self._series[name] = []
        colour = SERIES_COLORS[len(self._lines) % len(SERIES_COLORS)]
        self._lines[name] = self.plot_item.plot(
            [],
            [],
            name=name,
            pen=pg.mkPen(colour, width=2),
            symbol="o",
            symbolSize=5,
            symbolBrush=colour,
            symbolPen=None,
            connect="finite",
        )

    def append(self, name: str, value: float | None) -> None:
        self.add_series(name)
        self._series[name].append(float("nan") if value is None else float(value))
        self._redraw(name)

    def clear(self) -> None:
        for name, values in self._series.items():
            values.clear()
            self._redraw(name)

    def series(self, name: str) -> list[float]:
        return list(self._series.get(name, []))

    def _redraw(self, name: str) -> None:
        values = np.asarray(self._series[name], dtype=float) * (100 if self.percent else 1)
        self._lines[name].setData(np.arange(1, values.size + 1), values)
        self._update_range()

    def _update_range(self) -> None:
        epochs = max([self._epochs_planned, 1] + [len(v) for v in self._series.values()])
        self.plot_item.setXRange(0.8, max(epochs, 2) + 0.2, padding=0)
        step = max(1, math.ceil(epochs / 8))  # whole epochs only, at most about eight labels
        self.plot_item.getAxis("bottom").setTicks(
            [[(e, str(e)) for e in range(1, epochs + 1) if (e - 1) % step == 0 or e == epochs]]
        )
        finite = [v for vs in self._series.values() for v in vs if math.isfinite(v)]
        if self.percent:
            low = min(finite, default=0.0)
            self.plot_item.setYRange(max(0.0, math.floor(low * 10) * 10), 100, padding=0.02)
        else:
            self.plot_item.enableAutoRange(axis="y")
