"""Getting MNIST when it is missing: download it (with progress and Cancel) or pick a folder.

:func:`mnist_available` says whether ``trainer.data.mnist`` can find the four files without a download.
:class:`MnistDialog` explains what is missing and offers both ways; after ``exec()`` returns
``Accepted``, :attr:`MnistDialog.mnist_dir` is the folder to train from (``None`` means the user
cache folder, where the download went).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from digitpad import settings
from digitpad.dialog_size import fit_height
from digitpad.plain_text import make_plain

DOWNLOAD_SIZE_TEXT = "about 11 MB"


def mnist_available(mnist_dir=None) -> tuple[bool, str]:
    """(True, folder) when MNIST can be read without downloading, else (False, the reason)."""
    from trainer.data.mnist import MnistError, find_mnist_dir

    try:
        found = find_mnist_dir(mnist_dir)
    except MnistError as exc:
        return False, str(exc)
    if found is None:
        from trainer import paths

        return False, (
            f"MNIST is not on this computer yet (looked in {paths.mnist_cache_dir()}; "
            f"set {paths.MNIST_DIR_ENV} to use another folder)."
        )
    return True, str(found)


class _Downloader(QObject):
    progress = Signal(int, int, str)
    done = Signal(str)  # "" on success, else the error message

    def __init__(self, cancel: threading.Event) -> None:
        super().__init__()
        self.cancel = cancel

    @Slot()
    def run(self) -> None:
        from trainer.data.mnist import MnistError
        from trainer.data.mnist_download import download_mnist

        try:
            download_mnist(
                progress=lambda done, total, name: self.progress.emit(done, total, name),
                cancel=self.cancel,
            )
        except MnistError as exc:
            self.done.emit(str(exc))
        except Exception as exc:  # network trouble not wrapped by the downloader
            self.done.emit(f"download failed: {exc}")
        else:
            self.done.emit("")


class MnistDialog(QDialog):
    """Offers to download MNIST or to choose the folder holding it."""

    def __init__(self, reason: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MNIST is needed for training")
        self.mnist_dir: Path | None = None
        self._cancel = threading.Event()
        self._thread: QThread | None = None
        self._worker: _Downloader | None = None
        self._close_when_done = False

        intro = QLabel(
            "Training needs the MNIST database of handwritten digits (60\u00a0000 training and "
            "10\u00a0000 "
            f"test images, {DOWNLOAD_SIZE_TEXT}). Download it from the public mirrors into your "
            "cache folder, or choose a folder that already holds the four files "
            "(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
            "t10k-labels-idx1-ubyte; plain or .gz)."
        )
        intro.setWordWrap(True)
        self.reason_label = make_plain(QLabel(reason))
        self.reason_label.setWordWrap(True)
        self.reason_label.setStyleSheet("color: #6b7480;")

        self.download_button = QPushButton("Download MNIST")
        self.folder_button = QPushButton("Choose folder…")
        self.cancel_download_button = QPushButton("Cancel download")
        self.cancel_download_button.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.status_label = make_plain(QLabel())
        self.status_label.setWordWrap(True)

        row = QHBoxLayout()
        row.addWidget(self.download_button)
        row.addWidget(self.folder_button)
        row.addWidget(self.cancel_download_button)
        row.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.reason_label)
        layout.addLayout(row)
        layout.addWidget(self.progress)
        layout.addWidget(self.status_label)
        layout.addWidget(self.buttons)

        self.download_button.clicked.connect(self.start_download)
        self.folder_button.clicked.connect(self.choose_folder)
        self.cancel_download_button.clicked.connect(self.cancel_download)
        fit_height(self, 560)

    # ------------------------------------------------------------------ choosing a folder
    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder holding the MNIST files")
        if folder:
            self.use_folder(folder)

    def use_folder(self, folder: str | Path) -> bool:
        ok, message = mnist_available(folder)
        if ok:
            self.mnist_dir = Path(folder)
            settings.remember_mnist_dir(folder)  # not to be asked again at the next start
            self.accept()
        else:
            self.show_error(message)
        return ok

    def show_error(self, message: str) -> None:
        """Say what went wrong below the buttons; the dialog grows to show all of it."""
        self.status_label.setText(message)
        self.status_label.setStyleSheet("color: #b3261e;")
        fit_height(self)

    # ------------------------------------------------------------------ downloading
    def start_download(self) -> None:
        self._cancel.clear()
        self.download_button.setEnabled(False)
        self.folder_button.setEnabled(False)
        self.cancel_download_button.setVisible(True)
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status_label.setStyleSheet("")
        self.status_label.setText("Connecting…")
        self._thread = QThread(self)
        self._worker = _Downloader(self._cancel)
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progress.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.start()

    def cancel_download(self) -> None:
        self._cancel.set()
        self.status_label.setText("Cancelling…")

    def is_downloading(self) -> bool:
        return self._thread is not None and self._thread.isRunning()

    @Slot(int, int, str)
    def _on_progress(self, done: int, total: int, name: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.status_label.setText(f"{name}: {done / 1e6:.1f} of {total / 1e6:.1f} MB")
        else:
            self.progress.setRange(0, 0)
            self.status_label.setText(f"{name}: {done / 1e6:.1f} MB")

    @Slot(str)
    def _on_done(self, error: str) -> None:
        if self._thread is not None:
            self._thread.wait(5000)
        self.cancel_download_button.setVisible(False)
        self.download_button.setEnabled(True)
        self.folder_button.setEnabled(True)
        self.progress.setVisible(False)
        if self._close_when_done:  # the user closed the dialog meanwhile
            self._close_when_done = False
            super().reject()
            return
        if error:
            self.show_error(error)
            return
        self.mnist_dir = None  # the user cache folder, which trainer.data.mnist searches by itself
        self.status_label.setText("MNIST downloaded and verified.")
        self.accept()

    def reject(self) -> None:
        if self.is_downloading():
            # Never wait here: a stalled server can take the whole timeout (30 s) to give up, and
            # the event loop would freeze that long. Cancel; the dialog closes when the thread ends.
            self._close_when_done = True
            self.cancel_download()
            return
        super().reject()
