"""The "Inside the network" dock (objectName ``"networkView"``): shown or hidden from the View menu,
shown on a first start and afterwards as the user left it.

Its content (``digitpad/network_panel.py``: heat maps, unit pictures, attribution maps) is drawn
with pyqtgraph, whose import takes the better part of a second; so the dock is an empty shell
when the window appears. When the window first has something to show (the model is loaded: the
window is ready), a background thread imports the panel's module, and the dock builds the panel
once that is done (or at once when a test hook asks). Nothing on the way to a ready window
imports pyqtgraph, Numba or the panel.
"""

from __future__ import annotations

import atexit
import importlib
import threading

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QMenu, QWidget

PANEL_MODULE = "digitpad.network_panel"
IMPORT_WAIT_S = 30  # exiting waits at most this long for the panel's import to end
SETTINGS_KEY = "networkView/shown"
DOCK_WIDTH = 320  # the dock's least width; the window grows its own minimum by it


_panel_import: threading.Thread | None = None


def import_panel_in_background() -> threading.Thread:
    """Start importing the panel's module on a daemon thread (once per process)."""
    global _panel_import
    if _panel_import is None:
        _panel_import = threading.Thread(
            target=importlib.import_module,
            args=(PANEL_MODULE,),
            name="digitpad-import-panel",
            daemon=True,
        )
        _panel_import.start()
    return _panel_import


@atexit.register
def _wait_for_the_panel_import() -> None:
    """An import still running on a daemon thread while Python shuts down crashes the process."""
    if _panel_import is not None:
        _panel_import.join(IMPORT_WAIT_S)


def settings() -> QSettings:
    """The app's settings file in the per-user data folder (so tests can move it)."""
    from trainer import paths

    return QSettings(str(paths.user_data_dir() / "settings.ini"), QSettings.Format.IniFormat)


class NetworkView(QDockWidget):
    """The dock; :attr:`panel` is its content, built on first need."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Inside the network", parent)
        self.setObjectName("networkView")
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.setMinimumWidth(DOCK_WIDTH)
        placeholder = QLabel("Opening the view inside the network…")
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWidget(placeholder)
        self._panel = None
        self._input = (None, None, "your drawing", False)  # network, x, caption, live
        self._import: threading.Thread | None = None  # imports the panel's module
        self._build_soon = QTimer(self)
        self._build_soon.setSingleShot(True)
        self._build_soon.setInterval(50)
        self._build_soon.timeout.connect(self._build_when_imported)
        self.visibilityChanged.connect(self._visibility_changed)

    @property
    def panel(self):
        """The content (a ``digitpad.network_panel.NetworkPanel``), built now if need be."""
        if self._panel is None:
            self._build_soon.stop()
            self._panel = importlib.import_module(PANEL_MODULE).NetworkPanel(self)
            self.setWidget(self._panel)
            network, x, caption, live = self._input
            self._panel.show_input(network, x, caption, not self.isHidden(), live)
        return self._panel

    def show_input(self, network, x, caption: str = "your drawing", *, live: bool = False) -> None:
        """Show what ``network`` computes for ``x`` ((784,) or None); nothing while hidden.
        ``live``: the pen is still moving (the panel then redraws only its live pictures)."""
        self._input = (network, x, caption, live)
        if self._panel is not None:
            self._panel.show_input(network, x, caption, not self.isHidden(), live)
        elif not self.isHidden():
            self._build_later()

    def _visibility_changed(self, visible: bool) -> None:
        if not visible:
            return
        if self._panel is not None:
            self._panel.refresh()
        elif self._import is not None:  # the window has had something to show
            self._build_later()

    def _build_later(self) -> None:
        """Import the panel's module on a background thread, then build the panel."""
        self._import = import_panel_in_background()
        self._build_soon.start()

    def _build_when_imported(self) -> None:
        """Build the panel once imported, and only on screen: building it keeps the GUI thread
        for a few hundred milliseconds, which a window nobody sees need not spend."""
        if self._import.is_alive():
            self._build_soon.start()
        elif self.isVisible():
            self.panel  # noqa: B018 (builds it)

    # ------------------------------------------------------------------ test hooks
    def hidden_activations(self) -> list[np.ndarray]:
        """One array per hidden layer for the input shown ([] without input or model)."""
        panel = self.panel
        panel.flush()
        return [] if panel.inside is None else [a.copy() for a in panel.inside.hidden]

    def attribution(self, d: int) -> np.ndarray:
        """The (784,) attribution map of output ``d`` for the input shown (zeros without)."""
        panel = self.panel
        panel.flush()
        if panel.inside is None:
            return np.zeros(784)
        return panel.inside.pixel_attribution[:, d].copy()

    # ------------------------------------------------------------------ life
    def save_shown(self) -> None:
        """Remember whether the dock is shown, for the next start. Only a hidden dock is written
        down: shown is the default, and a start that changes nothing writes no file."""
        stored = settings()
        if self.isHidden():
            stored.setValue(SETTINGS_KEY, False)
        elif stored.contains(SETTINGS_KEY):
            stored.remove(SETTINGS_KEY)

    @staticmethod
    def shown_last_time() -> bool:
        """Whether to show the dock at start-up: yes on a first start, else as it was left."""
        return settings().value(SETTINGS_KEY, True, type=bool)

    def shutdown(self) -> None:
        self._build_soon.stop()
        if self._panel is not None:
            self._panel.shutdown()


def install(window) -> NetworkView:
    """Add the dock to ``window`` (a QMainWindow) on the right, with a toggle in a View menu."""
    view = NetworkView(window)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, view)
    toggle = view.toggleViewAction()
    toggle.setText("&Inside the network")
    toggle.setShortcut("Ctrl+N")
    toggle.setStatusTip("Show or hide the hidden layers, unit pictures and attribution map")
    bar = window.menuBar()
    menu = QMenu("&View", bar)
    menu.addAction(toggle)
    model = next((a for a in bar.actions() if a.text() == "&Model"), None)
    if model is None:
        bar.addMenu(menu)
    else:
        bar.insertMenu(model, menu)  # File, Edit, View, Model, Help
    base_width = window.minimumWidth()

    def make_room(*_args) -> None:
        """The window's own minimum width holds the docked view too (a set minimum size
        overrides what the layout needs): the main panels are never clipped."""
        try:
            docked = not view.isHidden() and not view.isFloating()
            window.setMinimumWidth(base_width + (DOCK_WIDTH if docked else 0))
        except RuntimeError:  # the window is being destroyed
            pass

    view.visibilityChanged.connect(make_room)
    view.topLevelChanged.connect(make_room)
    view.setVisible(NetworkView.shown_last_time())
    make_room()
    return view
