"""Start-up time of DigitPad to a ready window, cold (empty Numba cache) and warm.

    python bench/bench_startup.py                         # the built app, dist/DigitPad/digitpad
    python bench/bench_startup.py --source                # python -m digitpad, for comparison
    python bench/bench_startup.py --runs 5 --json

Each run starts ``digitpad --selftest`` (offscreen), whose first step is the app's real start-up:
the window is shown at once and the loader thread loads the shipped model and compiles the kernels
(cold) or loads them from Numba's cache (warm). "Ready" is the moment the window has the network:
the selftest prints ``selftest: ready after ...`` then, and this script times that line from
outside, from just before it starts the process. Every run has its own empty ``XDG_DATA_HOME``;
cold runs get an empty cache folder each, warm runs share one that a first (unmeasured) run filled.

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
    result = subprocess.run(["pgrep", "-f", "digitpad-train|trainer.train_cli|bench/bench_"],
                            capture_output=True, text=True)
    others = [pid for pid in result.stdout.split() if int(pid) != os.getpid()]
    if others:
        return f"a training or benchmark runs (pids {', '.join(others)})"
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        return f"the load average is {load:.1f}"
    return None


def one_run(command: list[str], cache: Path, data: Path, cwd: Path, timeout: float) -> dict:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache), XDG_DATA_HOME=str(data),
               QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    for name in ("NUMBA_CACHE_DIR", "NUMBA_CACHE_LOCATOR_CLASSES"):
        env.pop(name, None)
    t0 = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    shown = ready = None
    lines = []
    deadline = t0 + timeout
    for line in process.stdout:
        lines.append(line)
        now = time.perf_counter() - t0
        if line.startswith("selftest: window shown after") and shown is None:
            shown = now
        elif line.startswith("selftest: ready after") and ready is None:
            ready = now
        if time.perf_counter() > deadline:
            process.kill()
            break
    code = process.wait()
    if code != 0 or ready is None:
        raise RuntimeError(f"{' '.join(command)} failed (exit status {code}):\n{''.join(lines)}")
    numba_line = next((l.strip() for l in lines if l.startswith("selftest: numba:")), "")
    return {"shown_s": shown, "ready_s": ready, "total_s": time.perf_counter() - t0,
            "numba": numba_line.removeprefix("selftest: numba: ")}


def summary(runs: list[dict], key: str) -> dict:
    values = [r[key] for r in runs]
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": values}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=DEFAULT_APP, help="the built executable")
    parser.add_argument("--source", action="store_true",
                        help="time `python -m digitpad` (this interpreter) instead of the "
                             "built app")
    parser.add_argument("--runs", type=int, default=3, help="runs of each kind (default 3)")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)

    if args.source:
        command = [sys.executable, "-m", "digitpad", "--selftest"]
        what = f"from source ({sys.executable})"
    else:
        if not os.access(args.app, os.X_OK):
            print(f"bench_startup: {args.app} not found; run `python packaging/build.py` first",
                  file=sys.stderr)
            return 2
        command = [str(args.app.resolve()), "--selftest"]
        what = f"frozen ({args.app})"
    reason = busy()
    if reason:
        print(f"bench_startup: WARNING: {reason}; these times are not clean", file=sys.stderr)

    results: dict = {"what": what, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                     "cold": [], "warm": []}
    with tempfile.TemporaryDirectory(prefix="digitpad-bench-startup-") as tmp:
        tmp = Path(tmp)
        cwd = tmp / "cwd"
        cwd.mkdir()
        for i in range(args.runs):
            results["cold"].append(one_run(command, tmp / f"cold-cache-{i}", tmp / f"data-c{i}",
                                           cwd, args.timeout))
        warm_cache = tmp / "warm-cache"
        one_run(command, warm_cache, tmp / "data-prime", cwd, args.timeout)  # fills the cache
        for i in range(args.runs):
            results["warm"].append(one_run(command, warm_cache, tmp / f"data-w{i}", cwd,
                                           args.timeout))
        leftovers = sorted(p.name for p in cwd.iterdir())
    results["written_into_cwd"] = leftovers
    for kind in ("cold", "warm"):
        runs = results[kind]
        results[f"{kind}_ready_s"] = summary(runs, "ready_s")
        results[f"{kind}_shown_s"] = summary(runs, "shown_s")

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"DigitPad start-up, {what}; {results['machine']}; {args.runs} runs each")
    print(f"{'':6} {'window shown':>22} {'ready (network loaded)':>26}")
    for kind in ("cold", "warm"):
        s, r = results[f"{kind}_shown_s"], results[f"{kind}_ready_s"]
        print(f"{kind:6} {s['median']:8.2f} s ({s['min']:.2f}–{s['max']:.2f}) "
              f"{r['median']:12.2f} s ({r['min']:.2f}–{r['max']:.2f})")
    print(f"cold numba: {results['cold'][0]['numba']}")
    print(f"warm numba: {results['warm'][0]['numba']}")
    print(f"files written into the working directory: {leftovers or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
