"""``digitpad-train``: train a network on MNIST from the terminal.

    digitpad-train --preset nielsen
    digitpad-train --preset keras --epochs 5 --out keras.npz --json
    digitpad-train --preset default --hidden 256,256 --optimizer momentum --lr 0.05
    digitpad-train --from model.npz --my-digits mine.jsonl --preset personal --out me.npz

Prints a progress bar within each epoch and one line per epoch, the way Keras does; with ``--json``
the last line printed is a JSON object with ``test_accuracy`` and the per-epoch records.
Exit status: 0 trained, 1 diverged (nothing saved), 2 bad arguments or data, or an ``--out`` that
cannot be written (checked before training), 130 interrupted by Ctrl-C (see ``trainer.cli.terminal``).

``--out``: a symbolic link is followed (the file it points to is replaced atomically); a FIFO,
device or folder is refused. Temporary files that killed saves left beside it (``.NAME.*.tmp``,
untouched for 10 minutes) are removed; a replaced file keeps its permissions.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from tqdm import tqdm

from trainer.cli.terminal import EXIT_BAD_INPUT, EXIT_DIVERGED, printable, run_cli
from trainer.config import (
    PRESETS,
    ConfigError,
    Flag,
    LayerSizes,
    Range,
    TrainingConfig,
    settings,
)
from trainer.core.evaluation import evaluate
from trainer.core.network import Network
from trainer.core.personal import personal_set, personal_training_data
from trainer.core.training import (
    BatchProgress,
    EpochRecord,
    epochs_phrase,
    network_for,
    split_for_training,
    train,
    train_samples,
)
from trainer.data.mnist import MnistError, load_mnist
from trainer.data.pen_digits import PenDigitsError, read_pen_digits
from trainer.model_io import (
    ModelFileError,
    check_writable,
    load_model,
    remove_stale_temporaries,
    save_model,
)
from trainer.model_metadata import model_metadata

#: Said before and after a run without ``--out``, so nobody trains for minutes and loses the model.
NOT_SAVED = "No --out given: the trained model is not saved (add --out PATH to keep it)."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitpad-train",
        description="Train DigitPad's neural network on MNIST.",
        epilog="Every option not given keeps the preset's value.",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="default",
        help="starting configuration (default: %(default)s)",
    )
    add_setting_options(parser)
    parser.add_argument(
        "--mnist-dir",
        metavar="DIR",
        help="folder with the four MNIST files (else $DIGITPAD_MNIST_DIR, "
        "else the cache, else download)",
    )
    parser.add_argument(
        "--no-download",
        action="store_true",
        help="fail instead of downloading MNIST when it is not found",
    )
    parser.add_argument(
        "--from",
        dest="from_model",
        metavar="MODEL",
        help="continue training this model (.npz) instead of a new network; "
        "its architecture replaces the preset's",
    )
    parser.add_argument(
        "--my-digits",
        action="append",
        metavar="FILE",
        help="also learn these drawings (pen-digits .jsonl[.gz]); repeatable. "
        "With --from and --preset personal: learn someone's handwriting",
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="save the trained model here (.npz); without it nothing is saved",
    )
    parser.add_argument("--name", help="a name for the model, stored in its metadata")
    parser.add_argument("--json", action="store_true", help="print a JSON summary as the last line")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def add_setting_options(parser: argparse.ArgumentParser, config_type=None) -> None:
    """One option per training setting, from its declaration in ``trainer.config``; an option
    not given is None (the preset's value stays)."""
    for declared in settings(config_type):
        metavar = declared.metavar or declared.option.lstrip("-").replace("-", "_").upper()
        if isinstance(declared.rule, Flag) or declared.switched is not None:
            kind = {"action": argparse.BooleanOptionalAction}
        elif isinstance(declared.rule, Range):
            kind = {"type": int if declared.rule.whole else float, "metavar": metavar}
        else:
            kind = {"metavar": metavar}
        parser.add_argument(
            declared.option,
            dest=declared.name,
            default=None,
            help=declared.help_text().replace("%", "%%"),
            **kind,
        )


def config_from_args(args: argparse.Namespace, config_type=None) -> TrainingConfig:
    """The preset with the options given on the command line applied, validated."""
    changes = {}
    preset = PRESETS[args.preset]
    for declared in settings(config_type):
        value = getattr(args, declared.name)
        if value is None:
            continue
        if declared.switched is not None:
            value = declared.switched_on(getattr(preset, declared.name)) if value else 0.0
        elif isinstance(declared.rule, LayerSizes):
            try:
                value = declared.parse(value)
            except ConfigError as error:
                raise ConfigError(f"{declared.option}: {error}") from None
        changes[declared.name] = value
    return preset.replace(**changes).validate()


def starting_network(
    model_path: str | None, config: TrainingConfig
) -> tuple[Network, TrainingConfig]:
    """A new network as the config says, or the model at ``model_path`` with the config's
    architecture fields replaced by the model's (so the saved metadata tells the truth)."""
    if model_path is None:
        return network_for(config), config
    network, _ = load_model(model_path)
    return network, config.replace(
        hidden_layers=tuple(network.layer_sizes[1:-1]),
        hidden_activation=network.hidden_activation,
        output_activation=network.output_activation,
        cost=network.cost,
        init=network.init,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)
        if args.preset == "personal" and not args.from_model:
            raise ConfigError("the personal preset fine-tunes a model: give --from MODEL.npz")
        if args.out:
            remove_stale_temporaries(check_writable(args.out))
        network, config = starting_network(args.from_model, config)
        drawings = [d for name in args.my_digits or () for d in read_pen_digits(name)]
        mine = personal_set(drawings, network.layer_sizes[-1]) if args.my_digits else None
        if mine is not None and not len(mine.labels):
            raise ConfigError(
                "--my-digits: no drawing to learn from ("
                + ("; ".join(mine.skipped) or "the files hold no drawings")
                + ")"
            )
        mnist = load_mnist(args.mnist_dir, download=not args.no_download)
    except (ConfigError, MnistError, ModelFileError, PenDigitsError) as error:
        print(f"digitpad-train: {printable(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    started = time.perf_counter()
    if mine is not None:
        for note in mine.skipped:
            print(f"digitpad-train: {printable(note)}", file=sys.stderr)
        data = personal_training_data(mine, mnist, config)
    else:
        data = split_for_training(mnist, config)
    print(
        f"Training {'-'.join(map(str, config.layer_sizes))} ({config.hidden_activation}, "
        f"{config.output_activation}, {config.cost}, {config.optimizer} η={config.learning_rate:g},"
        f" batch {config.batch_size}, {epochs_phrase(config.epochs)}"
        f"{', augmented' if config.augment else ''}"
        f"{', not-a-digit negatives' if config.negatives else ''})"
        f" on {len(data.train_labels)} images, validating on {len(data.val_labels)}",
        file=sys.stderr,
    )
    if not args.out:
        print(NOT_SAVED, file=sys.stderr)
    reporter = _EpochReporter(config.epochs, quiet=args.quiet)
    result = train(network, config, data, on_batch=reporter.batch, on_epoch=reporter.epoch)
    reporter.close()
    seconds = time.perf_counter() - started
    if not result.usable:
        print(f"digitpad-train: {result.message}; nothing was saved", file=sys.stderr)
        return EXIT_DIVERGED
    test = evaluate(network, mnist.test_images, mnist.test_labels)
    print(
        f"{result.message}; test accuracy {test.accuracy:.2%} (loss {test.loss:.4f}) "
        f"in {seconds:.1f} s"
    )
    if args.out:
        metadata = model_metadata(
            config,
            result,
            test,
            mnist,
            seconds,
            name=args.name or f"{args.preset} preset",
            preset=args.preset,
        )
        try:
            save_model(network, args.out, metadata)
        except ModelFileError as error:
            print(f"digitpad-train: {printable(error)}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"saved {printable(args.out)}")
    else:
        print(NOT_SAVED)
    if args.json:
        print(
            json.dumps(
                {
                    "preset": args.preset,
                    "config": config.to_dict(),
                    "status": result.status,
                    "test_accuracy": test.accuracy,
                    "test_loss": test.loss,
                    "seconds": seconds,
                    "train_samples": train_samples(len(data.train_labels), config),
                    "epochs": [record.to_dict() for record in result.epochs],
                }
            )
        )
    return 0


class _EpochReporter:
    """A tqdm bar within each epoch (on stderr) and a Keras-style line after it (on stdout)."""

    def __init__(self, epochs: int, quiet: bool):
        self.epochs, self.quiet, self.bar = epochs, quiet, None

    def batch(self, progress: BatchProgress) -> None:
        if self.quiet:
            return
        if self.bar is None:
            self.bar = tqdm(
                total=progress.batches,
                desc=f"Epoch {progress.epoch}/{self.epochs}",
                unit="batch",
                leave=False,
                file=sys.stderr,
                dynamic_ncols=True,
                disable=None,
            )
        self.bar.n = progress.batch
        self.bar.set_postfix(loss=f"{progress.running_loss:.4f}", refresh=False)
        self.bar.refresh()

    def epoch(self, record: EpochRecord) -> None:
        self.close()
        print(
            f"Epoch {record.epoch}/{self.epochs} - {record.seconds:.2f}s - "
            f"loss: {record.loss:.4f} - accuracy: {record.accuracy:.4f} - "
            f"val_loss: {record.val_loss:.4f} - val_accuracy: {record.val_accuracy:.4f}",
            flush=True,
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


if __name__ == "__main__":
    sys.exit(run_cli("digitpad-train", "trainer.cli.train_cli"))
