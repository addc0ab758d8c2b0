"""Hyperparameters of a training run, their validation, and the named presets.

``TrainingConfig.validate()`` is the one place that decides what a legal run is: the command line
and the app's retrain dialog both call it before anything starts, so both refuse the same things
with the same message.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from trainer import kernels, limits
from trainer.network import INITIALISATIONS
from trainer.optimizers import KINDS

INPUT_SIZE = 784
OUTPUT_SIZE = 10
MNIST_TRAINING_IMAGES = 60000
SCHEDULES = ("constant", "exponential", "cosine")
#: The share of "not a digit" samples that ``--negatives`` and the Retrain dialog's box switch on.
NEGATIVES_SHARE = 0.15


class ConfigError(ValueError):
    """A hyperparameter is out of range; the message says which and what is allowed."""


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that defines a training run.

    hidden_layers      sizes of the hidden layers, e.g. (30,) or (512, 512)
    hidden_activation  sigmoid | tanh | relu
    output_activation  sigmoid | softmax
    cost               quadratic | cross_entropy
    init               normal (N(0,1), Nielsen) | he | glorot
    optimizer          sgd | momentum | adam
    learning_rate      η
    momentum           μ, for the momentum optimiser
    weight_decay       L2 penalty λ added to the weight gradient (biases are spared)
    dropout            probability of dropping a hidden unit during training, in [0, 1)
    batch_size         mini-batch size m
    epochs             passes over the training set
    lr_schedule        constant | exponential (η·decayᵉᵖᵒᶜʰ) | cosine (η → 0 along the run)
    lr_decay           the factor of the exponential schedule, in (0, 1]
    validation_share   share of the 60 000 training images held out for validation, in (0, 1)
    early_stopping     stop after this many epochs without a better validation loss; 0 = never.
                       The best epoch's weights are restored.
    augment            random affine + elastic distortions of the training images every epoch
    slashed_zeros      share of the training zeros given a slash (Ø) every epoch, in [0, 1)
    negatives          share of the training samples that are synthesised non-digits (letters,
                       scribbles, overlapping digits; ``trainer.negatives``), in [0, 0.5); above 0
                       the network gets an eleventh output, "not a digit"
    train_subset       use only this many training images (0 = all): for quick trials and tests
    seed               seeds initialisation, shuffling, dropout and augmentation
    """

    hidden_layers: tuple[int, ...] = (30,)
    hidden_activation: str = "sigmoid"
    output_activation: str = "sigmoid"
    cost: str = "quadratic"
    init: str = "normal"
    optimizer: str = "sgd"
    learning_rate: float = 3.0
    momentum: float = 0.9
    weight_decay: float = 0.0
    dropout: float = 0.0
    batch_size: int = 10
    epochs: int = 30
    lr_schedule: str = "constant"
    lr_decay: float = 1.0
    validation_share: float = 0.1
    early_stopping: int = 0
    augment: bool = False
    slashed_zeros: float = 0.0
    negatives: float = 0.0
    train_subset: int = 0
    seed: int = 0

    @property
    def layer_sizes(self) -> list[int]:
        outputs = OUTPUT_SIZE + 1 if self.negatives > 0 else OUTPUT_SIZE
        return [INPUT_SIZE, *self.hidden_layers, outputs]

    def replace(self, **changes) -> TrainingConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        record = dataclasses.asdict(self)
        record["hidden_layers"] = list(self.hidden_layers)
        return record

    @classmethod
    def from_dict(cls, record: dict) -> TrainingConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(record) - known
        if unknown:
            raise ConfigError(f"unknown training settings: {', '.join(sorted(unknown))}")
        values = dict(record)
        if "hidden_layers" in values:
            values["hidden_layers"] = tuple(values["hidden_layers"])
        return cls(**values).validate()

    def learning_rate_at(self, epoch: int) -> float:
        """η for the given 0-based epoch under the schedule."""
        if self.lr_schedule == "exponential":
            return self.learning_rate * self.lr_decay**epoch
        if self.lr_schedule == "cosine":
            return self.learning_rate * 0.5 * (1.0 + math.cos(math.pi * epoch / self.epochs))
        return self.learning_rate

    def validate(self) -> TrainingConfig:
        """Return self if every setting is legal, else raise ConfigError saying what to change."""
        _require(len(self.hidden_layers) >= 1, "give at least one hidden layer, e.g. 30 or 512,512")
        for size in self.hidden_layers:
            _require(
                _is_int(size) and 1 <= size <= limits.MAX_LAYER_SIZE,
                f"hidden layer sizes must be whole numbers from 1 to "
                f"{limits.MAX_LAYER_SIZE}, got {size!r}",
            )
        too_big = limits.shape_problem(self.layer_sizes)
        _require(too_big is None, f"the network would have {too_big}")
        _require_choice("hidden activation", self.hidden_activation, kernels.HIDDEN_ACTIVATIONS)
        _require_choice("output activation", self.output_activation, kernels.OUTPUT_ACTIVATIONS)
        _require_choice("cost", self.cost, tuple(kernels.COSTS))
        _require_choice("initialisation", self.init, INITIALISATIONS)
        _require_choice("optimiser", self.optimizer, tuple(KINDS))
        _require_choice("learning-rate schedule", self.lr_schedule, SCHEDULES)
        _require(
            _is_number(self.learning_rate) and 0 < self.learning_rate <= 1000,
            f"the learning rate must be a number above 0 (at most 1000), "
            f"got {self.learning_rate!r}",
        )
        _require(
            _is_number(self.momentum) and 0 <= self.momentum < 1,
            f"momentum must be in [0, 1), got {self.momentum!r}",
        )
        _require(
            _is_number(self.weight_decay) and 0 <= self.weight_decay < 1,
            f"weight decay must be in [0, 1), got {self.weight_decay!r}",
        )
        _require(
            _is_number(self.dropout) and 0 <= self.dropout < 1,
            f"dropout must be in [0, 1), got {self.dropout!r}",
        )
        _require(
            _is_int(self.batch_size) and 1 <= self.batch_size <= 60000,
            f"the batch size must be a whole number from 1 to 60000, got {self.batch_size!r}",
        )
        _require(
            _is_int(self.epochs) and 1 <= self.epochs <= 10000,
            f"epochs must be a whole number from 1 to 10000, got {self.epochs!r}",
        )
        _require(
            _is_number(self.lr_decay) and 0 < self.lr_decay <= 1,
            f"the learning-rate decay must be in (0, 1], got {self.lr_decay!r}",
        )
        _require(
            _is_number(self.validation_share) and 0 < self.validation_share < 1,
            f"the validation share must be between 0 and 1 (exclusive), "
            f"got {self.validation_share!r}",
        )
        _require(
            _is_int(self.early_stopping) and self.early_stopping >= 0,
            f"early-stopping patience must be a whole number ≥ 0, got {self.early_stopping!r}",
        )
        _require(
            isinstance(self.augment, bool), f"augment must be true or false, got {self.augment!r}"
        )
        _require(
            _is_number(self.slashed_zeros) and 0 <= self.slashed_zeros < 1,
            f"the share of slashed zeros must be in [0, 1), got {self.slashed_zeros!r}",
        )
        _require(
            _is_number(self.negatives) and 0 <= self.negatives < 0.5,
            f"the share of negatives must be in [0, 0.5), got {self.negatives!r}",
        )
        _require(
            _is_int(self.train_subset) and self.train_subset >= 0,
            f"the training subset must be a whole number ≥ 0, got {self.train_subset!r}",
        )
        _require(
            _is_int(self.seed) and 0 <= self.seed < 2**32,
            f"the seed must be a whole number from 0 to 2³²−1, got {self.seed!r}",
        )
        self._validate_against_the_data()
        return self

    def _validate_against_the_data(self) -> None:
        """What the run needs from MNIST's 60 000 training images and from memory: validation
        images, at least one full batch of training images, and batch buffers that fit."""
        held_out = round(MNIST_TRAINING_IMAGES * self.validation_share)
        _require(
            held_out >= 1,
            f"the validation share {self.validation_share!r} holds out no "
            f"image of {MNIST_TRAINING_IMAGES}; use at least "
            f"{1 / MNIST_TRAINING_IMAGES:.1e}",
        )
        training = MNIST_TRAINING_IMAGES - held_out
        if self.train_subset:
            training = min(training, self.train_subset)
        _require(
            training >= self.batch_size,
            f"{training} training images are left (validation share "
            f"{self.validation_share!r}, subset {self.train_subset or 'all'}), fewer than one "
            f"batch of {self.batch_size}; lower the validation share or the batch size",
        )
        needed = limits.training_bytes(self.layer_sizes, self.batch_size)
        _require(
            needed <= limits.MAX_TRAINING_BYTES,
            f"layers {'-'.join(map(str, self.layer_sizes))} with batches of "
            f"{self.batch_size} would need about {needed / 1024**3:.1f} GiB of memory "
            f"(at most {limits.MAX_TRAINING_BYTES / 1024**3:.0f} GiB); use smaller layers "
            f"or batches",
        )


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _require_choice(what: str, value, allowed) -> None:
    _require(value in allowed, f"unknown {what} {value!r}; choose one of {', '.join(allowed)}")


PRESETS: dict[str, TrainingConfig] = {
    # Nielsen's network.py, chapter 1: 784-30-10 sigmoid, quadratic cost, N(0,1), η=3.0, m=10,
    # 30 epochs, trained on 50 000 of the 60 000 training images (the other 10 000 validate).
    "nielsen": TrainingConfig(validation_share=1 / 6),
    # The Keras MNIST MLP tutorial: 784-512-512-10 ReLU with dropout 0.2, softmax + cross-entropy,
    # Glorot-uniform init (Keras' default), Adam(1e-3), batch 128, 20 epochs, 10% validation.
    "keras": TrainingConfig(
        hidden_layers=(512, 512),
        hidden_activation="relu",
        output_activation="softmax",
        cost="cross_entropy",
        init="glorot",
        optimizer="adam",
        learning_rate=1e-3,
        dropout=0.2,
        batch_size=128,
        epochs=20,
    ),
    # What we ship: see the README for the command that trained assets/model.npz.
    "default": TrainingConfig(
        hidden_layers=(800, 800),
        hidden_activation="relu",
        output_activation="softmax",
        cost="cross_entropy",
        init="he",
        optimizer="adam",
        learning_rate=1e-3,
        dropout=0.2,
        batch_size=128,
        epochs=40,
        lr_schedule="cosine",
        augment=True,
        validation_share=0.05,
        slashed_zeros=0.3,
        negatives=NEGATIVES_SHARE,
    ),
}
# Fine-tuning a model (``--from``) on someone's own drawings (``--my-digits``) mixed with a replay
# sample of MNIST: a few hundred small Adam steps; see trainer/personal.py for the design.
# Tuned on 7 of the pen-digit writers (bench/bench_personal.py): η = 2·10⁻⁴ halves the errors
# left by 10⁻⁴ on those writers; dropout would only slow the few steps down.
PRESETS["personal"] = PRESETS["default"].replace(
    learning_rate=2e-4,
    lr_schedule="cosine",
    batch_size=128,
    epochs=3,
    dropout=0.0,
    train_subset=6000,
)
