"""Not a digit: synthesised negatives, the 11-output network, the verdict, digitpad-eval."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from synthetic_data import separable

from trainer.config import NEGATIVES_SHARE, PRESETS, ConfigError, TrainingConfig
from trainer.core.network import Network
from trainer.core.training import network_for, train, with_negatives
from trainer.core.verdict import (
    MIN_INK_PIXELS,
    NOT_A_DIGIT_THRESHOLD,
    NOT_SURE_THRESHOLD,
    State,
    decide,
    ink_extent,
)
from trainer.data import negatives
from trainer.model_io import ModelFileError, load_model, save_model
from trainer.strokes.strokes_to_input import center_of_mass


def always(output: int, outputs: int = 11) -> Network:
    """A network that answers ``output`` with probability ≈ 1 whatever it is shown; its best
    digit guess is 3 unless ``output`` is another digit."""
    network = Network([784, 4, outputs], seed=0)
    biases = [np.zeros_like(b) for b in network.biases]
    biases[-1][3] = 2.0
    biases[-1][output] = 12.0
    network.set_parameters([np.zeros_like(w) for w in network.weights], biases)
    return network


def test_negatives_are_seeded_inked_and_placed_like_drawings():
    digits, labels = separable().train_images, separable().train_labels
    first = negatives.negative_images(60, 7, digits, labels)
    assert np.array_equal(first, negatives.negative_images(60, 7, digits, labels))
    assert not np.array_equal(first, negatives.negative_images(60, 8, digits, labels))
    assert first.shape == (60, 784) and first.dtype == np.float32
    assert (first.max(axis=1) > 0.5).all() and first.min() >= 0.0 and first.max() <= 1.0
    without_digits = negatives.negative_images(40, 7)
    for image in without_digits:  # all drawn through the stroke function: centred like MNIST
        assert center_of_mass(image) == pytest.approx((14.0, 14.0), abs=0.05)


def test_every_letter_and_scribble_kind_draws_inside_the_stroke_function():
    rng = np.random.default_rng(0)
    forms = [negatives.LETTERS[ch] for ch in negatives.LETTERS]
    forms += [form for more in negatives.VARIANTS.values() for form in more]
    makers = [lambda r, form=form: negatives._hand(form, r) for form in forms]
    makers += [
        lambda r, make=make: negatives._hand(make(r), r)
        for make in negatives.GENERATED_FORMS.values()
    ]
    makers += [*negatives.SCRIBBLE_KINDS.values(), *negatives.HELD_OUT_KINDS.values()]
    for make in makers:
        strokes = make(rng)
        assert ink_extent(strokes) > 30  # drawn at a size a hand draws on screen
        assert negatives.strokes_to_input(strokes).sum() > 10
    assert not set(negatives.LETTERS) & set("OoDQIliJLTtZzSsGbBgqAy")
    assert set(negatives.VARIANTS) | set(negatives.GENERATED_FORMS) <= set(negatives.LETTERS)
    assert set(negatives.LETTER_WEIGHTS) <= set(negatives.LETTERS)


def test_a_letters_strokes_run_on_past_their_ends_or_stop_short():
    stem = np.array([(0.5, 0.5), (0.5, 1.0)])
    assert np.allclose(negatives._move_end(stem, 0.1)[-1], (0.5, 1.1))
    assert np.allclose(negatives._move_end(stem, -0.1)[-1], (0.5, 0.9))
    corner = np.array([(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)])
    assert np.allclose(negatives._move_end(corner, -1.5), [(0.0, 0.0), (0.5, 0.0)])
    rng = np.random.default_rng(3)
    moved = [negatives._run_on_or_stop_short(stem, rng) for _ in range(200)]
    tops, feet = np.array([m[0, 1] for m in moved]), np.array([m[-1, 1] for m in moved])
    for ends, mark, outward in ((tops, 0.5, -1), (feet, 1.0, 1)):
        run_on = outward * (ends - mark)  # > 0: past the mark, < 0: short of it
        assert run_on.max() > 0.1 and run_on.min() < -0.04
        assert negatives.OVERSHOOT + 1e-9 >= run_on.max()
        assert run_on.min() >= -negatives.SHORTFALL - 1e-9
    dot = np.array([(0.3, 0.3), (0.31, 0.31)])  # the dot of a j stays a dot
    assert np.array_equal(negatives._run_on_or_stop_short(dot, rng), dot)


def test_generated_as_have_a_bowl_on_the_line_and_a_stem_from_its_top_down():
    rng = np.random.default_rng(4)
    one_stroke = 0
    for _ in range(200):
        form = negatives._random_a_form(rng)
        points = np.concatenate([np.asarray(stroke) for stroke in form])
        bowl = np.asarray(form[0][:14])
        stem_top, foot = points[14] if len(form) == 1 else form[1][0], points[-2]
        assert bowl[:, 1].max() == pytest.approx(1.0, abs=0.02)  # the bowl sits on the line
        assert stem_top[1] <= bowl[:, 1].min() + 0.03  # the stem starts at its top or above
        assert stem_top[0] >= bowl[:, 0].max() - 0.05  # on its right
        assert foot[1] >= 0.93  # and runs down to the line
        one_stroke += len(form) == 1
    assert 60 < one_stroke < 140


def test_letters_are_drawn_in_proportion_to_their_weights():
    rng = np.random.default_rng(3)
    drawn = [negatives._random_letter_name(rng) for _ in range(20_000)]
    share_a = drawn.count("a") / len(drawn)
    total = sum(negatives.LETTER_WEIGHTS.get(ch, 1.0) for ch in negatives.LETTERS)
    assert share_a == pytest.approx(negatives.LETTER_WEIGHTS["a"] / total, rel=0.1)
    assert drawn.count("E") / len(drawn) == pytest.approx(1.0 / total, rel=0.2)


def test_the_training_set_gets_its_share_of_label_10():
    data = separable(n=400)
    config = TrainingConfig(negatives=0.2)
    images, labels = with_negatives(data.train_images, data.train_labels, config)
    added = round(200 * 0.2 / 0.8)
    assert len(labels) == 200 + added and (labels[200:] == negatives.NOT_A_DIGIT).all()
    assert np.array_equal(images[:200], data.train_images)
    same = with_negatives(data.train_images, data.train_labels, config)[0]
    assert np.array_equal(images, same)
    assert (
        with_negatives(data.train_images, data.train_labels, TrainingConfig())[0]
        is data.train_images
    )


def test_config_switches_the_eleventh_output():
    assert PRESETS["default"].negatives == NEGATIVES_SHARE > 0
    assert PRESETS["default"].layer_sizes[-1] == 11
    assert PRESETS["nielsen"].layer_sizes[-1] == 10
    with pytest.raises(ConfigError, match="negatives"):
        TrainingConfig(negatives=0.7).validate()


def test_a_trained_11_output_model_learns_the_negatives_and_saves_and_loads(tmp_path):
    data = separable(n=1200)
    config = TrainingConfig(
        hidden_layers=(32,),
        hidden_activation="relu",
        output_activation="softmax",
        cost="cross_entropy",
        init="he",
        optimizer="adam",
        learning_rate=3e-3,
        batch_size=32,
        epochs=4,
        negatives=0.2,
    )
    network = network_for(config)
    assert train(network, config, data).usable
    scribbles = negatives.negative_images(100, 99)
    rejected = np.mean(
        [decide(p).state is State.NOT_A_DIGIT for p in network.predict_proba(scribbles)]
    )
    assert rejected > 0.9
    path = tmp_path / "eleven.npz"
    save_model(network, path, {"name": "eleven"})
    loaded, _ = load_model(path)
    assert loaded.layer_sizes[-1] == 11
    assert np.array_equal(loaded.predict_proba(scribbles), network.predict_proba(scribbles))


def test_other_output_counts_are_refused(tmp_path):
    path = tmp_path / "twelve.npz"
    save_model(Network([784, 4, 12]), path)
    with pytest.raises(ModelFileError, match="784 → 10"):
        load_model(path)


def test_verdict_states():
    sure = np.full(11, 0.005)
    sure[4] = 0.95
    assert decide(sure).state is State.DIGIT and decide(sure).digit == 4
    unsure = np.full(11, 0.05)
    unsure[7], unsure[10] = NOT_SURE_THRESHOLD - 0.05, 0.05
    verdict = decide(unsure)
    assert verdict.state is State.NOT_SURE and verdict.digit is None and verdict.best_guess == 7
    rejected = np.full(11, 0.02)
    rejected[10], rejected[1] = 0.6, 0.2
    verdict = decide(rejected)
    assert verdict.state is State.NOT_A_DIGIT and verdict.digit is None
    assert verdict.detail == "Not a digit (60\u00a0%)"
    doubtful = np.full(11, 0.0)
    doubtful[10] = NOT_A_DIGIT_THRESHOLD  # a small "not a digit" share is enough
    doubtful[5] = 1.0 - doubtful[10]
    assert decide(doubtful).state is State.NOT_A_DIGIT
    doubtful[10], doubtful[5] = NOT_A_DIGIT_THRESHOLD - 0.01, 1.01 - NOT_A_DIGIT_THRESHOLD
    assert decide(doubtful).state is State.DIGIT
    small = decide(sure, MIN_INK_PIXELS - 0.5)
    assert small.state is State.TOO_SMALL and small.digit is None and "keep drawing" in small.detail
    assert decide(sure, MIN_INK_PIXELS).state is State.DIGIT
    ten = np.full(10, 0.01)
    ten[2] = 0.91  # a 10-output model is never "not a digit"
    assert decide(ten).state is State.DIGIT and decide(ten).not_a_digit == 0.0


def test_ink_extent_is_the_longer_side_of_the_drawing():
    assert ink_extent([[(10, 10)]]) == 0.0
    assert ink_extent([[(10, 10), (13, 30)], [(2, 12)]]) == 20.0
    assert ink_extent([]) == 0.0


@pytest.mark.parametrize(
    "output, rejected, accepted_accuracy, non_digit_rejected",
    [
        (10, 1.0, 0.0, 1.0),  # always "not a digit"
        (3, 0.0, 0.5, 0.0),  # always a confident 3: half the digits are 3s
    ],
)
def test_eval_reports_rejections_and_accepts_letters(
    tmp_path, output, rejected, accepted_accuracy, non_digit_rejected
):
    model = tmp_path / "model.npz"
    save_model(always(output), model, {"name": "fixed"})
    stroke = [[[0, 0], [10, 40], [20, 80]]]
    records = [{"label": label, "strokes": stroke, "source": "t"} for label in (3, 5, 3, 5)]
    records += [{"label": letter, "strokes": stroke} for letter in ("E", "x", "H")]
    data = tmp_path / "mixed.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer.cli.eval_cli",
            "--model",
            str(model),
            "--strokes",
            str(data),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["n"] == 4 and report["non_digit_n"] == 3
    assert report["accuracy"] == pytest.approx(0.5)
    assert report["rejected"] == pytest.approx(rejected)
    assert report["accepted_accuracy"] == pytest.approx(accepted_accuracy)
    assert report["non_digit_rejected"] == pytest.approx(non_digit_rejected)


def test_train_cli_switches_negatives():
    from trainer.cli.train_cli import build_parser, config_from_args

    def config(*args):
        return config_from_args(build_parser().parse_args(list(args)))

    assert config().negatives == NEGATIVES_SHARE
    assert config("--no-negatives").negatives == 0.0
    assert config("--preset", "nielsen").negatives == 0.0
    assert config("--preset", "nielsen", "--negatives").negatives == NEGATIVES_SHARE
