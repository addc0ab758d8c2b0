"""Each epoch's training images: augmented, shares of the zeros slashed and of the ones flagged,
compressed.

With augmentation every epoch trains on new images. Making them for the ``default`` preset's
71 250 samples takes 1.2–1.9 s of one core, and it used to hold each epoch up while the other
core waited. ``EpochImages`` makes epoch e + 1's images in a background thread while epoch e trains
(the augmentation kernel releases the GIL), and while that thread runs the batches keep to the
other core (``training``, ``blas_threads``): on two threads beside it they kept waiting for the
busy core at the barrier that ends every parallel product (``python
bench/bench_training_speed.py --beside-images-only``: a ``default`` batch took 8.6–9.6 ms on one
core beside the images, 11.9–20.6 ms on two, 5.3–9.0 ms on two alone). The first epoch's images,
which nothing can hide, are made on two cores at once.

The images are bit for bit those of making them in one go: every image's distortion is keyed by
``(seed, its index)`` (``augment.augment_image_range``), the slashes and flags by the epoch's seed,
and the slashing, flagging and compressing run in the same order as before, on the finished
augmented images.
"""

from __future__ import annotations

import threading

import numpy as np

from trainer.config import TrainingConfig
from trainer.data.augment import augment_image_range
from trainer.data.flagged_ones import flag_ones
from trainer.data.slashed_zeros import slash_zeros
from trainer.fast import sparse_input

#: Images per augmentation call: a request to stop is seen within about 20 ms.
PIECE = 2048
#: Threads that make the images nothing else can run beside (the first epoch's).
THREADS = 2


def epoch_seed(config: TrainingConfig, epoch: int) -> int:
    """The seed of the 0-based ``epoch``'s augmentation and slashes."""
    return config.seed * 100003 + epoch


def prepare(
    images: np.ndarray,
    labels: np.ndarray,
    config: TrainingConfig,
    epoch: int,
    out: np.ndarray,
    *,
    threads: int = 1,
    stop: threading.Event | None = None,
) -> bool:
    """Fill ``out`` with the epoch's images; False (``out`` unfinished) if ``stop`` got set.

    ``threads`` contiguous ranges of the images are augmented at once, one per thread.
    """
    seed = epoch_seed(config, epoch)
    if config.augment:
        bounds = np.linspace(0, len(images), threads + 1).astype(int)
        helpers = [
            threading.Thread(target=_augment, args=(images, out, seed, start, stop_at, stop))
            for start, stop_at in zip(bounds[1:-1], bounds[2:])
        ]
        for helper in helpers:
            helper.start()
        _augment(images, out, seed, bounds[0], bounds[1], stop)
        for helper in helpers:
            helper.join()
    else:
        out[...] = images
    stopped = stop.is_set if stop is not None else lambda: False
    if stopped():
        return False
    slash_zeros(out, labels, config.slashed_zeros, seed, stop)
    flag_ones(out, labels, config.flagged_ones, seed, stop)
    return not stopped()


def _augment(images, out, seed: int, start: int, stop_at: int, stop) -> None:
    """Augment images[start:stop_at] piece by piece, until done or ``stop`` is set."""
    for first in range(start, stop_at, PIECE):
        if stop is not None and stop.is_set():
            return
        augment_image_range(images, out, seed, first, min(first + PIECE, stop_at))


class EpochImages:
    """Each epoch's compressed training images; the next epoch's are made while one trains.

    For a compressed (sparse) input only: the epochs then read the compressed rows and never the
    dense augmented images, so one buffer for those serves every epoch. ``close`` stops and waits
    for the background thread; call it when the run ends, however it ends.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, config: TrainingConfig):
        self.images, self.labels, self.config = images, labels, config
        self.scratch = np.empty_like(images)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._epoch = -1  # the epoch whose images the background thread makes (or made)
        self._compressed = None
        self._error: BaseException | None = None

    def compressed(self, epoch: int) -> sparse_input.SparseRows:
        """Epoch ``epoch``'s images, compressed; then starts making the next epoch's."""
        if self._thread is not None and self._epoch == epoch:
            self._thread.join()
            self._thread = None
            if self._error is not None:
                raise self._error
        else:
            self.close()
            self._stop.clear()
            self._make(epoch, THREADS)
        compressed = self._compressed
        if epoch + 1 < self.config.epochs:
            self._epoch = epoch + 1
            self._thread = threading.Thread(
                target=self._make_in_background, args=(epoch + 1,), daemon=True
            )
            self._thread.start()
        return compressed

    def busy(self) -> bool:
        """True while the next epoch's images are being made in the background."""
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        """Stop making images in the background, and wait until the thread has stopped."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _make(self, epoch: int, threads: int) -> None:
        self._compressed = None
        if prepare(
            self.images,
            self.labels,
            self.config,
            epoch,
            self.scratch,
            threads=threads,
            stop=self._stop,
        ):
            self._compressed = sparse_input.compress_rows(self.scratch)

    def _make_in_background(self, epoch: int) -> None:
        try:
            self._make(epoch, 1)
        except BaseException as error:  # handed to the training thread by ``compressed``
            self._error = error
