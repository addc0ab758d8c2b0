"""A clear message instead of Qt's when its platform plugin cannot start (missing X11 libraries).

When Qt cannot load its platform plugin it aborts the process from inside the ``QApplication``
constructor, after a message that misleads on a desktop that lacks Qt's X11 libraries: "xcb-cursor0
or libxcb-cursor0 is needed", whatever is really missing. :func:`application_or_hint` builds the
``QApplication`` with a Qt message handler installed: when Qt reports the fatal error, the handler
names the libraries the xcb plugin cannot find (asked from ``ldd``) and the Debian/Ubuntu packages
that hold them, and ends the process with exit status 1 instead of Qt's abort and core dump.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

#: What Qt's X11 platform plugin needs on a Debian/Ubuntu desktop (also in the README).
X11_PACKAGES = (
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxkbcommon-x11-0",
)
#: Libraries whose Debian package name does not follow the soname rule of :func:`debian_package`.
_PACKAGE_OF = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
}
EXIT_STATUS = 1


def xcb_plugin() -> Path:
    """Qt's X11 platform plugin, as shipped with PySide6 (or with the standalone app)."""
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    return plugins / "platforms" / "libqxcb.so"


def missing_libraries(library: Path) -> list[str]:
    """The sonames ``library`` needs but the dynamic loader cannot find (by ``ldd``), in order.

    Empty when nothing is missing or when ``ldd`` cannot tell (not installed, not an ELF file).
    """
    try:
        listing = subprocess.run(
            ["ldd", str(library)], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    missing = re.findall(r"^\s*(\S+) => not found", listing, flags=re.MULTILINE)
    return list(dict.fromkeys(missing))


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that holds ``soname``: by Debian's naming rule (lowercase name,
    then the major version, after a hyphen when the name ends in a digit), with exceptions."""
    if soname in _PACKAGE_OF:
        return _PACKAGE_OF[soname]
    match = re.fullmatch(r"(lib.+?)\.so\.(\d+).*", soname)
    if not match:
        return soname
    name, major = match.group(1).lower(), match.group(2)
    return f"{name}-{major}" if name[-1].isdigit() else f"{name}{major}"


def hint(qt_messages: list[str], missing: list[str]) -> str:
    """What to tell the user when Qt's platform plugin failed. ``qt_messages`` are what Qt said
    before it gave up (its misleading xcb-cursor line left out), ``missing`` the sonames the xcb
    plugin lacks."""
    said = "; ".join(m.strip() for m in qt_messages if m.strip() and "cursor0" not in m)
    lines = [f"digitpad: cannot open a window (Qt: {said or 'no platform plugin could start'})."]
    if missing:
        packages = dict.fromkeys(debian_package(soname) for soname in missing)
        lines += [
            f"Qt's X11 plugin lacks {', '.join(missing)}. On Debian/Ubuntu install:",
            f"    sudo apt-get install {' '.join(packages)}",
        ]
    else:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            lines.append(
                "No display was found (DISPLAY is not set): start DigitPad in a desktop session."
            )
        lines += [
            "On a Debian/Ubuntu desktop Qt's X11 plugin needs:",
            f"    sudo apt-get install {' '.join(X11_PACKAGES)}",
        ]
    return "\n".join(lines) + "\n"


def application_or_hint(argv: list[str]) -> QApplication:
    """``QApplication(argv)``; if Qt's platform plugin fails, print :func:`hint` and exit.

    Qt's warnings during the start are held back until it is clear whether the start failed, so
    that they are either shown as usual or summed up in the hint."""
    said: list[str] = []

    def on_qt_message(kind, context, message: str) -> None:
        if kind != QtMsgType.QtFatalMsg:
            said.append(message)
            return
        sys.stderr.write(hint(said, missing_libraries(xcb_plugin())))
        sys.stderr.flush()
        os._exit(EXIT_STATUS)  # Qt aborts right after this handler returns

    qInstallMessageHandler(on_qt_message)
    try:
        return QApplication(argv)
    finally:
        qInstallMessageHandler(None)
        for message in said:
            sys.stderr.write(f"{message}\n")
