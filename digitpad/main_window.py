"""The main window: the canvas, what the network sees, the output activations and the verdict,
menus and status bar.

Start-up: the window is shown first and the model loaded behind it
(``digitpad/background_loading.py``); drawings are read in plain NumPy until Numba's kernels are
compiled or loaded from the cache, then with them (``digitpad/live_predictor.py``). Nothing on the
way to a ready window compiles anything or even imports Numba.

For test harnesses: ``MainWindow(model_path=None)`` builds the window without showing any dialog
and, by default, loads the model and compiles the kernels before returning; its canvas has the
objectName ``"canvas"``; :meth:`MainWindow.probabilities` and :meth:`MainWindow.verdict` report what
the window shows.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from digitpad import model_store
from digitpad.activation_bars import ActivationPanel
from digitpad.background_loading import ModelFileChecker, StartupLoader
from digitpad.canvas import DrawingCanvas
from digitpad.gui_thread_gc import collect_garbage_on_gui_thread
from digitpad.input_preview import InputPreview
from digitpad.live_predictor import LivePredictor
from digitpad.network_view import install as install_network_view
from digitpad.plain_text import make_plain, set_plain_tooltip, warn
from digitpad.small_model import add_action as add_small_model_action
from digitpad.warning_banner import WarningBanner
from trainer.core.verdict import ink_extent

APP_TITLE = "DigitPad"
WINDOW_BACKGROUND = "#f3f4f7"
CAPTION_STYLE = "color: #6b7480;"
RIGHT_PANEL_WIDTH = 360
#: Characters of a model's name shown in the status bar (all of it in the tooltip).
MAX_NAME_SHOWN = 48


class MainWindow(QMainWindow):
    """Canvas, 28×28 input preview, activation bars and verdict, menus and status bar."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        background: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        """``model_path``: a model to use instead of the user's / the shipped one.

        ``background=False`` (the default, for tests and harnesses) loads the model and compiles
        the kernels before returning; ``background=True`` (what :func:`main` uses) returns at once
        and does both on a background thread.
        """
        super().__init__(parent)
        collect_garbage_on_gui_thread()
        self.setWindowTitle(APP_TITLE)
        self.setObjectName("mainWindow")
        self.model = model_store.LoadedModel(None)
        self._retrain_dialog = None
        self._loader: StartupLoader | None = None
        self._opener = ModelFileChecker(self)
        self._opener.finished.connect(self._on_file_opened)

        self.canvas = DrawingCanvas()
        self.preview = InputPreview()
        self.activations = ActivationPanel()
        self.predictor = LivePredictor(self.canvas.strokes, None, self)
        self._build_ui()
        self._build_menus()
        self._build_status_bar()
        self._build_my_digits()
        self.network_view = install_network_view(self)

        self.canvas.strokesChanged.connect(self._strokes_changed)
        self.canvas.historyChanged.connect(self._history_changed)
        self.predictor.predicted.connect(self._show_prediction)
        self.predictor.failed.connect(lambda message: self.statusBar().showMessage(message, 5000))
        self._history_changed(False, False)

        if background:
            self._set_busy("Loading the model…")
            self._loader = StartupLoader(model_path)
            self._loader.loaded.connect(self._on_loaded)
            self._loader.compiled.connect(self.predictor.use_compiled)
            self._loader.start()
        else:
            loaded = model_store.load_startup_model(model_path)
            self.predictor.warm_up_blocking(loaded.network)
            self.set_model(loaded)

    # ------------------------------------------------------------------ layout
    def _build_ui(self) -> None:
        self.banner = WarningBanner()

        # Left: the canvas with its buttons.
        self.undo_button = QToolButton()
        self.redo_button = QToolButton()
        self.clear_button = QToolButton()
        hint = QLabel("Right-click erases the last stroke · Esc clears")
        hint.setStyleSheet(CAPTION_STYLE)
        hint.setWordWrap(True)  # two lines in a narrow window, never cut off
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.undo_button, self.redo_button, self.clear_button):
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            b.setMinimumWidth(64)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self._canvas_buttons = buttons
        left = QVBoxLayout()
        left.setSpacing(8)
        left.addWidget(self.canvas, 1)
        left.addLayout(buttons)
        # Its own line under the buttons: beside them (and "That's a…") it had no room in a
        # narrow window and wrapped word by word.
        left.addWidget(hint)

        # Right: input preview and verdict side by side, the bars below.
        preview_caption = QLabel("What the network sees (28×28)")
        preview_caption.setStyleSheet(CAPTION_STYLE)
        preview_box = QVBoxLayout()
        preview_box.setSpacing(4)
        preview_box.addWidget(preview_caption)
        preview_box.addWidget(self.preview, 1)
        top_right = QHBoxLayout()
        top_right.setSpacing(16)
        top_right.addLayout(preview_box, 0)
        verdict_box = QVBoxLayout()
        verdict_caption = QLabel("Verdict")
        verdict_caption.setStyleSheet(CAPTION_STYLE)
        verdict_box.addWidget(verdict_caption)
        verdict_box.addWidget(self.activations.verdict_label, 1)
        verdict_box.addWidget(self.activations.detail_label)
        top_right.addLayout(verdict_box, 1)
        bars_caption = QLabel("Output activations")
        bars_caption.setStyleSheet(CAPTION_STYLE)
        right = QVBoxLayout()
        right.setSpacing(8)
        right.addLayout(top_right, 0)
        right.addSpacing(6)
        right.addWidget(bars_caption)
        right.addWidget(self.activations, 1)
        # Warnings (e.g. a --model file that could not be read) appear here, below the bars: the
        # canvas never moves, even when one arrives while the user is drawing.
        right.addWidget(self.banner)
        right_widget = QWidget()
        right_widget.setLayout(right)
        # A fixed width: the canvas must not change size when the texts on the right change.
        right_widget.setFixedWidth(RIGHT_PANEL_WIDTH)
        self.preview.setFixedSize(28 * 6 + 2, 28 * 6 + 2)

        body = QHBoxLayout()
        body.setSpacing(20)
        body.addLayout(left, 1)
        body.addWidget(right_widget, 0)
        outer = QVBoxLayout()
        outer.setContentsMargins(16, 12, 16, 8)
        outer.setSpacing(10)
        outer.addLayout(body, 1)
        central = QWidget()
        central.setObjectName("central")
        central.setLayout(outer)
        central.setStyleSheet(f"QWidget#central {{ background: {WINDOW_BACKGROUND}; }}")
        self.setCentralWidget(central)
        self.resize(980, 600)
        self.setMinimumSize(720, 480)

    def _action(self, text: str, slot, shortcuts=(), tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcuts:
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        self.open_action = self._action(
            "&Open model…",
            self.open_model_dialog,
            [QKeySequence.StandardKey.Open],
            "Use a model file for this session",
        )
        self.save_action = self._action(
            "&Save model as…",
            self.save_model_dialog,
            [QKeySequence.StandardKey.Save],
            "Save the current model to a file",
        )
        self.quit_action = self._action("&Quit", self.close, ["Ctrl+Q"])
        self.undo_action = self._action(
            "&Undo", self.canvas.undo, ["Ctrl+Z"], "Take back the last stroke"
        )
        self.redo_action = self._action(
            "&Redo", self.canvas.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], "Put the last undone stroke back"
        )
        self.clear_action = self._action(
            "&Clear", self.canvas.clear, ["Esc", "Delete"], "Clear the canvas (undoable)"
        )
        self.retrain_action = self._action(
            "&Retrain…", self.open_retrain_dialog, ["Ctrl+R"], "Train a new network on MNIST"
        )
        self.reset_action = self._action(
            "Reset to the &shipped model",
            self.reset_to_shipped,
            (),
            "Forget your kept model and use the shipped one",
        )
        self.model_info_action = self._action(
            "&About this model",
            self.show_model_info,
            ["Ctrl+I"],
            "Architecture, training settings, metrics",
        )
        self.shortcuts_action = self._action("&Keyboard shortcuts", self.show_shortcuts, ["F1"])
        self.about_action = self._action("&About DigitPad", self.show_about)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.open_action, self.save_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        edit_menu.addAction(self.clear_action)
        model_menu = bar.addMenu("&Model")
        model_menu.addActions([self.retrain_action, self.reset_action])
        self.file_menu, self.model_menu = file_menu, model_menu
        self.small_model_action = add_small_model_action(self, model_menu)
        self.mistakes_action = self._action(
            "&Mistakes…",
            self.open_mistakes,
            (),
            "The model's confusion matrix and wrong digits on the MNIST test set",
        )
        model_menu.addAction(self.mistakes_action)
        model_menu.addSeparator()
        model_menu.addAction(self.model_info_action)
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts_action, self.about_action])

        self.undo_button.setDefaultAction(self.undo_action)
        self.redo_button.setDefaultAction(self.redo_action)
        self.clear_button.setDefaultAction(self.clear_action)

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setMaximumHeight(14)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.hide()
        self.busy_label = make_plain(QLabel())
        self.model_label = make_plain(QLabel())
        self.model_label.setObjectName("modelStatus")
        self.timing_label = QLabel()
        self.timing_label.setStyleSheet(CAPTION_STYLE)
        self.timing_label.setToolTip("How long the network took to read the last drawing")
        status.addWidget(self.busy_bar)
        status.addWidget(self.busy_label, 1)
        status.addPermanentWidget(self.timing_label)
        status.addPermanentWidget(self.model_label)

    def _set_busy(self, message: str | None) -> None:
        self.busy_bar.setVisible(bool(message))
        self.busy_label.setText(message or "")

    # ------------------------------------------------------------------ the model
    @Slot(object)
    def _on_loaded(self, loaded: model_store.LoadedModel) -> None:
        self._set_busy(None)
        self.set_model(loaded)
        if loaded.network is not None:
            self.statusBar().showMessage("Ready: draw a digit.", 4000)

    def set_model(self, loaded: model_store.LoadedModel) -> None:
        """Use ``loaded`` from now on: predictions, status bar and warnings follow it."""
        self.model = loaded
        if loaded.network is not None:
            self.activations.set_output_count(loaded.network.layer_sizes[-1])
        self.predictor.set_network(loaded.network)
        self._update_model_label()
        if loaded.warning:
            self.show_warning(loaded.warning)
        self.save_action.setEnabled(loaded.network is not None)
        self.model_info_action.setEnabled(loaded.network is not None)

    def _update_model_label(self) -> None:
        loaded = self.model
        if loaded.network is None:
            self.model_label.setText("No model loaded")
            return
        accuracy = loaded.test_accuracy
        acc_text = (
            "MNIST accuracy unknown"
            if accuracy is None
            else f"MNIST test accuracy {100 * accuracy:.2f} %"
        )
        origin = f" ({loaded.source.mark})" if loaded.source.mark else ""
        name = loaded.name  # from the file: a hostile one could be pages long
        if origin.strip(" ()") in name:  # "DigitPad shipped model (shipped)" says it twice
            origin = ""
        short = name if len(name) <= MAX_NAME_SHOWN else name[: MAX_NAME_SHOWN - 1] + "…"
        self.model_label.setText(f"Model: {short}{origin} · {acc_text}")
        set_plain_tooltip(
            self.model_label,
            "\n".join(filter(None, [name if short != name else "", str(loaded.path or "")])),
        )

    def show_warning(self, message: str) -> None:
        """Show a warning in the banner under the activations (no modal dialog)."""
        self.banner.show_message(message)
        self.statusBar().showMessage(message.splitlines()[0], 10000)

    def model_warning(self) -> str | None:
        """The warning shown in the banner, or ``None``."""
        return self.banner.message()

    def open_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open model", "", "DigitPad models (*.npz)")
        if path:
            self.open_model_in_background(path)

    def open_model_in_background(self, path: str | Path) -> None:
        """Like :meth:`open_model`, with the file read and checked off the GUI thread."""
        self.open_action.setEnabled(False)
        self._set_busy(f"Checking {Path(path).name}…")
        self._opener.start(str(path))

    @Slot(object, object)
    def _on_file_opened(self, path: str, result) -> None:
        self.open_action.setEnabled(True)
        self._set_busy(None)
        self._use_opened_model(path, result)

    def open_model(self, path: str | Path) -> bool:
        """Use the model file at ``path`` for this session; a bad file gives a message, not a crash."""
        try:
            result = model_store.load_model_file(path)
        except Exception as exc:
            result = exc
        return self._use_opened_model(path, result)

    def _use_opened_model(self, path: str | Path, result) -> bool:
        if isinstance(result, Exception):
            warn(self, "Cannot open the model", str(result))
            return False
        network, metadata = result
        self.set_model(
            model_store.LoadedModel(network, metadata, Path(path), model_store.ModelSource.EXPLICIT)
        )
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def save_model_dialog(self) -> None:
        if self.model.network is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save model as", "model.npz", "DigitPad models (*.npz)"
        )
        if path:
            self.save_model(path)

    def save_model(self, path: str | Path) -> bool:
        from trainer import model_io

        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        try:
            model_io.save_model(self.model.network, path, self.model.metadata)
        except Exception as exc:
            warn(self, "Cannot save the model", str(exc))
            return False
        self.statusBar().showMessage(f"Saved the model to {path}", 5000)
        return True

    def reset_to_shipped(self, *, confirm: bool = True) -> None:
        """Forget the user's kept model and use the shipped one."""
        kept = model_store.user_model_path()
        if confirm and kept.exists():
            answer = QMessageBox.question(
                self,
                "Reset to the shipped model",
                f"Delete your kept model ({kept}) and use the model shipped with DigitPad?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        try:
            model_store.forget_kept_model()
        except OSError as exc:
            warn(self, "Cannot reset", f"Could not delete {kept}: {exc}")
            return
        self.banner.hide()
        self.set_model(model_store.load_startup_model())
        self.statusBar().showMessage("Using the shipped model.", 5000)

    # ------------------------------------------------------------------ retraining
    def open_retrain_dialog(self):
        from digitpad.retrain_dialog import RetrainDialog

        if self._retrain_dialog is None:
            dialog = RetrainDialog(
                self, current_network=self.model.network, current_accuracy=self.model.test_accuracy
            )
            dialog.modelKept.connect(self._on_model_kept)
            dialog.runStarted.connect(lambda: self._set_busy("Training a new network…"))
            dialog.runEnded.connect(lambda _outcome: self._set_busy(None))
            self._retrain_dialog = dialog
        else:
            self._retrain_dialog.current_network = self.model.network
            self._retrain_dialog.current_accuracy = self.model.test_accuracy
        self.labelling.ensure_loaded()
        self._retrain_dialog.set_my_digits(self.labelling.collection.drawings)
        self._retrain_dialog.show()
        self._retrain_dialog.raise_()
        self._retrain_dialog.activateWindow()
        return self._retrain_dialog

    @Slot(object, dict, object)
    def _on_model_kept(self, network, metadata: dict, path) -> None:
        self.banner.hide()
        self.set_model(
            model_store.LoadedModel(network, metadata, Path(path), model_store.ModelSource.USER)
        )
        self.statusBar().showMessage(
            "Now using the retrained model (also at the next start).", 6000
        )

    # ------------------------------------------------------------------ my digits (issue 13)
    def _build_my_digits(self) -> None:
        from digitpad.labelling import Labelling

        self.labelling = Labelling(self)
        self._canvas_buttons.insertWidget(3, self.labelling.button)
        self._my_digits_window = None
        self.my_digits_action = self._action(
            "My &digits…",
            self.open_my_digits,
            ["Ctrl+D"],
            "Your labelled drawings: browse, relabel, export",
        )
        self.learn_action = self._action(
            "&Learn my handwriting…",
            self.learn_my_handwriting,
            ["Ctrl+L"],
            "Fine-tune the current model on My digits",
        )
        self.model_menu.insertActions(self.reset_action, [self.my_digits_action, self.learn_action])
        export = self._action("E&xport my digits…", lambda: self.open_my_digits().export_dialog())
        import_ = self._action("&Import digits…", lambda: self.open_my_digits().import_dialog())
        self.file_menu.insertActions(self.quit_action, [export, import_])
        self.file_menu.insertSeparator(self.quit_action)
        self.labelling.saved.connect(
            lambda *_: self._my_digits_window and self._my_digits_window.refresh()
        )

    def learn_my_handwriting(self):
        """The retrain dialog set to fine-tune the current model on My digits, started."""
        dialog = self.open_retrain_dialog()
        if not dialog.is_running():
            dialog.set_preset("personal")
            dialog.my_digits_box.setChecked(True)
            dialog.start()
        return dialog

    def open_my_digits(self):
        from digitpad.my_digits_window import MyDigitsWindow

        self.labelling.ensure_loaded()
        if self._my_digits_window is None:
            self._my_digits_window = MyDigitsWindow(
                self.labelling.collection, self.model.network, self
            )
            self._my_digits_window.learnRequested.connect(self.learn_my_handwriting)
        else:
            self._my_digits_window.set_network(self.model.network)
        self._my_digits_window.show()
        self._my_digits_window.raise_()
        return self._my_digits_window

    # ------------------------------------------------------------------ dialogs
    def open_mistakes(self):
        from digitpad.mistakes import open_mistakes

        self.mistakes_dialog = open_mistakes(self)
        return self.mistakes_dialog

    def show_model_info(self) -> None:
        from digitpad.about import model_info_dialog

        model_info_dialog(self.model, self).exec()

    def show_shortcuts(self) -> None:
        from digitpad.about import shortcuts_dialog

        shortcuts_dialog(self).exec()

    def show_about(self) -> None:
        from digitpad.about import about_dialog

        about_dialog(self).exec()

    # ------------------------------------------------------------------ live prediction
    @Slot()
    def _strokes_changed(self) -> None:
        if self.canvas.is_drawing():
            self.predictor.request()
        else:
            self.predictor.run_now()

    @Slot(bool, bool)
    def _history_changed(self, can_undo: bool, can_redo: bool) -> None:
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)

    @Slot(object, object)
    def _show_prediction(self, x, probabilities) -> None:
        self.preview.set_input(x)
        self.activations.set_probabilities(probabilities, ink_extent(self.canvas.strokes()))
        self.network_view.show_input(self.predictor.network, x, live=self.canvas.is_drawing())
        if probabilities is not None:
            self.timing_label.setText(f"read in {1000 * self.predictor.last_seconds:.1f}\u00a0ms")

    # ------------------------------------------------------------------ testing hooks
    def probabilities(self) -> list[float]:
        """The activations currently shown: 10, or 11 for a model with "not a digit" (all 0.0
        with an empty canvas)."""
        return self.activations.probabilities()

    def verdict(self) -> int | None:
        """The digit currently shown as the verdict, or ``None`` for every state without one
        (empty canvas, not sure, not a digit, too small to read)."""
        return self.activations.verdict()

    def input_image(self):
        """The (784,) input currently shown in the 28×28 preview."""
        return self.preview.values()

    def hidden_activations(self):
        """One 1-D array per hidden layer: the activations the network view shows for the input
        the window shows (an empty list without input or model)."""
        return self.network_view.hidden_activations()

    def attribution(self, d: int):
        """The (784,) attribution map of output ``d`` for the input the window shows: each
        pixel's share of the output's score minus its score for an empty canvas."""
        return self.network_view.attribution(d)

    def wait_for_prediction(self, timeout_ms: int = 10000) -> bool:
        """Process events until the shown prediction matches the current strokes."""
        return self.predictor.wait_until_idle(timeout_ms)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._retrain_dialog is not None and not self._retrain_dialog.close():
            event.ignore()  # the user chose to go on training or to decide about the new model
            return
        self.network_view.save_shown()
        self.network_view.shutdown()
        self.predictor.shutdown()
        super().closeEvent(event)
