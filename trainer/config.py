"""Hyperparameters of a training run: one declaration per setting, its validation, the presets.

Every ``TrainingConfig`` field is declared once, with :func:`setting`: its rule (a choice, a range,
on/off, layer sizes), its label and group in the Retrain dialog, its command-line option and help,
and the noun its error messages use. ``TrainingConfig.validate()``, ``digitpad-train``'s options
(``trainer.cli.train_cli``) and the Retrain dialog's form (``digitpad.retrain_dialog``) are all derived
from these declarations (as scikit-learn derives its checks from ``_parameter_constraints``), so
the command line and the dialog refuse the same things with the same message.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from trainer import limits
from trainer.core.network import INITIALISATIONS
from trainer.core.optimizers import KINDS
from trainer.fast import kernels

INPUT_SIZE = 784
OUTPUT_SIZE = 10
MNIST_TRAINING_IMAGES = 60000
SCHEDULES = ("constant", "exponential", "cosine")
#: The share of "not a digit" samples that ``--negatives`` and the Retrain dialog's box switch on.
NEGATIVES_SHARE = 0.2
#: The smaller share of a fine-tune on someone's own digits (the ``personal`` preset, see there).
PERSONAL_NEGATIVES_SHARE = 0.05
NO_HIDDEN_LAYER = "give at least one hidden layer, e.g. 30 or 512, 512"


class ConfigError(ValueError):
    """A hyperparameter is out of range; the message says which and what is allowed."""


# --- the rules a setting's value follows ---------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One of a few names."""

    values: tuple[str, ...]

    def problem(self, noun: str, value) -> str | None:
        if value in self.values:
            return None
        return f"unknown {noun} {value!r}; choose one of {', '.join(self.values)}"


@dataclass(frozen=True)
class Flag:
    """On or off."""

    def problem(self, noun: str, value) -> str | None:
        return None if isinstance(value, bool) else f"{noun} must be true or false, got {value!r}"


@dataclass(frozen=True)
class Range:
    """A number from ``low`` to ``high`` (``None``: no upper bound); an open end excludes itself.
    ``text`` words the range when the interval notation would read badly."""

    low: float
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    whole: bool = False
    text: str = ""

    def contains(self, value) -> bool:
        if not (_is_int(value) if self.whole else _is_number(value)):
            return False
        above = value > self.low if self.low_open else value >= self.low
        below = self.high is None or (value < self.high if self.high_open else value <= self.high)
        return above and below

    def describe(self) -> str:
        if self.text:
            return self.text
        if self.whole:
            return (
                f"a whole number ≥ {self.low}"
                if self.high is None
                else f"a whole number from {self.low} to {self.high}"
            )
        return (
            f"in {'(' if self.low_open else '['}{self.low:g}, "
            f"{self.high:g}{')' if self.high_open else ']'}"
        )

    def problem(self, noun: str, value) -> str | None:
        return None if self.contains(value) else f"{noun} must be {self.describe()}, got {value!r}"

    def parse(self, text: str):
        """The number typed as ``text``: whole numbers may be typed as 3.0, a decimal comma is
        accepted."""
        if not text:
            raise ConfigError("please enter a value")
        if self.whole:
            try:
                return int(text)
            except ValueError:
                try:
                    number = float(text)
                except ValueError:
                    raise ConfigError(f"{text!r} is not a whole number") from None
                if number.is_integer():
                    return int(number)
                raise ConfigError(f"{text!r} is not a whole number") from None
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            raise ConfigError(f"{text!r} is not a number") from None
        if not math.isfinite(number):
            raise ConfigError(f"{text!r} is not a finite number")
        return number


@dataclass(frozen=True)
class LayerSizes:
    """The sizes of the hidden layers: at least one, each from 1 to ``limits.MAX_LAYER_SIZE``."""

    def problem(self, noun: str, value) -> str | None:
        if len(value) < 1:
            return NO_HIDDEN_LAYER
        for size in value:
            if not (_is_int(size) and 1 <= size <= limits.MAX_LAYER_SIZE):
                return (
                    f"{noun} must be whole numbers from 1 to {limits.MAX_LAYER_SIZE}, got {size!r}"
                )
        return None

    def parse(self, text: str) -> tuple[int, ...]:
        return parse_layer_sizes(text)


def parse_layer_sizes(text: str) -> tuple[int, ...]:
    """``"512, 512"`` -> ``(512, 512)``; commas, semicolons or spaces separate the sizes. The one
    parser of layer sizes typed by people (``--hidden``, the Retrain dialog)."""
    parts = [p for p in text.replace(";", ",").replace(" ", ",").split(",") if p]
    if not parts:
        raise ConfigError(NO_HIDDEN_LAYER)
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"{text.strip()!r} is not a list of whole numbers, e.g. 30 or 512, 512"
        ) from None


@dataclass(frozen=True)
class Setting:
    """One training setting, declared once (see :func:`setting`); ``name`` is its field's name."""

    rule: Choice | Flag | Range | LayerSizes
    noun: str  # how error messages name it: "the learning rate"
    label: str  # the Retrain dialog's label
    group: str  # the Retrain dialog's group box
    option: str  # digitpad-train's option, e.g. "--lr"
    help: str  # digitpad-train's help; for a choice, what comes before the list of choices
    metavar: str | None = None
    tip: str = ""  # the Retrain dialog's tooltip
    #: A share switched on and off (a check box, ``--x/--no-x``): the value when switched on
    #: from off; off is 0 (see :meth:`switched_on`).
    switched: float | None = None
    name: str = ""

    def switched_on(self, current: float) -> float:
        """The share of a switched setting turned on, where it stood at ``current``: a share
        that is on already stays (a preset's own, e.g. the smaller one of ``personal``), one
        that was off becomes ``switched``."""
        return current if current > 0 else self.switched

    def problem(self, value) -> str | None:
        """What is wrong with ``value`` for this setting, in words, or None."""
        return self.rule.problem(self.noun, value)

    def parse(self, text: str):
        """The value typed as ``text``; ConfigError (without the setting's name) if it is none."""
        return self.rule.parse(text.strip())

    def help_text(self) -> str:
        """The command line's help: a choice lists its values ("sgd, momentum or adam")."""
        if not isinstance(self.rule, Choice):
            return self.help
        *first, last = self.rule.values
        listed = f"{', '.join(first)} or {last}"
        return f"{self.help}: {listed}" if self.help else listed


def setting(default, rule, **declaration) -> dataclasses.Field:
    """A ``TrainingConfig`` field with its default and its :class:`Setting` declaration."""
    return dataclasses.field(default=default, metadata={"setting": Setting(rule, **declaration)})


def settings(config_type: type | None = None) -> tuple[Setting, ...]:
    """Every setting of ``config_type`` (``TrainingConfig`` by default), in the fields' order."""
    return tuple(
        dataclasses.replace(field.metadata["setting"], name=field.name)
        for field in dataclasses.fields(config_type or TrainingConfig)
    )


_SHARE = Range(0, 1, high_open=True)  # a share that may be 0 but never everything


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that defines a training run. Each field's declaration says what it is and what
    values it takes; ``lr_schedule`` exponential is η·decayᵉᵖᵒᶜʰ, cosine takes η to 0 along the run;
    early stopping restores the best epoch's weights; ``negatives`` above 0 gives the network an
    eleventh output, "not a digit" (``trainer.data.negatives``)."""

    hidden_layers: tuple[int, ...] = setting(
        (30,),
        LayerSizes(),
        noun="hidden layer sizes",
        label="Hidden layers",
        group="Network",
        option="--hidden",
        metavar="SIZES",
        help="hidden layer sizes, comma-separated, e.g. 512,512",
        tip="Sizes of the hidden layers, e.g. 30 or 512, 512",
    )
    hidden_activation: str = setting(
        "sigmoid",
        Choice(kernels.HIDDEN_ACTIVATIONS),
        noun="hidden activation",
        label="Hidden activation",
        group="Network",
        option="--activation",
        help="hidden activation",
    )
    output_activation: str = setting(
        "sigmoid",
        Choice(kernels.OUTPUT_ACTIVATIONS),
        noun="output activation",
        label="Output activation",
        group="Network",
        option="--output-activation",
        help="",
    )
    cost: str = setting(
        "quadratic",
        Choice(tuple(kernels.COSTS)),
        noun="cost",
        label="Cost",
        group="Network",
        option="--cost",
        help="",
    )
    init: str = setting(
        "normal",
        Choice(INITIALISATIONS),
        noun="initialisation",
        label="Initialisation",
        group="Network",
        option="--init",
        help="weight initialisation",
        tip="How the weights start out",
    )
    optimizer: str = setting(
        "sgd",
        Choice(tuple(KINDS)),
        noun="optimiser",
        label="Optimiser",
        group="Optimisation",
        option="--optimizer",
        help="",
    )
    learning_rate: float = setting(
        3.0,
        Range(0, 1000, low_open=True, text="a number above 0 (at most 1000)"),
        noun="the learning rate",
        label="Learning rate η",
        group="Optimisation",
        option="--lr",
        help="learning rate η",
    )
    momentum: float = setting(
        0.9,
        _SHARE,
        noun="momentum",
        label="Momentum μ",
        group="Optimisation",
        option="--momentum",
        help="momentum μ (momentum optimiser)",
        tip="Only used by the momentum optimiser",
    )
    weight_decay: float = setting(
        0.0,
        _SHARE,
        noun="weight decay",
        label="Weight decay λ",
        group="Optimisation",
        option="--weight-decay",
        help="L2 weight decay λ",
        tip="L2 penalty on the weights (biases are spared)",
    )
    dropout: float = setting(
        0.0,
        _SHARE,
        noun="dropout",
        label="Dropout",
        group="Optimisation",
        option="--dropout",
        help="dropout rate of the hidden layers",
        tip="Probability of dropping a hidden unit, in [0, 1)",
    )
    batch_size: int = setting(
        10,
        Range(1, MNIST_TRAINING_IMAGES, whole=True),
        noun="the batch size",
        label="Batch size",
        group="Optimisation",
        option="--batch-size",
        help="mini-batch size",
    )
    epochs: int = setting(
        30,
        Range(1, 10000, whole=True),
        noun="epochs",
        label="Epochs",
        group="Optimisation",
        option="--epochs",
        help="number of epochs",
    )
    lr_schedule: str = setting(
        "constant",
        Choice(SCHEDULES),
        noun="learning-rate schedule",
        label="η schedule",
        group="Optimisation",
        option="--schedule",
        help="learning-rate schedule",
        tip="constant, exponential (η·decay^epoch) or cosine",
    )
    lr_decay: float = setting(
        1.0,
        Range(0, 1, low_open=True),
        noun="the learning-rate decay",
        label="η decay",
        group="Optimisation",
        option="--lr-decay",
        help="per-epoch factor of the exponential schedule",
        tip="Factor of the exponential schedule, in (0, 1]",
    )
    validation_share: float = setting(
        0.1,
        Range(0, 1, low_open=True, high_open=True, text="between 0 and 1 (exclusive)"),
        noun="the validation share",
        label="Validation share",
        group="Data",
        option="--validation-share",
        help="share held out for validation",
        tip="Share of the 60\u00a0000 training images held out for validation",
    )
    early_stopping: int = setting(
        0,
        Range(0, whole=True),
        noun="early-stopping patience",
        label="Early stopping",
        group="Data",
        option="--early-stopping",
        metavar="PATIENCE",
        help="stop after this many epochs without a better validation loss",
        tip="Stop after this many epochs without a better validation loss (0 = never)",
    )
    augment: bool = setting(
        False,
        Flag(),
        noun="augment",
        label="Augmentation",
        group="Data",
        option="--augment",
        help="random affine and elastic distortions of the training images",
        tip="Random affine and elastic distortions every epoch",
    )
    slashed_zeros: float = setting(
        0.0,
        _SHARE,
        noun="the share of slashed zeros",
        label="Slashed zeros",
        group="Data",
        option="--slashed-zeros",
        metavar="SHARE",
        help="share of the training zeros given a slash (Ø) each epoch",
        tip="Share of the training zeros given a slash (Ø) every epoch, in [0, 1)",
    )
    flagged_ones: float = setting(
        0.0,
        _SHARE,
        noun="the share of flagged ones",
        label="Flagged ones",
        group="Data",
        option="--flagged-ones",
        metavar="SHARE",
        help="share of the training ones given a long flag (the European 1) each epoch",
        tip="Share of the training ones given a long flag, as many Europeans write 1, every "
        "epoch, in [0, 1)",
    )
    negatives: float = setting(
        0.0,
        Range(0, 0.5, high_open=True),
        noun="the share of negatives",
        label="Not a digit",
        group="Data",
        option="--negatives",
        help="also learn an eleventh output, 'not a digit', from synthesised letters and "
        f"scribbles ({NEGATIVES_SHARE:.0%} of the samples, {PERSONAL_NEGATIVES_SHARE:.0%} in a "
        "personal fine-tune; the default preset has it on)",
        tip='Also learn an eleventh output, "not a digit", from synthesised letters, scribbles '
        f"and overlapping digits ({NEGATIVES_SHARE * 100:g} % of the samples, "
        f"{PERSONAL_NEGATIVES_SHARE * 100:g} % when fine-tuning on your digits)",
        switched=NEGATIVES_SHARE,
    )
    train_subset: int = setting(
        0,
        Range(0, whole=True),
        noun="the training subset",
        label="Training subset",
        group="Data",
        option="--subset",
        metavar="N",
        help="train on N images only",
        tip="Use only this many training images (0 = all)",
    )
    seed: int = setting(
        0,
        Range(0, 2**32 - 1, whole=True, text="a whole number from 0 to 2³²−1"),
        noun="the seed",
        label="Seed",
        group="Data",
        option="--seed",
        help="random seed",
        tip="Seeds initialisation, shuffling, dropout and augmentation",
    )

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
        for declared in settings(type(self)):
            problem = declared.problem(getattr(self, declared.name))
            _require(problem is None, problem)
        too_big = limits.shape_problem(self.layer_sizes)
        _require(too_big is None, f"the network would have {too_big}")
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
        flagged_ones=0.2,
        negatives=NEGATIVES_SHARE,
    ),
}
# Fine-tuning a model (``--from``) on someone's own drawings (``--my-digits``) mixed with a replay
# sample of MNIST: a few hundred small Adam steps; see trainer/core/personal.py for the design.
# Dropout would only slow the few steps down. Negatives at a quarter of the full run's share: at
# 15 % those few steps made "not a digit" the top output for 32–43 MNIST test digits instead of
# the starting model's 23, most of the fine-tune's MNIST loss (0.31 points at worst); at 5 % it
# stays at 10–20, and the fine-tuned model still learns the user's "not a digit" drawings. η was
# then chosen on the pen-digit writers (bench/bench_personal.py, all 52): 2·10⁻⁴ −57 % errors,
# 3·10⁻⁴ −61 %, 4·10⁻⁴ −59 %, 6·10⁻⁴ −54 % (MNIST worst −0.08 / −0.08 / −0.15 / −0.24 points).
PRESETS["personal"] = PRESETS["default"].replace(
    learning_rate=3e-4,
    lr_schedule="cosine",
    batch_size=128,
    epochs=3,
    dropout=0.0,
    train_subset=6000,
    negatives=PERSONAL_NEGATIVES_SHARE,
)
