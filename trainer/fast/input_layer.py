"""The input layer's two speed tricks, fenced off here so that ``backprop.py`` reads as the maths.

They exist because the input layer is where most of a small network's time goes (784 inputs
against a few dozen or hundred units), while an MNIST image is about 80% zeros:

1. **Compressed input.** Training hands its images over compressed (``sparse_input.SparseRows``:
   each row's inked pixels) and the input layer's two products, X W¹ forward and Xᵀδ¹ backward,
   run over the inked pixels only instead of calling BLAS on mostly zeros. ``Inputs`` holds the
   samples either way; ``batch_times_weights`` and ``weight_gradient`` are the only places that
   look at which (``backprop.py`` calls them for layer 1, and nothing else needs to know).
2. **The SGD step straight onto the inked rows.** With plain SGD and no weight decay the input
   layer's step −η/m · Xᵀδ¹ changes only the rows of W¹ of the batch's inked pixels, so the
   gradient Xᵀδ¹ (mostly zero rows) is never stored: ``weight_gradient`` leaves it in its factored
   form, X and δ¹, and ``apply_update`` adds the step to those rows directly. Whether a run does
   this is decided once, by ``steps_onto_inked_rows``.
3. **Both cores.** Training's batches split the two products over Numba's threads when the
   batch is large enough to pay for waking them (``threads_for``): by columns of z forward, by
   rows of W¹ (pixels) backward, so that every sum is computed as on one core, bit for bit.

All give the same numbers as the plain products up to float rounding (``tests/test_gradients.py``
checks both paths against finite differences, ``tests/test_sparse_input.py`` the products).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from trainer.core import optimizers
from trainer.fast import kernels, numba_threads, sparse_input
from trainer.fast.sparse_input import SparseRows

_JIT = dict(cache=True, nogil=True)


class Inputs(NamedTuple):
    """The samples a pass reads from, dense or compressed (build it with ``dense`` or
    ``compressed``). The unused form is an empty array of the same type, as Numba wants."""

    images: np.ndarray  # (n, inputs) when dense
    compressed: SparseRows  # the same samples' inked pixels when compressed
    is_compressed: bool
    step_onto_inked_rows: bool  # see ``steps_onto_inked_rows``
    threads: int  # the compressed products are split over this many threads (see ``threads_for``)


def dense(images: np.ndarray) -> Inputs:
    """Inputs read as rows of ``images`` (C-contiguous, in the network's dtype)."""
    return Inputs(images, _no_compressed_rows(images.dtype), False, False, 1)


def compressed(
    rows: SparseRows, width: int, step_onto_inked_rows: bool = False, threads: int = 1
) -> Inputs:
    """Inputs read from compressed ``rows`` of ``width`` pixels (``sparse_input.compress_rows``),
    their products run on ``threads`` threads (1: on the calling thread alone)."""
    return Inputs(
        np.zeros((0, width), rows.values.dtype), rows, True, step_onto_inked_rows, threads
    )


#: Batches smaller than this many samples × units run the input layer's products on one thread.
#: Starting the second thread costs a few µs while it spins after the last product, tens when it
#: has gone to sleep (``numba_threads.THREAD_ENVIRONMENT``). ``bench/bench_input_layer.py``
#: (medians of both products, one thread → two, two runs): 128 × 30 0.32 → 0.23 and 0.18 →
#: 0.21 ms; 128 × 100 0.50 → 0.31 and 0.30 → 0.25 ms; 128 × 256 0.88 → 0.54 and 0.55 → 0.42 ms;
#: 128 × 800, the ``default`` preset's, 2.16 → 1.21 and 2.06 → 1.12 ms. (When idle threads slept
#: at once, 128 × 256 gained nothing and 128 × 100 lost: 0.59 → 0.67 ms.)
TWO_THREADS_MIN_WORK = 128 * 100


def threads_for(batch_size: int, units: int) -> int:
    """How many threads training's batches of ``batch_size`` split the products of an input
    layer of ``units`` units over (trick 3 above): 1 for small batches, else Numba's threads
    (``numba_threads.parallel_threads``)."""
    if batch_size * units < TWO_THREADS_MIN_WORK:
        return 1
    return numba_threads.parallel_threads()


def steps_onto_inked_rows(settings: optimizers.OptimizerSettings, is_compressed: bool) -> bool:
    """True when the input layer's SGD step goes straight onto the inked rows (trick 2 above):
    compressed inputs, plain SGD, no weight decay (which would change every row)."""
    return is_compressed and settings.kind == "sgd" and settings.weight_decay == 0.0


def _no_compressed_rows(dtype) -> SparseRows:
    return SparseRows(np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, dtype))


@njit(**_JIT)
def batch_times_weights(inputs, rows, batch, weights, z):
    """z = X W¹, where X holds the samples ``rows`` of ``inputs``.

    Dense samples are first gathered into ``batch`` (the workspace's input activations, which
    ``weight_gradient`` reads again); compressed ones are multiplied over their inked pixels.
    """
    if inputs.is_compressed and inputs.threads > 1:
        sparse_input.rows_times_split_by_columns(
            inputs.compressed, rows, weights, z, inputs.threads
        )
    elif inputs.is_compressed:
        sparse_input.rows_times(inputs.compressed, rows, weights, z)
    else:
        kernels.gather_rows(inputs.images, rows, batch)
        np.dot(batch, weights, z)


@njit(**_JIT)
def weight_gradient(inputs, rows, batch, delta, gradient):
    """gradient = Xᵀ δ¹, the input layer's weight gradient, for the X of ``batch_times_weights``.

    Left undone (X and δ¹ stay apart) when the step goes onto the inked rows: ``apply_update``
    applies it there.
    """
    if not inputs.is_compressed:
        np.dot(batch.T, delta, gradient)
    elif not inputs.step_onto_inked_rows:
        _add_transposed_times(inputs, rows, delta, 1.0, gradient, True)


@njit(**_JIT)
def apply_update(network, workspace, moments, hyper, inputs, rows, step):
    """The optimiser's step on every parameter (``optimizers.apply_update``) after the batch
    ``rows`` of ``inputs``; with ``step_onto_inked_rows`` W¹'s step −η/m · Xᵀδ¹ is added to the
    rows of the batch's inked pixels only. The large arrays' step is split over the threads of the
    input layer's products, ``inputs.threads``."""
    m = rows.shape[0]
    onto_inked_rows = inputs.step_onto_inked_rows
    optimizers.apply_update(
        network, workspace, moments, hyper, m, step, not onto_inked_rows, inputs.threads
    )
    if onto_inked_rows:
        _add_transposed_times(
            inputs,
            rows,
            workspace.deltas[0][:m],
            -hyper.learning_rate / m,
            network.weights[0],
            False,
        )


@njit(**_JIT)
def _add_transposed_times(inputs, rows, delta, scale, target, overwrite):
    """``sparse_input.add_transposed_times`` on the compressed inputs, on ``inputs.threads``."""
    if inputs.threads > 1:
        sparse_input.add_transposed_times_split_by_pixels(
            inputs.compressed, rows, delta, scale, target, inputs.threads, overwrite
        )
    else:
        sparse_input.add_transposed_times(inputs.compressed, rows, delta, scale, target, overwrite)
