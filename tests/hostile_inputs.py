"""Hostile inputs for the second hardening pass (issue 17), shared by its fault tests and
``bench/bench_hostile_inputs.py``: files crafted to cost time or memory, one valid strokes line
to put beside hostile ones, and a way to run a command and see its peak memory."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from trainer.core.network import Network

# --- model files ---------------------------------------------------------------------------------


def model_arrays(layer_sizes, *, seed: int = 0, **metadata) -> dict[str, np.ndarray]:
    """The arrays of a model file as ``save_model`` writes them, with any metadata given."""
    network = Network(layer_sizes, seed=seed)
    record = {
        "format": "digitpad-model",
        "format_version": 1,
        "layer_sizes": list(layer_sizes),
        "hidden_activation": "relu",
        "output_activation": "softmax",
        "cost": "cross_entropy",
        "init": "he",
        "name": "hostile",
        **metadata,
    }
    arrays = {"metadata": np.frombuffer(json.dumps(record).encode(), np.uint8)}
    for layer, (w, b) in enumerate(zip(network.weights, network.biases)):
        arrays[f"w{layer}"], arrays[f"b{layer}"] = w, b
    return arrays


def write_model(path: Path, arrays: dict[str, np.ndarray]) -> Path:
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)
    return path


def write_metadata_model(path: Path, metadata_text: str) -> Path:
    """A valid 784-30-10 model whose metadata is exactly ``metadata_text`` (raw JSON)."""
    arrays = model_arrays([784, 30, 10])
    arrays["metadata"] = np.frombuffer(metadata_text.encode("utf-8", "surrogatepass"), np.uint8)
    return write_model(path, arrays)


def metadata_text(**changes) -> str:
    """The JSON text of a valid 784-30-10 model's metadata with ``changes`` (values: JSON text)."""
    record = json.loads(model_arrays([784, 30, 10])["metadata"].tobytes())
    text = json.dumps({key: value for key, value in record.items() if key not in changes})
    return text[:-1] + "".join(f', "{key}": {value}' for key, value in changes.items()) + "}"


def write_zip_with_entries(path: Path, entries: int) -> Path:
    """A zip (Zip64) that is nothing but a central directory of ``entries`` empty members: cheap to
    write, but zipfile builds an object for every entry before anything can be checked."""
    names = (f"x{i}.npy".encode() for i in range(entries))
    directory = b"".join(
        struct.pack(
            zipfile.structCentralDir,
            zipfile.stringCentralDir,
            20,
            3,
            20,
            0,
            0,
            0,
            0,
            0x21,
            0,
            0,
            0,
            len(name),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        + name
        for name in names
    )
    size = len(directory)
    end64 = struct.pack(
        zipfile.structEndArchive64,
        zipfile.stringEndArchive64,
        44,
        45,
        45,
        0,
        0,
        entries,
        entries,
        size,
        0,
    )
    locator = struct.pack(
        zipfile.structEndArchive64Locator, zipfile.stringEndArchive64Locator, 0, size, 1
    )
    end = struct.pack(
        zipfile.structEndArchive,
        zipfile.stringEndArchive,
        0,
        0,
        0xFFFF,
        0xFFFF,
        0xFFFFFFFF,
        0xFFFFFFFF,
        0,
    )
    path.write_bytes(directory + end64 + locator + end)
    return path


# --- strokes files -------------------------------------------------------------------------------

#: One valid line of a strokes file or of the user's collection: a 3 of one two-point stroke.
GOOD_LINE = '{"label":3,"strokes":[[[1,2],[3,4]]]}'


def digit_line(points: int, label: int = 3, **fields) -> str:
    """One line of a strokes file: a digit whose one stroke has ``points`` points."""
    t = np.linspace(0, 2 * np.pi, points)
    stroke = [[round(100 + 60 * np.cos(a), 2), round(100 + 90 * np.sin(a), 2)] for a in t]
    return json.dumps({**fields, "label": label, "strokes": [stroke]}) + "\n"


def write_strokes(path: Path, megabytes: float, points: int = 1000) -> Path:
    """A valid strokes file of about ``megabytes`` MB of digits of ``points`` points each."""
    line = digit_line(points)
    path.write_text(line * max(1, int(megabytes * 1e6 / len(line))))
    return path


def write_gzip_bomb(path: Path, expanded_mib: int) -> Path:
    """A gzip of blank lines (512 KiB of spaces each) expanding to ``expanded_mib`` MiB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    block = (b" " * (512 * 1024 - 1) + b"\n") * 2
    with open(path, "wb") as stream:
        for _ in range(expanded_mib):
            stream.write(compressor.compress(block))
        stream.write(compressor.flush())
    return path


# --- measuring -----------------------------------------------------------------------------------

# Runs ``-m MODULE ARGS`` and writes the process's peak RSS (VmHWM) to the file named first. The
# kernel's ru_maxrss will not do: a child forked from this test process starts with its peak.
_PEAK_WRAPPER = """
import atexit, runpy, sys
report, module, args = sys.argv[1], sys.argv[3], sys.argv[4:]
def write_peak():
    with open('/proc/self/status') as status:
        peak = [line.split()[1] for line in status if line.startswith('VmHWM:')]
    with open(report, 'w') as out:
        out.write(peak[0])
atexit.register(write_peak)
sys.argv = [module, *args]
runpy.run_module(module, run_name='__main__', alter_sys=True)
"""


@dataclass
class Measured:
    """How a command ended: exit status, wall time, its peak RSS (None if killed), its output."""

    returncode: int
    seconds: float
    peak_mb: float | None
    stdout: str
    stderr: str


def run_measured(module_args, *, env=None, timeout: float = 600) -> Measured:
    """Run ``python -m MODULE ARGS`` (``module_args`` = ["-m", module, *args]) to its end."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "peak"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _PEAK_WRAPPER, str(report), *module_args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
        seconds = time.perf_counter() - started
        peak = int(report.read_text()) / 1024 if report.exists() else None
    return Measured(done.returncode, seconds, peak, done.stdout, done.stderr)
