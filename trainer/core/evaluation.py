"""Measuring a network on labelled data: cost, accuracy and the confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from trainer.core import backprop
from trainer.core.network import Network
from trainer.fast import blas_threads, input_layer, kernels, sparse_input

EVALUATION_BATCH = 1000


@dataclass(frozen=True)
class Evaluation:
    loss: float  # mean cost per sample
    accuracy: float  # fraction classified correctly
    n: int


def evaluate(
    network: Network,
    images: np.ndarray,
    labels: np.ndarray,
    workspace: backprop.Workspace | None = None,
    compressed: sparse_input.SparseRows | None = None,
) -> Evaluation:
    """Mean cost and accuracy of the network on images (n, 784) with class labels (n,).

    ``compressed``: the same images compressed by ``sparse_input.compress_rows`` (training keeps
    its validation set that way); the input layer then works on their inked pixels only, split
    over the cores for a large enough layer (``input_layer.threads_for``; the same figures).
    """
    n = len(labels)
    if n == 0:
        raise ValueError("cannot evaluate on an empty set")
    if workspace is None:
        workspace = backprop.Workspace.allocate(
            network.layer_sizes, min(EVALUATION_BATCH, n), network.dtype
        )
    net = backprop.net(network)
    labels = np.ascontiguousarray(labels, dtype=np.int64)
    size = workspace.batch_size
    last = len(network.weights) - 1
    cost_sum, correct = 0.0, 0
    if compressed is None:
        inputs = input_layer.dense(np.ascontiguousarray(images, dtype=network.dtype))
    else:
        threads = input_layer.threads_for(size, network.layer_sizes[1])
        inputs = input_layer.compressed(compressed, network.layer_sizes[0], threads=threads)
    rows = np.arange(n, dtype=np.int64)
    # BLAS on the calling thread alone when the products are split over training's threads
    with blas_threads.at_most(1 if inputs.threads > 1 else None):
        for start in range(0, n, size):
            m = min(size, n - start)
            backprop.forward(net, workspace, inputs, rows[start : start + m], 0.0)
            batch_cost, batch_correct = kernels.output_delta_and_cost(
                workspace.zs[last][:m],
                workspace.activations[last + 1][:m],
                labels[start : start + m],
                net.output,
                net.cost,
                workspace.deltas[last][:m],
            )
            cost_sum += batch_cost
            correct += batch_correct
    return Evaluation(loss=cost_sum / n, accuracy=correct / n, n=n)


def confusion_matrix(
    true_labels: np.ndarray, predicted: np.ndarray, classes: int = 10
) -> np.ndarray:
    """matrix[t, p] counts the samples of class t predicted as p."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(
        matrix, (np.asarray(true_labels, dtype=np.int64), np.asarray(predicted, dtype=np.int64)), 1
    )
    return matrix


def format_confusion_matrix(matrix: np.ndarray) -> str:
    """A plain-text table: rows are true labels, columns predictions."""
    classes = matrix.shape[0]
    width = max(5, len(str(matrix.max())) + 1)
    lines = ["true\\pred" + "".join(f"{p:>{width}}" for p in range(classes))]
    for t in range(classes):
        lines.append(f"{t:>9}" + "".join(f"{matrix[t, p]:>{width}}" for p in range(classes)))
    return "\n".join(lines)
