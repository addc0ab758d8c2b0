"""The shape the code keeps (issue 11): no function of ``trainer/`` or ``digitpad/`` takes more
than 10 parameters, and no module is longer than 600 lines. Measured by ``bench/code_shape.py``,
which also prints the figures."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_PARAMETERS = 10
MAX_LINES = 600


def _code_shape():
    spec = importlib.util.spec_from_file_location("code_shape", ROOT / "bench" / "code_shape.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_function_takes_more_than_ten_parameters():
    shape = _code_shape()
    too_long = [
        f"{where} takes {count}"
        for path, text in shape.sources(None).items()
        for count, where in shape.parameter_counts(path, text)
        if count > MAX_PARAMETERS
    ]
    assert not too_long


def test_no_module_is_longer_than_600_lines():
    too_long = {
        path: text.count("\n")
        for path, text in _code_shape().sources(None).items()
        if text.count("\n") > MAX_LINES
    }
    assert not too_long
