"""The window's two background jobs: loading the start-up model (then preparing the compiled
kernels), and reading and checking a model file chosen with File ▸ Open. Each runs on a plain
thread and reports with a Qt signal, so the window goes on responding meanwhile."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from digitpad import model_store
from digitpad.live_predictor import prepare_compiled


class StartupLoader(QObject):
    """Loads the start-up model, then prepares the compiled kernels, on a plain background thread."""

    loaded = Signal(object)
    #: The compiled kernels work (compiled now, or loaded from Numba's cache).
    compiled = Signal()

    def __init__(self, model_path) -> None:
        super().__init__()
        self.model_path = model_path

    def start(self) -> None:
        threading.Thread(target=self._run, name="digitpad-loader", daemon=True).start()

    def _run(self) -> None:
        loaded = model_store.load_startup_model(self.model_path)
        self.loaded.emit(loaded)  # ready: the NumPy path reads drawings meanwhile
        if loaded.network is not None and prepare_compiled(loaded.network):
            self.compiled.emit()


class ModelFileChecker(QObject):
    """Reads and checks a model file chosen with File ▸ Open on a plain background thread: a
    large or hostile file is checked while the window goes on responding."""

    finished = Signal(object, object)  # (path, (network, metadata) or the exception)

    def start(self, path: str) -> None:
        threading.Thread(target=self._run, args=(path,), name="digitpad-open", daemon=True).start()

    def _run(self, path: str) -> None:
        try:
            result = model_store.load_model_file(path)
            prepare_compiled(result[0])  # compiles for its number of layers, off the GUI thread
        except Exception as exc:
            result = exc
        self.finished.emit(path, result)
