# --- digitpad app tests (tests/test_app_*.py) --------------------------------------------------
# Qt must use its offscreen platform in tests; set before anything imports Qt.
import os as _os
import tempfile as _tempfile

_os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The tests never write into the user's own data and settings folders (a kept model, the
# remembered MNIST folder): every run gets fresh ones, whatever the shell exported. Numba's kernel
# cache stays where the app keeps it, so the kernels are compiled once, not at every run.
_USER_FOLDERS = _tempfile.TemporaryDirectory(prefix="digitpad-tests-")
_os.environ["XDG_DATA_HOME"] = _os.path.join(_USER_FOLDERS.name, "data")
_os.environ["XDG_CONFIG_HOME"] = _os.path.join(_USER_FOLDERS.name, "config")

import pytest as _pytest  # noqa: E402  (the environment above must be set before anything imports Qt)

# --- MNIST, for the tests that need it ------------------------------------------------------------
#: The folder named by DIGITPAD_MNIST_DIR when the tests started (some tests remove the variable).
#: There is no fallback: without it, the tests that need MNIST are skipped and say so.
_MNIST_DIR = _os.environ.get("DIGITPAD_MNIST_DIR")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_mnist: the test reads the real MNIST files (DIGITPAD_MNIST_DIR); skipped, saying "
        "so, without them",
    )


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_mnist") is not None:
        _mnist_dir_or_skip()


def _mnist_dir_or_skip():
    from pathlib import Path

    if not _MNIST_DIR:
        _pytest.skip(
            "DIGITPAD_MNIST_DIR is not set: point it at a folder with the four MNIST files "
            "(e.g. ../shared/data/mnist)"
        )
    folder = Path(_MNIST_DIR).resolve()  # absolute: the README's command gives a relative one
    if not any((folder / f"t10k-images-idx3-ubyte{gz}").exists() for gz in (".gz", "")):
        _pytest.skip(f"DIGITPAD_MNIST_DIR names {folder}, which holds no MNIST files")
    return folder


@_pytest.fixture(scope="session")
def mnist_dir():
    """The folder with the real MNIST files; the test is skipped (saying why) without it."""
    return _mnist_dir_or_skip()


@_pytest.fixture
def mnist_env(mnist_dir, monkeypatch):
    """:func:`mnist_dir`, also named by DIGITPAD_MNIST_DIR for the code under test."""
    monkeypatch.setenv("DIGITPAD_MNIST_DIR", str(mnist_dir))
    return mnist_dir


@_pytest.fixture(autouse=True)
def _fresh_user_settings(tmp_path, monkeypatch):
    """Every test starts with no remembered settings (digitpad/settings.py)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))


def app_label_fits(label) -> bool:
    """The label's whole text is visible: wide enough, or wrapped into the height it has."""
    if label.wordWrap():
        return label.heightForWidth(label.width()) <= label.height()
    return label.sizeHint().width() <= label.width()


@_pytest.fixture
def label_fits():
    """App tests: :func:`app_label_fits`."""
    return app_label_fits


@_pytest.fixture
def app_user_data(tmp_path, monkeypatch):
    """App tests: the per-user data folder (where a kept model goes) inside ``tmp_path``."""
    from trainer import paths

    folder = tmp_path / "user-data"
    monkeypatch.setattr(paths, "user_data_dir", lambda: folder)
    return folder


@_pytest.fixture(scope="session")
def app_random_model(tmp_path_factory):
    """App tests: a real model file holding a small random 784-30-10 network."""
    from trainer.core.network import Network
    from trainer.model_io import save_model

    path = tmp_path_factory.mktemp("app-models") / "random-784-30-10.npz"
    save_model(
        Network([784, 30, 10], seed=1),
        path,
        {"name": "random test net", "metrics": {"mnist_test_accuracy": 0.1}},
    )
    return path


@_pytest.fixture
def window(qtbot, app_user_data, app_random_model):
    """App tests: the main window on the random model, not shown. A test file that needs it on
    screen overrides this fixture with one that takes ``window`` and shows it."""
    from digitpad.app import MainWindow

    win = MainWindow(app_random_model)
    qtbot.addWidget(win)
    return win


def app_send_strokes(widget, strokes, *, on_move=None):
    """Draw ``strokes`` on ``widget`` with real mouse events (:func:`mouse.send_strokes`)."""
    from mouse import send_strokes

    send_strokes(widget, strokes, on_move=on_move)


def app_fit_strokes(strokes, width, height, fill=0.7):
    """Scale and centre pen-digit strokes into a ``width`` × ``height`` widget."""
    from digitpad.stroke_fitting import fit_strokes

    return fit_strokes(strokes, width, height, fill)


@_pytest.fixture
def app_draw():
    """App tests: :func:`app_send_strokes` and :func:`app_fit_strokes`, as ``(send, fit)``."""
    return app_send_strokes, app_fit_strokes


@_pytest.fixture
def warnings_shown(monkeypatch):
    """Warning boxes (QMessageBox.warning or a box's exec()), recorded as (title, text) instead of
    shown (a modal box would block the test). A box's text must be plain text, never HTML."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    shown = []

    def record(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    def record_box(box):
        assert box.textFormat() == Qt.TextFormat.PlainText, box.text()
        return record(box.parent(), box.windowTitle(), box.text())

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(record))
    monkeypatch.setattr(QMessageBox, "exec", record_box)
    return shown


def app_answer_next_question(qtbot, choice: str, asked: list[str]) -> None:
    """Click (a real mouse click) the button ``choice`` of the next modal message box, and record
    its text in ``asked``."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def press():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, press)
            return
        asked.append(f"{box.text()} {box.informativeText()}")
        button = next(b for b in box.buttons() if b.text() == choice)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, press)


@_pytest.fixture
def answer_question(qtbot):
    """App tests: ``answer_question(choice, asked)``, see :func:`app_answer_next_question`."""
    return lambda choice, asked: app_answer_next_question(qtbot, choice, asked)


@_pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item):
    """Before pytest-qt closes a test's windows: stop any training run and drop any unkept model
    of a Retrain dialog, so that closing never waits for an answer to "stop the run?" (a test
    that failed half-way would otherwise hang the whole suite)."""
    import sys

    retrain = sys.modules.get("digitpad.retrain_dialog")
    if retrain is not None:
        from PySide6.QtWidgets import QApplication

        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, retrain.RetrainDialog):
                widget.cancel()
                widget.discard()
    return (yield)


# --- garbage collection on the GUI thread only (digitpad/gui_thread_gc.py) -------------------------
@_pytest.fixture(scope="session", autouse=True)
def _garbage_collected_on_gui_thread(qapp):
    """Every test runs as the app does: no automatic collection, which could run on a worker
    thread and finalize Qt objects there (a deadlock), but collection on this thread."""
    from digitpad.gui_thread_gc import collect_garbage_on_gui_thread

    collect_garbage_on_gui_thread()


@_pytest.fixture(autouse=True)
def _collect_due_garbage(_garbage_collected_on_gui_thread):
    """Between tests the event loop does not run, so the timer cannot: collect what is due here."""
    yield
    from digitpad.gui_thread_gc import collect_if_due

    collect_if_due()
