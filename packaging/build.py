"""Build DigitPad as a standalone Linux app: ``python packaging/build.py``.

Leaves ``dist/DigitPad/`` (the app folder; its executable is ``dist/DigitPad/digitpad``) and
``dist/DigitPad-<version>-linux-<arch>.tar.gz`` (that folder, with the launcher files and the
install / uninstall scripts). PyInstaller, one-folder mode, PySide6-Essentials.

Which Python builds it:

* If the interpreter running this script already has everything (the app's dependencies and
  PyInstaller — e.g. a development venv made with ``pip install -e '.[package]'``), it builds
  with it.
* Otherwise (e.g. ``python3 packaging/build.py`` from a clean clone) it makes its own virtual
  environment in ``build/venv``, installs the dependencies listed in ``pyproject.toml``
  (``[project] dependencies`` and the ``package`` extra) from PyPI into it, and builds with that.
  The venv is kept and reused by later builds. ``--venv`` always uses it.

The sources are copied to ``build/stage/`` first (``assets/`` becomes ``digitpad/assets/``, as in
the installed package), so the build does not depend on how, or whether, the project is installed.
``assets/model.npz`` (the shipped model) must exist.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import stat
import subprocess
import sys
import tarfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
ASSETS = ROOT / "assets"
BUILD = ROOT / "build"
DIST = ROOT / "dist"
APP_DIR = DIST / "DigitPad"
BUILD_VENV = BUILD / "venv"
STAGE = BUILD / "stage"

#: Modules the building interpreter needs (import names; a missing one reinstalls the dependencies).
REQUIRED_MODULES = (
    "PyInstaller",
    "PySide6",
    "numba",
    "numpy",
    "scipy",
    "platformdirs",
    "tqdm",
    "orjson",
    "pyqtgraph",
)

#: Files of assets/ that ship in the app (screenshot.png is only for the README).
SHIPPED_ASSETS = ("__init__.py", "model.npz", "digitpad.svg", "digitpad.png", "digitpad.desktop")

#: Files put beside the executable in the app folder (and so in the tarball).
LAUNCHER_FILES = {
    ASSETS / "digitpad.desktop": "digitpad.desktop",
    ASSETS / "digitpad.png": "digitpad.png",
    ASSETS / "digitpad.svg": "digitpad.svg",
    PACKAGING / "install.sh": "install.sh",
    PACKAGING / "uninstall.sh": "uninstall.sh",
    PACKAGING / "README.txt": "README.txt",
}


def log(message: str) -> None:
    print(f"build: {message}", flush=True)


def project_metadata() -> dict:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def version() -> str:
    return project_metadata()["version"]


def artefact_name() -> str:
    arch = platform.machine() or "unknown"
    return f"DigitPad-{version()}-linux-{arch}.tar.gz"


def missing_modules(python: str | Path) -> list[str]:
    code = (
        "import importlib.util; print(' '.join(m for m in "
        f"{REQUIRED_MODULES!r} if importlib.util.find_spec(m) is None))"
    )
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        return list(REQUIRED_MODULES)
    return result.stdout.split()


def ensure_build_venv() -> Path:
    """``build/venv`` with the app's dependencies and PyInstaller; returns its python."""
    python = BUILD_VENV / "bin" / "python"
    if not python.exists():
        log(f"creating the build venv {BUILD_VENV.relative_to(ROOT)}")
        venv.EnvBuilder(with_pip=True, clear=True).create(BUILD_VENV)
    if missing_modules(python):
        meta = project_metadata()
        requirements = [*meta["dependencies"], *meta["optional-dependencies"]["package"]]
        log("installing into the build venv: " + " ".join(requirements))
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *requirements], check=True)
    still_missing = missing_modules(python)
    if still_missing:
        raise SystemExit(f"build: the build venv still lacks {', '.join(still_missing)}")
    return python


def check_environment() -> None:
    """What the frozen app relies on, checked in the building interpreter."""
    import numba.core.config
    import PySide6

    if not hasattr(numba.core.config, "CACHE_LOCATOR_CLASSES"):
        raise SystemExit(
            f"build: Numba {numba.__version__} does not read "
            "NUMBA_CACHE_LOCATOR_CLASSES, which the frozen app's cache needs "
            "(trainer/fast/numba_cache.py); use Numba >= 0.68"
        )
    log(
        f"Python {sys.version.split()[0]} ({sys.executable}), PySide6 {PySide6.__version__}, "
        f"Numba {numba.__version__}"
    )


def stage_sources(model: Path | None = None) -> None:
    """Copy trainer/, digitpad/ and assets/ (as digitpad/assets/) into build/stage/.

    ``model``: ship this file as the model instead of ``assets/model.npz`` (for test builds).
    """
    model = ASSETS / "model.npz" if model is None else model
    if not model.is_file():
        raise SystemExit(f"build: the model to ship, {model}, is missing")
    if STAGE.exists():
        shutil.rmtree(STAGE)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("trainer", "digitpad"):
        shutil.copytree(ROOT / package, STAGE / package, ignore=ignore)
    (STAGE / "digitpad" / "assets").mkdir()
    for name in SHIPPED_ASSETS:
        shutil.copy2(
            model if name == "model.npz" else ASSETS / name, STAGE / "digitpad" / "assets" / name
        )
    (STAGE / "digitpad_main.py").write_text(
        '"""The frozen app\'s entry point."""\nimport sys\n\nfrom digitpad.app import main\n\n'
        "sys.exit(main())\n"
    )


def run_pyinstaller() -> None:
    if APP_DIR.exists():
        shutil.rmtree(APP_DIR)
    env = dict(os.environ, DIGITPAD_BUILD_STAGE=str(STAGE))
    # Importing trainer during the analysis must not touch the builder's own Numba cache settings.
    env.pop("NUMBA_CACHE_LOCATOR_CLASSES", None)
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level=WARN",
        "--distpath",
        str(DIST),
        "--workpath",
        str(BUILD / "pyinstaller"),
        str(PACKAGING / "digitpad.spec"),
    ]
    log("running PyInstaller")
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    if not (APP_DIR / "digitpad").is_file():
        raise SystemExit(f"build: PyInstaller did not produce {APP_DIR / 'digitpad'}")


def strip_llvmlite() -> None:
    """LLVM inside llvmlite ships with its full symbol table (about 19 MB); the app needs only the
    dynamic symbols, which ``strip --strip-unneeded`` keeps."""
    libraries = list((APP_DIR / "_internal").glob("llvmlite/binding/libllvmlite*.so"))
    if shutil.which("strip") is None or not libraries:
        log("not stripping libllvmlite.so (no strip, or no library)")
        return
    for library in libraries:
        subprocess.run(["strip", "--strip-unneeded", str(library)], check=True)


def add_launcher_files() -> None:
    for source, name in LAUNCHER_FILES.items():
        target = APP_DIR / name
        shutil.copy2(source, target)
        if name.endswith(".sh"):
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def make_tarball() -> Path:
    tarball = DIST / artefact_name()
    partial = tarball.with_name(tarball.name + ".part")

    def normalise(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
        tar.add(APP_DIR, arcname=APP_DIR.name, filter=normalise)
    partial.replace(tarball)
    return tarball


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def glibc_floor() -> str | None:
    """The newest GLIBC_x.y symbol version any binary in the app folder needs."""
    import re

    if shutil.which("objdump") is None:
        return None
    newest = (0, 0)
    for path in APP_DIR.rglob("*"):
        binary = path.suffix == ".so" or ".so." in path.name or path == APP_DIR / "digitpad"
        if not binary or not path.is_file() or path.is_symlink():
            continue
        result = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True)
        for major, minor in re.findall(r"GLIBC_(\d+)\.(\d+)", result.stdout):
            newest = max(newest, (int(major), int(minor)))
    return f"{newest[0]}.{newest[1]}" if newest != (0, 0) else None


def build(skip_tarball: bool = False, model: Path | None = None) -> int:
    started = time.monotonic()
    check_environment()
    stage_sources(model)
    run_pyinstaller()
    strip_llvmlite()
    add_launcher_files()
    log(
        f"app folder {APP_DIR.relative_to(ROOT)}/ ({folder_size(APP_DIR) / 1e6:.0f} MB), "
        f"executable {(APP_DIR / 'digitpad').relative_to(ROOT)}, "
        f"{time.monotonic() - started:.0f} s"
    )
    if not skip_tarball:
        packing = time.monotonic()
        tarball = make_tarball()
        log(
            f"artefact {tarball.relative_to(ROOT)} ({tarball.stat().st_size / 1e6:.0f} MB), "
            f"{time.monotonic() - packing:.0f} s"
        )
    floor = glibc_floor()
    if floor:
        log(f"needs glibc >= {floor}")
    log(f"done in {time.monotonic() - started:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the standalone DigitPad app (see the module doc)."
    )
    parser.add_argument(
        "--venv",
        action="store_true",
        help="build with build/venv (made and filled from PyPI when needed) "
        "even if this interpreter has everything",
    )
    parser.add_argument("--no-tarball", action="store_true", help="only the app folder")
    parser.add_argument(
        "--model",
        type=Path,
        metavar="NPZ",
        help="ship this model instead of assets/model.npz (test builds)",
    )
    args = parser.parse_args(argv)

    here = Path(sys.prefix).resolve()
    in_build_venv = here == BUILD_VENV.resolve()
    if not in_build_venv and (args.venv or missing_modules(sys.executable)):
        if not args.venv:
            log(
                f"{sys.executable} lacks {', '.join(missing_modules(sys.executable))}; "
                f"using {BUILD_VENV.relative_to(ROOT)}"
            )
        python = ensure_build_venv()
        rest = ["--no-tarball"] if args.no_tarball else []
        if args.model is not None:
            rest += ["--model", str(args.model.resolve())]
        return subprocess.run([str(python), str(Path(__file__).resolve()), *rest]).returncode
    return build(skip_tarball=args.no_tarball, model=args.model)


if __name__ == "__main__":
    sys.exit(main())
