"""The compressed input layer (trainer/fast/sparse_input.py) against NumPy's dense products.

Widths 1 to 70 cover narrow rows (< 8 columns), whole vectors, a last vector that overlaps the
one before it and more than one block of 32 columns; the widest ones, rows streamed through memory.
"""

import numpy as np
import pytest
from synthetic_data import sparse_matrix

from trainer.fast import sparse_input

WIDTHS = [*range(1, 71), sparse_input.REGISTER_COLUMNS, sparse_input.REGISTER_COLUMNS + 1, 300]


def _tolerance(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compressed_rows_hold_exactly_the_non_zero_entries(dtype):
    x = sparse_matrix(np.random.default_rng(0), 9, 50, dtype)
    compressed = sparse_input.compress_rows(x)
    rebuilt = np.zeros_like(x)
    for r in range(x.shape[0]):
        span = slice(compressed.indptr[r], compressed.indptr[r + 1])
        rebuilt[r, compressed.indices[span]] = compressed.values[span]
    np.testing.assert_array_equal(rebuilt, x)
    assert compressed.indptr[-1] == np.count_nonzero(x)
    assert compressed.values.dtype == dtype and compressed.indices.dtype == np.int32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_times_is_the_dense_product_of_the_chosen_rows(dtype):
    rng = np.random.default_rng(1)
    x = sparse_matrix(rng, 12, 40, dtype)
    compressed = sparse_input.compress_rows(x)
    rows = np.array([5, 1, 0, 11, 5], dtype=np.int64)  # any order, repeats allowed
    for cols in WIDTHS:
        w = rng.standard_normal((40, cols)).astype(dtype)
        out = np.full((len(rows), cols), np.nan, dtype=dtype)
        sparse_input.rows_times(compressed, rows, w, out)
        np.testing.assert_allclose(out, x[rows] @ w, **_tolerance(dtype), err_msg=f"{cols} columns")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_transposed_times_adds_the_scaled_product_once_per_column(dtype):
    rng = np.random.default_rng(2)
    x = sparse_matrix(rng, 12, 40, dtype)
    compressed = sparse_input.compress_rows(x)
    rows = np.array([3, 7, 1, 3], dtype=np.int64)
    for cols in WIDTHS:
        delta = rng.standard_normal((len(rows), cols)).astype(dtype)
        target = rng.standard_normal((40, cols)).astype(dtype)
        before = target.copy()
        sparse_input.add_transposed_times(compressed, rows, delta, -0.25, target)
        expected = before - 0.25 * (x[rows].T @ delta)
        np.testing.assert_allclose(target, expected, **_tolerance(dtype), err_msg=f"{cols} columns")
        uninked = ~x[rows].any(axis=0)
        np.testing.assert_array_equal(target[uninked], before[uninked])  # untouched, bit for bit


def test_evaluation_on_compressed_images_matches_the_dense_evaluation():
    from trainer.core.evaluation import evaluate
    from trainer.core.network import Network

    rng = np.random.default_rng(3)
    images = sparse_matrix(rng, 2500, 784, np.float32)  # more than one evaluation batch
    labels = rng.integers(0, 10, len(images))
    network = Network([784, 40, 10], "sigmoid", "softmax", "cross_entropy", "glorot", seed=4)
    dense = evaluate(network, images, labels)
    compressed = evaluate(network, images, labels, compressed=sparse_input.compress_rows(images))
    assert compressed.n == dense.n == 2500
    assert compressed.accuracy == dense.accuracy
    assert abs(compressed.loss - dense.loss) < 1e-5 * abs(dense.loss)
