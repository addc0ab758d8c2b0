"""``digitpad --selftest``: prove without a screen that this DigitPad (from source or frozen) works.

It starts the way :func:`digitpad.app.main` does — the window is shown at once, the model is loaded
on the loader thread — and waits until that window is ready (it can read a drawing: in plain NumPy
until the loader thread has prepared Numba's kernels). Then it feeds known hand-written digits
(below) through the real stroke function and network, draws them on the window's canvas and reads
the window's verdict, waits for the compiled kernels and checks that they give the same
probabilities and verdicts, closes the window, and exits 0 only if everything was right. Each step
prints one line; the last line is ``selftest: PASS`` or ``selftest: FAIL ...``.

Qt uses its ``offscreen`` platform unless ``QT_QPA_PLATFORM`` or ``-platform`` says otherwise (e.g.
``-platform xcb`` under Xvfb). The model is the shipped one, or the file given with ``--model``; the
user's kept model is never used, so the verdicts below are checked against what ships.

The line ``selftest: ready after S s`` gives the time from the start of the process to the ready
window (read from ``/proc``); ``bench/bench_startup.py`` times the same moment from outside.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

#: Lowest probability the network must give the right digit, directly and in the window. The shipped
#: model (≥ 99 % on MNIST) gives more than 0.99 to each of these.
MIN_CONFIDENCE = 0.8

#: How long the loader thread may take to load the model, and then to compile the kernels (a cold
#: Numba cache on a busy 2-core machine takes around 10 s).
READY_TIMEOUT_S = 180.0

#: Largest difference allowed between the compiled kernels' probabilities and the NumPy path's.
PATHS_TOLERANCE = 1e-5

# Known digits: real pen-written digits from the UNIPEN train_r01_v07 data set, category 1a
# (UNIPEN consortium, CC BY 4.0, doi 10.5281/zenodo.1195803), as kept in pen-digits-dev.jsonl.gz:
# (label, UNIPEN id, strokes in screen pixels, y down). Points rounded to 0.1 px.
KNOWN_DIGITS: list[tuple[int, str, list[list[tuple[float, float]]]]] = [
    (
        0,
        "apa/apa14/app1473.dat#1",
        [
            [
                (2, 0.7),
                (1.3, 0),
                (0.7, 1.3),
                (0.7, 4),
                (0, 5.3),
                (0.7, 7.3),
                (1.3, 7.9),
                (2, 7.9),
                (4, 7.9),
                (4.6, 6.6),
                (4.6, 5.3),
                (5.3, 3.3),
                (4.6, 2),
                (4, 1.3),
                (2.6, 0.7),
                (2, 0.7),
                (1.3, 1.3),
            ],
        ],
    ),
    (
        1,
        "apb/apb23/app2349.dat#1",
        [
            [
                (7.9, 2.6),
                (7.9, 2),
                (7.9, 0),
                (8.6, 0),
                (9.3, 4.6),
                (7.3, 15.2),
                (5.3, 26.5),
                (2.6, 35.1),
                (0.7, 43.7),
                (0, 48.3),
                (0, 51),
            ],
        ],
    ),
    (
        2,
        "apb/apb41/app4134.dat#7",
        [
            [
                (0, 15.2),
                (0, 11.3),
                (2, 6),
                (6, 2.6),
                (15.9, 0),
                (33.8, 2),
                (51.6, 4.6),
                (63.6, 8.6),
                (69.5, 15.2),
                (70.2, 27.8),
                (62.2, 41),
                (47.7, 51.6),
                (33.8, 60.9),
                (23.2, 67.5),
                (17.2, 71.5),
                (15.9, 72.2),
                (15.9, 72.2),
                (19.2, 69.5),
                (25.8, 66.9),
                (33.1, 65.5),
                (40.4, 66.9),
                (46.3, 68.9),
                (53.6, 74.2),
                (62.9, 78.1),
                (70.8, 80.8),
                (79.4, 81.4),
                (85.4, 80.8),
                (88.1, 80.1),
                (88.7, 78.1),
                (84.1, 76.1),
            ],
        ],
    ),
    (
        3,
        "apb/apb28/app2831.dat#13",
        [
            [
                (4.6, 4),
                (7.3, 3.3),
                (16.6, 0.7),
                (21.8, 0),
                (25.8, 1.3),
                (27.1, 3.3),
                (27.1, 5.3),
                (23.2, 9.3),
                (19.2, 13.9),
                (15.9, 15.9),
                (15.2, 17.9),
                (17.2, 21.2),
                (23.2, 23.2),
                (29.1, 27.8),
                (31.8, 31.1),
                (33.1, 36.4),
                (30.5, 42.4),
                (24.5, 46.3),
                (15.9, 49),
                (7.3, 49),
                (0, 46.3),
            ],
        ],
    ),
    (
        4,
        "apb/apb17/app1788.dat#4",
        [
            [
                (21.8, 25.8),
                (20.5, 19.9),
                (20.5, 19.2),
                (20.5, 19.9),
                (19.2, 21.8),
                (14.6, 27.8),
                (8.6, 34.4),
                (3.3, 39.1),
                (0, 43.7),
                (0, 47.7),
                (1.3, 52.3),
                (9.9, 52.3),
                (23.2, 52.3),
                (37.1, 50.3),
                (48.3, 49.7),
                (55.6, 48.3),
                (60.2, 48.3),
            ],
            [
                (78.1, 0),
                (74.8, 4),
                (70.2, 10.6),
                (61.6, 19.9),
                (53.6, 29.8),
                (44.4, 41),
                (36.4, 54.3),
                (29.8, 65.5),
                (26.5, 74.8),
                (25.2, 83.4),
            ],
        ],
    ),
    (
        5,
        "apb/apb40/app4052.dat#3",
        [
            [
                (49.7, 2),
                (46.3, 5.3),
                (40.4, 13.2),
                (33.8, 22.5),
                (31.8, 31.1),
                (36.4, 41),
                (47.7, 49.7),
                (63.6, 58.3),
                (75.5, 65.5),
                (81.4, 71.5),
                (81.4, 76.1),
                (72.8, 83.4),
                (55.6, 90.7),
                (34.4, 96),
                (13.2, 96),
                (0, 92),
            ],
            [(35.1, 11.9), (42.4, 11.3), (58.3, 8.6), (75.5, 6.6), (97.3, 2.6), (120.5, 0)],
        ],
    ),
    (
        6,
        "apb/apb22/app2226.dat#3",
        [
            [
                (43.7, 6),
                (41.7, 2),
                (39.7, 0),
                (36.4, 0),
                (31.1, 4),
                (25.2, 12.6),
                (18.5, 25.8),
                (11.9, 45.7),
                (8.6, 69.5),
                (11.3, 84.7),
                (17.2, 91.4),
                (26.5, 91.4),
                (37.1, 86.1),
                (46.3, 77.5),
                (48.3, 67.5),
                (45.7, 60.9),
                (36.4, 58.9),
                (23.8, 60.2),
                (11.3, 66.9),
                (3.3, 76.1),
                (0, 84.7),
            ],
        ],
    ),
    (
        7,
        "apb/apb32/app3201.dat#1",
        [
            [
                (0, 10.6),
                (1.3, 10.6),
                (6, 8.6),
                (13.9, 9.9),
                (27.1, 8.6),
                (40.4, 8.6),
                (53.6, 6.6),
                (63.6, 4),
                (69.5, 0.7),
                (70.8, 0),
                (70.8, 4),
                (67.5, 16.6),
                (60.9, 32.4),
                (50.3, 51.6),
                (37.1, 70.2),
                (27.1, 86.1),
                (18.5, 101.3),
                (9.9, 116.5),
            ],
        ],
    ),
    (
        8,
        "apb/apb05/app0562.dat#8",
        [
            [
                (70.8, 10.6),
                (68.2, 7.3),
                (62.9, 0),
                (52.3, 0),
                (39.1, 4),
                (29.8, 9.3),
                (23.2, 15.2),
                (20.5, 27.1),
                (23.2, 41),
                (27.1, 56.3),
                (29.8, 72.2),
                (31.1, 88.7),
                (30.5, 102),
                (27.1, 110.6),
                (20.5, 115.9),
                (10.6, 113.2),
                (3.3, 109.2),
                (0, 100),
                (3.3, 87.4),
                (14.6, 74.2),
                (32.4, 58.9),
                (52.3, 45.7),
                (68.2, 35.1),
                (80.1, 30.5),
            ],
        ],
    ),
    (
        9,
        "apb/apb35/app3589.dat#7",
        [
            [
                (58.9, 24.5),
                (61.6, 19.9),
                (62.9, 13.2),
                (62.2, 7.3),
                (60.2, 2),
                (56.9, 0),
                (49.7, 0),
                (39.1, 2.6),
                (29.1, 8.6),
                (17.2, 15.9),
                (7.3, 26.5),
                (2, 35.8),
                (0, 43.7),
                (2, 49.7),
                (5.3, 54.3),
                (12.6, 53.6),
                (22.5, 51),
                (33.1, 46.3),
                (43, 39.7),
                (51.6, 33.1),
                (58.3, 29.1),
                (61.6, 29.1),
                (62.2, 31.1),
                (64.9, 37.1),
                (64.2, 49),
                (58.9, 64.9),
                (53, 84.1),
                (47.7, 102.6),
                (43, 116.5),
                (39.1, 127.1),
            ],
        ],
    ),
]


def seconds_since_process_start() -> float | None:
    """Seconds since this process was started (exec included), or ``None`` without /proc."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22, "starttime", in clock ticks since boot
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class _Report:
    def __init__(self, out) -> None:
        self.out = out
        self.failures: list[str] = []

    def line(self, text: str) -> None:
        print(f"selftest: {text}", file=self.out, flush=True)

    def check(self, ok: bool, text: str) -> bool:
        self.line(f"{'ok  ' if ok else 'FAIL'} {text}")
        if not ok:
            self.failures.append(text)
        return ok


def _numba_cache_summary() -> str:
    """Where Numba's cache is and how many of the app's kernels came from it / were compiled now."""
    from numba.core.dispatcher import Dispatcher

    import trainer.fast.kernels
    import trainer.strokes.stroke_kernels

    hits = misses = 0
    where = set()
    for module in (trainer.fast.kernels, trainer.strokes.stroke_kernels):
        for value in vars(module).values():
            if isinstance(value, Dispatcher) and value.signatures:
                hits += sum(value.stats.cache_hits.values())
                misses += sum(value.stats.cache_misses.values())
                cache = getattr(value, "_cache", None)
                locator = getattr(getattr(cache, "_impl", None), "locator", None)
                if locator is not None:
                    where.add(f"{type(locator).__name__} {locator.get_cache_path()}")
    folders = "; ".join(sorted(where)) or "no cache"
    return f"{hits} kernels loaded from the cache, {misses} compiled ({folders})"


def _training_threads_summary() -> str:
    """How many threads training splits the input layer over, and on which threading layer (the
    frozen app must bundle Numba's OpenMP layer: without it, training runs on one core); and the
    BLAS libraries training can keep to one core (none found: it runs slower beside the images)."""
    import numba

    from trainer.fast import blas_threads, numba_threads

    threads = numba_threads.parallel_threads()
    blas = ", ".join(blas_threads.libraries()) or "none found"
    return (
        f"training's input layer on {threads} threads ({numba.threading_layer()}); "
        f"BLAS threads set through: {blas}"
    )


def _draw(canvas, strokes) -> None:
    """Draw ``strokes`` on the canvas through its stroke API (what mouse events end up calling)."""
    from PySide6.QtCore import QPointF

    from digitpad.stroke_fitting import fit_strokes

    for stroke in fit_strokes(strokes, canvas.width(), canvas.height()):
        canvas.begin_stroke(QPointF(*stroke[0]))
        for point in stroke[1:]:
            canvas.extend_stroke(QPointF(*point))
        canvas.end_stroke()


def _wait(app, condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.005)
    return True


def run_selftest(
    model: str | None = None, qt_args: list[str] | tuple[str, ...] = (), *, out=None
) -> int:
    """Run the self-test; returns the process exit code (0: all right, 1: something failed)."""
    out = sys.stdout if out is None else out
    report = _Report(out)
    t0 = time.monotonic()
    started = seconds_since_process_start()
    offset = started if started is not None else 0.0  # process age when this function began

    def elapsed() -> float:
        return offset + time.monotonic() - t0

    if "QT_QPA_PLATFORM" not in os.environ and "-platform" not in qt_args:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    window = None
    try:
        from PySide6.QtWidgets import QApplication

        from digitpad import __version__, model_store
        from digitpad.app import APP_TITLE, MainWindow

        app = QApplication.instance() or QApplication([sys.argv[0], *qt_args])
        app.setApplicationName(APP_TITLE)
        how = "frozen" if getattr(sys, "frozen", False) else "from source"
        report.line(
            f"DigitPad {__version__}, {how}, Python {sys.version.split()[0]}, "
            f"Qt platform {app.platformName()}"
        )

        # 1. Start-up, as main() does it: window first, the model on the loader thread.
        model_path = model if model is not None else model_store.shipped_model_path()
        window = MainWindow(model_path, background=True)
        initial = window.model
        window.show()
        report.line(f"window shown after {elapsed():.2f} s")
        ready = _wait(app, lambda: window.model is not initial, READY_TIMEOUT_S)
        if not report.check(
            ready, f"the model is loaded and the network is ready within {READY_TIMEOUT_S:.0f} s"
        ):
            return _finish(report, window)
        report.line(f"ready after {elapsed():.2f} s")
        loaded = window.model
        network = loaded.network
        report.check(
            network is not None and loaded.warning is None,
            f"model {loaded.path} loaded without warnings"
            + (f" ({loaded.warning})" if loaded.warning else ""),
        )
        if network is None:
            return _finish(report, window)
        accuracy = loaded.test_accuracy
        report.line(
            f"model: {loaded.name}, {'-'.join(map(str, network.layer_sizes))}, MNIST test "
            f"accuracy {'unknown' if accuracy is None else f'{100 * accuracy:.2f} %'}"
        )

        # 2. Known digits through the stroke function and the network (NumPy path).
        import numpy as np

        from digitpad.live_predictor import compute

        report.check(len(KNOWN_DIGITS) >= 3, f"{len(KNOWN_DIGITS)} known digits to check")
        for label, ident, strokes in KNOWN_DIGITS:
            _, p = compute(strokes, network)
            guess = int(np.argmax(p))
            report.check(
                guess == label and p[label] >= MIN_CONFIDENCE,
                f"network reads the {label} ({ident}) as {guess}, p = {p[guess]:.4f}",
            )

        # 3. The same digits drawn on the window's canvas: the verdict the window shows.
        for label, _ident, strokes in KNOWN_DIGITS:
            window.canvas.clear()
            _draw(window.canvas, strokes)
            settled = window.wait_for_prediction(10000)
            verdict = window.verdict()
            shown = window.probabilities()
            report.check(
                settled and verdict == label and shown[label] >= MIN_CONFIDENCE,
                f"window shows {verdict} for the drawn {label} (p = {shown[label]:.4f})",
            )
        window.canvas.clear()
        report.check(
            window.wait_for_prediction(10000) and window.verdict() is None,
            "a cleared canvas shows no verdict",
        )

        # 3b. The plots of the network view, the Mistakes window and the Retrain dialog can be
        # built: pyqtgraph imports some Qt modules by name, which a frozen app may lack.
        try:
            from pyqtgraph.Qt import OpenGLHelpers  # noqa: F401  (importing is the check)

            from digitpad import network_panel  # noqa: F401
        except ImportError as error:
            missing = f": {error}"
        else:
            missing = ""
        report.check(not missing, f"the network view's plots (pyqtgraph) import{missing}")

        # 4. The compiled kernels, once the loader thread has them, agree with the NumPy path.
        compiled = _wait(app, window.predictor.is_compiled, READY_TIMEOUT_S)
        if report.check(compiled, f"the compiled kernels are ready within {READY_TIMEOUT_S:.0f} s"):
            _check_compiled_agrees(report, network)
        report.line(f"numba: {_numba_cache_summary()}")
        report.line(f"threads: {_training_threads_summary()}")
    except Exception:  # anything unexpected is a failure with its traceback, never a hang
        report.check(False, "unexpected error:\n" + traceback.format_exc())
    return _finish(report, window)


def _check_compiled_agrees(report: _Report, network) -> None:
    import numpy as np

    from digitpad.live_predictor import compute

    worst, same = 0.0, True
    for _, _, strokes in KNOWN_DIGITS:
        _, reference = compute(strokes, network)
        _, p = compute(strokes, network, compiled=True)
        worst = max(worst, float(np.abs(p - reference).max()))
        same = same and int(np.argmax(p)) == int(np.argmax(reference))
    report.check(
        worst <= PATHS_TOLERANCE and same,
        f"compiled kernels and NumPy path agree: same verdicts, probabilities within {worst:.1e}",
    )


def _finish(report: _Report, window) -> int:
    if window is not None:
        from PySide6.QtWidgets import QApplication

        try:
            window.close()
            QApplication.processEvents()
            report.check(not window.isVisible(), "main window closed")
        except Exception:
            report.check(False, "closing the window failed:\n" + traceback.format_exc())
    if report.failures:
        report.line(f"FAIL ({len(report.failures)} problem(s))")
        return 1
    report.line("PASS")
    return 0
