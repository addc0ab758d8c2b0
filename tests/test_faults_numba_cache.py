"""Fault injection, Numba's kernel cache (``trainer/fast/numba_cache.py``): damaged index or data
files (empty, garbage) are deleted with one warning and the kernel recompiled, and a cache that
cannot be written (a file size limit standing in for a full disk) costs only the caching — the
prediction is the same, never a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

_PREDICT = (
    "import numpy as np; from trainer.model_io import load_model; "
    "from digitpad.assets import shipped_model_path; "
    "n, _ = load_model(shipped_model_path()); "
    "print(n.predict(np.linspace(0, 1, 784, dtype=np.float32)))"
)


def _python(code: str, cache: Path, cwd: Path = REPO, **more_env) -> subprocess.CompletedProcess:
    """``python -c code`` with its own kernel cache folder (and ``more_env``)."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), **more_env}
    env.pop("NUMBA_CACHE_DIR", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


@pytest.mark.parametrize("damage", ["empty index", "garbage index", "garbage data"])
def test_a_damaged_numba_cache_is_recompiled_not_fatal(tmp_path, damage):
    def predict():
        return _python(_PREDICT, tmp_path / "cache")

    first = predict()
    assert first.returncode == 0, first.stderr
    kind = "*.nbi" if "index" in damage else "*.nbc"
    files = sorted((tmp_path / "cache").rglob(kind))
    assert files
    for file in files:
        file.write_bytes(b"" if damage == "empty index" else os.urandom(64))
    second = predict()
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout and "is damaged" in second.stderr
    assert "Traceback" not in second.stderr
    third = predict()  # the entries were rewritten: no warning any more
    assert third.returncode == 0 and third.stdout == first.stdout
    assert "is damaged" not in third.stderr, third.stderr


def test_a_cache_that_cannot_be_written_costs_only_the_caching(tmp_path):
    # a file size limit (or a full disk) while Numba saves a kernel: was an OSError traceback
    limit = "import resource; resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096)); "
    done = _python(limit + _PREDICT, tmp_path / "cache")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "could not write Numba's cache" in done.stderr and "File too large" in done.stderr


_CALLEE = "from numba import njit\n\n\n@njit(cache=True)\ndef value():\n    return 1\n"
_CALLER = (
    "from numba import njit\n\nfrom trainer.fast.probe_callee import value\n\n\n"
    "@njit(cache=True)\ndef answer():\n    return value()\n"
)
_UPGRADE_UNDER_A_RUNNING_PROCESS = (
    "import pathlib, trainer; from trainer.fast import probe_callee; "
    "callee = pathlib.Path(probe_callee.__file__); "
    "callee.write_text(callee.read_text().replace('return 1', 'return 12')); "
    "from trainer.fast import probe_caller; print(probe_caller.answer())"
)

_THE_NEXT_START = (
    "import trainer; from trainer.fast import probe_caller; print(probe_caller.answer())"
)


def test_kernels_compiled_from_old_and_new_modules_are_not_filed_under_the_new_ones(tmp_path):
    # A process that imported one module before an upgrade (a pip install under a running app, a
    # checkout switched under a test run) and its caller after it compiles the caller with the
    # old callee inside. The next start, on the new sources, must compile it anew, not load that
    # machine code: it crashed (SIGSEGV) when the data the kernels take had changed shape.
    shutil.copytree(REPO / "trainer", tmp_path / "trainer")
    (tmp_path / "trainer" / "fast" / "probe_callee.py").write_text(_CALLEE)
    (tmp_path / "trainer" / "fast" / "probe_caller.py").write_text(_CALLER)

    def run(code):
        done = _python(code, tmp_path / "cache", tmp_path, PYTHONPATH=str(tmp_path))
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert run(_UPGRADE_UNDER_A_RUNNING_PROCESS) == "1"  # the callee it had imported
    assert list((tmp_path / "cache").rglob("*probe_caller*.nbc"))  # and it was cached
    assert run(_THE_NEXT_START) == "12"  # (a new size: Python's own .pyc check sees the edit)


def test_a_kernel_loaded_from_the_cache_finds_numbas_threads_started(tmp_path):
    # A kernel that calls a parallel one, loaded from the cache before Numba's threading layer had
    # been started, crashed the process ("Symbol not found: allocate_sched" or SIGSEGV).
    started = "; import numba; print(numba.threading_layer())"  # raises if never started
    cache = tmp_path / "cache"
    assert _python(_PREDICT, cache).returncode == 0  # compiles and fills the cache
    loaded = _python(_PREDICT + started, cache)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.split()[-1] in ("omp", "tbb", "workqueue")
