"""Seconds per epoch and prediction latency: our trainer against PyTorch, in the same run.

    python bench/bench_training_speed.py                 # keras config, 3 epochs each, + nielsen
    python bench/bench_training_speed.py --epochs 5 --threads 2

Our epochs and PyTorch's alternate (ours, theirs, ours, …) so that a change in machine load hits
both alike. Both train the same network (784-512-512-10 ReLU, dropout 0.2, softmax +
cross-entropy), with the same optimiser (Adam 1e-3), batch (128) and data (54 000 MNIST images).
Our epoch times include the validation pass; PyTorch's do not. The first epoch of each is
reported but left out of the summary, which is the median of the others: the first includes
one-off start-up costs, and a median does not let one epoch disturbed by another process decide.
PyTorch is optional (``pip install torch==2.13.0``); without it only our figures are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mnist-dir", default=None)
    parser.add_argument("--skip-nielsen", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))

    from trainer.config import PRESETS
    from trainer.mnist import load_mnist
    from trainer.training import network_for, split_for_training, train

    mnist = load_mnist(args.mnist_dir)
    keras = PRESETS["keras"].replace(epochs=args.epochs)
    data = split_for_training(mnist, keras)
    ours_net = network_for(keras)
    torch_run = _torch_runner(data, args.threads)

    ours, theirs = [], []

    def after_our_epoch(record) -> None:  # runs between our epochs, outside their timing
        ours.append(record.seconds)
        if torch_run is not None:
            theirs.append(torch_run())
        print(
            f"epoch {record.epoch}: ours {ours[-1]:.2f} s (val_accuracy "
            f"{record.val_accuracy:.4f})" + (f", pytorch {theirs[-1]:.2f} s" if theirs else ""),
            flush=True,
        )

    train(ours_net, keras, data, on_epoch=after_our_epoch)

    ours_median = statistics.median(ours[1:] or ours)
    print(
        f"\nkeras config (784-512-512-10, Adam, batch 128, dropout 0.2), {len(data.train_labels)} "
        f"images/epoch, {args.threads} threads"
    )
    print(
        f"  ours:    {ours_median:.3f} s/epoch (median of epochs 2..{args.epochs}; all: "
        f"{', '.join(f'{s:.2f}' for s in ours)})"
    )
    if theirs:
        theirs_median = statistics.median(theirs[1:] or theirs)
        print(
            f"  pytorch: {theirs_median:.3f} s/epoch (all: {', '.join(f'{s:.2f}' for s in theirs)})"
        )
        print(f"  ratio ours/pytorch: {ours_median / theirs_median:.2f}")

    _latency(ours_net, data.val_images[:1000], torch_run is not None, args.threads)

    if not args.skip_nielsen:
        nielsen = PRESETS["nielsen"]
        nielsen_data = split_for_training(mnist, nielsen)
        times = []
        train(
            network_for(nielsen),
            nielsen.replace(epochs=max(2, args.epochs)),
            nielsen_data,
            on_epoch=lambda record: times.append(record.seconds),
        )
        print(
            f"\nnielsen config (784-30-10, SGD, batch 10), {len(nielsen_data.train_labels)} "
            f"images/epoch: ours {statistics.median(times[1:]):.3f} s/epoch "
            f"(all: {', '.join(f'{s:.2f}' for s in times)}); "
            f"plain vectorised NumPy {_numpy_nielsen_epoch(nielsen_data):.3f} s/epoch"
        )


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


def _latency(network, samples: np.ndarray, with_torch: bool, threads: int) -> None:
    """Median time to turn one 784-vector into 10 probabilities."""

    def median_us(predict) -> float:
        for x in samples[:50]:
            predict(x)
        times = []
        for x in samples:
            started = time.perf_counter()
            predict(x)
            times.append(time.perf_counter() - started)
        return statistics.median(times) * 1e6

    print(
        f"\nsingle-sample prediction, keras network: ours {median_us(network.predict_proba):.1f} µs",
        end="",
    )
    if with_torch:
        import torch

        model = _torch_model()
        with torch.no_grad():
            for l, layer in enumerate(m for m in model if isinstance(m, torch.nn.Linear)):
                layer.weight.copy_(torch.from_numpy(network.weights[l].T))
                layer.bias.copy_(torch.from_numpy(network.biases[l]))
        model.eval()

        def torch_predict(x):
            with torch.no_grad():
                return torch.softmax(model(torch.from_numpy(x)), dim=-1).numpy()

        print(f", pytorch {median_us(torch_predict):.1f} µs (median of {len(samples)})")
    else:
        print()


def _torch_model():
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(784, 512),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(512, 512),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.2),
        torch.nn.Linear(512, 10),
    )


def _torch_runner(data, threads: int):
    """A function that trains PyTorch's twin of the keras network for one epoch, or None."""
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed (pip install torch==2.13.0): measuring ours only")
        return None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = _torch_model()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_function = torch.nn.CrossEntropyLoss()
    images = torch.from_numpy(np.ascontiguousarray(data.train_images))
    labels = torch.from_numpy(data.train_labels.astype(np.int64))

    def epoch() -> float:
        started = time.perf_counter()
        model.train()
        order = torch.randperm(len(labels))
        for start in range(0, len(labels), 128):
            batch = order[start : start + 128]
            optimiser.zero_grad()
            loss = loss_function(model(images[batch]), labels[batch])
            loss.backward()
            optimiser.step()
        return time.perf_counter() - started

    return epoch


if __name__ == "__main__":
    main()
