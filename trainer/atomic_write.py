"""Saving a file so that it is either the old one or the new one, never half of each.

The bytes go to a temporary file beside the target (``.NAME.<random>.tmp``, so the rename stays
within one file system), are flushed to disk, and the temporary file is renamed over the target;
then the folder is flushed too, so the rename itself survives a power cut. A full disk, an error
or a killed process leaves the previous file intact. The temporary file's name is registered in
:data:`temporaries` before the file exists, so a signal arriving at any moment can remove it
(``trainer/cli/terminal.py``); leftovers of processes killed harder are reclaimed later by
:func:`remove_stale_temporaries`.

Every file saved this way gets one mode: the permissions of the file it replaces, or for a new file
those an ordinary ``open()`` gives (0666 less the umask) — never the private 0600 of ``tempfile``.
"""

from __future__ import annotations

import glob
import os
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

#: Temporary files of saves in progress: a signal that ends the command line removes them.
temporaries: set[str] = set()


def write_atomically(path, write: Callable[[BinaryIO], None]) -> None:
    """Replace ``path`` with what ``write(stream)`` writes, atomically (see the module doc).

    Raises OSError (or whatever ``write`` raises) with the previous file, if any, unchanged and
    no temporary file left behind.
    """
    path = Path(path)
    temporary = str(path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp")
    temporaries.add(temporary)
    try:
        descriptor = create_new(temporary)
        with os.fdopen(descriptor, "wb") as stream:
            os.fchmod(descriptor, file_mode_for(path))
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
        fsync_directory(path.parent)
    finally:
        try:
            os.remove(temporary)  # nothing there after the rename
        except OSError:
            pass
        temporaries.discard(temporary)


def create_new(name: str) -> int:
    """Create the file ``name``, which must not exist yet, for writing; its descriptor."""
    return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def file_mode_for(path: Path) -> int:
    """The permissions of the file being replaced, or those a new file gets from the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it; put it straight back
        os.umask(umask)
        return 0o666 & ~umask


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def remove_stale_temporaries(path, older_than: float = 600.0) -> list[Path]:
    """Delete the temporary files (``.<name>.*.tmp``) that a save to ``path`` killed mid-way left
    beside it, once untouched for ``older_than`` seconds (so a save in progress elsewhere is never
    disturbed). They are never read; this only reclaims their space. Returns those removed.
    """
    path = Path(path)
    removed = []
    now = time.time()
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return removed
    for candidate in candidates:
        try:
            if now - candidate.stat().st_mtime >= older_than:
                candidate.unlink()
                removed.append(candidate)
        except OSError:
            pass
    return removed
