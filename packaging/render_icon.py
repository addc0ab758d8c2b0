"""Render ``assets/digitpad.svg`` to ``assets/digitpad.png`` (256 × 256) with Qt's QSvgRenderer.

    python packaging/render_icon.py [--size 256]

Run it after editing the SVG; the PNG is committed (the window icon and the freedesktop launcher use
it where SVG icons are not supported).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def render(svg: Path, png: Path, size: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841 (kept alive)
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icon: {svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(png), "PNG"):
        raise SystemExit(f"render_icon: cannot write {png}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--svg", type=Path, default=ROOT / "assets" / "digitpad.svg")
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "digitpad.png")
    args = parser.parse_args(argv)
    render(args.svg, args.out, args.size)
    print(f"wrote {args.out} ({args.size} x {args.size})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
