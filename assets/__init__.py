"""Data files shipped with DigitPad: the trained model, the icon and the desktop entry.

Installed as the package ``digitpad.assets``; :func:`shipped_model_path` is how the app, and the
command lines that default to the shipped model (``digitpad-eval``), find the model.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path


def shipped_model_path() -> Path:
    """The model that ships with DigitPad (``assets/model.npz``, installed as ``digitpad.assets``)."""
    return Path(str(importlib.resources.files(__name__) / "model.npz"))
