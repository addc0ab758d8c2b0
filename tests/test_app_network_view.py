"""The "Inside the network" dock on the real window, driven by real mouse events: it follows the
drawing, its hidden activations equal a plain NumPy forward pass, its attribution maps add up,
hovering and clicking a unit show that unit's 784 incoming weights, a click on a digit explains
that digit, and the View menu shows and hides it, remembered across starts."""

from __future__ import annotations

import numpy as np
import pytest
from mouse import move, press, release, send_mouse
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QToolButton

from digitpad import plots
from digitpad.network_panel import grid_shape

TWO = [[(60, 80), (110, 50), (160, 80), (150, 130), (70, 210), (170, 210)]]


def on_screen(win, qtbot):
    win.resize(1200, 700)
    win.show()
    qtbot.waitExposed(win)
    return win


@pytest.fixture
def shown(window, qtbot):
    return on_screen(window, qtbot)


def draw(window, app_draw, strokes=TWO):
    send, _fit = app_draw
    send(window.canvas, strokes)
    assert window.wait_for_prediction()


def reference(network, x):
    a = np.asarray(x, dtype=np.float64)
    hidden = []
    for w, b in zip(network.weights[:-1], network.biases[:-1]):
        a = (
            1 / (1 + np.exp(-(a @ w + b)))
            if network.hidden_activation == "sigmoid"
            else np.maximum(a @ w + b, 0)
        )
        hidden.append(a)
    return hidden, a @ network.weights[-1] + network.biases[-1]


def move_to(widget, point: QPointF, kind=QEvent.Type.MouseMove, button=Qt.MouseButton.NoButton):
    """A real mouse event; pyqtgraph's scene drops moves closer together than a screen refresh,
    so wait that long first, as a hand would."""
    QTest.qWait(40)
    send_mouse(widget, kind, point, button, button)


def unit_point(view, layer: int, unit: int) -> QPointF:
    """Where unit ``unit`` of hidden layer ``layer`` is drawn, in the heat map's viewport
    (``view``: the dock's panel)."""
    item = view._layers[layer][0]
    rows, columns = grid_shape(view._network.layer_sizes[layer + 1])
    scene = item.getViewBox().mapViewToScene(QPointF(unit % columns + 0.5, unit // columns + 0.5))
    return QPointF(view.layers_plot.mapFromScene(scene))


def test_the_view_is_shown_the_first_time_and_follows_the_drawing(shown, qtbot, app_draw):
    dock = shown.findChild(type(shown.network_view), "networkView")
    assert dock is shown.network_view and dock.isVisible()
    draw(shown, app_draw)
    # built and computed without the hooks' help, on the event loop
    qtbot.waitUntil(
        lambda: dock._panel is not None and dock._panel.inside is not None, timeout=5000
    )
    np.testing.assert_array_equal(dock.panel.inside.x, shown.input_image())
    # the stroke has ended: the texts are drawn too, not only the live pictures
    qtbot.waitUntil(lambda: dock.panel.why_note.text().startswith("Red pixels"), timeout=3000)
    qtbot.keyClick(shown.canvas, Qt.Key.Key_Escape)
    assert shown.hidden_activations() == [] and dock.panel.inside is None


def test_hidden_activations_and_attributions_match_a_plain_forward_pass(shown, app_draw):
    draw(shown, app_draw)
    network = shown.model.network
    x = shown.input_image()
    hidden, scores = reference(network, x)
    _, empty = reference(network, np.zeros(784))
    shown_hidden = shown.hidden_activations()
    assert [a.shape for a in shown_hidden] == [(30,)]
    np.testing.assert_allclose(shown_hidden[0], hidden[0], rtol=0, atol=1e-4)
    for d in range(10):
        change = scores[d] - empty[d]
        assert abs(shown.attribution(d).sum() - change) <= 0.02 * abs(change) + 1e-6
    # drawn: the hooks report the new input
    draw(shown, app_draw, [[(40, 40), (200, 200)]])
    np.testing.assert_allclose(
        shown.hidden_activations()[0], reference(network, shown.input_image())[0][0], atol=1e-4
    )


def test_hovering_and_clicking_a_unit_shows_its_incoming_weights(shown, qtbot, app_draw):
    draw(shown, app_draw)
    view = shown.network_view.panel
    view.flush()
    weights = shown.model.network.weights[0]
    viewport = view.layers_plot.viewport()
    move_to(viewport, unit_point(view, 0, 17))
    assert view.shown_unit() == (0, 17)
    assert "unit 17" in view.unit_heading.text() and "hovered" in view.unit_heading.text()
    np.testing.assert_array_equal(view.unit_weights_shown(), weights[:, 17])
    assert f"{shown.hidden_activations()[0][17]:.3f}" in view.unit_heading.text()
    np.testing.assert_allclose(
        view.contribution_bars.opts["height"], view.inside.unit_contribution[0][17]
    )

    point = unit_point(view, 0, 5)
    move_to(viewport, point)
    move_to(viewport, point, QEvent.Type.MouseButtonPress, Qt.MouseButton.LeftButton)
    move_to(viewport, point, QEvent.Type.MouseButtonRelease, Qt.MouseButton.LeftButton)
    move_to(viewport, QPointF(2, 2))  # the pointer leaves the heat map: the clicked unit stays
    assert view.shown_unit() == (0, 5) and "clicked" in view.unit_heading.text()
    np.testing.assert_array_equal(view.unit_weights_shown(), weights[:, 5])


def test_clicking_a_digit_explains_that_digit(shown, qtbot, app_draw):
    draw(shown, app_draw)
    view = shown.network_view.panel
    view.flush()
    verdict = int(np.argmax(view.inside.output))
    other = (verdict + 3) % 10
    button = view.findChild(QToolButton, f"whyOutput{other}")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert view.chosen_output() == other and button.isChecked()
    assert view.why_heading.text().startswith(f"Why not “{other}”?")
    np.testing.assert_allclose(
        np.asarray(view.why_image.image).reshape(-1), shown.attribution(other), rtol=1e-6, atol=1e-7
    )
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # again: back to the verdict
    assert view.chosen_output() == verdict


def test_view_menu_hides_it_and_the_choice_is_remembered(qtbot, app_user_data, app_random_model):
    from digitpad.app import MainWindow

    first = MainWindow(app_random_model)
    qtbot.addWidget(first)
    on_screen(first, qtbot)
    view_menu = next(a.menu() for a in first.menuBar().actions() if a.text() == "&View")
    toggle = view_menu.actions()[0]
    assert toggle.isChecked()
    toggle.trigger()
    assert first.network_view.isHidden()
    first.close()
    second = MainWindow(app_random_model)
    qtbot.addWidget(second)
    on_screen(second, qtbot)
    assert second.network_view.isHidden()
    second.network_view.show()
    second.close()
    third = on_screen(MainWindow(app_random_model), qtbot)
    qtbot.addWidget(third)
    assert not third.network_view.isHidden()


def test_a_start_that_changes_nothing_writes_no_settings(qtbot, app_user_data, app_random_model):
    from digitpad.app import MainWindow

    window = on_screen(MainWindow(app_random_model), qtbot)
    qtbot.addWidget(window)
    window.close()
    assert not (app_user_data / "settings.ini").exists()


def exact_levels(view) -> tuple[float, float]:
    """The attribution map's colour scale for the input the panel shows, as a settled view sets it."""
    return plots.symmetric(view.inside.pixel_attribution[:, view.chosen_output()])


def test_colour_scale_holds_while_the_pen_moves_and_is_exact_when_it_lifts(shown, qtbot, app_draw):
    """While the pen moves, each result redraws one live picture (the attribution map or the
    heat maps, in turn), and the colour bar is not laid out again (the costliest repaint) unless
    the values outgrow it; when the pen lifts, the bar and the picture get the exact scale."""
    draw(shown, app_draw, [[(40 + 160 * (i % 2), 40 + 8 * i) for i in range(21)]])  # much ink
    view = shown.network_view.panel
    view.flush()
    settled = view.why_bar.levels()
    assert settled == pytest.approx(exact_levels(view))
    qtbot.keyClick(shown.canvas, Qt.Key.Key_Escape)
    stroke = [(120 + 40 * np.cos(i / 2), 120 + 40 * np.sin(i / 2)) for i in range(8)]
    press(shown.canvas, stroke[0])
    maps = []  # the attribution map drawn after each live result
    heat_map = view._layers[0][1]
    for point in stroke[1:]:
        before = (view.why_image.image, heat_map.image)
        with qtbot.waitSignal(view.computer.computed, timeout=5000):
            move(shown.canvas, point)
        # one live picture per result, in turn: the map or the heat maps, never both
        assert (view.why_image.image is before[0]) != (heat_map.image is before[1])
        if view.why_image.image is not None:
            maps.append(view.why_image.image.copy())
    assert shown.canvas.is_drawing()
    assert len(maps) >= 5 and not np.array_equal(maps[0], maps[-1])  # it follows the pen
    live = exact_levels(view)
    assert live[1] < settled[1]  # the arc's shares are smaller: the scale could shrink...
    assert view.why_bar.levels() == pytest.approx(settled)  # ... but holds while the pen moves
    assert view.why_image.levels == pytest.approx(settled)  # and the picture uses it
    release(shown.canvas, stroke[-1])
    assert shown.wait_for_prediction()
    view.flush()
    assert view.why_bar.levels() == pytest.approx(exact_levels(view))
    assert view.why_image.levels == pytest.approx(exact_levels(view))
