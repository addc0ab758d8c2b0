"""The DigitPad application: the command line, QApplication's setup and the ``main()`` entry
point, which shows the main window (``digitpad/main_window.py``) at once and loads the model
behind it."""

from __future__ import annotations

import argparse
import logging
import sys

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from digitpad.main_window import APP_TITLE, MainWindow
from digitpad.platform_hint import application_or_hint


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """The app's own options, and the rest (Qt's, e.g. ``-platform offscreen``)."""
    parser = argparse.ArgumentParser(
        prog="digitpad", description="Draw a digit and watch a neural network read it."
    )
    parser.add_argument(
        "--model",
        metavar="PATH",
        help="use this model file instead of your kept or the shipped model",
    )
    # --- packaging (issue 5): the self-test the built app runs in CI (digitpad/selftest.py) ---
    parser.add_argument(
        "--selftest",
        action="store_true",
        help="check without a screen that the app works (loads the model, reads "
        "known digits, opens and closes the window); exit status 0 if all is right",
    )
    return parser.parse_known_args(argv)


def _window_icon() -> QIcon | None:
    import importlib.resources

    for name in ("digitpad.svg", "digitpad.png"):
        resource = importlib.resources.files("digitpad.assets") / name
        if resource.is_file():
            return QIcon(str(resource))
    return None


def main(argv: list[str] | None = None) -> int:
    args, qt_args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.selftest:  # packaging (issue 5): before any QApplication, which it makes offscreen
        from digitpad.selftest import run_selftest

        return run_selftest(args.model, qt_args)
    app = QApplication.instance() or application_or_hint([sys.argv[0], *qt_args])
    app.setApplicationName(APP_TITLE)
    app.setApplicationDisplayName(APP_TITLE)
    app.setOrganizationName("DigitPad")
    app.setDesktopFileName("digitpad")
    icon = _window_icon()
    if icon is not None:
        app.setWindowIcon(icon)
    window = MainWindow(args.model, background=True)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
