"""Numba's on-disk cache of compiled kernels: where it goes, and cache locators that keep it right.

Numba compiles the ``cache=True`` kernels once and loads them from disk at later starts. Its own
locators go wrong in three ways that matter here, each handled by a locator class below (named in
``NUMBA_CACHE_LOCATOR_CLASSES``, which :func:`configure_numba_cache` sets before Numba loads):
a kernel compiled into another (``training.run_batches`` calls ``kernels.py``) is not recompiled
when only the callee's module changes (:class:`SourceTreeCacheLocator`); the frozen app's folder
depends on the working directory (:class:`FrozenAppCacheLocator`); and no writable folder is an
error at import (:class:`NoCacheLocator`). A damaged cache entry is made a cache miss, and
Numba's threads are started before any kernel is loaded (:func:`_start_numba_threads`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import sys
import tempfile
from pathlib import Path

from trainer.paths import numba_cache_dir


def configure_numba_cache() -> None:
    """Point Numba's on-disk cache at the user's cache folder, and never crash for want of one.

    Must run before numba is first imported. An explicit ``NUMBA_CACHE_DIR`` or
    ``NUMBA_CACHE_LOCATOR_CLASSES`` set by the user wins.

    * From source: ``NUMBA_CACHE_DIR`` defaults to :func:`numba_cache_dir`. The trainer's kernels
      get :class:`SourceTreeCacheLocator`, anything else Numba's own locators, and when no folder
      can be written :class:`NoCacheLocator` lets Numba compile without a cache instead of raising
      ``RuntimeError: cannot cache function`` at import.
    * Frozen (the PyInstaller app, ``sys.frozen``): Numba's locators do not work there. The
      modules' ``co_filename`` is relative (``trainer/fast/kernels.py``) and does not exist, so Numba
      skips ``NUMBA_CACHE_DIR`` and falls to its ``UserWideCacheLocator``, which hashes the *current
      working directory* into the folder name (a recompile for every start folder, in
      ``~/.cache/numba``) and raises at import when the home folder is not writable. So the frozen
      app uses :class:`FrozenAppCacheLocator` (one per-user folder), then :class:`NoCacheLocator`.

    Numba (0.68 and later) reads ``NUMBA_CACHE_LOCATOR_CLASSES`` and imports the classes itself when
    the first ``cache=True`` function is defined, so numba is not imported here.
    """
    os.environ.setdefault("NUMBA_CACHE_DIR", str(numba_cache_dir()))
    if os.environ.get("NUMBA_CACHE_LOCATOR_CLASSES"):
        return
    frozen = getattr(sys, "frozen", False)
    os.environ["NUMBA_CACHE_LOCATOR_CLASSES"] = _FROZEN_LOCATORS if frozen else _SOURCE_LOCATORS
    if not frozen:
        _stamp_of_the_running_sources()  # now, while the modules on disk are the ones imported


# ---------------------------------------------------------------------------- Numba cache locators
# Numba's duck-typed locator interface (numba/core/caching.py, ``_CacheLocator``): the classmethod
# ``from_function(py_func, py_file)`` returns a locator or None (try the next class); a locator has
# ``ensure_cache_path()``, ``get_cache_path()``, ``get_source_stamp()`` and ``get_disambiguator()``.
# The classes are named by their import path in NUMBA_CACHE_LOCATOR_CLASSES and need no numba import
# here; bare names are Numba's own locators.
_FROZEN_LOCATORS = (
    "trainer.fast.numba_cache.FrozenAppCacheLocator,trainer.fast.numba_cache.NoCacheLocator"
)
_SOURCE_LOCATORS = (
    "trainer.fast.numba_cache.SourceTreeCacheLocator,UserProvidedCacheLocator,"
    "InTreeCacheLocator,UserWideCacheLocator,IPythonCacheLocator,ZipCacheLocator,"
    "trainer.fast.numba_cache.NoCacheLocator"
)
#: The trainer package, whose modules' sources stamp its cached kernels.
_TRAINER_DIR = Path(__file__).resolve().parents[1]  # trainer/, above this fast/ folder

_log = logging.getLogger(__name__)


def _numba_cache_root() -> str:
    return os.environ.get("NUMBA_CACHE_DIR") or str(numba_cache_dir())


@functools.cache
def _hash_file(path: str, st_mtime: float, st_size: int) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


@functools.cache
def _stamp_of_the_running_sources() -> bytes:
    """The stamp of the trainer's sources as this process found them when it started. Numba
    stamps each kernel when its module is imported; a process that imported some modules before
    an upgrade (an app still running, tests while a checkout changed) and the others after it
    compiled kernels with the old callees inside and filed them under the new sources, and the
    next start loaded that machine code — a crash when the data it takes had changed shape."""
    return _source_tree_stamp(_TRAINER_DIR)


def _source_tree_stamp(folder: Path) -> bytes:
    """One hash of every Python module in ``folder`` and its sub-folders (each file read again only
    when it changed), so that sub-packages of ``trainer`` stamp the kernels too."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        st = path.stat()
        name = path.relative_to(folder).as_posix()
        digest.update(name.encode() + _hash_file(str(path), st.st_mtime, st.st_size))
    return digest.digest()


class _ModuleCacheLocator:
    """A cache folder per module, ``<NUMBA_CACHE_DIR>/<folder>/<module>/``, whatever the working
    directory; subclasses name the folder and say what stamps the cached code."""

    def __init__(self, py_func, py_file: str) -> None:
        self._py_file = py_file  # where Numba's "cannot cache" warning points
        self._lineno = py_func.__code__.co_firstlineno
        module = getattr(py_func, "__module__", None) or Path(py_file).stem
        self._cache_path = os.path.join(_numba_cache_root(), self._folder(), module)

    def _folder(self) -> str:
        raise NotImplementedError

    @classmethod
    def from_function(cls, py_func, py_file: str):
        _recover_from_damaged_entries()
        self = cls(py_func, py_file)
        try:
            self.ensure_cache_path()
        except OSError:
            return None  # not writable: the next locator takes over
        return self

    def ensure_cache_path(self) -> None:
        os.makedirs(self._cache_path, exist_ok=True)
        tempfile.TemporaryFile(dir=self._cache_path).close()  # really writable?

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_disambiguator(self) -> str:
        return str(self._lineno)


class FrozenAppCacheLocator(_ModuleCacheLocator):
    """Numba cache locator for the frozen app: ``<NUMBA_CACHE_DIR>/frozen/<module>/``.

    The source stamp is the hash of the app's executable, which carries all of the app's Python
    code (PyInstaller appends its archive to it): a rebuilt app never loads kernels compiled by an
    older one. (Numba also keys every entry by the function's bytecode, its signature, the CPU and
    Numba's version.)
    """

    def _folder(self) -> str:
        return "frozen"

    def get_source_stamp(self):
        path = sys.executable
        st = os.stat(path)
        return _hash_file(path, st.st_mtime, st.st_size)


class SourceTreeCacheLocator(_ModuleCacheLocator):
    """Numba cache locator for the trainer's kernels run from source (an install or a checkout).

    Numba stamps a cached function with its own file's time and size only, yet the kernels it
    calls from other modules are compiled into it: after an edit or a ``git pull`` that changes
    ``kernels.py`` alone, ``training.run_batches`` would go on running the old kernels from the
    cache. Here every kernel is stamped with the hash of all of the trainer's modules (sub-packages
    included) as the process found them at its start, so any change recompiles all of them. The folder,
    ``<NUMBA_CACHE_DIR>/source/<hash of the package's path>/``, keeps two checkouts from
    overwriting each other's kernels.
    """

    def _folder(self) -> str:
        return os.path.join("source", hashlib.sha256(str(_TRAINER_DIR).encode()).hexdigest()[:16])

    @classmethod
    def from_function(cls, py_func, py_file: str):
        if not Path(py_file).resolve().is_relative_to(_TRAINER_DIR):
            return None  # not one of ours (in trainer/ or a sub-package): Numba's locators take it
        return super().from_function(py_func, py_file)

    def get_source_stamp(self):
        return _stamp_of_the_running_sources()


class NoCacheLocator:
    """The last resort when no cache folder is writable: the function is compiled without a cache.

    Numba has no public switch for that, so the first use patches
    ``numba.core.caching.Cache.enable`` to leave a cache disabled (nothing loaded, nothing saved)
    when its locator is a NoCacheLocator; every other cache behaves exactly as before.
    """

    _warned = False

    def __init__(self, py_func, py_file: str) -> None:
        self._py_file = py_file  # where Numba's "cannot cache" warning points
        self._lineno = py_func.__code__.co_firstlineno
        self._cache_path = os.path.join(_numba_cache_root(), "unwritable")

    @classmethod
    def from_function(cls, py_func, py_file: str):
        _disable_caches_without_a_folder()
        if not cls._warned:
            cls._warned = True
            _log.warning(
                "Numba's cache folder %s is not writable: the network's kernels are "
                "compiled at every start (a few seconds).",
                _numba_cache_root(),
            )
        return cls(py_func, py_file)

    def ensure_cache_path(self) -> None:
        raise OSError(f"no writable Numba cache folder ({_numba_cache_root()})")

    def get_cache_path(self) -> str:
        return self._cache_path

    def get_source_stamp(self):
        return None

    def get_disambiguator(self) -> str:
        return str(self._lineno)


@functools.cache
def _disable_caches_without_a_folder() -> None:
    from numba.core import caching  # already imported: Numba is asking us for a locator

    enable = caching.Cache.enable

    def enable_unless_no_folder(self) -> None:
        if isinstance(getattr(self._impl, "locator", None), NoCacheLocator):
            self._enabled = False
        else:
            enable(self)

    caching.Cache.enable = enable_unless_no_folder


@functools.cache
def _start_numba_threads() -> None:
    """Start Numba's threading layer, once, before the first kernel is loaded from the cache.

    A kernel that calls a parallel one (training's input layer and Adam on both cores) refers to
    the layer's symbols, which exist only once the layer has been started; loaded before that, it
    crashed the process (seen: ``LLVM ERROR: Symbol not found: allocate_sched``, or a segmentation
    fault, when an evaluation came before any training in a process). Compiling starts the layer
    itself; loading does not.
    """
    import numba

    numba.get_num_threads()  # starts the threading layer chosen by ``numba_threads``


@functools.cache
def _recover_from_damaged_entries() -> None:
    """Make a damaged cache entry a cache miss: the kernel is compiled again and the entry
    rewritten, instead of every start failing until the user deletes the folder. And make a cache
    that cannot be written (a full disk, a file size limit) cost only the caching, not the run.

    A crash or a full disk while Numba writes its cache leaves a zero-length or garbled index
    (``*.nbi``) or data file (``*.nbc``); Numba then raises ``EOFError``/``UnpicklingError`` (or
    anything unpickling garbage raises) from the first call of the kernel. Here such a file is
    deleted with a warning and the lookup reported as a miss.

    Both files are pickles, so whoever can write the cache folder can run code as the user: it must
    stay the user's own (``~/.cache/digitpad/numba``, created with the user's umask), never a
    shared or world-writable folder. That is the same trust boundary as the user's own home.
    """
    from numba.core import caching  # already imported: Numba is asking us for a locator

    files = caching.IndexDataCacheFile
    load_index, load_data, save = files._load_index, files._load_data, files.save

    def discard(path: str, error: Exception) -> None:
        _log.warning(
            "Numba's cache file %s is damaged (%s: %s); removing it and compiling again",
            path,
            type(error).__name__,
            error,
        )
        try:
            os.remove(path)
        except OSError:
            pass

    def load_index_or_nothing(self):
        try:
            return load_index(self)
        except OSError:
            raise
        except Exception as error:  # EOFError, UnpicklingError, ValueError… from damaged bytes
            discard(self._index_path, error)
            return {}

    def load_data_or_miss(self, name):
        _start_numba_threads()
        try:
            return load_data(self, name)
        except OSError:
            raise
        except Exception as error:
            discard(self._data_path(name), error)
            raise OSError(f"damaged cache entry {name}") from error  # load() takes it as a miss

    def save_if_possible(self, key, data):
        try:
            save(self, key, data)
        except OSError as error:
            _log.warning(
                "could not write Numba's cache in %s (%s); the kernel will be compiled "
                "again next time",
                self._cache_path,
                error.strerror or error,
            )

    files._load_index, files._load_data = load_index_or_nothing, load_data_or_miss
    files.save = save_if_possible
