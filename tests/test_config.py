"""Hyperparameters: the presets are what the references describe, and bad values are refused."""

import math

import pytest

from trainer.config import PRESETS, ConfigError, TrainingConfig


def test_presets_match_their_references():
    nielsen, keras = PRESETS["nielsen"], PRESETS["keras"]
    assert nielsen.layer_sizes == [784, 30, 10]
    assert (
        nielsen.hidden_activation,
        nielsen.output_activation,
        nielsen.cost,
        nielsen.init,
        nielsen.optimizer,
        nielsen.learning_rate,
        nielsen.batch_size,
        nielsen.epochs,
    ) == ("sigmoid", "sigmoid", "quadratic", "normal", "sgd", 3.0, 10, 30)
    assert round(60000 * (1 - nielsen.validation_share)) == 50000
    assert keras.layer_sizes == [784, 512, 512, 10]
    assert (
        keras.hidden_activation,
        keras.output_activation,
        keras.cost,
        keras.optimizer,
        keras.learning_rate,
        keras.batch_size,
        keras.epochs,
        keras.validation_share,
    ) == ("relu", "softmax", "cross_entropy", "adam", 1e-3, 128, 20, 0.1)
    for preset in PRESETS.values():
        assert preset.validate() is preset


BAD = [
    ({"batch_size": 0}, "batch size"),
    ({"batch_size": -5}, "batch size"),
    ({"learning_rate": 0.0}, "learning rate"),
    ({"learning_rate": -1.0}, "learning rate"),
    ({"learning_rate": math.nan}, "learning rate"),
    ({"epochs": 0}, "epochs"),
    ({"epochs": 2.5}, "epochs"),
    ({"hidden_layers": ()}, "hidden layer"),
    ({"hidden_layers": (0,)}, "hidden layer sizes"),
    ({"validation_share": 0.0}, "validation share"),
    ({"validation_share": 1.0}, "validation share"),
    ({"dropout": 1.0}, "dropout"),
    ({"momentum": 1.0}, "momentum"),
    ({"optimizer": "rmsprop"}, "optimiser"),
    ({"hidden_activation": "softmax"}, "hidden activation"),
    ({"cost": "hinge"}, "cost"),
    ({"lr_schedule": "step"}, "schedule"),
    ({"seed": -1}, "seed"),
    ({"augment": "yes"}, "augment"),
]


@pytest.mark.parametrize("change,words", BAD, ids=[str(c) for c, _ in BAD])
def test_out_of_range_settings_are_refused_with_a_clear_message(change, words):
    with pytest.raises(ConfigError, match=words):
        TrainingConfig().replace(**change).validate()


def test_round_trip_through_a_dict():
    config = PRESETS["keras"]
    assert TrainingConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown training settings: colour"):
        TrainingConfig.from_dict({**config.to_dict(), "colour": "blue"})


def test_learning_rate_schedules():
    base = TrainingConfig(learning_rate=1.0, epochs=10)
    assert base.learning_rate_at(7) == 1.0
    assert base.replace(lr_schedule="exponential", lr_decay=0.5).learning_rate_at(3) == 0.125
    cosine = base.replace(lr_schedule="cosine")
    assert cosine.learning_rate_at(0) == 1.0
    assert cosine.learning_rate_at(5) == pytest.approx(0.5)
    assert cosine.learning_rate_at(9) < 0.03
