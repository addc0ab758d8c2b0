"""What the app remembers between starts: for now the MNIST folder the user chose.

Kept as a small JSON file in the per-user config folder (``~/.config/digitpad/settings.json`` on
Linux), written atomically (``trainer.atomic_write``), so a crash never leaves half a file.
An unreadable or damaged file is treated as empty: the user is asked again, nothing breaks.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import platformdirs

from trainer.atomic_write import write_atomically
from trainer.paths import APP_NAME

log = logging.getLogger(__name__)
MNIST_DIR_KEY = "mnist_dir"


def settings_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.json"


def _read() -> dict:
    try:
        values = json.loads(settings_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def _write(values: dict) -> None:
    path = settings_path()
    text = json.dumps(values, indent=1).encode("utf-8")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda stream: stream.write(text))
    except OSError as error:  # not remembering is no reason to stop the user
        log.warning("could not save the settings in %s: %s", path, error)


def remembered_mnist_dir() -> Path | None:
    """The MNIST folder the user chose before, if it still exists."""
    folder = _read().get(MNIST_DIR_KEY)
    if isinstance(folder, str) and Path(folder).is_dir():
        return Path(folder)
    return None


def remember_mnist_dir(folder: str | os.PathLike[str]) -> None:
    _write(_read() | {MNIST_DIR_KEY: str(Path(folder).resolve())})
