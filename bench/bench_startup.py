"""Start-up time of DigitPad to a ready window: first start (empty caches) and later starts.

    python bench/bench_startup.py              # the built app (dist/DigitPad/digitpad), then from source
    python bench/bench_startup.py --built      # only the built app
    python bench/bench_startup.py --source     # only `python -m digitpad` (this interpreter)
    python bench/bench_startup.py --runs 5 --json

Each run starts ``digitpad --selftest`` (offscreen), whose first step is the app's real start-up:
the window is shown at once and the loader thread loads the shipped model; from then on the window
reads drawings (in NumPy), and the same thread goes on to compile Numba's kernels (first start) or
to load them from Numba's cache (later starts). "Ready" is the moment the window has the network:
the selftest prints ``selftest: ready after ...`` then, and this script times that line from
outside, from just before it starts the process. "Compiled" is when the self-test found the
compiled kernels ready (the line after its window checks; an upper bound). Every run has its own
empty ``XDG_DATA_HOME``; first starts get an empty cache folder each, later starts share one that
a first (unmeasured) run filled.

Only measure on an otherwise idle machine (this script warns when a training or another benchmark
runs, or the load is high). The OS file cache is not dropped: the first cold run after a build may
read the app from disk.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_APP = ROOT / "dist" / "DigitPad" / "digitpad"


def busy() -> str | None:
    """Why this machine is not idle enough to time anything, or ``None``."""
    result = subprocess.run(
        ["pgrep", "-f", "digitpad-train|trainer.cli.train_cli|bench/bench_"],
        capture_output=True,
        text=True,
    )
    others = [pid for pid in result.stdout.split() if int(pid) != os.getpid()]
    if others:
        return f"a training or benchmark runs (pids {', '.join(others)})"
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        return f"the load average is {load:.1f}"
    return None


def one_run(command: list[str], cache: Path, data: Path, cwd: Path, timeout: float) -> dict:
    env = dict(
        os.environ,
        XDG_CACHE_HOME=str(cache),
        XDG_DATA_HOME=str(data),
        QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
    )
    for name in ("NUMBA_CACHE_DIR", "NUMBA_CACHE_LOCATOR_CLASSES"):
        env.pop(name, None)
    t0 = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    shown = ready = compiled = None
    lines = []
    deadline = t0 + timeout
    for line in process.stdout:
        lines.append(line)
        now = time.perf_counter() - t0
        if line.startswith("selftest: window shown after") and shown is None:
            shown = now
        elif line.startswith("selftest: ready after") and ready is None:
            ready = now
        elif line.startswith("selftest: ok   the compiled kernels are ready") and compiled is None:
            compiled = now
        if time.perf_counter() > deadline:
            process.kill()
            break
    code = process.wait()
    if code != 0 or ready is None:
        raise RuntimeError(f"{' '.join(command)} failed (exit status {code}):\n{''.join(lines)}")
    numba_line = next((l.strip() for l in lines if l.startswith("selftest: numba:")), "")
    return {
        "shown_s": shown,
        "ready_s": ready,
        "compiled_s": compiled,
        "total_s": time.perf_counter() - t0,
        "numba": numba_line.removeprefix("selftest: numba: "),
    }


def summary(runs: list[dict], key: str) -> dict | None:
    """Median, min, max of ``key`` over the runs; ``None`` if no run printed that line (an app
    from before the self-test reported it)."""
    values = [r[key] for r in runs if r[key] is not None]
    if not values:
        return None
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": values,
    }


KINDS = {"first": "first start (empty caches)", "later": "later starts"}


def measure(command: list[str], runs: int, timeout: float) -> dict:
    """``runs`` first starts and ``runs`` later starts of ``command``, with their summaries."""
    results: dict = {"first": [], "later": []}
    with tempfile.TemporaryDirectory(prefix="digitpad-bench-startup-") as tmp:
        tmp = Path(tmp)
        cwd = tmp / "cwd"
        cwd.mkdir()
        for i in range(runs):
            results["first"].append(
                one_run(command, tmp / f"first-cache-{i}", tmp / f"data-f{i}", cwd, timeout)
            )
        later_cache = tmp / "later-cache"
        one_run(command, later_cache, tmp / "data-prime", cwd, timeout)  # fills the cache
        for i in range(runs):
            results["later"].append(one_run(command, later_cache, tmp / f"data-l{i}", cwd, timeout))
        results["written_into_cwd"] = sorted(p.name for p in cwd.iterdir())
    for kind in KINDS:
        for key in ("shown_s", "ready_s", "compiled_s"):
            results[f"{kind}_{key}"] = summary(results[kind], key)
    return results


def report(what: str, results: dict) -> None:
    def cell(s: dict | None) -> str:
        return "—" if s is None else f"{s['median']:6.2f} s ({s['min']:.2f}–{s['max']:.2f})"

    print(f"DigitPad start-up, {what}; median (min–max) of {len(results['first'])} runs")
    print(f"{'':28} {'window shown':>22} {'ready (reads drawings)':>24} {'compiled kernels':>22}")
    for kind, title in KINDS.items():
        print(
            f"{title:28} {cell(results[f'{kind}_shown_s']):>22} "
            f"{cell(results[f'{kind}_ready_s']):>24} {cell(results[f'{kind}_compiled_s']):>22}"
        )
    for kind, title in KINDS.items():
        print(f"{title}, numba: {results[kind][0]['numba']}")
    print(f"files written into the working directory: {results['written_into_cwd'] or 'none'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=DEFAULT_APP, help="the built executable")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--built", action="store_true", help="only the built app")
    only.add_argument(
        "--source", action="store_true", help="only `python -m digitpad` (this interpreter)"
    )
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind (default 3)")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    commands = {}
    if not args.source:
        if os.access(args.app, os.X_OK):
            commands[f"built app ({args.app})"] = [str(args.app.resolve()), "--selftest"]
        else:
            print(
                f"bench_startup: {args.app} not found; run `python packaging/build.py` to time "
                "the built app",
                file=sys.stderr,
            )
            if args.built:
                return 2
    if not args.built:
        commands[f"from source ({sys.executable})"] = [
            sys.executable,
            "-m",
            "digitpad",
            "--selftest",
        ]
    reason = busy()
    if reason:
        print(f"bench_startup: WARNING: {reason}; these times are not clean", file=sys.stderr)

    machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
    everything = {
        what: measure(command, args.runs, args.timeout) for what, command in commands.items()
    }
    if args.json:
        print(json.dumps({"machine": machine, **everything}, indent=2))
        return 0
    print(f"machine: {machine}")
    for what, results in everything.items():
        print()
        report(what, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
