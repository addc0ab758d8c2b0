"""Training's epochs while other programs keep the cores busy (trainer/fast/core_share.py).

    python bench/bench_busy_cores.py                      # idle, then beside 1 and 2 busy programs
    python bench/bench_busy_cores.py --busy 1 --epochs 4
    GOMP_SPINCOUNT=0 python bench/bench_busy_cores.py     # OpenMP's idle threads sleep at once

Trains the ``default`` preset beside each number of CPU-bound child processes (each a Python loop
that never ends, stopped afterwards) and prints every epoch's seconds — the first includes one-off
start-up costs — and how many chunks of batches ran on two threads and on one (on one as well
while the next epoch's images are made beside them). Environment variables that trainer sets
(``numba_threads.THREAD_ENVIRONMENT``) are left as the user gives them, so the same run with
``GOMP_SPINCOUNT=0`` shows the threads that sleep at once, and with ``--always-two`` the batches
never fall back to one thread.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

# trainer first: it sets what OpenMP and OpenBLAS read when they load (numba_threads.py).
from trainer.core import training  # isort: skip
from trainer.fast import core_share  # isort: skip

BUSY_LOOP = "while True: pass"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--mnist-dir", default=None)
    parser.add_argument(
        "--always-two", action="store_true", help="never fall back to one thread (core_share off)"
    )
    args = parser.parse_args()

    from trainer.config import PRESETS
    from trainer.data.mnist import load_mnist

    if args.always_two:
        core_share.CoreShare.two_threads_allowed = lambda self: True
    config = PRESETS["default"].replace(epochs=args.epochs)
    data = training.split_for_training(load_mnist(args.mnist_dir), config)
    threads_per_chunk = []
    run_batches = training.run_batches

    def counting(*arguments):
        threads_per_chunk.append(arguments[5].inputs.threads)
        return run_batches(*arguments)

    training.run_batches = counting
    for busy in args.busy:
        programs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(busy)]
        try:
            time.sleep(0.5)
            epochs = []

            def on_epoch(record, epochs=epochs):
                two = sum(threads > 1 for threads in threads_per_chunk)
                epochs.append(f"{record.seconds:.2f} s ({two}/{len(threads_per_chunk)} on two)")
                threads_per_chunk.clear()

            training.train(training.network_for(config), config, data, on_epoch=on_epoch)
            print(f"beside {busy} busy program(s): " + ", ".join(epochs), flush=True)
        finally:
            for program in programs:
                program.kill()
                program.wait()


if __name__ == "__main__":
    main()
