"""Fine-tuning a model on one person's own drawings ("Learn my handwriting").

Design, and why:

- Start from the current model, never from scratch: a few hundred Adam steps at a small learning
  rate move it towards the writer without undoing what 40 epochs on MNIST taught it.
- The user's drawings go through the app's own stroke function (what the network sees when they
  draw), then each one is repeated ``COPIES`` times per epoch and every copy is freshly distorted
  (``trainer/data/augment.py``: rotation, scale, shear, translation, elastic). Three examples of a
  digit become a cloud of plausible variants of *that writer's* way of drawing it, so the model
  learns the style (a crossed 7, a flag on the 1, a slashed 0) rather than three images.
- Each epoch also replays a fixed, seeded sample of MNIST training images (the ``personal``
  preset's ``train_subset``) (augmented, partly slashed and flagged, as the shipped model was
  trained), so nothing the model knew is forgotten: the MNIST test accuracy barely moves.
- Synthesised "not a digit" samples are mixed in at a quarter of a full run's share (the
  ``personal`` preset's ``trainer.config.PERSONAL_NEGATIVES_SHARE``): the eleventh output is
  kept, but at the full share a few hundred steps made it the top output for more MNIST digits
  than before (most of what MNIST lost).
- Validation is on a held-out slice of MNIST's training set (never the test set).

A drawing labelled "not a digit" trains the 11th output unit when the model has one; a model
with ten outputs cannot learn it, so such drawings are skipped and the caller says so.
Everything is seeded: the same drawings, model and seed give the same fine-tuned model.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from trainer.config import TrainingConfig
from trainer.core.network import Network
from trainer.core.training import BatchProgress, EpochRecord, TrainingData, TrainingResult, train
from trainer.data.mnist import MnistData, validation_split
from trainer.data.pen_digits import NOT_A_DIGIT
from trainer.strokes.strokes_to_input import strokes_to_input

#: The output unit that means "not a digit", in a model that has one.
NOT_A_DIGIT_UNIT = 10
#: Each of the user's drawings appears this many times per epoch, each copy distorted afresh.
COPIES = 40


@dataclass(frozen=True)
class PersonalSet:
    """The user's drawings as network inputs: ``images`` (n, 784) float32, ``labels`` (n,)
    output units; ``skipped`` says what could not be used and why (empty when all were)."""

    images: np.ndarray
    labels: np.ndarray
    skipped: tuple[str, ...] = ()


def personal_set(drawings: Iterable, outputs: int) -> PersonalSet:
    """Render drawings (objects with ``label`` and ``strokes``) for a model with ``outputs`` units.

    ``label`` is a digit 0–9 or :data:`NOT_A_DIGIT`. Drawings without ink are skipped, and so are
    "not a digit" drawings when the model has no unit for them; ``skipped`` counts both.
    """
    images, labels = [], []
    no_ink = not_a_digit = 0
    for drawing in drawings:
        if drawing.label == NOT_A_DIGIT:
            if outputs <= NOT_A_DIGIT_UNIT:
                not_a_digit += 1
                continue
            unit = NOT_A_DIGIT_UNIT
        else:
            unit = int(drawing.label)
        image = strokes_to_input(drawing.strokes)
        if image is None:
            no_ink += 1
            continue
        images.append(image)
        labels.append(unit)
    skipped = []
    if not_a_digit:
        skipped.append(
            f'{not_a_digit} "not a digit" drawing(s) skipped: this model has no '
            f'"not a digit" output'
        )
    if no_ink:
        skipped.append(f"{no_ink} drawing(s) without ink skipped")
    return PersonalSet(
        np.array(images, dtype=np.float32).reshape(-1, 784),
        np.array(labels, dtype=np.int64),
        tuple(skipped),
    )


def personal_training_data(
    mine: PersonalSet, mnist: MnistData, config: TrainingConfig
) -> TrainingData:
    """The user's drawings ``COPIES`` times each, plus MNIST's training images (a seeded sample
    of ``config.train_subset`` of them when that is set, e.g. by the ``personal`` preset)."""
    train_x, train_y, val_x, val_y = validation_split(
        mnist.train_images, mnist.train_labels, config.validation_share, config.seed
    )
    chosen = np.random.default_rng(config.seed).permutation(len(train_y))
    if config.train_subset:
        chosen = chosen[: config.train_subset]
    images = np.concatenate([np.repeat(mine.images, COPIES, axis=0), train_x[chosen]])
    labels = np.concatenate([np.repeat(mine.labels, COPIES), train_y[chosen].astype(np.int64)])
    return TrainingData(images, labels, val_x, val_y)


def fine_tune(
    network: Network,
    mine: PersonalSet,
    mnist: MnistData,
    config: TrainingConfig,
    *,
    on_batch: Callable[[BatchProgress], None] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    cancel: threading.Event | None = None,
) -> TrainingResult:
    """Fine-tune ``network`` in place on the user's drawings mixed with MNIST (see the module
    docstring). Raises ValueError when there is no drawing to learn from."""
    if len(mine.labels) == 0:
        raise ValueError("there are no drawings to learn from")
    data = personal_training_data(mine, mnist, config)
    return train(network, config, data, on_batch=on_batch, on_epoch=on_epoch, cancel=cancel)


def copy_network(network: Network) -> Network:
    """An independent copy of ``network`` (same architecture, same parameters)."""
    copy = Network(
        network.layer_sizes,
        network.hidden_activation,
        network.output_activation,
        network.cost,
        network.init,
        dtype=network.dtype,
    )
    copy.set_parameters(network.weights, network.biases)
    return copy


def held_out_accuracy(
    start: Network,
    mine: PersonalSet,
    mnist: MnistData,
    config: TrainingConfig,
    folds: int = 2,
    cancel: threading.Event | None = None,
) -> tuple[float, float] | None:
    """The accuracy on the user's drawings before and after a fine-tune, honestly: by
    ``folds``-fold cross-validation, each drawing is read by a model fine-tuned without it.
    (With two folds a model learns from half the drawings, so "after" is if anything low.)
    None when there are fewer than ``folds`` drawings or a fold did not finish."""
    n = len(mine.labels)
    if n < folds:
        return None
    before = float((start.predict(mine.images) == mine.labels).mean())
    order = np.random.default_rng(config.seed).permutation(n)
    right = 0
    for fold in range(folds):
        held_out = order[fold::folds]
        learnt = np.setdiff1d(order, held_out)
        network = copy_network(start)
        part = PersonalSet(mine.images[learnt], mine.labels[learnt])
        if not fine_tune(network, part, mnist, config, cancel=cancel).usable:
            return None
        right += int((network.predict(mine.images[held_out]) == mine.labels[held_out]).sum())
    return before, right / n
