"""A straight stroke drawn onto MNIST digits: the shared part of slashed zeros and flagged ones.

Both give a share of one digit's training images an extra stroke, as wide as MNIST's strokes and
anti-aliased, and then shrink the image so that its ink fits MNIST's 20-pixel box again and
recentre it on its centre of mass, exactly as a drawing from the app comes out of the stroke
function (``slashed_zeros.py``, ``flagged_ones.py`` say where their stroke goes; the drawing and
refitting are compiled, in ``added_stroke_kernels.py``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

SIDE = 28
#: MNIST fits each digit's ink into a box this many pixels wide and high.
INK_BOX = 20.0
#: Pixels above this value are ink.
INK_THRESHOLD = 0.1
#: Stroke width in pixels (MNIST strokes are about 2.2 px wide).
WIDTH_RANGE = (1.8, 2.6)

ROWS, COLS = np.mgrid[0:SIDE, 0:SIDE].astype(np.float64)


def change_a_share(
    images: np.ndarray,
    labels: np.ndarray,
    digit: int,
    share: float,
    rng: np.random.Generator,
    change: Callable[[np.ndarray, np.random.Generator], np.ndarray],
    stop: threading.Event | None = None,
) -> int:
    """Replace a random ``share`` of the images of ``digit`` by ``change(image, rng)``, in place.

    Returns how many were changed; the same ones, changed the same way, for the same ``rng``.
    Once ``stop`` is set, the images not reached yet are left as they are (training was
    cancelled).
    """
    if share <= 0.0:
        return 0
    chosen = np.flatnonzero(labels == digit)
    chosen = chosen[rng.random(len(chosen)) < share]
    for done, index in enumerate(chosen):
        if stop is not None and stop.is_set():
            return done
        images[index] = change(images[index], rng)
    return len(chosen)
