"""Model files are written atomically, read back exactly, and anything malformed is refused."""

import errno
import io
import json
import zipfile

import numpy as np
import pytest

from trainer import atomic_write, model_io
from trainer.core.network import Network
from trainer.model_io import ModelFileError, load_model, save_model


@pytest.fixture
def network():
    return Network([784, 12, 10], "tanh", "softmax", "cross_entropy", "glorot", seed=5)


@pytest.fixture
def saved(tmp_path, network):
    path = tmp_path / "model.npz"
    save_model(network, path, {"name": "test net", "metrics": {"mnist_test_accuracy": 0.5}})
    return path


def _rewrite(source, target, change):
    """Copy the archive ``source`` to ``target``, letting ``change(name, array)`` edit members."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays = change(arrays)
    with open(target, "wb") as stream:
        np.savez(stream, **arrays)
    return target


def _metadata(arrays):
    return json.loads(arrays["metadata"].tobytes())


def _with_metadata(arrays, **changes):
    record = {**_metadata(arrays), **changes}
    record = {k: v for k, v in record.items() if v is not None}
    arrays["metadata"] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    return arrays


def test_round_trip_is_exact(saved, network):
    loaded, metadata = load_model(saved)
    assert loaded.layer_sizes == [784, 12, 10]
    assert (loaded.hidden_activation, loaded.output_activation, loaded.cost) == (
        "tanh",
        "softmax",
        "cross_entropy",
    )
    for a, b in zip(loaded.weights, network.weights):
        assert np.array_equal(a, b)
    assert metadata["name"] == "test net" and metadata["format_version"] == 1
    x = np.random.default_rng(0).random(784, dtype=np.float32)
    assert np.array_equal(loaded.predict_proba(x), network.predict_proba(x))


def test_save_leaves_no_temporary_files(saved):
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.npz"]


def test_a_failing_save_keeps_the_previous_file(saved, network, monkeypatch):
    before = saved.read_bytes()

    def disk_full(stream, **arrays):
        stream.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(model_io.np, "savez", disk_full)
    with pytest.raises(ModelFileError, match="No space left on device"):
        save_model(network, saved)
    assert saved.read_bytes() == before
    assert sorted(p.name for p in saved.parent.iterdir()) == ["model.npz"]


def test_saving_into_an_unwritable_folder_is_a_clear_error(saved, network, monkeypatch):
    """As root every folder is writable, so the refusal is injected where the OS would raise it."""
    before = saved.read_bytes()

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic_write, "create_new", refuse)
    with pytest.raises(ModelFileError, match="could not save .*Permission denied"):
        save_model(network, saved)
    assert saved.read_bytes() == before


def test_a_network_with_nan_weights_is_never_saved(tmp_path, network):
    network.weights[0][0, 0] = np.nan
    with pytest.raises(ModelFileError, match="NaN"):
        save_model(network, tmp_path / "nan.npz")
    assert not (tmp_path / "nan.npz").exists()


BROKEN = {
    "truncated": lambda data: data[: len(data) // 2],
    "zero bytes": lambda data: b"",
    "random bytes": lambda data: np.random.default_rng(0).bytes(len(data)),
}


@pytest.mark.parametrize("damage", sorted(BROKEN))
def test_damaged_files_are_refused_naming_the_file(saved, tmp_path, damage):
    target = tmp_path / f"{damage}.npz"
    target.write_bytes(BROKEN[damage](saved.read_bytes()))
    with pytest.raises(ModelFileError) as caught:
        load_model(target)
    assert str(target) in str(caught.value)


MALFORMED = {
    "wrong shape": (lambda a: {**a, "w0": np.zeros((12, 700), np.float32)}, "shape"),
    "wrong dtype": (lambda a: {**a, "w0": a["w0"].astype(np.float64)}, "dtype"),
    "nan weights": (lambda a: {**a, "b1": np.full(10, np.nan, np.float32)}, "NaN"),
    "inf weights": (lambda a: {**a, "w1": np.full_like(a["w1"], np.inf)}, "infinite"),
    "missing version": (lambda a: _with_metadata(a, format_version=None), "no format version"),
    "future version": (lambda a: _with_metadata(a, format_version=99), "newer"),
    "not ours": (lambda a: _with_metadata(a, format="something-else"), "not describe"),
    "wrong inputs": (lambda a: _with_metadata(a, layer_sizes=[100, 12, 10]), "784"),
    "bad activation": (lambda a: _with_metadata(a, hidden_activation="swish"), "activation"),
    "missing layer": (lambda a: {k: v for k, v in a.items() if k != "b1"}, "missing"),
    "extra entry": (lambda a: {**a, "w9": np.zeros(3, np.float32)}, "unexpected"),
    "metadata not json": (lambda a: {**a, "metadata": np.frombuffer(b"{oops", np.uint8)}, "JSON"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_models_are_refused_with_the_reason(saved, tmp_path, case):
    change, reason = MALFORMED[case]
    target = _rewrite(saved, tmp_path / "bad.npz", change)
    with pytest.raises(ModelFileError, match=reason) as caught:
        load_model(target)
    assert str(target) in str(caught.value)


class Exploit:
    """Unpickling this would create a file: the test proves it never happens."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickled_objects_are_refused_without_unpickling(saved, tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = Exploit(str(marker))
    target = tmp_path / "evil.npz"
    with np.load(saved, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["w0"] = evil
    with open(target, "wb") as stream:
        np.savez(stream, **arrays)
    with pytest.raises(ModelFileError, match="unpickle"):
        load_model(target)
    assert not marker.exists()


def test_a_huge_declared_size_is_refused_without_allocating(saved, tmp_path):
    """An entry whose header declares 10¹² floats must be refused from the header alone."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f4", "fortran_order": False, "shape": (1_000_000, 1_000_000)}
    )
    target = tmp_path / "huge.npz"
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(target, "w") as out:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "w0.npy":
                data = b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\0" * 64
            out.writestr(info.filename, data)
    with pytest.raises(ModelFileError, match="shape|declares"):
        load_model(target)


def test_huge_declared_layers_are_refused_before_allocating(saved, tmp_path):
    target = _rewrite(
        saved,
        tmp_path / "huge-layers.npz",
        lambda a: _with_metadata(a, layer_sizes=[784, 65536, 65536, 10]),
    )
    with pytest.raises(ModelFileError, match="declares .* parameters"):
        load_model(target)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="cannot read"):
        load_model(tmp_path / "nope.npz")
