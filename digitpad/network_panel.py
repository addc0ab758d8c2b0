"""Inside the network: the content of the network view dock (``digitpad/network_view.py``), which
shows, for the input the window shows, what the network computes.

* **Why this verdict** — a 28×28 map of how much each pixel pushed the chosen output's score up (red)
  or down (blue); the pixels add up to the score minus its value for an empty canvas
  (``trainer/core/attribution.py``). It follows the verdict; a click on another digit asks "why not 7?".
* **Hidden layers** — every hidden layer's activations as a heat map (800 units as a 40 × 20 grid),
  the five strongest ringed. Hovering a unit shows it below; a click keeps it there.
* **What the units look for** — a first-layer unit's 784 incoming weights as a 28×28 picture (red:
  ink there turns the unit on, blue: turns it off), for the four units that did most for the verdict
  and for the unit hovered or clicked, with its activation and its contribution to every output.

The arithmetic runs on a worker thread at most about seven times a second
(``digitpad/inside_worker.py``); the GUI thread only draws, and while the pen moves only the heat
maps and the attribution map, in turn, with colour scales that hold unless outgrown. While the
dock is hidden nothing is computed. This module imports pyqtgraph, so the dock builds it only once
the window is up.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad import plots
from digitpad.inside_worker import InsideComputer

TOP_UNITS = 4  # weight pictures of the units that did most for the verdict
MARKED_UNITS = 5  # strongest units ringed in each heat map
PANEL_WIDTH = 296  # the content's least width (the dock adds a scroll bar)
HEADING_STYLE = "font-weight: 600; color: #1d2430;"
NOTE_STYLE = "color: #4a5260;"


def grid_shape(units: int) -> tuple[int, int]:
    """(rows, columns) of a heat map for ``units`` units, about twice as wide as high."""
    columns = max(1, math.ceil(math.sqrt(2 * units)))
    return math.ceil(units / columns), columns


class _Heading(QLabel):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setStyleSheet(HEADING_STYLE)


class _Note(QLabel):
    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self.setWordWrap(True)
        self.setStyleSheet(NOTE_STYLE)


class NetworkPanel(QScrollArea):
    """Everything the "Inside the network" dock shows, in a scroll area."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("networkPanel")
        self.inside = None  # the trainer.core.attribution.Inside shown, or None
        self._network = None
        self._x = None
        self._caption = ""
        self._live = False
        self._weight_levels = (-1.0, 1.0)
        self._chosen_output: int | None = None  # None: follow the verdict
        self._clicked_unit: tuple[int, int] | None = None
        self._hovered_unit: tuple[int, int] | None = None
        self._layers: list[tuple[pg.PlotItem, pg.ImageItem, pg.ScatterPlotItem]] = []
        #: The live pictures, redrawn one per live result in turn (see :meth:`_show_inside`).
        self._live_pictures = itertools.cycle((self._draw_heat_maps, self._draw_attribution_map))
        self.computer = InsideComputer(self)
        self.computer.computed.connect(self._show_inside)
        self._build()
        self.computer.failed.connect(self.source_label.setText)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.source_label = _Note()
        self.source_label.setObjectName("networkViewSource")

        # why this verdict
        self.why_plot = pg.GraphicsLayoutWidget()
        self.why_plot.setObjectName("attributionPlot")
        self.why_item, self.why_image = plots.image_plot(plots.DIVERGING)
        self.why_bar = plots.colour_bar(plots.DIVERGING, "pixel's share of the score")
        self.why_plot.addItem(self.why_item, 0, 0)
        self.why_plot.addItem(self.why_bar, 0, 1)
        self.why_plot.setFixedHeight(210)
        self.why_heading = _Heading("Why this verdict?")
        self.why_note = _Note()
        self.why_note.setObjectName("attributionNote")
        self.output_buttons = QButtonGroup(self)
        self.output_buttons.setExclusive(True)
        self.output_buttons.idClicked.connect(self.choose_output)
        self.output_row = QHBoxLayout()
        self.output_row.setSpacing(2)

        # hidden layers
        self.layers_heading = _Heading("Hidden layers: how active each unit is")
        self.layers_plot = pg.GraphicsLayoutWidget()
        self.layers_plot.setObjectName("hiddenLayersPlot")
        self.layers_plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self.layers_plot.scene().sigMouseClicked.connect(self._mouse_clicked)
        self.layers_note = _Note(
            "Each square is a unit, darker = more active; rings mark the five "
            "strongest. Hover over a unit to see it below, click to keep it."
        )

        # what the units look for
        self.units_heading = _Heading("What the first layer's units look for")
        self.units_plot = pg.GraphicsLayoutWidget()
        self.units_plot.setObjectName("unitPicturesPlot")
        self.top_items = []
        for i in range(TOP_UNITS):
            item, image = plots.image_plot(plots.DIVERGING)
            self.units_plot.addItem(item, 0, i)
            self.top_items.append((item, image))
        self.units_plot.setFixedHeight(130)
        self.units_note = _Note(
            "Each picture is a unit's 784 incoming weights. Red: ink on those "
            "pixels turns the unit on; blue: turns it off. The number is the "
            "unit's share of the verdict's score."
        )

        self.unit_heading = _Heading("Unit")
        self.unit_heading.setWordWrap(True)
        self.unit_heading.setObjectName("unitHeading")
        self.unit_plot = pg.GraphicsLayoutWidget()
        self.unit_plot.setObjectName("unitDetailPlot")
        self.unit_item, self.unit_image = plots.image_plot(plots.DIVERGING)
        self.unit_plot.addItem(self.unit_item, 0, 0)
        self.weight_bar = plots.colour_bar(plots.DIVERGING, "incoming weight")
        self.unit_plot.addItem(self.weight_bar, 0, 1)
        self.contribution_item = pg.PlotItem()
        self.contribution_item.setMenuEnabled(False)
        self.contribution_item.hideButtons()
        self.contribution_item.setMouseEnabled(False, False)
        self.contribution_item.setLabel("left", "share of the score")
        self.contribution_item.getAxis("left").enableAutoSIPrefix(False)
        self.contribution_item.setLabel("bottom", "output")
        self.contribution_item.showGrid(y=True, alpha=0.25)
        self.contribution_bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.contribution_item.addItem(self.contribution_bars)
        self.contribution_item.addItem(pg.InfiniteLine(pos=0, angle=0, pen=plots.TEXT_COLOR))
        self.unit_plot.addItem(self.contribution_item, 0, 2)
        self.unit_plot.ci.layout.setColumnStretchFactor(2, 2)
        self.unit_plot.setFixedHeight(170)
        self.unit_note = _Note(
            "Bars: how much this unit moved each output's score, compared "
            "with an empty canvas (its change of activation × its influence)."
        )

        column = QVBoxLayout()
        column.setContentsMargins(8, 6, 8, 8)
        column.setSpacing(6)
        column.addWidget(self.source_label)
        sections = (
            (self.why_heading, self.output_row, self.why_plot, self.why_note),
            (self.layers_heading, self.layers_plot, self.layers_note),
            (
                self.units_heading,
                self.units_plot,
                self.units_note,
                self.unit_heading,
                self.unit_plot,
                self.unit_note,
            ),
        )
        for i, parts in enumerate(sections):
            if i:
                column.addSpacing(6)
            for part in parts:
                if isinstance(part, QWidget):
                    column.addWidget(part)
                else:
                    column.addLayout(part)
        column.addStretch(1)
        content = QWidget()
        content.setLayout(column)
        content.setMinimumWidth(PANEL_WIDTH)
        self.setWidgetResizable(True)
        self.setWidget(content)
        self._show_inside(None)

    def _build_for_network(self, network) -> None:
        """Heat maps and output buttons for ``network``'s layer sizes and outputs."""
        self.layers_plot.clear()
        self._layers = []
        for l, units in enumerate(network.layer_sizes[1:-1]):
            rows, columns = grid_shape(units)
            item, image = plots.image_plot(plots.ACTIVITY, f"Hidden layer {l + 1} · {units} units")
            rings = pg.ScatterPlotItem(
                symbol="o", size=11, brush=None, pen=pg.mkPen("#1565c0", width=2), pxMode=True
            )
            item.addItem(rings)
            item.getViewBox().setRange(xRange=(0, columns), yRange=(0, rows), padding=0)
            bar = plots.colour_bar(plots.ACTIVITY, "activation", (0.0, 1.0))
            self.layers_plot.addItem(item, l, 0)
            self.layers_plot.addItem(bar, l, 1)
            self._layers.append((item, image, rings, bar))
        self.layers_plot.setFixedHeight(
            sum(40 + 300 * grid_shape(n)[0] / grid_shape(n)[1] for n in network.layer_sizes[1:-1])
        )
        first = np.asarray(network.weights[0])
        limit = float(np.percentile(np.abs(first), 99.5)) or 1.0
        self._weight_levels = (-limit, limit)
        self.weight_bar.setLevels(self._weight_levels)

        for button in self.output_buttons.buttons():
            self.output_buttons.removeButton(button)
            button.deleteLater()
        outputs = network.layer_sizes[-1]
        for d in range(outputs):
            button = QToolButton()
            button.setText(plots.output_tick(d))
            button.setCheckable(True)
            button.setToolTip(
                f"Why (not) {plots.output_name(d)}? Click again to follow the verdict."
            )
            button.setObjectName(f"whyOutput{d}")
            self.output_buttons.addButton(button, d)
            self.output_row.addWidget(button)
        self.contribution_item.getAxis("bottom").setTicks(
            [[(d, plots.output_tick(d)) for d in range(outputs)]]
        )
        self._clicked_unit = self._hovered_unit = None
        self._chosen_output = None

    # ------------------------------------------------------------------ input
    def show_input(self, network, x, caption: str, compute: bool, live: bool = False) -> None:
        """Show what ``network`` computes for ``x`` ((784,) or None): soon (see the module) if
        ``compute``, else when :meth:`refresh` is called. ``live``: the pen is still moving."""
        if network is not self._network:
            self._network = network
            if network is not None:
                self._build_for_network(network)
        self._x = x
        self._caption = caption
        self._live = live
        if compute:
            self.refresh()

    def refresh(self) -> None:
        """Compute for the last input soon (the dock was shown)."""
        self.computer.request(self._network, self._x)

    def flush(self) -> None:
        """Bring the view up to date with the last :meth:`show_input` now (test hooks)."""
        self.refresh()
        self.computer.compute_now()

    def shutdown(self) -> None:
        self.computer.shutdown()

    # ------------------------------------------------------------------ choosing
    def chosen_output(self) -> int | None:
        """The output the attribution map explains: the clicked one, else the verdict."""
        if self._chosen_output is not None:
            return self._chosen_output
        return None if self.inside is None else int(np.argmax(self.inside.output))

    def choose_output(self, d: int) -> None:
        """Explain output ``d``; choosing the same output again goes back to the verdict."""
        self._chosen_output = None if d == self._chosen_output else d
        self._draw_attribution()

    def select_unit(self, unit: tuple[int, int] | None) -> None:
        """Keep (hidden layer, unit) in the detail panel (``None``: the verdict's top unit)."""
        self._clicked_unit = unit
        self._draw_unit()

    def shown_unit(self) -> tuple[int, int] | None:
        """The unit in the detail panel: hovered, else clicked, else the verdict's top unit."""
        if self._hovered_unit is not None:
            return self._hovered_unit
        if self._clicked_unit is not None:
            return self._clicked_unit
        top = self.top_units()
        return (0, int(top[0])) if len(top) else None

    def top_units(self) -> np.ndarray:
        """First-layer units that added most to the verdict's score, largest first."""
        if self.inside is None:
            return np.zeros(0, dtype=int)
        share = self.inside.unit_contribution[0][:, int(np.argmax(self.inside.output))]
        order = np.argsort(-share, kind="stable")[:TOP_UNITS]
        return order[share[order] > 0]

    def unit_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """The (hidden layer, unit) under a point of the heat maps' scene, or None."""
        for l, (item, _image, _rings, _bar) in enumerate(self._layers):
            view = item.getViewBox()
            if not view.sceneBoundingRect().contains(scene_pos):
                continue
            point = view.mapSceneToView(scene_pos)
            units = self._network.layer_sizes[l + 1]
            rows, columns = grid_shape(units)
            row, column = math.floor(point.y()), math.floor(point.x())
            if 0 <= row < rows and 0 <= column < columns and row * columns + column < units:
                return l, row * columns + column
        return None

    def _mouse_moved(self, scene_pos: QPointF) -> None:
        unit = self.unit_at(scene_pos)
        if unit != self._hovered_unit:
            self._hovered_unit = unit
            self._draw_unit()

    def _mouse_clicked(self, event) -> None:
        unit = self.unit_at(event.scenePos())
        if unit is not None:
            self.select_unit(unit)

    # ------------------------------------------------------------------ drawing
    def _show_inside(self, inside) -> None:
        """Draw ``inside``. While the pen moves (``live``) only the pictures that follow it are
        redrawn, and only one of them per result, in turn (:attr:`_live_pictures`): each
        redraw then keeps the GUI thread, and the pen's events waiting behind it, half as long.
        Everything is drawn once the drawing settles."""
        self.inside = inside
        if self._live and inside is not None:
            next(self._live_pictures)()
            return
        self._draw_heat_maps()
        self._draw_attribution_map()
        self.source_label.setText(
            "Draw a digit: this panel shows what happens inside the network while it reads it."
            if inside is None
            else f"Showing: {self._caption}."
        )
        self._draw_attribution_text()
        self._draw_top_units()
        self._draw_unit()

    def _draw_heat_maps(self) -> None:
        for l, (_item, image, rings, bar) in enumerate(self._layers):
            if self.inside is None:
                image.clear()
                rings.units = None
                rings.setData([])
            else:
                self._draw_layer(image, rings, bar, self.inside.hidden[l])

    def _draw_layer(self, image, rings, bar, activation: np.ndarray) -> None:
        rows, columns = grid_shape(activation.size)
        grid = np.full(rows * columns, np.nan, dtype=np.float32)
        grid[: activation.size] = activation
        levels = self._bar_levels(bar, (0.0, plots.nice_ceiling(activation.max())))
        image.setImage(grid.reshape(rows, columns), levels=levels)
        strongest = np.argsort(-activation, kind="stable")[:MARKED_UNITS]
        strongest = strongest[activation[strongest] > 0]
        if not np.array_equal(getattr(rings, "units", None), strongest):
            rings.units = strongest
            rings.setData(x=strongest % columns + 0.5, y=strongest // columns + 0.5)

    def _draw_top_units(self) -> None:
        top = self.top_units()
        verdict = None if self.inside is None else int(np.argmax(self.inside.output))
        for i, (item, image) in enumerate(self.top_items):
            if i >= len(top):
                image.clear()
                plots.set_title(item, "")
                continue
            unit = int(top[i])
            share = self.inside.unit_contribution[0][unit, verdict]
            plots.set_picture(image, self._network.weights[0][:, unit], self._weight_levels)
            plots.set_title(item, f"unit {unit}: {share:+.1f}", size="8pt")
        self.units_heading.setText(
            "What the first layer's units look for"
            if verdict is None
            else f"First-layer units that did most for “{plots.output_name(verdict)}”"
        )

    def _draw_attribution(self) -> None:
        self._draw_attribution_map()
        self._draw_attribution_text()

    def _draw_attribution_map(self) -> None:
        d = self.chosen_output()
        if self.inside is None or d is None:
            self.why_image.clear()
            return
        shares = self.inside.pixel_attribution[:, d]
        levels = self._bar_levels(self.why_bar, plots.symmetric(shares))
        plots.set_picture(self.why_image, shares, levels)

    def _bar_levels(self, bar, levels: tuple[float, float]) -> tuple[float, float]:
        """Set the colour bar ``bar`` to ``levels`` and return the levels it shows. While the pen
        moves, a bar keeps its scale unless the values outgrow it: a new scale lays the bar's
        axis out again and repaints the whole plot, the costliest part of a live redraw. The
        exact scale is set once the drawing settles."""
        low, high = bar.levels()
        if self._live and low <= levels[0] and levels[1] <= high:
            return low, high
        plots.set_levels(bar, levels)
        return levels

    def _draw_attribution_text(self) -> None:
        d = self.chosen_output()
        for button in self.output_buttons.buttons():
            button.setChecked(self.output_buttons.id(button) == d)
        if self.inside is None or d is None:
            self.why_heading.setText("Why this verdict?")
            self.why_note.setText("")
            return
        name = plots.output_name(d)
        verdict = int(np.argmax(self.inside.output))
        self.why_heading.setText(
            f"Why “{name}”?"
            if d == verdict
            else f"Why not “{name}”? (the verdict is “{plots.output_name(verdict)}”)"
        )
        score, empty = self.inside.scores[d], self.inside.empty_scores[d]
        self.why_note.setText(
            f"Red pixels pushed the score of “{name}” up, blue ones down. Together they add up "
            f"to {score - empty:+.2f}: its score {score:.2f} here, {empty:.2f} for an empty "
            f"canvas. Click a digit above to ask about it."
        )

    def _draw_unit(self) -> None:
        unit = self.shown_unit()
        if self.inside is None or unit is None:
            self.unit_heading.setText("Unit: hover over a unit in the heat maps")
            self.unit_image.clear()
            self.contribution_bars.setOpts(x=[], height=[])
            return
        layer, index = unit
        activation = float(self.inside.hidden[layer][index])
        empty = float(self.inside.empty_hidden[layer][index])
        shares = self.inside.unit_contribution[layer][index]
        how = {None: "", self._hovered_unit: " (hovered)", self._clicked_unit: " (clicked)"}
        self.unit_heading.setText(
            f"Layer {layer + 1}, unit {index}{how.get(unit, '')}: "
            f"activation {activation:.3f} (empty canvas: {empty:.3f})"
        )
        if layer == 0:
            plots.set_picture(
                self.unit_image, self._network.weights[0][:, index], self._weight_levels
            )
        else:
            self.unit_image.clear()  # its inputs are units of the layer before, not pixels
        colours = [pg.mkBrush("#b2182b" if s >= 0 else "#2166ac") for s in shares]
        self.contribution_bars.setOpts(x=np.arange(shares.size), height=shares, brushes=colours)

    # ------------------------------------------------------------------ for tests
    def unit_weights_shown(self) -> np.ndarray | None:
        """The (784,) values of the detail panel's weight picture, in pixel order, or None."""
        image = self.unit_image.image
        return None if image is None else np.asarray(image).reshape(-1).copy()
