"""Screenshots of the main window and every dialog, as a user sees them on a real X server.

    python3 docs/screens/take_screens.py [--out DIR] [--keep]

Starts Xvfb (1366×768) with the openbox window manager, then DigitPad from this source tree on
Qt's ``xcb`` platform, with fresh user folders (so the shipped model is used). With a 3 drawn on
the canvas it saves one PNG of the whole screen for the main window maximised and at its minimum
size, and for each dialog at its opening size and at its minimum size (Model ▸ Mistakes once
MNIST's test set is read, its first mistake shown in the network view): DIR/<what>-<size>.png
(default DIR: a temporary folder, printed). ``--keep`` also copies the main window and the Retrain
dialog at 1366×768 into ``docs/`` for the README. Needs Xvfb, openbox and ImageMagick's ``import``.
Look at every picture: that is what this script is for.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREEN = (1366, 768)
#: The MNIST dialog's reason, as on a computer without MNIST.
MISSING = "MNIST is not on this computer yet (looked in ~/.cache/digitpad/mnist)."
#: (picture in DIR, name in docs/) copied by --keep.
KEPT = (("main-1366x768.png", "main-window.png"), ("retrain-1366x768.png", "retrain-dialog.png"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="folder for the PNGs (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="copy two pictures into docs/")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="digitpad-screens-"))
    out.mkdir(parents=True, exist_ok=True)
    if args.inner:
        return take_all(out)
    missing = [tool for tool in ("Xvfb", "openbox", "import") if not shutil.which(tool)]
    if missing:
        print(
            f"take_screens: needs {', '.join(missing)} (apt-get install xvfb openbox imagemagick)",
            file=sys.stderr,
        )
        return 2
    status = run_under_xvfb(out)
    if status == 0 and args.keep:
        for picture, kept in KEPT:
            shutil.copyfile(out / picture, ROOT / "docs" / kept)
    print(f"take_screens: pictures in {out}")
    return status


def run_under_xvfb(out: Path) -> int:
    """Xvfb and openbox on a free display, then this script's ``--inner`` part on it."""
    display = next(f":{n}" for n in range(70, 200) if not Path(f"/tmp/.X{n}-lock").exists())
    home = Path(tempfile.mkdtemp(prefix="digitpad-screens-home-"))
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "PYTHONPATH": str(ROOT),
    }
    xvfb = subprocess.Popen(
        ["Xvfb", display, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp"],
        stderr=subprocess.DEVNULL,
    )
    wm = None
    try:
        time.sleep(1.0)
        wm = subprocess.Popen(["openbox"], env=env, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        return subprocess.run(
            [sys.executable, __file__, "--inner", "--out", str(out)], env=env, timeout=600
        ).returncode
    finally:
        for process in (wm, xvfb):
            if process is not None:
                process.terminate()
                process.wait(10)
        shutil.rmtree(home, ignore_errors=True)


# ---------------------------------------------------------------------------- inside the X server
def take_all(out: Path) -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QMessageBox

    from digitpad.about import about_dialog, model_info_dialog, shortcuts_dialog
    from digitpad.app import MainWindow
    from digitpad.mnist_dialog import MnistDialog

    app = QApplication([sys.argv[0]])
    window = MainWindow(background=False)

    def settle(seconds: float = 0.6) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.02)

    def shoot(name: str) -> None:
        settle()
        subprocess.run(["import", "-window", "root", str(out / f"{name}.png")], check=True)
        print(out / f"{name}.png")

    def mnist_after_error():
        dialog = MnistDialog(MISSING, window)
        dialog.show()
        dialog.show_error(
            "download failed: every mirror failed: "
            "https://ossci-datasets.s3.amazonaws.com/mnist/: <urlopen error "
            "[Errno -3] Temporary failure in name resolution>; https://storage."
            "googleapis.com/cvdf-datasets/mnist/: <urlopen error [Errno -3] "
            "Temporary failure>"
        )
        return dialog

    def close_question():
        retrain = window.open_retrain_dialog()
        retrain._state = "decide"  # as after a finished run, without training for the picture
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "The new model is not kept yet",
            "<b>The new model is not kept yet.</b>",
            parent=retrain,
        )
        box.setInformativeText("The new model (98.91 % test accuracy) is lost unless you keep it.")
        for label, role in (
            ("Keep it and close", QMessageBox.ButtonRole.AcceptRole),
            ("Discard it and close", QMessageBox.ButtonRole.DestructiveRole),
            ("Cancel", QMessageBox.ButtonRole.RejectRole),
        ):
            box.addButton(label, role)
        return box

    def mistakes_read():
        dialog = window.open_mistakes()
        end = time.monotonic() + 120
        while not dialog.is_ready() and time.monotonic() < end:  # reads MNIST's test set
            settle(0.1)
        dialog.browser.setCurrentRow(0)
        dialog.choose(int(dialog.browser.item(0).data(Qt.ItemDataRole.UserRole)))
        return dialog

    dialogs = {
        "retrain": window.open_retrain_dialog,
        "mistakes": mistakes_read,
        "about": lambda: about_dialog(window),
        "model-info": lambda: model_info_dialog(window.model, window),
        "shortcuts": lambda: shortcuts_dialog(window),
        "mnist": lambda: MnistDialog(MISSING, window),
        "mnist-error": mnist_after_error,
        "retrain-close-question": close_question,
    }
    from digitpad.screenshot import replay

    sys.path.insert(0, str(ROOT / "packaging"))
    from xvfb_screenshot import THREE  # the 3 the packaging smoke test draws

    for size, show in (
        ("1366x768", window.showMaximized),
        ("min", lambda: (window.showNormal(), window.resize(window.minimumSize()))),
    ):
        show()
        settle(1.5)
        window.canvas.clear()
        replay(window.canvas, [THREE])
        shoot(f"main-{size}")
        for name, make in dialogs.items():
            dialog = make()
            dialog.show()
            if size == "min":
                dialog.resize(dialog.minimumSizeHint())
            shoot(f"{name}-{size}")
            dialog.hide()
        retrain = window.open_retrain_dialog()
        retrain._state = "idle"
        retrain.hide()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
