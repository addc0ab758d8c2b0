"""Placing recorded strokes on a canvas of another size, as a person would draw them there.

Pen digits are recorded in their tablet's coordinates; the self-test, the screenshot tools and the
app tests replay them on the app's canvas, scaled and centred by :func:`fit_strokes`.
"""

from __future__ import annotations


def fit_strokes(strokes, width: float, height: float, fill: float = 0.6):
    """Scale and centre ``strokes`` in a ``width`` × ``height`` canvas so that the drawing's longer
    side is ``fill`` of the canvas's shorter side (the aspect ratio kept)."""
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-6)
    scale = fill * min(width, height) / span
    cx, cy = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2
    return [
        [(width / 2 + (x - cx) * scale, height / 2 + (y - cy) * scale) for x, y in stroke]
        for stroke in strokes
    ]
