"""Fault injection, strokes files (``trainer/data/pen_digits.py``, read by ``digitpad-eval
--strokes`` and ``digitpad-train --my-digits``): a gzip bomb, ``/dev/zero``, an empty file, a 30 MB
file and lines Python cannot take. Each is refused quickly, in bounded memory, with one line naming
the file (and the line), or measured in memory far below its size — never a traceback."""

from __future__ import annotations

import pytest
from hostile_inputs import digit_line, run_measured, write_gzip_bomb, write_strokes

from trainer.data.pen_digits import PenDigitsError, read_pen_digits


def _eval(*args, timeout=120):
    return run_measured(["-m", "trainer.cli.eval_cli", *args], timeout=timeout)


def test_a_gzip_bomb_of_blank_lines_is_refused_without_holding_it(tmp_path):
    bomb = write_gzip_bomb(tmp_path / "bomb.jsonl.gz", 300)  # 300 KB expanding to 300 MiB
    done = _eval("--strokes", str(bomb))
    assert done.returncode == 2 and "more than 256 MiB of text" in done.stderr, done.stderr
    assert done.peak_mb < 400, done.peak_mb  # was 2.2 GB for 1 GiB, and "accuracy 0.00 % of 0"


def test_dev_zero_is_refused_at_once(tmp_path):
    done = _eval("--strokes", "/dev/zero", timeout=30)  # read without end before
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_an_empty_strokes_file_is_an_error_not_a_measurement(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    done = _eval("--strokes", str(empty))
    assert done.returncode == 2 and "holds no digits" in done.stderr, done.stdout + done.stderr
    assert "accuracy" not in done.stdout


def test_a_30_mb_strokes_file_is_measured_in_memory_far_below_its_size_times_32(tmp_path):
    # The small file first: it also compiles the kernels (or loads them from the cache), whose
    # memory would otherwise count against the big file alone.
    base = _eval("--strokes", str(write_strokes(tmp_path / "one.jsonl", 0.01))).peak_mb
    big = write_strokes(tmp_path / "big.jsonl", 30, points=1000)
    done = _eval("--strokes", str(big), timeout=300)
    assert done.returncode == 0, done.stderr
    n = sum(1 for _ in open(big))
    assert f"of {n}" in done.stdout
    assert done.peak_mb - base < 60, (done.peak_mb, base)  # was ~32 bytes per byte of the file


@pytest.mark.parametrize(
    "line, words",
    [
        ('{"label": ' + "1" * 5000 + ', "strokes": [[[1, 2]]]}\n', ["not valid JSON", "4300"]),
        (digit_line(5, source="\ud800"), ["'source' is not valid Unicode text"]),
        (digit_line(5)[:-1] + " " * (1024 * 1024) + "\n", ["longer than 1048576 bytes"]),
        (digit_line(55_000), ["more than 50000 points"]),
    ],
)
def test_strokes_lines_python_cannot_take_are_refused_naming_the_line(tmp_path, line, words):
    path = tmp_path / "bad.jsonl"
    path.write_text(digit_line(5) + line, errors="surrogatepass")
    with pytest.raises(PenDigitsError) as caught:
        read_pen_digits(path)
    assert caught.value.line == 2 and all(w in str(caught.value) for w in words), caught.value
