"""Whether training's batches get the cores to themselves, judged chunk by chunk of batches.

On two threads, a batch's parallel regions end at barriers where one thread waits for the other,
and OpenMP's threads spin a moment there before they sleep (``numba_threads.THREAD_ENVIRONMENT``):
on an idle machine that makes the ``default`` preset's epochs 10–15 % shorter. But while other
programs keep the cores busy, the thread waited for is often off its core, and the spinning one
holds its own core meanwhile. Measured on the ``default`` preset, epochs after the first, with
CPU-bound programs beside training: with one, two spinning threads took 12.3–20.8 s an epoch,
two threads sleeping at once 6.3–7.3 s, one thread 5.4–6.4 s (no barrier, nobody to wait for);
with two, 19.4–23.7 s, 4.9–11.2 s (median 7.6) and 7.8–10.5 s (median 9.2).

So training measures, over each chunk of batches on two threads, the share of a core its own
thread got (its CPU time over the wall-clock time: a thread that computes or spins gets all of one
when nothing else wants it). Below ``BUSY_SHARE`` the next chunks keep to one thread, and after
``RETRY_SECONDS`` a chunk tries two again. A chunk on one thread proves nothing either way: beside
one busy program it gets its whole core, while two threads would not. Which threads compute a
batch never changes its numbers.
"""

from __future__ import annotations

import time

#: A share of a core below this, over a chunk, means other programs are taking the cores.
BUSY_SHARE = 0.6
#: While the cores are busy, a chunk tries two threads again this often (seconds).
RETRY_SECONDS = 1.0


class CoreShare:
    """Whether the next chunk of batches may run on two threads (``two_threads_allowed``),
    from the chunks measured so far (``start`` before each, ``stop`` after)."""

    def __init__(self, clock=time.perf_counter, cpu_clock=time.thread_time):
        self._clock, self._cpu_clock = clock, cpu_clock
        self._busy = False
        self._busy_since = 0.0  # when a chunk on two threads last found the cores busy
        self._started = self._cpu_started = 0.0

    def two_threads_allowed(self) -> bool:
        return not self._busy or self._clock() - self._busy_since >= RETRY_SECONDS

    def start(self) -> None:
        """A chunk of batches starts on the calling thread."""
        self._started, self._cpu_started = self._clock(), self._cpu_clock()

    def stop(self, on_two_threads: bool) -> None:
        """The chunk started by ``start`` has ended; it ran on two threads or on one."""
        if not on_two_threads:
            return
        now = self._clock()
        wall, cpu = now - self._started, self._cpu_clock() - self._cpu_started
        self._busy = cpu < BUSY_SHARE * wall
        if self._busy:
            self._busy_since = now
