"""Make the README's screenshot: the real window with a real pen digit drawn on it.

    xvfb-run -a -s "-screen 0 1280x800x24" python -m digitpad.screenshot assets/screenshot.png \\
        --pen-digits ../shared/data/pen-digits-dev.jsonl.gz --index 7

The digit's strokes are replayed into the canvas as mouse events, exactly as a user would draw
them, and the window is captured with ``QWidget.grab()``.
"""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


def replay(widget, strokes, fill: float = 0.62) -> None:
    """Draw pen strokes, scaled and centred, on ``widget`` with real mouse events."""
    from digitpad.stroke_fitting import fit_strokes

    fitted = fit_strokes(strokes, widget.width(), widget.height(), fill)
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton

    def send(kind, x, y, button, buttons):
        p = QPointF(x, y)
        QApplication.sendEvent(
            widget,
            QMouseEvent(
                kind, p, widget.mapToGlobal(p), button, buttons, Qt.KeyboardModifier.NoModifier
            ),
        )
        QApplication.processEvents()

    for stroke in fitted:
        send(QEvent.Type.MouseButtonPress, *stroke[0], left, left)
        for x, y in stroke[1:]:
            send(QEvent.Type.MouseMove, x, y, none, left)
        send(QEvent.Type.MouseButtonRelease, *stroke[-1], left, none)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output")
    parser.add_argument("--pen-digits", required=True, help="a .jsonl[.gz] file of pen digits")
    parser.add_argument("--index", type=int, default=0, help="which digit of the file to draw")
    parser.add_argument("--model", help="model file (default: kept or shipped)")
    parser.add_argument("--size", default="1000x620", help="window size, WIDTHxHEIGHT")
    args = parser.parse_args(argv)

    from digitpad.app import MainWindow
    from trainer.data.pen_digits import read_pen_digits

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("DigitPad")
    window = MainWindow(args.model)
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()
    for _ in range(5):
        app.processEvents()
    digit = read_pen_digits(args.pen_digits)[args.index]
    replay(window.canvas, digit.strokes)
    window.wait_for_prediction()
    window.statusBar().clearMessage()
    app.processEvents()
    if not window.grab().save(args.output):
        print(f"could not write {args.output}", file=sys.stderr)
        return 1
    print(
        f"label {digit.label}, shown verdict {window.verdict()}, "
        f"probabilities {[round(p, 3) for p in window.probabilities()]}"
    )
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
