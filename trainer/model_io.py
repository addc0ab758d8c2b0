"""Model files: one ``.npz`` per model, holding the weights and a JSON metadata record.

Layout of the archive: ``w0, b0, w1, b1, …`` (float32; ``wl`` of shape (inputs, outputs) of layer
``l``, ``bl`` of shape (outputs,)) and ``metadata`` (the UTF-8 bytes of a JSON object, stored as
uint8 so no pickle is ever involved).

Loading trusts nothing in the file: every member's ``.npy`` header is read and checked before any
data is (so a huge declared size is refused without allocating it), object arrays are refused
without unpickling, and shapes, dtypes, finiteness and the metadata are validated. Any problem
raises ``ModelFileError`` naming the file and the problem.

Loading also bounds the work a file can cause: the zip's central directory is checked (entry count
and size) before zipfile parses it, the network must be one DigitPad could have trained
(``trainer.limits``), the metadata must be plain, shallow JSON text, and the network's outputs
must be finite on a few ordinary inputs (finite but absurd weights such as 3e38 give NaN).

Saving is atomic: the archive is written to a temporary file beside the target, flushed to disk
and then renamed over it, so a full disk or a killed process leaves the previous file intact.
A symbolic link is followed: the file it points to is replaced (atomically, beside it) and the
link stays. Anything but a regular file (a FIFO, a device, a folder) is refused, never replaced.
A replaced file keeps its permissions; a new one gets the usual ones (0666 less the umask).
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np

from trainer import atomic_write, limits
from trainer.atomic_write import remove_stale_temporaries  # noqa: F401  (for callers)
from trainer.core import activations, forward
from trainer.core.network import INITIALISATIONS, Network

FORMAT = "digitpad-model"
FORMAT_VERSION = 1
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_METADATA_BYTES = 1024 * 1024
#: Entries of the largest model: its metadata and a weight and a bias per layer.
MAX_ENTRIES = 1 + 2 * (limits.MAX_HIDDEN_LAYERS + 1)
#: A central directory entry is 46 bytes plus its name (``w12.npy``) and extra fields.
MAX_CENTRAL_DIRECTORY_BYTES = 64 * 1024
MAX_METADATA_DEPTH = 32


class ModelFileError(Exception):
    """A model file cannot be used. ``str()`` names the file and says what is wrong."""

    def __init__(self, path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def save_model(network: Network, path, metadata: dict | None = None) -> None:
    """Write the network and its metadata to ``path`` atomically.

    ``metadata`` is merged over the record this function fills in itself (format, architecture,
    date). Raises ModelFileError if the file cannot be written; the previous file is then intact.
    """
    path = destination(path)
    if not network.is_finite():
        raise ModelFileError(path, "refusing to save a network with NaN or infinite weights")
    record = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "layer_sizes": network.layer_sizes,
        "hidden_activation": network.hidden_activation,
        "output_activation": network.output_activation,
        "cost": network.cost,
        "init": network.init,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **(metadata or {}),
    }
    arrays = {"metadata": np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)}
    for l, (w, b) in enumerate(zip(network.weights, network.biases)):
        arrays[f"w{l}"] = np.asarray(w, dtype=np.float32)
        arrays[f"b{l}"] = np.asarray(b, dtype=np.float32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write.write_atomically(path, lambda stream: np.savez(stream, **arrays))
    except OSError as error:
        raise ModelFileError(
            path,
            f"could not save the model ({error.strerror or error}); "
            f"the previous file, if any, is unchanged",
        ) from error


def destination(path) -> Path:
    """The file a save to ``path`` replaces: ``path`` itself, or the file a symbolic link there
    points to. Raises ModelFileError if that is not a regular file (a FIFO, a device, a folder)."""
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except OSError:
        return target  # nothing there yet (or unreadable: the save itself will say)
    if not stat.S_ISREG(mode):
        kind = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a FIFO or a device)"
        raise ModelFileError(path, f"{kind}; refusing to replace it with a model")
    return target


def check_writable(path) -> Path:
    """Make sure a model can be saved at ``path`` later (e.g. before a long training run): the
    target is a regular file or nothing, and its folder exists and takes a new file. Returns the
    file a save will replace (see :func:`destination`); raises ModelFileError saying why not."""
    target = destination(path)
    folder = target.parent
    if not folder.is_dir():
        problem = "does not exist" if not folder.exists() else "is not a folder"
        raise ModelFileError(path, f"cannot save there: {folder} {problem}")
    try:
        descriptor, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as error:
        raise ModelFileError(
            path, f"cannot save there: {folder} is not writable ({error.strerror or error})"
        ) from error
    os.close(descriptor)
    with contextlib.suppress(OSError):
        os.remove(probe)
    return target


def load_model(path) -> tuple[Network, dict]:
    """Read and validate a model file; returns the network (float32) and its metadata."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ModelFileError(path, f"cannot read the file ({error.strerror or error})") from error
    if size == 0:
        raise ModelFileError(path, "the file is empty")
    if size > MAX_FILE_BYTES:
        raise ModelFileError(
            path,
            f"the file is {size} bytes, larger than any model ({MAX_FILE_BYTES} bytes at most)",
        )
    try:
        _check_central_directory(path)
        with zipfile.ZipFile(path) as archive:
            members = {info.filename: info for info in archive.infolist()}
            metadata = _read_metadata(path, archive, members)
            network = _network_from(path, metadata, size)
            weights, biases = [], []
            for l, (w, b) in enumerate(zip(network.weights, network.biases)):
                weights.append(_read_array(path, archive, members, f"w{l}", w.shape))
                biases.append(_read_array(path, archive, members, f"b{l}", b.shape))
            expected = {"metadata.npy"} | {f"{k}{l}.npy" for l in range(len(weights)) for k in "wb"}
            extra = set(members) - expected
            if extra:
                raise ModelFileError(
                    path,
                    f"unexpected entries {sorted(extra)}: is this a model "
                    f"with another architecture?",
                )
    except zipfile.BadZipFile as error:
        raise ModelFileError(
            path, f"not a DigitPad model (.npz) file, or a truncated one ({error})"
        ) from error
    except (OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as error:
        # RuntimeError: zipfile's "encrypted, password required" (a damaged flag bit)
        raise ModelFileError(path, f"cannot read the file ({error})") from error
    network.set_parameters(weights, biases)
    _check_outputs_finite(path, network)
    return network, metadata


def _check_central_directory(path: Path) -> None:
    """Refuse a zip whose directory holds more entries than any model before zipfile reads it:
    it builds an object per entry, and 10 million entries took 72 s and 3.8 GB to be refused.

    Uses zipfile's own reader of the end-of-central-directory record (``_EndRecData``), so what is
    checked is exactly what ``ZipFile`` will go by.
    """
    with open(path, "rb") as stream:
        end = zipfile._EndRecData(stream)
    if end is None:
        raise zipfile.BadZipFile("File is not a zip file")
    entries, size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]
    if entries > MAX_ENTRIES or size > MAX_CENTRAL_DIRECTORY_BYTES:
        raise ModelFileError(
            path,
            f"the archive declares {entries} entries in a {size}-byte "
            f"directory; a model has at most {MAX_ENTRIES} entries",
        )


def _probe_inputs() -> np.ndarray:
    """An empty input, a full one and three simple drawings (a bar, a ring, a cross) in 28×28."""
    rows, cols = np.mgrid[0:28, 0:28]
    radius = np.hypot(rows - 13.5, cols - 13.5)
    drawings = [
        np.zeros((28, 28)),
        np.ones((28, 28)),
        (abs(cols - 14) < 2) & (abs(rows - 14) < 10),
        abs(radius - 8) < 1.5,
        (abs(rows - cols) < 2) | (abs(rows + cols - 27) < 2),
    ]
    return np.array([d.ravel() for d in drawings], dtype=np.float32)


def _check_outputs_finite(path: Path, network: Network) -> None:
    with np.errstate(all="ignore"):  # overflowing weights are what this looks for
        outputs = forward.predict_proba(network, _probe_inputs())
    if not np.isfinite(outputs).all():
        raise ModelFileError(
            path,
            "the network's outputs are not finite numbers even for an "
            "empty or simple drawing (its weights are absurdly large)",
        )


def _read_metadata(path: Path, archive: zipfile.ZipFile, members: dict) -> dict:
    raw = _read_array(path, archive, members, "metadata", None, np.uint8, MAX_METADATA_BYTES)
    try:
        metadata = json.loads(raw.tobytes().decode("utf-8"))
        json.dumps(metadata, ensure_ascii=False).encode("utf-8")  # lone surrogates ("\ud800")
    except RecursionError:
        raise ModelFileError(path, "the metadata is not valid JSON (nested too deeply)") from None
    except (UnicodeError, ValueError) as error:
        # ValueError: also JSON's integers of more than 4 300 digits
        raise ModelFileError(path, f"the metadata is not valid JSON text ({error})") from error
    if _depth(metadata) > MAX_METADATA_DEPTH:
        raise ModelFileError(
            path, f"the metadata is nested more than {MAX_METADATA_DEPTH} levels deep"
        )
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise ModelFileError(path, "the metadata does not describe a DigitPad model")
    version = metadata.get("format_version")
    if not isinstance(version, int):
        raise ModelFileError(path, "the metadata has no format version")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            path,
            f"format version {version} is newer than this DigitPad reads "
            f"({FORMAT_VERSION}); update DigitPad to open it",
        )
    if version < 1:
        raise ModelFileError(path, f"unknown format version {version}")
    return metadata


def _network_from(path: Path, metadata: dict, file_size: int) -> Network:
    """The (still untrained) network the metadata describes, after checking it fits the file."""
    sizes = metadata.get("layer_sizes")
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 65536 for n in sizes
        )
    ):
        raise ModelFileError(path, f"invalid layer sizes in the metadata: {_quoted(sizes)}")
    if sizes[0] != 784 or sizes[-1] not in (10, 11):
        raise ModelFileError(
            path,
            f"the network maps {sizes[0]} inputs to {sizes[-1]} outputs; "
            f'DigitPad needs 784 → 10 (or 11 with "not a digit")',
        )
    parameters = sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    if parameters * 4 > max(file_size, 16 * 1024 * 1024):
        # Weights are stored uncompressed at 4 bytes each, so a file cannot hold more; refuse the
        # lie before allocating for it (small mismatches get the precise per-entry message later).
        raise ModelFileError(
            path,
            f"the metadata declares {parameters} parameters, more than "
            f"the file's {file_size} bytes can hold",
        )
    too_big = limits.shape_problem(sizes)
    if too_big:
        raise ModelFileError(path, f"the metadata declares a network of {too_big}")
    choices = {
        "hidden_activation": activations.HIDDEN_ACTIVATIONS,
        "output_activation": activations.OUTPUT_ACTIVATIONS,
        "cost": tuple(activations.COSTS),
        "init": INITIALISATIONS,
    }
    for key, allowed in choices.items():
        if metadata.get(key) not in allowed:
            value = _quoted(metadata.get(key))
            raise ModelFileError(path, f"invalid {key.replace('_', ' ')} {value} in the metadata")
    return Network(
        sizes,
        metadata["hidden_activation"],
        metadata["output_activation"],
        metadata["cost"],
        metadata["init"],
        dtype=np.float32,
    )


def _read_array(
    path: Path,
    archive: zipfile.ZipFile,
    members: dict,
    name: str,
    shape,
    dtype=np.float32,
    max_bytes: int = MAX_FILE_BYTES,
) -> np.ndarray:
    """Read one ``.npy`` member after checking its header: dtype, shape and size."""
    info = members.get(f"{name}.npy")
    if info is None:
        raise ModelFileError(path, f"the entry {name!r} is missing")
    if info.file_size > max_bytes:
        raise ModelFileError(
            path, f"the entry {name!r} declares {info.file_size} bytes, far more than a model holds"
        )
    with archive.open(info) as member:
        stream = io.BufferedReader(member)
        try:
            version = np.lib.format.read_magic(stream)
            header = (
                np.lib.format.read_array_header_1_0
                if version == (1, 0)
                else np.lib.format.read_array_header_2_0
            )
            declared_shape, fortran, declared_dtype = header(stream)
        except Exception as error:  # numpy's header parser also raises SyntaxError, TokenError…
            raise ModelFileError(
                path, f"the entry {name!r} is not a valid array ({error})"
            ) from error
        if any(n < 0 for n in declared_shape):
            raise ModelFileError(
                path, f"the entry {name!r} declares the impossible shape {tuple(declared_shape)}"
            )
        if declared_dtype.hasobject:
            raise ModelFileError(
                path,
                f"the entry {name!r} holds Python objects; refusing to "
                f"unpickle them (a model file never contains code)",
            )
        if declared_dtype != np.dtype(dtype):
            raise ModelFileError(
                path, f"the entry {name!r} has dtype {declared_dtype}, expected {np.dtype(dtype)}"
            )
        if shape is not None and tuple(declared_shape) != tuple(shape):
            raise ModelFileError(
                path,
                f"the entry {name!r} has shape {tuple(declared_shape)}, expected {tuple(shape)}",
            )
        count = int(np.prod(declared_shape, dtype=np.int64))
        if count * declared_dtype.itemsize > max_bytes:
            raise ModelFileError(
                path, f"the entry {name!r} declares {count} values, far more than a model holds"
            )
        data = stream.read(count * declared_dtype.itemsize)
    if len(data) != count * declared_dtype.itemsize:
        raise ModelFileError(path, f"the entry {name!r} is truncated")
    array = np.frombuffer(data, dtype=declared_dtype).reshape(
        declared_shape, order="F" if fortran else "C"
    )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ModelFileError(path, f"the entry {name!r} contains NaN or infinite values")
    return np.ascontiguousarray(array)


def _quoted(value, limit: int = 120) -> str:
    """``repr(value)`` for a message, cut to ``limit`` characters: metadata can hold a megabyte."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _depth(value) -> int:
    """How deeply lists and objects nest in a JSON value (without recursing)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, depth)
            pending.extend(
                (item, depth + 1) for item in (value.values() if isinstance(value, dict) else value)
            )
    return deepest
