"""Seconds per epoch and prediction latency: our trainer against PyTorch, in the same run.

    python bench/bench_training_speed.py                 # keras and default, 3 epochs each
    python bench/bench_training_speed.py --epochs 5 --threads 2
    python bench/bench_training_speed.py --cancel-only   # how long a cancelled run takes to end
    python bench/bench_training_speed.py --beside-images-only   # a batch beside the image thread

Two configurations, one after the other, each against PyTorch:

* ``keras``: both train the same network (784-512-512-10 ReLU, dropout 0.2, softmax +
  cross-entropy) with the same optimiser (Adam 1e-3), batch (128) and data (54 000 MNIST images);
* ``default``, the preset we ship, with everything it trains on (57 000 MNIST images augmented
  every epoch, 30 % of the zeros slashed, 20 % of the ones flagged, 14 250 synthesised
  non-digits: 71 250 samples, 11 outputs, dropout 0.2), against PyTorch's plain 784-800-800-10
  Adam + dropout 0.2 on the 57 000 MNIST images without any augmentation.

The ratio compares seconds per training sample. Our epochs and PyTorch's alternate (ours, theirs,
ours, …) so that a change in machine load hits both alike; PyTorch trains in a child process, with
its own OpenMP settings (``_PyTorchTwin``). Our epoch times include the validation pass (and, for
``default``, preparing the epoch's augmented images); PyTorch's do not. The first
epoch of each is reported but left out of the summary, which is the median of the others: the
first includes one-off start-up costs, and a median does not let one epoch disturbed by another
process decide. Then: where one ``default`` epoch's time goes (each part timed on its own with
the kernels training uses, on the epoch's real shapes), single-sample latency, and the
``nielsen`` epoch. PyTorch is optional (``pip install torch==2.13.0``); without it only our
figures are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import NamedTuple

# trainer first: importing it points Numba's cache at the user's folder, which must happen before
# numba is imported (otherwise Numba caches the kernels beside the sources, in __pycache__), and
# sets what OpenBLAS reads when NumPy loads it (trainer/fast/numba_threads.py).
from trainer.core import backprop, optimizers  # isort: skip
from trainer.fast import blas_threads, input_layer, kernels, split_products  # isort: skip
import numpy as np  # isort: skip
from numba import njit  # isort: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mnist-dir", default=None)
    parser.add_argument("--skip-nielsen", action="store_true")
    parser.add_argument(
        "--beside-images-only",
        action="store_true",
        help="only a default batch's time on one and two cores, alone and beside the image thread",
    )
    parser.add_argument(
        "--cancel-only",
        action="store_true",
        help="only how long a cancelled default run takes to end",
    )
    parser.add_argument("--pytorch-twin", metavar="PRESET", help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    if args.pytorch_twin:
        _serve_pytorch_twin(args)
        return

    from trainer.data.mnist import load_mnist

    mnist = load_mnist(args.mnist_dir)
    if args.cancel_only:
        _cancel_latency(mnist)
        return
    if args.beside_images_only:
        _beside_images(mnist)
        return
    twins = {preset: _PyTorchTwin.start(preset, args) for preset in ("keras", "default")}
    rows = [_compare(preset, mnist, args, twin) for preset, twin in twins.items()]
    print(f"\nper configuration, {args.threads} threads (ratio: seconds per training sample)")
    print(f"  {'configuration':<14}{'ours s/epoch':>14}{'pytorch s/epoch':>17}{'ratio':>8}")
    for row in rows:
        print(
            f"  {row['preset']:<14}{row['ours']:>14.3f}"
            + (f"{row['theirs']:>17.3f}{row['ratio']:>7.2f}×" if "ratio" in row else "")
        )
    _breakdown(mnist, rows[1]["ours"])
    _latency(rows[0]["network"], rows[0]["latency_samples"], twins["keras"])
    for twin in twins.values():
        if twin is not None:
            twin.close()

    if not args.skip_nielsen:
        _nielsen(mnist, args.epochs)


def _compare(preset: str, mnist, args, twin) -> dict:
    """Train ``preset`` for ``args.epochs`` epochs, PyTorch's ``twin`` between our epochs."""
    from trainer.config import PRESETS
    from trainer.core.training import network_for, split_for_training, train, train_samples

    config = PRESETS[preset].replace(epochs=args.epochs)
    data = split_for_training(mnist, config)
    ours_samples = train_samples(len(data.train_labels), config)
    network = network_for(config)
    torch_run = twin.epoch if twin is not None else None
    ours, theirs = [], []

    def after_our_epoch(record) -> None:  # runs between our epochs, outside their timing
        ours.append(record.seconds)
        if torch_run is not None:
            theirs.append(torch_run())
        print(
            f"{preset} epoch {record.epoch}: ours {ours[-1]:.2f} s (val_accuracy "
            f"{record.val_accuracy:.4f})" + (f", pytorch {theirs[-1]:.2f} s" if theirs else ""),
            flush=True,
        )

    train(network, config, data, on_epoch=after_our_epoch)
    row = {
        "preset": preset,
        "ours": statistics.median(ours[1:] or ours),
        "network": network,
        "latency_samples": data.val_images[:1000],
    }
    print(
        f"{preset}: {'-'.join(map(str, config.layer_sizes))}, ours {ours_samples} samples/epoch, "
        f"{row['ours']:.3f} s/epoch (median of epochs 2..{args.epochs}; all: "
        f"{', '.join(f'{s:.2f}' for s in ours)}), {row['ours'] / ours_samples * 1e6:.1f} µs/sample"
    )
    if theirs:
        row["theirs"] = statistics.median(theirs[1:] or theirs)
        their_samples = len(data.train_labels)
        row["ratio"] = (row["ours"] / ours_samples) / (row["theirs"] / their_samples)
        print(
            f"{preset}: pytorch {their_samples} samples/epoch, {row['theirs']:.3f} s/epoch (all: "
            f"{', '.join(f'{s:.2f}' for s in theirs)}), "
            f"{row['theirs'] / their_samples * 1e6:.1f} µs/sample; ratio {row['ratio']:.2f}"
        )
    return row


class _DefaultEpoch(NamedTuple):
    """One ``default`` epoch's samples and a fresh network's training state, set up as training
    sets them up, with how long the once-per-run and the per-epoch preparation took."""

    config: object  # the preset, a TrainingConfig
    train_images: int  # MNIST's training images; the rest of the samples are negatives
    images: np.ndarray  # the samples before augmentation, float32
    labels: np.ndarray
    compressed: object  # the first epoch's images, augmented and compressed (SparseRows)
    network: object
    space: object  # backprop.Workspace for one batch
    state: object  # optimizers.OptimizerState (Adam)
    net: object  # backprop.Net
    order: np.ndarray  # a shuffled sample order, int64
    negatives_seconds: float  # synthesising the negatives
    images_seconds: float  # the epoch's images on one core: augmented, slashed, flagged, compressed


def _default_epoch(mnist) -> _DefaultEpoch:
    from trainer.config import PRESETS
    from trainer.core.training import network_for, split_for_training, with_negatives
    from trainer.data import epoch_images
    from trainer.fast import sparse_input

    config = PRESETS["default"]
    data = split_for_training(mnist, config)
    started = time.perf_counter()
    images, labels = with_negatives(data.train_images, data.train_labels, config)
    negatives_seconds = time.perf_counter() - started
    images = np.ascontiguousarray(images, np.float32)
    augmented = np.empty_like(images)
    epoch_images.prepare(images, labels, config, 0, augmented)  # loads the compiled kernels
    started = time.perf_counter()
    epoch_images.prepare(images, labels, config, 1, augmented)
    compressed = sparse_input.compress_rows(augmented)
    images_seconds = time.perf_counter() - started
    network = network_for(config)
    return _DefaultEpoch(
        config,
        len(data.train_labels),
        images,
        labels,
        compressed,
        network,
        backprop.Workspace.allocate(network.layer_sizes, config.batch_size, np.float32),
        optimizers.OptimizerState(
            network.weights, network.biases, optimizers.OptimizerSettings(kind="adam")
        ),
        backprop.net(network),
        np.random.default_rng(0).permutation(len(labels)).astype(np.int64),
        negatives_seconds,
        images_seconds,
    )


def _breakdown(mnist, epoch_seconds: float) -> None:
    """Where one ``default`` epoch's time goes: each part timed alone on the epoch's shapes.

    Each part runs the kernels ``training.run_batches`` calls, batch after batch, in a compiled
    loop of its own (so the products go through the same BLAS, held to one thread as training
    holds it); ``other`` (activations, the output layer's and the input layer's deltas and bias
    sums, shuffling, validation) is what is left of the measured epoch.
    """

    epoch = _default_epoch(mnist)
    config, network, space, state, net, order = (
        epoch.config,
        epoch.network,
        epoch.space,
        epoch.state,
        epoch.net,
        epoch.order,
    )
    parts = {}
    batches = len(order) // config.batch_size
    threads = input_layer.threads_for(config.batch_size, network.layer_sizes[1])
    inputs = input_layer.compressed(epoch.compressed, epoch.images.shape[1], threads=threads)
    with blas_threads.at_most(1):  # real activations for the products
        backprop.forward(net, space, inputs, order[: config.batch_size], config.dropout)
    products = (
        network.weights,
        inputs,
        order,
        config.batch_size,
        space.activations,
        space.zs,
        space.deltas,
        space.grad_w,
        batches,
    )
    other_layers = (net, space, threads, config.dropout > 0.0, batches)
    dropout = (space.activations, space.dropout_masks, config.dropout, batches)
    adam = (
        net,
        space,
        state.moments,
        state.hyper(config.learning_rate),
        config.batch_size,
        threads,
        batches,
    )
    for name, kernel, arguments in (
        (f"input layer's products ({threads} threads)", _epoch_input_products, products),
        (f"other layers' products ({threads} threads, BLAS)", _epoch_other_layers, other_layers),
        ("dropout (masks drawn and applied forward)", _epoch_dropout, dropout),
        (f"Adam ({threads} threads)", _epoch_adam, adam),
    ):
        with blas_threads.at_most(1):  # as training holds it (trainer/fast/blas_threads.py)
            kernel(*arguments[:-1], 1)  # compile
            started = time.perf_counter()
            kernel(*arguments)
        parts[name] = time.perf_counter() - started
    parts["other (activations, input layer's deltas, validation, waits)"] = epoch_seconds - sum(
        parts.values()
    )
    ours, openblas = _other_layers_both_ways(other_layers)
    print(f"\nwhere one default epoch ({epoch_seconds:.3f} s, {len(order)} samples) goes:")
    for name, seconds in parts.items():
        print(f"  {name:<58}{seconds:>7.3f} s {seconds / epoch_seconds:>6.1%}")
    print(
        f"  beside it, in a background thread (trainer/data/epoch_images.py; the batches keep\n"
        f"  to the other core meanwhile, trainer/fast/blas_threads.py): the next epoch's\n"
        f"  {'augmentation, slashed zeros, flagged ones, compression, one core':<58}"
        f"{epoch.images_seconds:>7.3f} s (timed alone)"
    )
    print(
        f"  once per run, not per epoch: synthesising {len(order) - epoch.train_images} "
        f"negatives {epoch.negatives_seconds:.2f} s"
    )
    print(
        f"  the other layers' products, timed again alternating (median of 3): on the batch's\n"
        f"  {threads} threads, BLAS on each {ours:.3f} s; on OpenBLAS's own threads, one product "
        f"at a time {openblas:.3f} s"
    )


def _other_layers_both_ways(other_layers) -> tuple[float, float]:
    """The other layers' products of an epoch as training runs them (the batch's threads, BLAS
    held to one: split_products, backprop.layer_backward), and the same products one at a time
    on OpenBLAS's own threads (as before that version; the same numbers): medians of 3, the two
    ways alternating."""
    net, space, threads, masked, batches = other_layers
    ours, openblas = [], []
    for _ in range(3):
        for ways, given, blas in ((ours, threads, 1), (openblas, 1, None)):
            with blas_threads.at_most(blas):
                started = time.perf_counter()
                _epoch_other_layers(net, space, given, masked, batches)
                ways.append(time.perf_counter() - started)
    return statistics.median(ours), statistics.median(openblas)


@njit
def _epoch_input_products(weights, inputs, order, batch, a, z, d, gw, batches):
    """The input layer's two products over the inked pixels, for ``batches`` batches, as
    training runs them (on ``inputs.threads`` threads)."""
    for b in range(batches):
        rows = order[b * batch : (b + 1) * batch]
        input_layer.batch_times_weights(inputs, rows, a[0], weights[0], z[0])
        input_layer.weight_gradient(inputs, rows, a[0], d[0], gw[0])


@njit
def _epoch_other_layers(net, space, threads, masked, batches):
    """The other layers' products for ``batches`` batches, as training runs them on ``threads``
    threads: forward split by columns, backward each layer's BP2 (with its activation's
    derivative) beside its BP4 and BP3 (``backprop.layer_backward``)."""
    a, z = space.activations, space.zs
    layers = len(net.weights)
    batch = a[0].shape[0]
    for _ in range(batches):
        for l in range(1, layers):
            split_products.times(a[l], net.weights[l], z[l], threads)
        for l in range(layers - 1, 0, -1):
            backprop.layer_backward(net, space, l, batch, masked, threads)


@njit
def _epoch_dropout(a, masks, rate, batches):
    """Dropout's work in ``batches`` batches: draw each hidden layer's mask and apply it (the
    backward pass applies it again within the activation's derivative, under "other")."""
    for _ in range(batches):
        for layer in range(len(masks) - 1):
            kernels.drop_out(a[layer + 1], masks[layer], rate)


@njit
def _epoch_adam(net, space, moments, hyper, batch, threads, batches):
    """``batches`` Adam updates of every parameter, on ``threads`` threads as training runs them."""
    for step in range(1, batches + 1):
        optimizers.apply_update(net, space, moments, hyper, batch, step, True, threads)


def _nielsen(mnist, epochs: int) -> None:
    from trainer.config import PRESETS
    from trainer.core.training import network_for, split_for_training, train

    nielsen = PRESETS["nielsen"]
    nielsen_data = split_for_training(mnist, nielsen)
    times = []
    train(
        network_for(nielsen),
        nielsen.replace(epochs=max(2, epochs)),
        nielsen_data,
        on_epoch=lambda record: times.append(record.seconds),
    )
    print(
        f"\nnielsen config (784-30-10, SGD, batch 10), {len(nielsen_data.train_labels)} "
        f"images/epoch: ours {statistics.median(times[1:]):.3f} s/epoch "
        f"(all: {', '.join(f'{s:.2f}' for s in times)}); "
        f"plain vectorised NumPy {_numpy_nielsen_epoch(nielsen_data):.3f} s/epoch"
    )


def _beside_images(mnist, rounds: int = 3) -> None:
    """A ``default`` batch's milliseconds (``training.run_batches``, chunks of 10 batches) on two
    cores and on one (BLAS held to one thread either way, as training holds it), alone and while
    the next epoch's images are made in a thread beside it, as ``epoch_images.EpochImages`` does;
    and how long making the images took meanwhile. Why training keeps to one core beside that
    thread."""
    from trainer.core.training import Samples, run_batches
    from trainer.data import epoch_images
    from trainer.fast import numba_threads, sparse_input

    epoch = _default_epoch(mnist)
    config, images, labels, space, state, net = (
        epoch.config,
        epoch.images,
        epoch.labels,
        epoch.space,
        epoch.state,
        epoch.net,
    )
    hyper = state.hyper(config.learning_rate)
    scratch = np.empty_like(images)
    two = numba_threads.parallel_threads()
    samples = {
        threads: Samples(
            input_layer.compressed(epoch.compressed, images.shape[1], threads=threads),
            labels,
            epoch.order,
            config.batch_size,
        )
        for threads in (1, two)
    }
    step = 0

    def milliseconds_per_batch(threads: int, until) -> float:
        nonlocal step
        batches, started = 0, time.perf_counter()
        with blas_threads.at_most(1):
            while not until(batches):
                first = batches % 400
                _, _, _, step = run_batches(
                    net,
                    space,
                    state.moments,
                    hyper,
                    config.dropout,
                    samples[threads],
                    first,
                    first + 10,
                    step,
                )
                batches += 10
        return (time.perf_counter() - started) / batches * 1000

    milliseconds_per_batch(two, lambda batches: batches >= 20)  # compile or load, warm up
    for round_ in range(rounds):
        figures = []
        for threads in (two, 1):
            alone = milliseconds_per_batch(threads, lambda batches: batches >= 150)
            made, took = threading.Event(), []

            def make(epoch=round_ + 1, made=made, took=took):
                started = time.perf_counter()
                epoch_images.prepare(images, labels, config, epoch, scratch)
                sparse_input.compress_rows(scratch)
                took.append(time.perf_counter() - started)
                made.set()

            maker = threading.Thread(target=make)
            maker.start()
            beside = milliseconds_per_batch(threads, lambda batches, made=made: made.is_set())
            maker.join()
            figures.append(
                f"{threads} core{'s' if threads > 1 else ''}: {alone:.2f} ms alone, "
                f"{beside:.2f} ms beside the images (made in {took[0]:.2f} s)"
            )
        print(f"default batch, round {round_ + 1}: " + "; ".join(figures), flush=True)


def _cancel_latency(mnist, delays=(0.2, 0.6, 1.0, 1.3, 1.6, 2.0, 3.0, 4.5)) -> None:
    """How long a cancelled ``default`` run takes to end: Cancel (the event the app sets) comes
    ``delay`` seconds into the second epoch — early on while the next epoch's images are being
    made beside it — and the time until ``train`` has returned and its thread is gone is reported.
    """
    from trainer.config import PRESETS
    from trainer.core.training import network_for, split_for_training, train

    config = PRESETS["default"].replace(epochs=3)
    data = split_for_training(mnist, config)
    latencies = []
    for delay in delays:
        cancel, second_epoch, cancelled_at = threading.Event(), threading.Event(), []

        def cancel_later(delay=delay, second_epoch=second_epoch, cancel=cancel, at=cancelled_at):
            second_epoch.wait()
            time.sleep(delay)
            at.append(time.perf_counter())
            cancel.set()

        timer = threading.Thread(target=cancel_later)
        timer.start()
        result = train(
            network_for(config),
            config,
            data,
            on_epoch=lambda record, started=second_epoch: started.set(),
            cancel=cancel,
        )
        ended = time.perf_counter()
        timer.join()
        latencies.append(ended - cancelled_at[0])
        print(
            f"cancel {delay:.1f} s into epoch 2: {result.status} "
            f"({result.message}), ended after {latencies[-1] * 1000:.0f} ms",
            flush=True,
        )
    print(f"cancel latency: max {max(latencies) * 1000:.0f} ms over {len(latencies)} runs")


def _numpy_nielsen_epoch(data) -> float:
    """One epoch of Nielsen's network in straightforward vectorised NumPy: the baseline to beat."""
    rng = np.random.default_rng(0)
    w1, b1 = rng.standard_normal((784, 30), np.float32), rng.standard_normal(30, np.float32)
    w2, b2 = rng.standard_normal((30, 10), np.float32), rng.standard_normal(10, np.float32)
    eye = np.eye(10, dtype=np.float32)
    images, labels = data.train_images, data.train_labels
    order = rng.permutation(len(labels))
    started = time.perf_counter()
    for start in range(0, len(order), 10):
        batch = order[start : start + 10]
        x, y = images[batch], eye[labels[batch]]
        a1 = 1 / (1 + np.exp(-(x @ w1 + b1)))
        a2 = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
        d2 = (a2 - y) * a2 * (1 - a2)
        d1 = (d2 @ w2.T) * a1 * (1 - a1)
        w2 -= 0.3 * (a1.T @ d2)
        b2 -= 0.3 * d2.sum(0)
        w1 -= 0.3 * (x.T @ d1)
        b1 -= 0.3 * d1.sum(0)
    return time.perf_counter() - started


def _latency(network, samples: np.ndarray, twin) -> None:
    """Median time to turn one 784-vector into 10 probabilities."""
    print(
        f"\nsingle-sample prediction, keras network: ours "
        f"{_median_us(network.predict_proba, samples):.1f} µs",
        end="",
    )
    if twin is not None:
        pytorch = twin.latency_us(network)
        print(f", pytorch {pytorch:.1f} µs (median of {len(samples)})")
    else:
        print()


def _median_us(predict, samples: np.ndarray) -> float:
    for x in samples[:50]:
        predict(x)
    times = []
    for x in samples:
        started = time.perf_counter()
        predict(x)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e6


def _torch_latency_us(weights, biases, samples: np.ndarray) -> float:
    """``_median_us`` of PyTorch's twin of the keras network with these parameters."""
    import torch

    model = _torch_model()
    with torch.no_grad():
        for l, layer in enumerate(m for m in model if isinstance(m, torch.nn.Linear)):
            layer.weight.copy_(torch.from_numpy(weights[l].T))
            layer.bias.copy_(torch.from_numpy(biases[l]))
    model.eval()

    def torch_predict(x):
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(x)), dim=-1).numpy()

    return _median_us(torch_predict, samples)


class _PyTorchTwin:
    """PyTorch's twin of a configuration, in a process of its own (this script with
    ``--pytorch-twin PRESET``), asked for one epoch at a time over a pipe.

    Its own process because PyTorch's OpenMP library has the same name as the system's libgomp,
    which our parallel kernels load first: in one process PyTorch would run on ours, with the
    settings trainer gives it (``numba_threads.THREAD_ENVIRONMENT``) instead of its own defaults.
    """

    def __init__(self, process: subprocess.Popen):
        self.process = process

    @classmethod
    def start(cls, preset: str, args):
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch is not installed (pip install torch==2.13.0): measuring ours only")
            return None
        from trainer.fast import numba_threads

        env = {k: v for k, v in os.environ.items() if k not in numba_threads.SET_BY_TRAINER}
        command = [
            sys.executable,
            __file__,
            "--pytorch-twin",
            preset,
            "--threads",
            str(args.threads),
        ]
        if args.mnist_dir:
            command += ["--mnist-dir", args.mnist_dir]
        process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
        )
        twin = cls(process)
        twin._ask("ready")
        return twin

    def _ask(self, request: str) -> float:
        self.process.stdin.write(request + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"PyTorch's twin ended without answering {request!r}")
        return float(answer)

    def epoch(self) -> float:
        """Seconds of one more training epoch."""
        return self._ask("epoch")

    def latency_us(self, network) -> float:
        """Single-sample latency of the keras twin given ``network``'s parameters."""
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "parameters.npz")
            arrays = {f"w{l}": w for l, w in enumerate(network.weights)}
            arrays |= {f"b{l}": b for l, b in enumerate(network.biases)}
            np.savez(path, **arrays)
            return self._ask(f"latency {path}")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _serve_pytorch_twin(args) -> None:
    """The twin's process: loads the preset's data as ``_compare`` does, then answers each line of
    stdin (``ready``, ``epoch``, ``latency PATH``) with one number on stdout."""
    from trainer.config import PRESETS
    from trainer.core.training import split_for_training
    from trainer.data.mnist import load_mnist
    from trainer.fast import numba_threads

    for name in numba_threads.SET_BY_TRAINER:  # PyTorch's OpenMP reads them when it loads
        os.environ.pop(name)
    config = PRESETS[args.pytorch_twin].replace(epochs=args.epochs)
    data = split_for_training(load_mnist(args.mnist_dir), config)
    epoch = _torch_runner(data, config, args.threads)
    for line in sys.stdin:
        request, _, path = line.strip().partition(" ")
        if request == "ready":
            answer = 0.0
        elif request == "epoch":
            answer = epoch()
        else:
            with np.load(path, allow_pickle=False) as saved:
                layers = len(saved.files) // 2
                weights = [saved[f"w{l}"] for l in range(layers)]
                biases = [saved[f"b{l}"] for l in range(layers)]
            answer = _torch_latency_us(weights, biases, data.val_images[:1000])
        print(answer, flush=True)


def _torch_model(hidden_layers=(512, 512), dropout=0.2):
    """PyTorch's ReLU MLP with dropout after each hidden layer and ten outputs."""
    import torch

    layers, width = [], 784
    for size in hidden_layers:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU(), torch.nn.Dropout(dropout)]
        width = size
    return torch.nn.Sequential(*layers, torch.nn.Linear(width, 10))


def _torch_runner(data, config, threads: int):
    """A function that trains PyTorch's plain twin of ``config``'s network for one epoch.

    Same layers (ten outputs), dropout, Adam, learning rate and batch; MNIST's images as they are.
    """
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = _torch_model(config.hidden_layers, config.dropout)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate, eps=1e-7)
    loss_function = torch.nn.CrossEntropyLoss()
    images = torch.from_numpy(np.ascontiguousarray(data.train_images))
    labels = torch.from_numpy(data.train_labels.astype(np.int64))

    def epoch() -> float:
        started = time.perf_counter()
        model.train()
        order = torch.randperm(len(labels))
        for start in range(0, len(labels), config.batch_size):
            batch = order[start : start + config.batch_size]
            optimiser.zero_grad()
            loss = loss_function(model(images[batch]), labels[batch])
            loss.backward()
            optimiser.step()
        return time.perf_counter() - started

    return epoch


if __name__ == "__main__":
    main()
