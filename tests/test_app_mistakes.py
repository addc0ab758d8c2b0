"""Model ▸ Mistakes on the real MNIST test set and Model ▸ Load a small model to explore, driven by
real clicks: the confusion matrix equals one counted here, the browser lists the wrong digits most
confident first, a click on a cell lists only that cell, and a click on a digit shows it in the
network view; the small model is a trained 784-30-10 sigmoid network the window then uses."""

from __future__ import annotations

import mouse
import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

pytestmark = pytest.mark.needs_mnist


@pytest.fixture
def mnist_data(mnist_env):
    from trainer.data.mnist import load_mnist

    return load_mnist(mnist_env, download=False)


def click(widget, point, button=Qt.MouseButton.LeftButton):
    QTest.qWait(40)  # pyqtgraph's scene drops events closer together than a screen refresh
    mouse.click(widget, point, button)


def test_mistakes_window_counts_lists_and_shows_wrong_digits(window, qtbot, mnist_data):
    window.resize(1200, 700)
    window.show()
    qtbot.waitExposed(window)
    window.mistakes_action.trigger()
    dialog = window.mistakes_dialog
    qtbot.waitUntil(dialog.is_ready, timeout=30000)
    qtbot.waitExposed(dialog)

    network = window.model.network
    a = mnist_data.test_images.astype(np.float64)
    for w, b in zip(network.weights[:-1], network.biases[:-1]):
        a = np.maximum(a @ w + b, 0)
    logits = a @ network.weights[-1] + network.biases[-1]
    said = logits.argmax(1)
    expected = np.zeros((10, 10), dtype=int)
    for label, s in zip(mnist_data.test_labels, said):
        expected[label, s] += 1
    np.testing.assert_array_equal(dialog.matrix_plot.matrix, expected)
    wrong = int((said != mnist_data.test_labels).sum())
    assert f"gets {wrong:,} wrong" in dialog.summary.text()

    browser = dialog.browser
    assert browser.count() == min(wrong, 500)
    confidences = [
        dialog.results.confidence[browser.item(i).data(Qt.ItemDataRole.UserRole)]
        for i in range(browser.count())
    ]
    assert confidences == sorted(confidences, reverse=True)

    true, chosen = np.unravel_index(
        np.argmax(expected - np.diag(np.diag(expected))), expected.shape
    )
    click(dialog.matrix_plot.viewport(), dialog.matrix_plot.cell_centre(int(true), int(chosen)))
    assert browser.count() == min(expected[true, chosen], 500)
    for i in range(browser.count()):
        index = browser.item(i).data(Qt.ItemDataRole.UserRole)
        assert (mnist_data.test_labels[index], dialog.results.said[index]) == (true, chosen)

    item = browser.item(0)
    index = item.data(Qt.ItemDataRole.UserRole)
    click(browser.viewport(), browser.visualItemRect(item).center())
    np.testing.assert_allclose(
        window.hidden_activations()[0],
        np.maximum(mnist_data.test_images[index] @ network.weights[0] + network.biases[0], 0),
        atol=1e-4,
    )
    assert f"#{index}" in window.network_view.panel.source_label.text()
    dialog.close()


def test_load_a_small_model_to_explore_trains_and_uses_one(window, qtbot, mnist_data):
    from digitpad.small_model import NAME
    from trainer.config import PRESETS

    window.small_model_trainer.config = PRESETS["nielsen"].replace(epochs=1, train_subset=3000)
    window.small_model_action.trigger()
    assert not window.small_model_action.isEnabled() and window.busy_bar.isVisibleTo(window)
    qtbot.waitUntil(lambda: window.model.metadata.get("name") == NAME, timeout=240000)
    network = window.model.network
    assert network.layer_sizes == [784, 30, 10] and network.hidden_activation == "sigmoid"
    assert window.model.test_accuracy > 0.3  # chance: 0.1
    assert window.small_model_action.isEnabled() and not window.busy_bar.isVisibleTo(window)
    assert "small 784-30-10" in window.model_label.text()
