"""Does the UI keep up? Two measurements on the real window (Qt's offscreen platform, real events).

    python bench/bench_ui_responsiveness.py                 # both
    python bench/bench_ui_responsiveness.py --pen-lag       # only the first
    python bench/bench_ui_responsiveness.py --pen-lag --numpy-path   # ... with the NumPy path
    python bench/bench_ui_responsiveness.py --pen-lag --network-view both  # dock hidden, shown
    python bench/bench_ui_responsiveness.py --training      # only the second
    python bench/bench_ui_responsiveness.py --cold-jit      # also: Cancel during the first JIT compile
    python bench/bench_ui_responsiveness.py --start-up      # only: stalls while the kernels load
    add --json for one JSON line at the end

1. **Pen lag.** A stroke of 2 000 mouse moves (real ``QMouseEvent``s sent to the canvas) is replayed
   as fast as Qt delivers events: each move is posted to the event queue when the previous one has
   been handled, so the predictor's results, repaints and timers interleave with the moves exactly
   as they do with a real, very fast mouse. For every move, the lag is the time from the move's
   arrival to the moment the activation widgets first hold a result for a drawing that includes
   it; also reported until the bars have been *repainted* with it. Reported: p50, p99, max. Uses
   ``assets/model.npz`` (784-800-800-10) or, without it, a random network of the same shape.
   ``--numpy-path``: with the plain NumPy path the app reads drawings with until Numba's kernels
   are ready (the first seconds of a first start), instead of the compiled kernels.
   ``--network-view hidden|shown|both``: with the "Inside the network" dock hidden or shown (by
   default as the app would start); ``both`` measures hidden, shown, hidden, shown back to back
   (``--pairs N``: N pairs) and prints what the view adds to the p99 lag in each pair. With the
   dock shown, also reported: the view's own work on the GUI thread (each redraw, and each
   repaint of its plots), count, p50 and p99.
2. **Event-loop stalls while retraining.** One epoch of the ``default`` preset (784-800-800-10,
   Adam, dropout, augmentation, slashed zeros, all of MNIST) runs in the app's TrainingWorker — it
   keeps both cores busy — while a QTimer beats every 5 ms in the GUI thread; the longest gap
   between beats is the longest the UI was frozen. Reported: max, p99 and the number of gaps above
   50 / 100 ms, over the epoch (augmentation, training, validation) and over the whole run.
3. ``--cold-jit`` (in a child process with an empty Numba cache, twice): Start, then Cancel and
   Close 0.5 s (network set-up) and 4 s (the training loop's compilation) into the first run's JIT
   compilation; the longest stall, how long Close took, and when the cancelled run really ended.

4. ``--start-up`` (in a child process, first with an empty cache, then with the cache it filled):
   the app starts as ``main()`` does; between the ready window (NumPy path) and the moment the
   loader thread has the compiled kernels, the longest gap between 5 ms heartbeats of the GUI
   thread (Numba's compiler and its import hold the GIL in stretches).

Timings are only meaningful on an otherwise idle machine: the script says so when it finds a
``digitpad-train`` running.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the event-loop heartbeat the GUI tests use
from event_loop import Heartbeat  # noqa: E402

DEFAULT_MNIST = ROOT.parent / "shared/data/mnist"


def _percentiles(values_ms: list[float]) -> dict:
    a = np.asarray(values_ms, dtype=float)
    return {
        "p50": round(float(np.percentile(a, 50)), 2),
        "p99": round(float(np.percentile(a, 99)), 2),
        "max": round(float(a.max()), 2),
        "n": int(a.size),
    }


def _busy_machine_note() -> str:
    found = subprocess.run(["pgrep", "-f", "digitpad-train"], capture_output=True, text=True)
    load = os.getloadavg()[0]
    note = f"load average {load:.2f} on {os.cpu_count()} cores"
    if found.stdout.strip():
        note += " — WARNING: a digitpad-train is running, the figures are not representative"
    return note


def _app():
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication([sys.argv[0]])


def _model_path() -> tuple[Path, str]:
    shipped = ROOT / "assets" / "model.npz"
    if shipped.exists():
        return shipped, "assets/model.npz"
    from trainer.core.network import Network
    from trainer.model_io import save_model

    path = Path(tempfile.mkdtemp()) / "random-784-800-800-10.npz"
    save_model(Network([784, 800, 800, 10], seed=0), path, {"name": "random 784-800-800-10"})
    return path, "random 784-800-800-10 (assets/model.npz not found)"


# --- 1. pen lag ---------------------------------------------------------------------------------


def figure_eight(n: int, width: int, height: int) -> list[tuple[float, float]]:
    t = np.linspace(0.0, 2.0 * np.pi, n)
    xs = width / 2 + 0.22 * width * np.sin(t)
    ys = height / 2 - 0.38 * height * np.sin(2 * t) * 0.5 - 0.38 * height * np.cos(t) * 0.5
    return [(float(x), float(y)) for x, y in zip(xs, ys)]


def measure_pen_lag(
    moves: int = 2000, numpy_path: bool = False, network_view: str | None = None
) -> dict:
    from PySide6.QtCore import QCoreApplication, QEvent, QObject, QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    from digitpad.app import MainWindow

    app = _app()
    path, model_name = _model_path()
    window = MainWindow(path)
    window.resize(1000, 640)
    if network_view is not None:
        window.network_view.setVisible(network_view == "shown")
    window.show()
    view_work = [] if window.network_view.isHidden() else _watch_network_view(window)
    for _ in range(20):
        app.processEvents()
    canvas, predictor = window.canvas, window.predictor
    if numpy_path:
        predictor._compiled = False  # as before the loader thread has prepared the kernels
    points = figure_eight(moves + 1, canvas.width(), canvas.height())
    pump_type = QEvent.Type(QEvent.registerEventType())
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    arrived: list[tuple[int, float]] = []  # (generation after the move, time the move arrived)
    shown: list[tuple[int, float]] = []  # (generation on screen, time it got there)
    computations: list[float] = []

    class Replay(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.i = 0
            self.done = False

        def event(self, event) -> bool:
            if event.type() != pump_type:
                return super().event(event)
            point = QPointF(*points[self.i])
            if self.i == 0:
                kind, button, buttons = QEvent.Type.MouseButtonPress, left, left
            elif self.i < len(points) - 1:
                kind, button, buttons = QEvent.Type.MouseMove, none, left
            else:
                kind, button, buttons = QEvent.Type.MouseButtonRelease, left, none
            started = time.perf_counter()
            QApplication.sendEvent(
                canvas,
                QMouseEvent(
                    kind,
                    point,
                    canvas.mapToGlobal(point),
                    button,
                    buttons,
                    Qt.KeyboardModifier.NoModifier,
                ),
            )
            arrived.append((predictor._generation, started))
            self.i += 1
            if self.i < len(points):
                QCoreApplication.postEvent(self, QEvent(pump_type))
            else:
                self.done = True
            return True

    def on_shown(x, p) -> None:  # connected after the window's own slot: the bars are updated
        shown.append((predictor._shown, time.perf_counter()))
        computations.append(1000 * predictor.last_seconds)

    painted: list[tuple[int, float]] = []  # (generation on the bars, time their repaint ended)

    class PaintWatch(QObject):
        def eventFilter(self, watched, event) -> bool:
            if event.type() == QEvent.Type.Paint:
                generation = shown[-1][0] if shown else -1
                watched.removeEventFilter(self)  # see the paint itself through, then come back
                QApplication.sendEvent(watched, event)
                watched.installEventFilter(self)
                painted.append((generation, time.perf_counter()))
                return True
            return False

    paint_watch = PaintWatch()
    window.activations.bars.installEventFilter(paint_watch)
    predictor.predicted.connect(on_shown)
    replay = Replay()
    started = time.perf_counter()
    QCoreApplication.postEvent(replay, QEvent(pump_type))
    while not replay.done:
        app.processEvents()
    app.processEvents()
    seconds = time.perf_counter() - started
    window.activations.bars.removeEventFilter(paint_watch)

    def lags_until(events: list[tuple[int, float]]) -> list[float]:
        lags, j = [], 0
        for generation, at in arrived[1:-1]:  # the moves themselves (not the press or release)
            while j < len(events) and events[j][0] < generation:
                j += 1
            if j < len(events):
                lags.append(1000 * (events[j][1] - at))
        return lags

    lags = lags_until(shown)
    final = [1000 * (at_shown - arrived[-1][1]) for g, at_shown in shown if g >= arrived[-1][0]]
    window.close()
    return {
        "model": model_name,
        "path": "NumPy" if numpy_path else "compiled",
        "moves": moves,
        "network_view": "hidden" if window.network_view.isHidden() else "shown",
        "replay_seconds": round(seconds, 2),
        "moves_per_second": round(moves / seconds),
        "results_shown": len(shown),
        "lag_ms": _percentiles(lags),
        "lag_until_bars_painted_ms": _percentiles(lags_until(painted)),
        "computation_ms": _percentiles(computations),
        "lag_after_release_ms": round(final[0], 2) if final else None,
        "network_view_work_ms": _percentiles(view_work) if view_work else None,
    }


#: The issue's bounds: the network view adds at most this to the p99 pen lag, which stays below
#: the second.
VIEW_ADDS_TARGET_MS = 5.0
LAG_P99_TARGET_MS = 30.0


def network_view_cost(runs: list[dict]) -> list[float]:
    """p99 lag with the view shown minus the run with it hidden just before, for each pair of
    ``runs`` (hidden, shown, hidden, shown, ...)."""
    return [
        round(shown["lag_ms"]["p99"] - hidden["lag_ms"]["p99"], 2)
        for hidden, shown in zip(runs[::2], runs[1::2])
    ]


def _watch_network_view(window) -> list[float]:
    """Build the dock's panel now, and record how long each of its redraws and plot repaints
    keeps the GUI thread (ms) from then on."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    work: list[float] = []
    panel = window.network_view.panel
    redraw = panel._show_inside

    def timed_redraw(inside) -> None:
        started = time.perf_counter()
        redraw(inside)
        work.append(1000 * (time.perf_counter() - started))

    panel.computer.computed.disconnect(redraw)
    panel.computer.computed.connect(timed_redraw)

    class PaintTimer(QObject):
        def eventFilter(self, watched, event) -> bool:
            if event.type() != QEvent.Type.Paint:
                return False
            watched.removeEventFilter(self)
            started = time.perf_counter()
            QApplication.sendEvent(watched, event)
            work.append(1000 * (time.perf_counter() - started))
            watched.installEventFilter(self)
            return True

    window._paint_timer = PaintTimer()
    for plot in (panel.why_plot, panel.layers_plot, panel.units_plot, panel.unit_plot):
        plot.viewport().installEventFilter(window._paint_timer)
    for _ in range(20):
        QApplication.processEvents()
    work.clear()
    return work


# --- 2. stalls while retraining -----------------------------------------------------------------


def measure_training_stalls(mnist_dir: Path, epochs: int = 1) -> dict:
    from PySide6.QtCore import QObject, QTimer, Slot

    from digitpad.training_worker import TrainingWorker
    from trainer.config import PRESETS

    app = _app()
    config = PRESETS["default"].replace(epochs=epochs)
    marks: dict[str, float] = {}
    epoch_seconds: list[float] = []

    class Receiver(QObject):  # lives in the GUI thread: the worker's signals are queued to it
        @Slot(str)
        def phase(self, text: str) -> None:
            if "Preparing" in text:
                marks["epochs_start"] = time.perf_counter()

        @Slot(object)
        def epoch(self, record) -> None:
            marks["epochs_end"] = time.perf_counter()
            epoch_seconds.append(record.seconds)

        @Slot(object)
        def finished(self, outcome) -> None:
            marks["end"] = time.perf_counter()
            marks["status"] = outcome.status
            QTimer.singleShot(20, app.quit)

    receiver = Receiver()
    worker = TrainingWorker(config, mnist_dir=mnist_dir)
    worker.phase.connect(receiver.phase)
    worker.epochFinished.connect(receiver.epoch)
    worker.finished.connect(receiver.finished)
    heartbeat = Heartbeat(5)
    cpu_before, wall_before = os.times(), time.perf_counter()
    marks["start"] = wall_before
    worker.start()
    app.exec()
    heartbeat.stop()
    worker.wait()
    cpu_after, wall_after = os.times(), time.perf_counter()
    cpu = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)

    def summary(gaps: list[float]) -> dict:
        return {
            **_percentiles(gaps),
            "over_50ms": sum(g > 50 for g in gaps),
            "over_100ms": sum(g > 100 for g in gaps),
        }

    return {
        "preset": "default",
        "epochs": epochs,
        "status": marks.get("status"),
        "epoch_seconds": [round(s, 1) for s in epoch_seconds],
        "cpu_use": f"{100 * cpu / (wall_after - wall_before):.0f} % of one core "
        f"({os.cpu_count()} cores)",
        "stall_ms_during_epochs": summary(
            heartbeat.gaps_ms(marks["epochs_start"], marks["epochs_end"])
        ),
        "stall_ms_whole_run": summary(heartbeat.gaps_ms()),
    }


# --- 3. Cancel during the first JIT compilation -------------------------------------------------

_COLD_JIT_CHILD = r"""
import json, os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([])
app.setQuitOnLastWindowClosed(False)  # closing the dialog must not end the measurement
from digitpad.retrain_dialog import RetrainDialog
dialog = RetrainDialog(mnist_dir=sys.argv[1])
dialog.show()
dialog.set_preset("nielsen")
dialog.set_field("train_subset", 3000)
from bench.bench_ui_responsiveness import Heartbeat
heartbeat = Heartbeat(5)
marks = {}
def cancel_and_close():
    marks["cancel"] = time.perf_counter()
    dialog.cancel(); dialog.close()
    marks["close_took"] = time.perf_counter() - marks["cancel"]
def watch():
    if "compiles" in dialog.phase_label.text() and "cancel" not in marks:
        QTimer.singleShot(int(float(sys.argv[2]) * 1000), cancel_and_close)
        marks["compiling"] = time.perf_counter()
    if "cancel" in marks and dialog.state() != "running":
        marks["ended"] = time.perf_counter(); app.quit()
poll = QTimer(); poll.timeout.connect(watch); poll.start(10)
assert dialog.start()
app.exec()
print(json.dumps({"close_took_ms": round(1000 * marks["close_took"], 1),
                  "cancelled_run_ended_after_s": round(marks["ended"] - marks["cancel"], 2),
                  "status": dialog.outcome.status,
                  "max_stall_ms": round(max(heartbeat.gaps_ms()), 1)}))
"""


def measure_cold_jit(mnist_dir: Path, after_seconds: float) -> dict:
    """Cancel + Close ``after_seconds`` into the first run's compilation (empty Numba cache)."""
    with tempfile.TemporaryDirectory() as cache:
        done = subprocess.run(
            [sys.executable, "-c", _COLD_JIT_CHILD, str(mnist_dir), str(after_seconds)],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=ROOT,
            env={**os.environ, "NUMBA_CACHE_DIR": cache},
        )
    if done.returncode != 0:
        return {"error": done.stderr[-2000:], "returncode": done.returncode}
    return {
        "cancelled_after_s": after_seconds,
        **json.loads(done.stdout.strip().splitlines()[-1]),
        "returncode": done.returncode,
    }


_START_UP_CHILD = """
import json, os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, sys.argv[1])
from bench.bench_ui_responsiveness import Heartbeat, _app, _model_path
from digitpad.app import MainWindow
app = _app()
window = MainWindow(_model_path()[0], background=True)
initial = window.model
window.show()
heartbeat = Heartbeat()
while window.model is initial:
    app.processEvents()
    time.sleep(0.001)
ready = time.perf_counter()
while not window.predictor.is_compiled():
    app.processEvents()
    time.sleep(0.001)  # an idle GUI thread, as when nobody draws
compiled = time.perf_counter()
gaps = heartbeat.gaps_ms(ready, compiled)
print(json.dumps({"compiled_after_ready_s": round(compiled - ready, 2),
                  "max_stall_ms": round(max(gaps), 1),
                  "stalls_over_50ms": sum(g > 50 for g in gaps),
                  "stalls_over_100ms": sum(g > 100 for g in gaps)}))
window.close()
"""


def measure_start_up_stalls() -> dict:
    """GUI-thread stalls while the loader thread prepares the kernels: first and later start."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "XDG_CACHE_HOME": str(Path(tmp) / "cache"),
            "XDG_DATA_HOME": str(Path(tmp) / "data"),
        }
        for name in ("NUMBA_CACHE_DIR", "NUMBA_CACHE_LOCATOR_CLASSES"):
            env.pop(name, None)
        for kind in ("first start", "later start"):
            done = subprocess.run(
                [sys.executable, "-c", _START_UP_CHILD, str(ROOT)],
                capture_output=True,
                text=True,
                timeout=900,
                cwd=tmp,
                env=env,
            )
            if done.returncode != 0:
                return {"error": done.stderr[-2000:], "returncode": done.returncode}
            results[kind] = json.loads(done.stdout.strip().splitlines()[-1])
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pen-lag", action="store_true", help="only the pen-lag measurement")
    parser.add_argument("--training", action="store_true", help="only the retraining measurement")
    parser.add_argument(
        "--cold-jit",
        action="store_true",
        help="also Cancel + Close during the first run's JIT compilation",
    )
    parser.add_argument(
        "--start-up",
        action="store_true",
        help="only the stalls while the kernels are prepared at start-up",
    )
    parser.add_argument(
        "--numpy-path",
        action="store_true",
        help="pen lag with the NumPy path instead of the compiled kernels",
    )
    parser.add_argument(
        "--network-view",
        choices=("hidden", "shown", "both"),
        help="pen lag with the network view dock hidden, shown, or both in turn",
    )
    parser.add_argument(
        "--pairs", type=int, default=2, help="with --network-view both: hidden/shown pairs"
    )
    parser.add_argument("--moves", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument(
        "--mnist-dir",
        type=Path,
        default=Path(os.environ.get("DIGITPAD_MNIST_DIR") or DEFAULT_MNIST),
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    both = not (args.pen_lag or args.training or args.start_up)
    report = {"machine": _busy_machine_note()}
    print(report["machine"], flush=True)
    if args.start_up:
        report["start_up"] = stalls = measure_start_up_stalls()
        for kind, figures in stalls.items():
            print(f"{kind}: {figures}", flush=True)
    if args.pen_lag or both:
        views = {"both": ["hidden", "shown"] * args.pairs, None: [None]}.get(
            args.network_view, [args.network_view]
        )
        report["pen_lag"] = [measure_pen_lag(args.moves, args.numpy_path, v) for v in views]
    for lag in report.get("pen_lag", []):
        print(
            f"pen lag over {lag['moves']} moves ({lag['model']}, {lag['path']} path, network "
            f"view {lag['network_view']}, {lag['moves_per_second']} "
            f"moves/s, {lag['results_shown']} results shown): p50 {lag['lag_ms']['p50']} ms, "
            f"p99 {lag['lag_ms']['p99']} ms, max {lag['lag_ms']['max']} ms (until the bars are "
            f"repainted: p50 {lag['lag_until_bars_painted_ms']['p50']} ms, p99 "
            f"{lag['lag_until_bars_painted_ms']['p99']} ms); one computation p50 "
            f"{lag['computation_ms']['p50']} ms",
            flush=True,
        )
        if lag["network_view_work_ms"]:
            work = lag["network_view_work_ms"]
            print(
                f"  network view on the GUI thread: {work['n']} redraws and repaints, p50 "
                f"{work['p50']} ms, p99 {work['p99']} ms, max {work['max']} ms",
                flush=True,
            )
    if args.network_view == "both":
        report["network_view_adds_p99_ms"] = added = network_view_cost(report["pen_lag"])
        print(
            f"the network view adds to the p99 pen lag (shown − hidden, run by run): {added} ms "
            f"(target ≤ {VIEW_ADDS_TARGET_MS} ms; total p99 with it shown: "
            f"{[lag['lag_ms']['p99'] for lag in report['pen_lag'][1::2]]} ms, target ≤ "
            f"{LAG_P99_TARGET_MS} ms)",
            flush=True,
        )
    if args.training or both:
        report["training"] = run = measure_training_stalls(args.mnist_dir, args.epochs)
        during = run["stall_ms_during_epochs"]
        print(
            f"event loop during {args.epochs} epoch(s) of the default preset "
            f"({run['epoch_seconds']} s, {run['cpu_use']}): longest stall {during['max']} ms, "
            f"p99 {during['p99']} ms, {during['over_100ms']} gaps > 100 ms; whole run "
            f"(MNIST loading and test included): longest {run['stall_ms_whole_run']['max']} ms",
            flush=True,
        )
    if args.cold_jit:
        report["cold_jit"] = []
        for after in (0.5, 4.0):  # in the network set-up, and in the training loop's compilation
            cold = measure_cold_jit(args.mnist_dir, after)
            report["cold_jit"].append(cold)
            print(
                f"Cancel + Close {after} s into the first run's JIT compilation: {cold}", flush=True
            )
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
