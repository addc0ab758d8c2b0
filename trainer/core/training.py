"""The training loop: epochs of shuffled mini-batches, validation, schedules, early stopping.

The inner loop over mini-batches is compiled (``run_batches``): gather a batch, forward, backward,
update — no Python per batch. Python drives it in chunks of about a tenth of a second, which is how
progress is reported and how a cancel request is honoured within a fraction of a second.

A run ends in one of four ways, reported in ``TrainingResult.status``:
``completed``, ``early_stopped`` (the best epoch's weights restored), ``cancelled`` (the network is
left as it was after the last full update, and should be discarded), ``diverged`` (the cost became
NaN or infinite, or grew far beyond where it started; the network must not be used).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numba import njit

from trainer.config import TrainingConfig
from trainer.core import backprop, optimizers
from trainer.core.evaluation import evaluate
from trainer.core.network import Network
from trainer.data import epoch_images
from trainer.data.epoch_images import EpochImages
from trainer.data.mnist import MnistData, validation_split
from trainer.data.negatives import NOT_A_DIGIT, negative_images
from trainer.fast import blas_threads, core_share, input_layer, kernels, sparse_input
from trainer.named_values import RunStatus

#: The running cost of an epoch may not exceed this multiple of the cost the run started with.
DIVERGENCE_FACTOR = 10.0
#: ... or, when the run starts from a trained network (a fine-tune: its cost starts near zero, and a
#: harder batch can easily cost ten times more), the multiple of this floor.
DIVERGENCE_FLOOR = 0.05
#: A network still at chance level after half an epoch (and at least this many samples) has
#: collapsed: with Nielsen's η = 100 every sigmoid saturates and the cost stays finite, but nothing
#: is learnt any more.
COLLAPSE_ACCURACY = 0.15
COLLAPSE_MIN_SAMPLES = 5000
CHUNK_SECONDS = 0.1

COMPLETED, EARLY_STOPPED, CANCELLED, DIVERGED = (
    RunStatus.COMPLETED,
    RunStatus.EARLY_STOPPED,
    RunStatus.CANCELLED,
    RunStatus.DIVERGED,
)


@dataclass(frozen=True)
class TrainingData:
    """Training and validation sets; inputs (n, 784) float32 in [0, 1], labels (n,) integers."""

    train_images: np.ndarray
    train_labels: np.ndarray
    val_images: np.ndarray
    val_labels: np.ndarray


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 1-based
    seconds: float  # wall time of the epoch, validation included
    loss: float  # mean training cost over the epoch's batches (as Keras reports it)
    accuracy: float  # training accuracy over the epoch's batches
    val_loss: float
    val_accuracy: float
    learning_rate: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class TrainingResult:
    network: Network
    status: str
    message: str
    epochs: list[EpochRecord] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """True when the network may replace a model: the run finished and stayed finite."""
        return self.status in (COMPLETED, EARLY_STOPPED) and self.network.is_finite()


@dataclass(frozen=True)
class BatchProgress:
    epoch: int  # 1-based
    epochs: int
    batch: int  # batches done in this epoch
    batches: int  # batches per epoch
    running_loss: float


def network_for(config: TrainingConfig, dtype=np.float32) -> Network:
    """A freshly initialised network with the architecture the config describes."""
    return Network(
        config.layer_sizes,
        config.hidden_activation,
        config.output_activation,
        config.cost,
        config.init,
        dtype=dtype,
        seed=config.seed,
    )


def epochs_phrase(count: int) -> str:
    """ "1 epoch", "2 epochs": a count of epochs in words for people."""
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def train(
    network: Network,
    config: TrainingConfig,
    data: TrainingData,
    *,
    on_batch: Callable[[BatchProgress], None] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    cancel: threading.Event | None = None,
) -> TrainingResult:
    """Train ``network`` in place with mini-batch gradient descent as ``config`` says."""
    config.validate()
    run = _Run(network, config, data, on_batch, cancel)
    try:
        return _train_epochs(run, data, on_epoch)
    finally:
        run.close()


def _train_epochs(run: _Run, data: TrainingData, on_epoch) -> TrainingResult:
    """The epochs of ``train``: validation, early stopping, the result."""
    network, config = run.network, run.config
    result = TrainingResult(network, COMPLETED, f"trained {epochs_phrase(config.epochs)}")
    best_loss, best_parameters, stale = math.inf, None, 0
    for epoch in range(config.epochs):
        started = time.perf_counter()
        outcome = run.epoch(epoch)
        if outcome is not None:
            result.status, result.message = outcome
            return result
        validation = evaluate(
            network, run.val_images, data.val_labels, run.evaluation_space, run.val_compressed
        )
        record = EpochRecord(
            epoch + 1,
            time.perf_counter() - started,
            run.loss,
            run.accuracy,
            validation.loss,
            validation.accuracy,
            run.learning_rate,
        )
        result.epochs.append(record)
        if on_epoch is not None:
            on_epoch(record)
        if not math.isfinite(validation.loss) or not network.is_finite():
            result.status, result.message = DIVERGED, _divergence_advice(config, epoch + 1)
            return result
        if config.early_stopping:
            if validation.loss < best_loss:
                best_loss, stale = validation.loss, 0
                best_parameters = (
                    [w.copy() for w in network.weights],
                    [b.copy() for b in network.biases],
                )
            else:
                stale += 1
                if stale >= config.early_stopping:
                    network.set_parameters(*best_parameters)
                    best = min(result.epochs, key=lambda r: r.val_loss).epoch
                    result.status = EARLY_STOPPED
                    result.message = (
                        f"stopped after epoch {epoch + 1}: no better validation loss "
                        f"for {epochs_phrase(stale)}; "
                        f"kept the weights of epoch {best}"
                    )
                    return result
    if best_parameters is not None:
        network.set_parameters(*best_parameters)
    return result


class _Run:
    """The state that lives across the epochs of one training run."""

    def __init__(
        self, network: Network, config: TrainingConfig, data: TrainingData, on_batch, cancel
    ):
        self.network, self.config, self.on_batch, self.cancel = network, config, on_batch, cancel
        dtype = network.dtype
        self.images, self.labels = with_negatives(data.train_images, data.train_labels, config)
        self.images = np.ascontiguousarray(self.images, dtype=dtype)
        varied = config.augment or config.slashed_zeros > 0 or config.flagged_ones > 0
        sparse = bool(kernels.is_sparse(self.images))
        settings = optimizers.OptimizerSettings(
            kind=config.optimizer, momentum=config.momentum, weight_decay=config.weight_decay
        )
        self.onto_inked_rows = input_layer.steps_onto_inked_rows(settings, sparse)
        self.input_threads = input_layer.threads_for(config.batch_size, network.layer_sizes[1])
        # Images varied every epoch: compressed ones come from ``epoch_images`` (the next epoch's
        # made while one trains), dense ones are made in ``augmented`` at the epoch's start.
        self.epoch_images = (
            EpochImages(self.images, self.labels, config) if varied and sparse else None
        )
        self.augmented = np.empty_like(self.images) if varied and not sparse else None
        if self.epoch_images is not None:
            self.inputs = None  # made each epoch
        elif sparse:
            self.inputs = self._compressed(sparse_input.compress_rows(self.images))
        else:
            self.inputs = input_layer.dense(self.augmented if varied else self.images)
        self.val_images = np.ascontiguousarray(data.val_images, dtype=dtype)
        self.val_compressed = (
            sparse_input.compress_rows(self.val_images)
            if kernels.is_sparse(self.val_images)
            else None
        )
        self.core_share = core_share.CoreShare()
        self.net = backprop.net(network)
        self.workspace = backprop.Workspace.allocate(network.layer_sizes, config.batch_size, dtype)
        self.evaluation_space = backprop.Workspace.allocate(network.layer_sizes, 1000, dtype)
        self.optimizer = optimizers.OptimizerState(network.weights, network.biases, settings)
        self.shuffler = np.random.default_rng(config.seed)
        seed_compiled_random(config.seed)
        self.loss = self.accuracy = self.learning_rate = math.nan
        self.initial_loss = math.nan  # the running cost after the run's first chunk of batches

    def epoch(self, epoch: int) -> tuple[str, str] | None:
        """Run one epoch; returns (status, message) if the run must end, else None."""
        config = self.config
        n = len(self.labels)
        order = self.shuffler.permutation(n).astype(np.int64)
        if self.epoch_images is not None:
            self.inputs = self._compressed(self.epoch_images.compressed(epoch))
        elif self.augmented is not None:
            epoch_images.prepare(
                self.images,
                self.labels,
                config,
                epoch,
                self.augmented,
                threads=epoch_images.THREADS,
            )
        samples = Samples(self.inputs, self.labels, order, config.batch_size)
        batches = -(-n // config.batch_size)
        self.learning_rate = config.learning_rate_at(epoch)
        hyper = self.optimizer.hyper(self.learning_rate)
        state = self.optimizer
        # While the next epoch's images are made, the batches keep to the other core; and while
        # other programs take the cores, to one (``core_share``).
        on_one_core = samples._replace(inputs=self.inputs._replace(threads=1))
        cost_sum, correct, done, chunk = 0.0, 0, 0, 1
        while done < batches:
            if self.cancel is not None and self.cancel.is_set():
                return CANCELLED, f"cancelled during epoch {epoch + 1}"
            stop = min(batches, done + chunk)
            one_core = (
                self.epoch_images is not None and self.epoch_images.busy()
            ) or not self.core_share.two_threads_allowed()
            started = time.perf_counter()
            self.core_share.start()
            # BLAS on the calling thread alone: on one core beside the images, and on two the
            # batches split its work over their own threads (``split_products``).
            with blas_threads.at_most(1 if one_core or samples.inputs.threads > 1 else None):
                finite, chunk_cost, chunk_correct, state.step = run_batches(
                    self.net,
                    self.workspace,
                    state.moments,
                    hyper,
                    config.dropout,
                    on_one_core if one_core else samples,
                    done,
                    stop,
                    state.step,
                )
            self.core_share.stop(on_two_threads=not one_core and samples.inputs.threads > 1)
            elapsed = time.perf_counter() - started
            seen = min(stop * config.batch_size, n)
            cost_sum, correct = cost_sum + chunk_cost, correct + chunk_correct
            running = cost_sum / seen
            if math.isnan(self.initial_loss):
                self.initial_loss = running
            if (
                not finite
                or not math.isfinite(running)
                or running > DIVERGENCE_FACTOR * max(self.initial_loss, DIVERGENCE_FLOOR)
            ):
                return DIVERGED, _divergence_advice(config, epoch + 1)
            if seen >= max(COLLAPSE_MIN_SAMPLES, n // 2) and correct < COLLAPSE_ACCURACY * seen:
                return DIVERGED, _collapse_advice(config, epoch + 1, correct / seen)
            done = stop
            chunk = max(1, min(4 * chunk, int(chunk * CHUNK_SECONDS / max(elapsed, 1e-6))))
            if self.on_batch is not None:
                self.on_batch(BatchProgress(epoch + 1, config.epochs, done, batches, running))
        self.loss, self.accuracy = cost_sum / n, correct / n
        return None

    def _compressed(self, rows: sparse_input.SparseRows) -> input_layer.Inputs:
        return input_layer.compressed(
            rows, self.images.shape[1], self.onto_inked_rows, self.input_threads
        )

    def close(self) -> None:
        """Stop making the next epoch's images (the run has ended)."""
        if self.epoch_images is not None:
            self.epoch_images.close()


def _divergence_advice(config: TrainingConfig, epoch: int) -> str:
    return (
        f"training diverged in epoch {epoch}: the cost became NaN, infinite or grew more than "
        f"{DIVERGENCE_FACTOR:g}× — the learning rate {config.learning_rate:g} is probably too "
        f"high for the {config.optimizer} optimiser; try one ten times smaller"
    )


def _collapse_advice(config: TrainingConfig, epoch: int, accuracy: float) -> str:
    return (
        f"training collapsed in epoch {epoch}: after half the epoch the network still guesses "
        f"at chance level ({accuracy:.0%} right) — the learning rate {config.learning_rate:g} "
        f"is probably too high and has saturated the units; try one ten times smaller"
    )


@njit(cache=True)
def seed_compiled_random(seed):
    """Seed the generator that compiled code (dropout masks) draws from."""
    np.random.seed(seed)


class Samples(NamedTuple):
    """One epoch's training samples, as ``run_batches`` reads them."""

    inputs: input_layer.Inputs  # the images, dense or compressed
    labels: np.ndarray  # their classes, int64
    order: np.ndarray  # the epoch's shuffled sample numbers, int64
    batch_size: int


@njit(cache=True, nogil=True)
def run_batches(net, space, moments, hyper, dropout, samples, first_batch, stop_batch, step):
    """Train on batches [first_batch, stop_batch) of ``samples``: forward, backward, update.

    ``net`` is a ``backprop.Net``, ``space`` a ``backprop.Workspace``, ``moments`` and ``hyper``
    the optimiser's ``Moments`` and ``Hyperparameters``; ``step`` counts the updates made so far.
    Returns (finite, cost_sum, correct, step); stops at the first batch whose cost is not finite.
    """
    order, batch_size = samples.order, samples.batch_size
    n = order.shape[0]
    cost_sum = 0.0
    correct = 0
    batch_labels = np.empty(batch_size, dtype=np.int64)
    for b in range(first_batch, stop_batch):
        start = b * batch_size
        m = min(batch_size, n - start)
        rows = order[start : start + m]
        for k in range(m):
            batch_labels[k] = samples.labels[rows[k]]
        backprop.forward(net, space, samples.inputs, rows, dropout)
        batch_cost, batch_correct = backprop.backward(
            net, space, samples.inputs, rows, batch_labels[:m], dropout
        )
        if not np.isfinite(batch_cost):
            return False, cost_sum, correct, step
        step += 1
        input_layer.apply_update(net, space, moments, hyper, samples.inputs, rows, step)
        cost_sum += batch_cost
        correct += batch_correct
    return True, cost_sum, correct, step


def negatives_count(images: int, config: TrainingConfig) -> int:
    """How many non-digits ``with_negatives`` adds to ``images`` training images."""
    if config.negatives <= 0:
        return 0
    return round(images * config.negatives / (1.0 - config.negatives))


def train_samples(images: int, config: TrainingConfig) -> int:
    """How many samples one epoch trains on: the training images plus the synthesised negatives."""
    return images + negatives_count(images, config)


def with_negatives(images: np.ndarray, labels: np.ndarray, config: TrainingConfig):
    """The training set with the config's share of synthesised non-digits (label 10) appended.

    They are made once per run from the run's seed (about 1 ms each) and then varied every epoch
    by the augmentation like the digits.
    """
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    count = negatives_count(len(labels), config)
    if count == 0:
        return images, labels
    negatives = negative_images(count, config.seed, images, labels)
    return (
        np.concatenate([np.asarray(images, np.float32), negatives]),
        np.concatenate([labels, np.full(count, NOT_A_DIGIT, np.int64)]),
    )


def split_for_training(mnist: MnistData, config: TrainingConfig) -> TrainingData:
    """Hold out the config's validation share of MNIST's training set (the test set stays aside).

    With ``config.train_subset`` only that many of the remaining training images are used.
    """
    train_x, train_y, val_x, val_y = validation_split(
        mnist.train_images, mnist.train_labels, config.validation_share, config.seed
    )
    if config.train_subset:
        train_x, train_y = train_x[: config.train_subset], train_y[: config.train_subset]
    return TrainingData(train_x, train_y, val_x, val_y)
