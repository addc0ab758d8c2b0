"""digitpad's hint when Qt's platform plugin cannot start (digitpad/platform_hint.py)."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys

import pytest

from digitpad.platform_hint import debian_package, missing_libraries, xcb_plugin

# The app started with the xcb platform and no display, so that Qt really fails; the libraries the
# xcb plugin lacks are given by the test (this machine has them all).
START_WITHOUT_DISPLAY = """
import sys
from digitpad import platform_hint
platform_hint.missing_libraries = lambda plugin: {missing!r}
from digitpad.app import main
sys.exit(main([]))
"""


def start_without_display(missing: list[str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    return subprocess.run(
        [sys.executable, "-c", START_WITHOUT_DISPLAY.format(missing=missing)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_a_failed_platform_plugin_names_the_missing_libraries_and_their_packages():
    done = start_without_display(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert done.returncode == 1, done.stderr  # not Qt's abort (-6) with a core dump
    assert "cannot open a window" in done.stderr
    assert "lacks libxcb-icccm.so.4, libxcb-keysyms.so.1" in done.stderr
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1\n" in done.stderr
    assert "xcb-cursor0 or libxcb-cursor0 is needed" not in done.stderr  # Qt's misleading line


def test_without_a_display_the_hint_says_so_and_lists_the_x11_packages():
    done = start_without_display([])
    assert done.returncode == 1, done.stderr
    assert "DISPLAY is not set" in done.stderr
    assert "libxcb-cursor0 libxcb-icccm4" in done.stderr


@pytest.mark.parametrize(
    "soname, package",
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libxcb-cursor.so.0", "libxcb-cursor0"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_debian_package_names(soname, package):
    assert debian_package(soname) == package


def test_missing_libraries_come_from_the_dynamic_loader(tmp_path):
    """A real shared library whose dependency was deleted: ldd reports it, and only it."""
    if not shutil.which("cc") or not shutil.which("ldd"):
        pytest.skip("needs a C compiler and ldd")
    (tmp_path / "dep.c").write_text("int dep(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text("int dep(void);\nint plugin(void) { return dep(); }\n")
    dep = tmp_path / "libxcb-fakeicccm.so.4"
    subprocess.run(
        [
            "cc",
            "-shared",
            "-fPIC",
            "-Wl,-soname,libxcb-fakeicccm.so.4",
            "-o",
            str(dep),
            str(tmp_path / "dep.c"),
        ],
        check=True,
    )
    plugin = tmp_path / "libqfake.so"
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-o", str(plugin), str(tmp_path / "plugin.c"), str(dep)],
        check=True,
    )
    dep.unlink()
    assert missing_libraries(plugin) == ["libxcb-fakeicccm.so.4"]
    assert xcb_plugin().is_file()
    for soname in missing_libraries(xcb_plugin()):  # none where Qt's X11 libraries are installed
        with pytest.raises(OSError):
            ctypes.CDLL(soname)
