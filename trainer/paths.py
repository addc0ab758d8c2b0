"""Where DigitPad keeps things on the user's machine.

All per-user folders come from platformdirs, so they follow the XDG conventions on Linux
(``~/.cache/digitpad``, ``~/.local/share/digitpad``) and the platform's own elsewhere.
"""
from __future__ import annotations

import importlib.resources
import os
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


def configure_numba_cache() -> None:
    """Point Numba's on-disk cache at the user's cache folder.

    Must run before numba is first imported; an explicit ``NUMBA_CACHE_DIR`` set by the user wins.
    """
    os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir()))


def shipped_model_path() -> Path:
    """The model that ships with DigitPad (``assets/model.npz``, installed as ``digitpad.assets``)."""
    return Path(str(importlib.resources.files("digitpad.assets") / "model.npz"))
