"""Where DigitPad keeps things on the user's machine: its per-user folders.

All per-user folders come from platformdirs, so they follow the XDG conventions on Linux
(``~/.cache/digitpad``, ``~/.local/share/digitpad``) and the platform's own elsewhere. How Numba's
cache is found in its folder is ``trainer/fast/numba_cache.py``; where the app's shipped model is,
``digitpad.assets``.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "digitpad"

#: Environment variable naming a folder that holds the four MNIST IDX files.
MNIST_DIR_ENV = "DIGITPAD_MNIST_DIR"


def user_cache_dir() -> Path:
    """The per-user cache folder (downloaded MNIST, Numba's compiled kernels)."""
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_data_dir() -> Path:
    """The per-user data folder (the model the user chose to keep)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def mnist_cache_dir() -> Path:
    return user_cache_dir() / "mnist"


def numba_cache_dir() -> Path:
    return user_cache_dir() / "numba"
