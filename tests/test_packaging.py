"""The standalone app's pieces (packaging/, digitpad/selftest.py, the Numba cache set-up).

Fast: nothing here builds the app. ``packaging/ci_smoke.sh`` builds it and runs the built app's
``--selftest``; set ``DIGITPAD_FROZEN_APP=dist/DigitPad/digitpad`` to also run the tests at the
end of this file against a build.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import struct
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSETS = ROOT / "assets"
PACKAGING = ROOT / "packaging"
SHIPPED_MODEL = ASSETS / "model.npz"


def clean_env(**overrides: str) -> dict[str, str]:
    """The environment for a child process, without any Numba cache settings of ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NUMBA_CACHE_DIR", "NUMBA_CACHE_LOCATOR_CLASSES")
    }
    env.update(overrides)
    return env


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder nobody, root included, can create: its parent is a regular file."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder would have to be")
    return blocker / "home"


# ---------------------------------------------------------------------------- launcher files
def test_desktop_file_is_valid():
    validate = shutil.which("desktop-file-validate")
    if validate is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    result = subprocess.run(
        [validate, str(ASSETS / "digitpad.desktop")], capture_output=True, text=True
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_desktop_file_names_the_app_and_its_icon():
    entries = dict(
        line.split("=", 1)
        for line in (ASSETS / "digitpad.desktop").read_text().splitlines()
        if "=" in line
    )
    assert entries["Name"] == "DigitPad" and entries["Icon"] == "digitpad"
    assert entries["Exec"] == "digitpad" and entries["Type"] == "Application"
    assert entries["StartupWMClass"] == "DigitPad"  # Qt's WM_CLASS class is the application name


def test_icon_svg_and_png():
    root = ET.parse(ASSETS / "digitpad.svg").getroot()
    assert root.tag.endswith("svg") and root.get("viewBox") == "0 0 256 256"
    png = (ASSETS / "digitpad.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (256, 256)


# ---------------------------------------------------------------------------- install / uninstall
def fake_app_folder(parent: Path, marker: Path) -> Path:
    """An unpacked-app look-alike whose 'digitpad' only records that it was started."""
    folder = parent / "DigitPad"
    folder.mkdir(parents=True)
    for name in ("install.sh", "uninstall.sh"):
        shutil.copy2(PACKAGING / name, folder / name)
    for name in ("digitpad.desktop", "digitpad.png", "digitpad.svg"):
        shutil.copy2(ASSETS / name, folder / name)
    exe = folder / "digitpad"
    exe.write_text(f"#!/bin/sh\necho started > '{marker}'\n")
    exe.chmod(0o755)
    return folder


def run_script(script: Path, data: Path, cache: Path, *args: str) -> subprocess.CompletedProcess:
    env = clean_env(XDG_DATA_HOME=str(data), XDG_CACHE_HOME=str(cache))
    return subprocess.run(
        ["sh", str(script), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_install_registers_the_launcher_and_uninstall_removes_it(tmp_path):
    # A folder name with a space, a dollar, a double quote and a backslash: all need quoting.
    app = fake_app_folder(tmp_path / 'My $Apps "new" a\\b', tmp_path / "started")
    data, cache = tmp_path / "data", tmp_path / "cache"
    result = run_script(app / "install.sh", data, cache)
    assert result.returncode == 0, result.stderr

    launcher = data / "applications" / "digitpad.desktop"
    assert (data / "icons/hicolor/256x256/apps/digitpad.png").is_file()
    assert (data / "icons/hicolor/scalable/apps/digitpad.svg").is_file()
    lines = launcher.read_text().splitlines()
    exe = str(app / "digitpad")
    # Desktop Entry escaping: \ " ` $ backslash-escaped inside quotes, then backslashes doubled.
    quoted = exe.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    assert f'Exec="{quoted}"'.replace("\\", "\\\\") in lines
    assert f"TryExec={exe}".replace("\\", "\\\\") in lines
    assert "Name=DigitPad" in lines and "Icon=digitpad" in lines
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(
            ["desktop-file-validate", str(launcher)], capture_output=True, text=True
        )
        assert check.returncode == 0, check.stdout
    if shutil.which("gio"):  # GLib's own parser finds and starts the executable
        subprocess.run(
            ["gio", "launch", str(launcher)],
            env=clean_env(XDG_DATA_HOME=str(data)),
            check=True,
            timeout=30,
            capture_output=True,
        )
        for _ in range(100):
            if (tmp_path / "started").exists():
                break
            subprocess.run(["sleep", "0.05"])
        assert (tmp_path / "started").exists()

    (data / "digitpad").mkdir()  # the user's kept model folder: left alone without --purge
    result = run_script(app / "uninstall.sh", data, cache)
    assert result.returncode == 0, result.stderr
    assert not launcher.exists()
    assert not (data / "icons/hicolor/256x256/apps/digitpad.png").exists()
    assert not (data / "icons/hicolor/scalable/apps/digitpad.svg").exists()
    assert (data / "digitpad").is_dir() and app.is_dir()

    (cache / "digitpad").mkdir(parents=True)
    result = run_script(app / "uninstall.sh", data, cache, "--purge")
    assert result.returncode == 0, result.stderr
    assert not (data / "digitpad").exists() and not (cache / "digitpad").exists()


def test_install_refuses_a_path_it_cannot_write_into_a_launcher(tmp_path):
    app = fake_app_folder(tmp_path / "100%", tmp_path / "started")
    result = run_script(app / "install.sh", tmp_path / "data", tmp_path / "cache")
    assert result.returncode != 0 and "%" in result.stderr
    assert not (tmp_path / "data" / "applications" / "digitpad.desktop").exists()


# ---------------------------------------------------------------------------- self-test
def test_selftest_passes_from_source(tmp_path):
    if not SHIPPED_MODEL.is_file():
        pytest.skip("assets/model.npz (the shipped model) is not there yet")
    # The user's Numba cache is inherited (a warm cache keeps this fast); the data folder is not.
    env = clean_env(XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("QT_QPA_PLATFORM", None)  # the self-test chooses offscreen by itself
    result = subprocess.run(
        [sys.executable, "-m", "digitpad", "--selftest"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines[-1] == "selftest: PASS"
    assert "Qt platform offscreen" in lines[0]
    assert sum("network reads the" in line for line in lines) >= 3
    assert any(line.startswith("selftest: ready after") for line in lines)
    # training's input layer on a thread-safe layer (never workqueue: it aborts the app when two
    # threads run parallel kernels at once), and the OpenBLAS that training keeps to one core
    # beside the next epoch's images found (trainer/fast/blas_threads.py)
    threads = next(line for line in lines if line.startswith("selftest: threads:"))
    layer, blas = threads.split("; ")
    assert layer.endswith(("(omp)", "(tbb)")), threads
    assert blas.startswith("BLAS threads set through: ") and "openblas" in blas, threads


def test_selftest_fails_with_a_bad_model(tmp_path):
    """A model that reads the digits wrongly must make the self-test fail (exit 1)."""
    from trainer.core.network import Network
    from trainer.model_io import save_model

    bad = tmp_path / "random.npz"
    save_model(Network([784, 10, 10], seed=5), bad, {"name": "random"})
    env = clean_env(XDG_DATA_HOME=str(tmp_path / "data"))
    result = subprocess.run(
        [sys.executable, "-m", "digitpad", "--selftest", "--model", str(bad)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("selftest: FAIL")
    assert "selftest: ok   main window closed" in result.stdout


def test_first_start_from_source_reads_digits_first_and_writes_only_into_the_cache(tmp_path):
    """A first start with no caches at all: the window reads drawings (NumPy) before the compiled
    kernels are ready, and nothing is written outside ``~/.cache`` (nor into the start folder)."""
    if not SHIPPED_MODEL.is_file():
        pytest.skip("assets/model.npz (the shipped model) is not there yet")
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    env = clean_env(HOME=str(home))
    for name in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "QT_QPA_PLATFORM"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "digitpad", "--selftest"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = result.stdout.splitlines()
    assert result.returncode == 0 and lines[-1] == "selftest: PASS", result.stdout + result.stderr
    ready = next(i for i, line in enumerate(lines) if line.startswith("selftest: ready after"))
    read = next(i for i, line in enumerate(lines) if "network reads the" in line)
    compiled = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("selftest: ok   the compiled kernels are ready")
    )
    assert ready < read < compiled
    numba = next(line for line in lines if line.startswith("selftest: numba:"))
    assert "0 kernels loaded from the cache" in numba and str(home / ".cache" / "digitpad") in numba
    written = [p.relative_to(home).as_posix() for p in home.rglob("*") if not p.is_dir()]
    assert written and all(p.startswith(".cache/") for p in written), written
    assert not any(cwd.iterdir())


# ---------------------------------------------------------------------------- Numba's cache
def _numba_reads_locator_classes() -> bool:
    import numba.core.config

    return hasattr(numba.core.config, "CACHE_LOCATOR_CLASSES")


needs_locator_classes = pytest.mark.skipif(
    not _numba_reads_locator_classes(),
    reason="this Numba does not read NUMBA_CACHE_LOCATOR_CLASSES (added in 0.68)",
)

PREDICT = textwrap.dedent("""
    import os, sys
    import numpy as np
    import trainer
    from trainer.core.network import Network
    from trainer.strokes.strokes_to_input import strokes_to_input

    x = strokes_to_input([[(0, 0), (3, 8), (6, 0)]])
    p = Network([784, 16, 10], seed=1).predict_proba(x)
    assert p.shape == (10,) and abs(float(p.sum()) - 1) < 1e-4
    print("locators:", os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES", ""))
    print("predicted", int(np.argmax(p)))
""")


@needs_locator_classes
def test_source_import_and_predict_when_nothing_is_writable(tmp_path):
    """Home and cache folders that cannot be written (NUMBA_CACHE_DIR unset): no crash."""
    nowhere = unwritable_folder(tmp_path)
    env = clean_env(
        HOME=str(nowhere),
        XDG_CACHE_HOME=str(nowhere / "cache"),
        XDG_DATA_HOME=str(nowhere / "data"),
    )
    result = subprocess.run(
        [sys.executable, "-c", PREDICT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "predicted" in result.stdout
    assert result.stdout.splitlines()[0].endswith("trainer.fast.numba_cache.NoCacheLocator")


INFER_FROM_COPY = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    import numpy as np
    import trainer
    assert trainer.__file__.startswith(sys.argv[1]), trainer.__file__
    from trainer.core.network import Network, infer
    network = Network([784, 16, 10], seed=1)
    infer(network.weights, network.biases, np.zeros((1, 784), np.float32), *network.codes[:2])
    print(type(infer._cache._impl.locator).__name__,
          "hits", sum(infer.stats.cache_hits.values()),
          "misses", sum(infer.stats.cache_misses.values()))
""")


def _trainer_copy(tmp_path: Path) -> Path:
    """A folder holding a copy of the trainer package (the tests edit the copy)."""
    copy = tmp_path / "copy"
    shutil.copytree(
        ROOT / "trainer", copy / "trainer", ignore=shutil.ignore_patterns("__pycache__")
    )
    return copy


def _run_on_copy(script: Path, copy: Path, env: dict) -> str:
    """Run ``script`` with a copy of the trainer (in ``copy``) first on sys.path; its output."""
    result = subprocess.run(
        [sys.executable, str(script), str(copy)],
        cwd=copy.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@needs_locator_classes
def test_editing_a_kernel_module_recompiles_the_kernels_that_call_it(tmp_path):
    """network.infer calls kernels from kernels.py, and Numba compiles them into it. A change to
    kernels.py alone must not leave the cached infer running the old kernels."""
    copy = _trainer_copy(tmp_path)
    script = tmp_path / "infer_from_copy.py"
    script.write_text(INFER_FROM_COPY)
    env = clean_env(NUMBA_CACHE_DIR=str(tmp_path / "cache"), HOME=str(tmp_path / "home"))

    def run() -> str:
        return _run_on_copy(script, copy, env)

    assert run() == "SourceTreeCacheLocator hits 0 misses 1"
    assert run() == "SourceTreeCacheLocator hits 1 misses 0"
    kernels = copy / "trainer" / "fast" / "kernels.py"
    kernels.write_text(kernels.read_text() + "\n# an edit\n")
    assert run() == "SourceTreeCacheLocator hits 0 misses 1"


SUB_PACKAGE_KERNEL = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from trainer.layer.twice import twice
    assert twice(21) == 42
    print(type(twice._cache._impl.locator).__name__,
          "hits", sum(twice.stats.cache_hits.values()),
          "misses", sum(twice.stats.cache_misses.values()))
""")


@needs_locator_classes
def test_kernels_in_a_sub_package_are_stamped_by_every_module_of_the_trainer(tmp_path):
    """A kernel in a sub-package of trainer gets the source-tree locator, and an edit to another
    module of a sub-package recompiles it (the stamp walks the whole tree, not trainer/*.py)."""
    copy = _trainer_copy(tmp_path)
    layer = copy / "trainer" / "layer"
    layer.mkdir()
    (layer / "__init__.py").write_text("")
    (layer / "other.py").write_text("ANSWER = 42\n")
    (layer / "twice.py").write_text(
        "from numba import njit\n\n\n@njit(cache=True)\ndef twice(x):\n    return 2 * x\n"
    )
    script = tmp_path / "sub_package_kernel.py"
    script.write_text(SUB_PACKAGE_KERNEL)
    env = clean_env(NUMBA_CACHE_DIR=str(tmp_path / "cache"), HOME=str(tmp_path / "home"))

    def run() -> str:
        return _run_on_copy(script, copy, env)

    assert run() == "SourceTreeCacheLocator hits 0 misses 1"
    assert run() == "SourceTreeCacheLocator hits 1 misses 0"
    (layer / "other.py").write_text("ANSWER = 43\n")
    assert run() == "SourceTreeCacheLocator hits 0 misses 1"


# In the frozen app ``sys.frozen`` is set and Numba's own locators fail (the modules' file names are
# relative and do not exist). These tests set ``sys.frozen`` in a plain interpreter, which selects
# the same locators, and use a tiny function of their own so that nothing big is compiled.
FROZEN_LIKE = textwrap.dedent("""
    import os, sys
    sys.frozen = True  # what PyInstaller's bootloader sets
    import trainer.fast.kernels, trainer.strokes.stroke_kernels  # their kernels get cache locators at import
    from numba import njit

    @njit(cache=True)
    def twice(x):
        return 2 * x

    assert twice(21) == 42
    locator = twice._cache._impl.locator
    print(type(locator).__name__, locator.get_cache_path())
    print("hits", sum(twice.stats.cache_hits.values()),
          "misses", sum(twice.stats.cache_misses.values()))
""")


def run_frozen_like(tmp_path: Path, cwd: Path, **env: str) -> list[str]:
    script = tmp_path / "frozen_like.py"
    script.write_text(FROZEN_LIKE)
    cwd.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@needs_locator_classes
def test_frozen_cache_is_one_per_user_folder_whatever_the_working_directory(tmp_path):
    cache = tmp_path / "cache"
    env = dict(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(cache))
    first = run_frozen_like(tmp_path, tmp_path / "start-a", **env)
    second = run_frozen_like(tmp_path, tmp_path / "start-b", **env)
    folder = cache / "digitpad" / "numba" / "frozen" / "__main__"
    assert first[0] == f"FrozenAppCacheLocator {folder}" == second[0]
    assert first[1] == "hits 0 misses 1"
    assert second[1] == "hits 1 misses 0"  # started elsewhere, and still loaded from the cache
    assert any(folder.glob("*.nbi")) and any(folder.glob("*.nbc"))
    assert not any((tmp_path / "start-a").iterdir()) and not any((tmp_path / "start-b").iterdir())
    assert not (tmp_path / "home").exists()  # nothing in ~/.cache/numba either


@needs_locator_classes
def test_frozen_cache_honours_numba_cache_dir(tmp_path):
    out = run_frozen_like(
        tmp_path,
        tmp_path / "cwd",
        HOME=str(tmp_path / "home"),
        NUMBA_CACHE_DIR=str(tmp_path / "mine"),
    )
    assert out[0] == f"FrozenAppCacheLocator {tmp_path / 'mine' / 'frozen' / '__main__'}"


@needs_locator_classes
def test_frozen_without_a_writable_folder_compiles_without_a_cache(tmp_path):
    nowhere = unwritable_folder(tmp_path)
    env = dict(HOME=str(nowhere), XDG_CACHE_HOME=str(nowhere / "cache"))
    for _ in range(2):
        out = run_frozen_like(tmp_path, tmp_path / "cwd", **env)
        assert out[0].startswith("NoCacheLocator ")
        assert out[1] == "hits 0 misses 1"
    assert not any((tmp_path / "cwd").iterdir())


# ---------------------------------------------------------------------------- a built app
FROZEN_APP = os.environ.get("DIGITPAD_FROZEN_APP")
needs_build = pytest.mark.skipif(
    not FROZEN_APP, reason="set DIGITPAD_FROZEN_APP to a built dist/DigitPad/digitpad to test it"
)


def run_built(cwd: Path, **env: str) -> list[str]:
    cwd.mkdir(parents=True, exist_ok=True)
    environment = clean_env(**env)
    environment.pop("QT_QPA_PLATFORM", None)
    result = subprocess.run(
        [str(Path(FROZEN_APP).resolve()), "--selftest"],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


@needs_build
def test_built_app_selftest_cold_then_warm_from_another_folder(tmp_path):
    env = dict(XDG_CACHE_HOME=str(tmp_path / "cache"), XDG_DATA_HOME=str(tmp_path / "data"))
    cold = run_built(tmp_path / "a", **env)
    warm = run_built(tmp_path / "b", **env)
    assert "frozen" in cold[0] and cold[-1] == warm[-1] == "selftest: PASS"
    numba_line = next(line for line in warm if line.startswith("selftest: numba:"))
    assert " 0 compiled" in numba_line and "FrozenAppCacheLocator" in numba_line
    assert not any((tmp_path / "a").iterdir()) and not any((tmp_path / "b").iterdir())


@needs_build
def test_built_app_selftest_with_an_unwritable_home(tmp_path):
    nowhere = unwritable_folder(tmp_path)
    out = run_built(
        tmp_path / "cwd",
        HOME=str(nowhere),
        XDG_CACHE_HOME=str(nowhere / "c"),
        XDG_DATA_HOME=str(nowhere / "d"),
    )
    assert out[-1] == "selftest: PASS"
    assert any("NoCacheLocator" in line for line in out)


def test_the_screenshot_draws_on_the_paper_not_on_other_paper_coloured_widgets():
    """packaging/xvfb_screenshot.py finds the canvas's square paper by its colour; a widget of the
    same colour further right (the input preview, the network dock) must not widen it."""
    spec = importlib.util.spec_from_file_location(
        "xvfb_screenshot", ROOT / "packaging" / "xvfb_screenshot.py"
    )
    screenshot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshot)
    width, height = 400, 200
    grey, paper = bytes((0xEF, 0xEF, 0xEF)), screenshot.PAPER_RGB
    rows = []
    for y in range(height):
        row = [grey] * width
        if 40 <= y < 160:
            row[20:140] = [paper] * 120  # the paper: 120 x 120 at (20, 40)
        if 60 <= y < 100:
            row[200:300] = [paper] * 100  # another widget of the paper's colour
        rows.append(b"".join(row))
    box = screenshot.paper_box(width, b"".join(rows), (0, 0, width, height))
    assert box == (20, 40, 139, 159)
    # the script cannot import the app (it runs with the system's Python): its copy of the
    # paper's colour must stay the canvas's
    from digitpad.canvas import PAPER_COLOR

    assert bytes(PAPER_COLOR.getRgb()[:3]) == screenshot.PAPER_RGB


def test_every_python_package_is_installed_by_pip():
    """``pip install .`` ships exactly the packages pyproject lists: a sub-package missing there
    would install an app that fails on its first import."""
    tomllib = pytest.importorskip("tomllib")
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("trainer", "digitpad")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert folders <= listed
