"""The Retrain dialog's look inside a run, with real clicks: the unit weight pictures are the
trained network's first-layer weights after every epoch (epoch 0: before training), and at the
end the validation confusion matrix counts the new network's verdicts on the held-out digits;
a click on a cell lists exactly that cell's digits."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from test_app_mistakes import click
from test_app_retrain import quick


def test_unit_pictures_follow_the_epochs_and_the_validation_matrix_is_clickable(
    window,
    qtbot,
    mnist_env,
    app_user_data,
):
    dialog = window.open_retrain_dialog()
    qtbot.waitExposed(dialog)
    quick(dialog, epochs=2)
    epochs_seen = []
    assert dialog.start()
    dialog.worker.unitWeights.connect(lambda epoch, _w: epochs_seen.append(epoch))
    qtbot.waitUntil(lambda: dialog.state() != "running", timeout=120000)
    outcome = dialog.outcome
    assert outcome.status == "completed", outcome.message
    assert epochs_seen[-2:] == [1, 2] and dialog.unit_weights.epoch == 2
    weights = outcome.network.weights[0]
    for unit in range(6):
        np.testing.assert_array_equal(dialog.unit_weights.weights_shown(unit), weights[:, unit])

    dialog.tabs.setCurrentWidget(dialog.validation_view)
    view = dialog.validation_view
    verdicts = outcome.validation
    a = verdicts.images.astype(np.float64)
    a = 1 / (1 + np.exp(-(a @ weights + outcome.network.biases[0])))
    said = (a @ outcome.network.weights[1] + outcome.network.biases[1]).argmax(1)
    expected = np.zeros((10, 10), dtype=int)
    np.add.at(expected, (verdicts.labels.astype(int), said), 1)
    np.testing.assert_array_equal(view.matrix_plot.matrix, expected)
    assert expected.sum() == len(verdicts.labels) >= 1000

    off = expected - np.diag(np.diag(expected))
    true, chosen = np.unravel_index(np.argmax(off), off.shape)
    qtbot.waitExposed(view.matrix_plot)
    qtbot.wait(200)  # laid out, as on screen before anyone can click
    click(view.matrix_plot.viewport(), view.matrix_plot.cell_centre(int(true), int(chosen)))
    browser = view.browser
    assert browser.count() == min(expected[true, chosen], browser.LIMIT) > 0
    for i in range(browser.count()):
        index = browser.item(i).data(Qt.ItemDataRole.UserRole)
        assert (verdicts.labels[index], said[index]) == (true, chosen)
    dialog.discard()
    dialog.close()
