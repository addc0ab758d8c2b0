"""A hidden layer's forward product split over threads (trainer/fast/split_products.py): the
numbers of compiled code's np.dot bit for bit, on any number of threads — with this machine's
OpenBLAS, which is what the split relies on."""

import itertools

import numpy as np
import pytest
from numba import njit

from trainer.fast import blas_threads, split_products


@njit
def _np_dot(a, w, z):
    """The product as compiled code computes it unsplit (NumPy's own np.dot may differ: NumPy and
    SciPy, which Numba calls, each bring a copy of OpenBLAS)."""
    np.dot(a, w, z)


def _split_and_whole(rows, inner, units, threads, dtype=np.float32):
    rng = np.random.default_rng(rows * 7919 + inner * 31 + units)
    a = np.maximum(rng.standard_normal((rows, inner)), 0).astype(dtype)  # ReLU activations
    w = rng.standard_normal((inner, units)).astype(dtype)
    whole = np.empty((rows, units), dtype)
    split = np.full((rows, units), np.nan, dtype)
    with blas_threads.at_most(1):  # as training runs it: BLAS on the calling thread
        _np_dot(a, w, whole)
        split_products.times(a, w, split, threads)
    return split, whole


TRAINING_SHAPES = [  # (rows, inner, units): keras's and default's batches, last batches, validation
    (128, 512, 512),
    (112, 512, 512),
    (1000, 512, 512),
    (128, 800, 800),
    (82, 800, 800),
    (1000, 800, 800),
]


@pytest.mark.parametrize("rows,inner,units", TRAINING_SHAPES)
def test_trainings_products_are_split_and_equal_np_dot_bit_for_bit(rows, inner, units):
    z = np.empty((rows, units), np.float32)
    assert split_products.parts_for(z, inner, 2) == 2
    split, whole = _split_and_whole(rows, inner, units, 2)
    assert split.tobytes() == whole.tobytes()


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("inner", [30, 100, 512, 800])
def test_any_product_equals_np_dot_bit_for_bit(threads, inner):
    """Small products (OpenBLAS's kernels for them add up in another order) stay whole."""
    split_count = 0
    for rows, units in itertools.product(
        [1, 3, 8, 16, 24, 64, 100, 128, 256, 1000], [11, 128, 300]
    ):
        z = np.empty((rows, units), np.float32)
        split_count += split_products.parts_for(z, inner, threads) > 1
        split, whole = _split_and_whole(rows, inner, units, threads)
        assert split.tobytes() == whole.tobytes(), (rows, units)
    assert split_count > 0


def test_float64_products_are_never_split():
    z = np.empty((1000, 800), np.float64)
    assert split_products.parts_for(z, 800, 2) == 1
    split, whole = _split_and_whole(128, 800, 800, 2, np.float64)
    assert split.tobytes() == whole.tobytes()


def test_each_thread_gets_64_columns_and_4_million_multiply_adds_or_more():
    assert split_products.MIN_COLUMNS_PER_THREAD == 64
    assert split_products.MIN_WORK_PER_THREAD == 1 << 22
    parts_for = split_products.parts_for
    assert parts_for(np.empty((1000, 11), np.float32), 800, 2) == 1  # the output layer
    assert parts_for(np.empty((128, 127), np.float32), 800, 2) == 1
    assert parts_for(np.empty((128, 128), np.float32), 800, 2) == 2
    assert parts_for(np.empty((16, 512), np.float32), 512, 2) == 1  # 4.2 million in all
    assert parts_for(np.empty((32, 512), np.float32), 512, 2) == 2
    assert parts_for(np.empty((128, 800), np.float32), 800, 3) == 3
