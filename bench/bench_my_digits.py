"""How fast a large collection of the user's own drawings opens in the My digits window.

    python bench/bench_my_digits.py                  # 10 000 drawings, 5 repeats
    python bench/bench_my_digits.py --drawings 20000 --repeats 3

The collection is written as the app writes it (one JSON line per drawing), from real pen digits of
``pen-digits-dev`` when that file is beside the repository (else from synthetic strokes), repeated
until there are ``--drawings`` of them. Each repeat times, in a fresh ``Collection``:

* ``load``: reading and checking the file (``Collection.load``);
* ``window``: building the My digits window on it and showing it until its first paint is done (what
  the user waits for before seeing the grid);
* ``verdicts``: until the current model's verdicts on every drawing are shown (computed on a
  background thread while the window is already usable).

The issue's bound is on the first two together: "10 000 drawings open in the My digits window in
under a second". Runs offscreen; the medians and the worst repeat are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from digitpad.assets import shipped_model_path  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from digitpad.gui_thread_gc import collect_garbage_on_gui_thread  # noqa: E402
from digitpad.my_digits_window import MyDigitsWindow  # noqa: E402
from trainer.data.collection import Collection, new_drawing  # noqa: E402
from trainer.data.pen_digits import read_pen_digits  # noqa: E402
from trainer.model_io import load_model  # noqa: E402

PEN_DIGITS = Path(__file__).resolve().parents[2] / "shared/data/pen-digits-dev.jsonl.gz"


def source_drawings() -> list[tuple[int, list]]:
    if PEN_DIGITS.exists():
        return [(int(d.label), d.strokes) for d in read_pen_digits(PEN_DIGITS)]
    return [(i % 10, [[[x + 0.5, (x * x + i) % 97 + 0.25] for x in range(60)]]) for i in range(100)]


def write_collection(path: Path, count: int) -> None:
    sources = source_drawings()
    with path.open("w", encoding="utf-8") as out:
        for index in range(count):
            label, strokes = sources[index % len(sources)]
            out.write(new_drawing(label, strokes, (600, 600)).to_json() + "\n")


def wait_until(app: QApplication, done, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.001)


def one_opening(app: QApplication, path: Path, network) -> dict[str, float]:
    started = time.perf_counter()
    collection = Collection(path)
    collection.load()
    loaded = time.perf_counter()
    window = MyDigitsWindow(collection, network)
    verdicts_shown = []
    window.model.verdictsReady.connect(lambda: verdicts_shown.append(time.perf_counter()))
    window.show()
    window.grid.viewport().repaint()  # the first paint of the grid, thumbnails included
    app.processEvents()
    shown = time.perf_counter()
    wait_until(app, lambda: verdicts_shown)
    window.close()
    window.deleteLater()
    app.processEvents()
    return {
        "load": loaded - started,
        "window": shown - loaded,
        "open": shown - started,
        "verdicts": verdicts_shown[0] - started,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drawings", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_garbage_on_gui_thread()  # the app's policy, which its main window puts in place
    network, _ = load_model(shipped_model_path())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "my-digits.jsonl"
        write_collection(path, args.drawings)
        size = path.stat().st_size / 1e6
        print(f"{args.drawings} drawings ({size:.1f} MB), {args.repeats} openings")
        runs = [one_opening(app, path, network) for _ in range(args.repeats)]
    for key, what in (
        ("load", "read and check the file"),
        ("window", "build and paint the window"),
        ("open", "open in the My digits window (both)"),
        ("verdicts", "until every verdict is shown"),
    ):
        values = [run[key] for run in runs]
        print(f"  {what:<38} median {statistics.median(values):6.3f} s, worst {max(values):6.3f} s")


if __name__ == "__main__":
    main()
