"""The Retrain dialog's learning curves (pyqtgraph): the plotted points are the values appended,
one per epoch, accuracies in percent, gaps where a value is missing."""

from __future__ import annotations

import numpy as np

from digitpad.curves import CurveChart


def test_curves_plot_one_point_per_epoch(qtbot):
    chart = CurveChart("Accuracy", percent=True)
    qtbot.addWidget(chart)
    chart.add_series("training")
    chart.add_series("validation")
    for value in (0.5, 0.8, 0.9):
        chart.append("training", value)
    chart.append("validation", None)
    chart.append("validation", 0.85)
    x, y = chart._lines["training"].getData()
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_allclose(y, [50, 80, 90])
    x, y = chart._lines["validation"].getData()
    assert np.isnan(y[0]) and y[1] == 85
    assert chart.series("training") == [0.5, 0.8, 0.9]
    assert chart.plot_item.getAxis("bottom").labelText == "epoch"
    assert chart.plot_item.getAxis("bottom")._tickLevels == [[(1, "1"), (2, "2"), (3, "3")]]
    assert [label.text for _sample, label in chart.legend.items] == ["training", "validation"]
    chart.clear()
    x, _y = chart._lines["training"].getData()
    assert chart.series("training") == [] and (x is None or x.size == 0)
