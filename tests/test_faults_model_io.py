"""Fault injection, model files: every broken file is refused by the three ways a model comes in —
``digitpad-eval``, the app's File ▸ Open and the app's start-up — with a message naming the file and
the problem; the app keeps the model it has. ``tests/test_model_io.py`` checks ``load_model`` itself
on most of these files; here they go through the user-facing paths, plus a fuzzer that mutates a
valid file thousands of ways and must only ever see ``ModelFileError`` (it found three escapes:
numpy's header parser raising ``TokenError``/``SyntaxError``, a negative declared dimension, and
zipfile's ``RuntimeError`` for a member flagged as encrypted).

Then files crafted to cost time or memory, or to hold text Python cannot print (issue 17): a zip of
300 000 entries, too many layers, weights that overflow every output, metadata with a 5 000-digit
integer, a lone surrogate or 480 levels of nesting — each refused within seconds, in one line.
In the app, text from a model file (its name, a value a refusal quotes) is shown as plain text and
cut when long, and File ▸ Open checks the file on a background thread while the window responds.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from event_loop import Heartbeat
from hostile_inputs import (
    metadata_text,
    model_arrays,
    write_metadata_model,
    write_model,
    write_zip_with_entries,
)

from digitpad import model_store
from trainer import limits, model_io
from trainer.cli import eval_cli
from trainer.core.network import Network
from trainer.model_io import ModelFileError, load_model, save_model


class Exploit:
    """Unpickling this would create the marker file: proof that code from a file ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _write_members(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _savez(path: Path, arrays: dict) -> None:
    with open(path, "wb") as stream:
        np.savez(stream, **arrays)


def _with_metadata(arrays: dict, **changes) -> dict:
    record = {**json.loads(arrays["metadata"].tobytes()), **changes}
    record = {k: v for k, v in record.items() if v is not None}
    return {**arrays, "metadata": np.frombuffer(json.dumps(record).encode(), np.uint8)}


def _npy_header(descr: str, shape) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": descr, "fortran_order": False, "shape": shape}
    )
    return header.getvalue()


# Each case: how to make the file from a good one, and a word the message must contain.
def _truncated(good, target):
    target.write_bytes(good.read_bytes()[: good.stat().st_size // 2])


def _zero_bytes(good, target):
    target.write_bytes(b"")


def _random_bytes(good, target):
    target.write_bytes(np.random.default_rng(6).bytes(good.stat().st_size))


def _wrong_shape(good, target):
    _savez(target, {**_arrays(good), "w0": np.zeros((784, 7), np.float32)})


def _wrong_dtype(good, target):
    arrays = _arrays(good)
    _savez(target, {**arrays, "b0": arrays["b0"].astype(np.float16)})


def _nan_weights(good, target):
    arrays = _arrays(good)
    w = arrays["w1"].copy()
    w[3, 4] = np.nan
    _savez(target, {**arrays, "w1": w})


def _inf_weights(good, target):
    arrays = _arrays(good)
    b = arrays["b1"].copy()
    b[0] = -np.inf
    _savez(target, {**arrays, "b1": b})


def _missing_version(good, target):
    _savez(target, _with_metadata(_arrays(good), format_version=None))


def _future_version(good, target):
    _savez(target, _with_metadata(_arrays(good), format_version=2))


def _pickled_object(good, target):
    evil = np.empty(1, dtype=object)
    evil[0] = Exploit(str(target.with_name(target.name + ".pwned")))
    arrays = _arrays(good)
    with open(target, "wb") as stream:  # np.savez pickles object arrays, as an attacker would
        np.savez(stream, **{**arrays, "w0": evil})


def _huge_declared_entry(good, target):
    """The metadata entry's header declares 10¹² bytes (the file itself is small)."""
    members = _members(good)
    members["metadata.npy"] = _npy_header("|u1", (10**12,)) + b"{}"
    _write_members(target, members)


def _huge_declared_layers(good, target):
    _savez(target, _with_metadata(_arrays(good), layer_sizes=[784, 60000, 60000, 10]))


def _huge_file(good, target):
    """A file larger than any model could be (sparse: it takes no disk space)."""
    target.write_bytes(good.read_bytes())
    with open(target, "r+b") as stream:
        stream.truncate(model_io.MAX_FILE_BYTES + 1)


# Found by the fuzzer below.
def _negative_dimension(good, target):
    members = _members(good)
    raw = np.lib.format.read_array(io.BytesIO(members["metadata.npy"]))
    members["metadata.npy"] = _npy_header("|u1", (-1, -raw.size)) + raw.tobytes()
    _write_members(target, members)


def _garbled_header(good, target):
    members = _members(good)
    data = bytearray(members["w0.npy"])
    data[data.index(b"{")] = ord("(")  # the header dict opens with a parenthesis that never closes
    members["w0.npy"] = bytes(data)
    _write_members(target, members)


def _encrypted_flag(good, target):
    data = bytearray(good.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # general-purpose flag bit 0: "encrypted"
    target.write_bytes(bytes(data))


CASES = {
    "truncated": (_truncated, "truncated"),
    "zero bytes": (_zero_bytes, "the file is empty"),
    "random bytes": (_random_bytes, "not a DigitPad model"),
    "wrong shape": (_wrong_shape, "has shape (784, 7), expected (784, 12)"),
    "wrong dtype": (_wrong_dtype, "has dtype float16, expected float32"),
    "NaN weights": (_nan_weights, "contains NaN or infinite values"),
    "inf weights": (_inf_weights, "contains NaN or infinite values"),
    "missing format version": (_missing_version, "no format version"),
    "future format version": (_future_version, "format version 2 is newer"),
    "pickled object": (_pickled_object, "refusing to unpickle"),
    "huge declared entry": (_huge_declared_entry, "far more than a model holds"),
    "huge declared layers": (_huge_declared_layers, "parameters, more than the file"),
    "huge file": (_huge_file, "larger than any model"),
    "negative dimension": (_negative_dimension, "impossible shape"),
    "garbled npy header": (_garbled_header, "is not a valid array"),
    "encrypted flag": (_encrypted_flag, "encrypted"),
}


@pytest.fixture(scope="module")
def good_model(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("faults-models") / "good.npz"
    save_model(
        Network([784, 12, 10], seed=11),
        path,
        {"name": "good net", "metrics": {"mnist_test_accuracy": 0.42}},
    )
    return path


@pytest.fixture(scope="module")
def bad_models(good_model) -> dict[str, Path]:
    folder = good_model.parent / "bad"
    folder.mkdir()
    made = {}
    for case, (make, _) in CASES.items():
        target = folder / f"{case.replace(' ', '-')}.npz"
        make(good_model, target)
        made[case] = target
    return made


def _assert_names_file_and_problem(message: str, path: Path, case: str) -> None:
    assert str(path) in message, f"{case}: the message does not name the file: {message!r}"
    assert CASES[case][1] in message, (
        f"{case}: the message does not say {CASES[case][1]!r}: {message!r}"
    )


def _assert_no_code_ran(path: Path) -> None:
    assert not path.with_name(path.name + ".pwned").exists(), "code from the file ran"


@pytest.mark.parametrize("case", list(CASES))
def test_load_model_refuses(bad_models, case):
    with pytest.raises(ModelFileError) as caught:
        load_model(bad_models[case])
    _assert_names_file_and_problem(str(caught.value), bad_models[case], case)
    _assert_no_code_ran(bad_models[case])


@pytest.mark.parametrize("case", list(CASES))
def test_digitpad_eval_refuses(bad_models, case, capsys, tmp_path):
    code = eval_cli.main(
        ["--model", str(bad_models[case]), "--no-download", "--mnist-dir", str(tmp_path)]
    )
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("digitpad-eval: ") and "Traceback" not in err
    _assert_names_file_and_problem(err, bad_models[case], case)
    _assert_no_code_ran(bad_models[case])


def test_digitpad_eval_command_refuses_without_a_traceback(bad_models, tmp_path):
    """The real command in its own process: exit status 2, one line, no code from the file."""
    case = "pickled object"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer.cli.eval_cli",
            "--model",
            str(bad_models[case]),
            "--no-download",
            "--mnist-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    _assert_names_file_and_problem(done.stderr, bad_models[case], case)
    _assert_no_code_ran(bad_models[case])


# --- files crafted to cost time or memory, text Python cannot print -----------------------------


def _refused(path, *words, within: float = 2.0) -> str:
    started = time.perf_counter()
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    assert time.perf_counter() - started < within
    message = str(caught.value)
    assert str(path) in message and all(word in message for word in words), message
    return message


def test_a_zip_of_300_000_entries_is_refused_from_its_directory_record(tmp_path):
    # zipfile would build 300 000 ZipInfo objects first (1.7 s here; 10 million: 72 s, 3.8 GB)
    path = write_zip_with_entries(tmp_path / "entries.npz", 300_000)
    _refused(path, "300000 entries", f"at most {15} entries", within=0.5)


@pytest.mark.parametrize("layers", [limits.MAX_HIDDEN_LAYERS + 1, 999])
def test_a_model_of_too_many_layers_is_refused_before_any_compilation(tmp_path, layers):
    # 999 one-unit layers: accepted, then 230 s and 1 GB of compiling; 1 000+: a Numba traceback
    sizes = [784, *[1] * layers, 10]
    whole = write_model(tmp_path / "deep.npz", model_arrays(sizes))
    _refused(whole, f"declares {2 * layers + 3} entries", "a model has at most 15 entries")
    arrays = model_arrays([784, 30, 10])  # the lie is only in the metadata
    arrays["metadata"] = model_arrays(sizes)["metadata"]
    lie = write_model(tmp_path / "lie.npz", arrays)
    _refused(lie, f"{layers} hidden layers", f"at most {limits.MAX_HIDDEN_LAYERS}")


def test_the_largest_allowed_shapes_stay_valid_with_10_or_11_outputs():
    deepest = [784, *[64] * limits.MAX_HIDDEN_LAYERS]
    assert limits.shape_problem([*deepest, 10]) is None
    assert limits.shape_problem([*deepest, 11]) is None  # the "not a digit" unit
    assert limits.shape_problem([784, 8192, 2048, 11]) is None
    assert "parameters" in limits.shape_problem([784, 8192, 8192, 10])


def test_an_overflowing_weight_model_is_refused_for_its_outputs(tmp_path):
    arrays = model_arrays([784, 30, 10])
    arrays["w0"] = np.full((784, 30), 3e38, np.float32)  # finite, but every output is NaN
    _refused(write_model(tmp_path / "3e38.npz", arrays), "not finite")


@pytest.mark.parametrize(
    "case, changes, words",
    [
        ("5 000-digit integer", {"epochs": "9" * 5000}, ["not valid JSON text", "4300 digits"]),
        ("lone surrogate in the name", {"name": '"\\ud800"'}, ["not valid JSON text", "surrogate"]),
        ("nested 480 deep", {"more": "[" * 480 + "]" * 480}, ["nested more than 32 levels"]),
    ],
)
def test_metadata_python_cannot_print_or_recurse_into_is_refused(tmp_path, case, changes, words):
    path = write_metadata_model(tmp_path / "meta.npz", metadata_text(**changes))
    _refused(path, *words)


@pytest.mark.parametrize("text", ['{"a": ' + "1" * 5000 + "}", '"\\ud800"'])
def test_eval_refuses_such_a_model_with_one_line(tmp_path, text, capsys):
    path = write_metadata_model(tmp_path / "meta.npz", metadata_text(name=text))
    assert eval_cli.main(["--model", str(path), "--strokes", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err


# --- the app ------------------------------------------------------------------------------------


@pytest.fixture
def shipped(good_model, monkeypatch):
    monkeypatch.setattr(model_store, "shipped_model_path", lambda: good_model)
    return good_model


@pytest.mark.parametrize("case", list(CASES))
def test_file_open_refuses_and_keeps_the_current_model(
    bad_models, case, qtbot, app_user_data, shipped, warnings_shown, monkeypatch, app_draw
):
    from PySide6.QtWidgets import QFileDialog

    from digitpad.app import MainWindow
    from digitpad.live_predictor import compute

    window = MainWindow()
    qtbot.addWidget(window)
    before, label = window.model, window.model_label.text()
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(bad_models[case]), ""))
    )
    window.open_action.trigger()  # File ▸ Open (the file is checked on a background thread)
    qtbot.waitUntil(lambda: window.open_action.isEnabled() and bool(warnings_shown), timeout=20000)
    assert len(warnings_shown) == 1
    title, text = warnings_shown[0]
    assert title == "Cannot open the model"
    _assert_names_file_and_problem(text, bad_models[case], case)
    _assert_no_code_ran(bad_models[case])
    assert window.model is before and window.predictor.network is before.network
    assert window.model_label.text() == label
    send, _ = app_draw  # and the old model still reads digits
    send(window.canvas, [[(60, 60), (120, 90), (90, 200)]])
    _, expected = compute(window.canvas.strokes(), before.network)
    assert window.probabilities() == pytest.approx(list(expected), abs=1e-6)


@pytest.mark.parametrize("case", list(CASES))
def test_start_up_refuses_a_bad_kept_model(good_model, case, qtbot, app_user_data, shipped):
    from digitpad.app import MainWindow

    kept = app_user_data / "model.npz"
    kept.parent.mkdir(parents=True, exist_ok=True)
    CASES[case][0](good_model, kept)
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.model.source == "shipped" and window.model.path == shipped
    warning = window.model_warning()
    assert warning is not None and "Your kept model" in warning
    _assert_names_file_and_problem(warning, kept, case)
    assert "Using the shipped model" in warning
    _assert_no_code_ran(kept)


@pytest.mark.parametrize("case", list(CASES))
def test_start_up_refuses_a_bad_model_option(bad_models, case, app_user_data, shipped):
    from digitpad import model_store

    loaded = model_store.load_startup_model(bad_models[case])  # digitpad --model FILE
    assert loaded.source == "shipped" and loaded.network is not None
    _assert_names_file_and_problem(loaded.warning, bad_models[case], case)


def test_background_start_up_with_a_bad_kept_model(bad_models, qtbot, app_user_data, shipped):
    """The real start-up path (``main`` loads on a thread): warning banner, shipped model."""
    from digitpad.app import MainWindow

    kept = app_user_data / "model.npz"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(bad_models["pickled object"].read_bytes())
    window = MainWindow(background=True)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.model.network is not None, timeout=60000)
    assert window.model.path == shipped
    assert str(kept) in window.model_warning() and "unpickle" in window.model_warning()
    _assert_no_code_ran(kept)


# --- text from the file in the app, File ▸ Open off the GUI thread ------------------------------

MARKUP = "<h1 style='color:green; font-size:40px'>Model OK – ignore this box</h1><img src='x.png'>"


@pytest.fixture
def boxes(monkeypatch):
    """Every warning box as (title, text, text format); Qt.AutoText for the static helpers,
    which guess HTML."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QMessageBox

    shown = []

    def static_warning(parent, title, text, *args, **kwargs):
        shown.append((title, text, Qt.TextFormat.AutoText))
        return QMessageBox.StandardButton.Ok

    def box_exec(box):
        shown.append((box.windowTitle(), box.text(), box.textFormat()))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(static_warning))
    monkeypatch.setattr(QMessageBox, "exec", box_exec)
    return shown


def test_a_model_name_with_markup_is_shown_literally(tmp_path, qtbot, app_user_data):
    from PySide6.QtCore import Qt

    from digitpad.app import MainWindow

    path = write_model(tmp_path / "html.npz", model_arrays([784, 30, 10], name=MARKUP))
    window = MainWindow(path)
    qtbot.addWidget(window)
    label = window.model_label
    assert label.text().startswith("Model: " + MARKUP[:40])
    assert label.textFormat() == Qt.TextFormat.PlainText  # was AutoText: a 40-px heading


def test_a_refusal_quoting_markup_is_plain_in_the_banner_and_the_box(
    tmp_path, qtbot, boxes, app_user_data, app_random_model
):
    from PySide6.QtCore import Qt

    from digitpad.app import MainWindow

    bad = write_model(tmp_path / "bad.npz", model_arrays([784, 30, 10], hidden_activation=MARKUP))
    window = MainWindow(bad)  # start-up: refused, falls back to the shipped model
    qtbot.addWidget(window)
    assert MARKUP in window.model_warning()
    assert window.banner.label.textFormat() == Qt.TextFormat.PlainText
    assert window.open_model(bad) is False  # File ▸ Open's checks
    ((title, text, text_format),) = boxes
    assert title == "Cannot open the model" and MARKUP in text
    assert text_format == Qt.TextFormat.PlainText


def test_file_open_checks_the_file_while_the_window_responds(
    tmp_path, qtbot, app_user_data, app_random_model, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    from digitpad import model_store
    from digitpad.app import MainWindow

    window = MainWindow(app_random_model)
    qtbot.addWidget(window)
    opened = write_model(tmp_path / "other.npz", model_arrays([784, 20, 10], name="opened"))
    load = model_store.load_model_file

    def slow_load(path):  # a large or hostile file that takes a while to check
        time.sleep(1.5)
        return load(path)

    monkeypatch.setattr(model_store, "load_model_file", slow_load)
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(opened), ""))
    )
    heartbeat = Heartbeat(10)
    started = time.perf_counter()
    window.open_action.trigger()
    triggered = time.perf_counter() - started
    assert not window.open_action.isEnabled() and "Checking other.npz" in window.busy_label.text()
    qtbot.waitUntil(lambda: window.model.name == "opened", timeout=20000)
    heartbeat.stop()
    assert triggered < 0.2 and heartbeat.max_gap < 0.3, (triggered, heartbeat.max_gap)
    assert window.open_action.isEnabled() and window.model.path == opened


def test_absurd_weights_are_refused_by_file_open(
    tmp_path, qtbot, boxes, app_user_data, app_random_model
):
    import numpy as np

    from digitpad.app import MainWindow

    arrays = model_arrays([784, 30, 10])
    arrays["w0"] = np.full((784, 30), 3e38, np.float32)
    window = MainWindow(app_random_model)
    qtbot.addWidget(window)
    before = window.model
    assert window.open_model(write_model(tmp_path / "nan.npz", arrays)) is False
    assert "not finite" in boxes[0][1] and window.model is before


def test_a_name_of_100_000_characters_does_not_widen_the_window(tmp_path, qtbot, app_user_data):
    from digitpad.app import MainWindow

    name = "<b>x</b>" * 12_500
    path = write_model(tmp_path / "long.npz", model_arrays([784, 30, 10], name=name))
    window = MainWindow(path)
    qtbot.addWidget(window)
    short = MainWindow(write_model(tmp_path / "short.npz", model_arrays([784, 30, 10], name="x")))
    qtbot.addWidget(short)
    assert len(window.model_label.text()) < 120 and "…" in window.model_label.text()
    assert window.minimumSizeHint().width() == short.minimumSizeHint().width()
    assert "&lt;b&gt;x&lt;/b&gt;" in window.model_label.toolTip()  # shown literally, in full


def test_a_refusal_quotes_at_most_a_few_words_of_a_megabyte_value(
    tmp_path, qtbot, boxes, app_user_data, app_random_model
):
    from digitpad.app import MainWindow

    bad = write_model(tmp_path / "big.npz", model_arrays([784, 30, 10], cost="c" * 500_000))
    window = MainWindow(app_random_model)
    qtbot.addWidget(window)
    assert window.open_model(bad) is False
    ((_, text, _),) = boxes
    assert len(text) < 400 and "500002 characters" in text, text[:400]


# --- fuzzing ------------------------------------------------------------------------------------


def test_mutated_model_files_only_ever_give_model_file_error(good_model, tmp_path):
    """800 seeded mutations (bit flips, byte stores, truncations, insertions), half of them aimed
    at the zip and .npy headers: each file is refused with ModelFileError naming it, or (when the
    change hit a byte nobody reads) loads as exactly the original network. Never another exception,
    never different weights."""
    good = good_model.read_bytes()
    original, _ = load_model(good_model)
    reference = [*original.weights, *original.biases]
    heads = [
        i
        for magic in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06", b"\x93NUMPY")
        for i in range(len(good))
        if good.startswith(magic, i)
    ]
    rng = random.Random(2024)
    target = tmp_path / "mutant.npz"
    outcomes = {"refused": 0, "loaded unchanged": 0}
    for _ in range(800):
        data = bytearray(good)
        kind = rng.choice(["flip", "store", "truncate", "insert"])
        for _ in range(rng.choice([1, 1, 2, 5])):
            if rng.random() < 0.5:
                at = min(len(data) - 1, rng.choice(heads) + rng.randrange(140))
            else:
                at = rng.randrange(len(data))
            if kind == "flip":
                data[at] ^= 1 << rng.randrange(8)
            elif kind == "store":
                data[at] = rng.choice(
                    [0, 0xFF, ord("("), ord(")"), ord("'"), ord("-"), ord("9"), rng.randrange(256)]
                )
            elif kind == "truncate":
                del data[at:]
                break
            else:
                data[at:at] = rng.randbytes(rng.randint(1, 9))
        target.write_bytes(bytes(data))
        try:
            network, _ = load_model(target)
        except ModelFileError as error:
            assert str(error).startswith(str(target))
            outcomes["refused"] += 1
        else:
            for a, b in zip([*network.weights, *network.biases], reference):
                assert np.array_equal(a, b)
            outcomes["loaded unchanged"] += 1
    assert outcomes["refused"] > 500, outcomes
