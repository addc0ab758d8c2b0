"""The compressed input layer (trainer/fast/sparse_input.py) against NumPy's dense products.

Widths 1 to 140 cover narrow rows (< 16 columns), whole vectors, a last vector that overlaps the
one before it and more than one block of 64 columns; batches below and above PACKED_MIN_ROWS
both ways of running through them (reading W where it is, or copied block by block; adding to the
target sample by sample, or pixel by pixel).
"""

import numpy as np
import pytest
from synthetic_data import sparse_matrix

from trainer.fast import sparse_input

WIDTHS = [*range(1, 141), 300, 800]
BATCHES = [5, sparse_input.PACKED_MIN_ROWS + 3]


def _tolerance(dtype):
    return dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


def _batch_rows(rng, size, n):
    """``size`` row numbers below ``n``, in any order, with a repeat and the blank row 1."""
    rows = rng.integers(0, n, size).astype(np.int64)
    rows[1], rows[-1] = 1, rows[0]
    return rows


def _matrices_to_compress(dtype):
    """A sparse matrix; one whose last entry is its only non-zero one; one of zeros (-0.0 among
    them, which are zeros too); a dense one with negative entries."""
    sparse = sparse_matrix(np.random.default_rng(0), 9, 50, dtype)
    last_only = np.zeros((4, 7), dtype)
    last_only[-1, -1] = 0.5
    zeros = np.zeros((3, 5), dtype)
    zeros[1, 2] = -0.0
    rng = np.random.default_rng(1)
    dense = (rng.uniform(0.1, 1.0, (3, 6)) * rng.choice([-1.0, 1.0], (3, 6))).astype(dtype)
    return [sparse, last_only, zeros, dense]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compressed_rows_hold_exactly_the_non_zero_entries(dtype):
    for x in _matrices_to_compress(dtype):
        compressed = sparse_input.compress_rows(x)
        rebuilt = np.zeros_like(x)
        for r in range(x.shape[0]):
            span = slice(compressed.indptr[r], compressed.indptr[r + 1])
            rebuilt[r, compressed.indices[span]] = compressed.values[span]
        np.testing.assert_array_equal(rebuilt, x)
        rows, columns = np.nonzero(x)  # row by row, columns in increasing order
        np.testing.assert_array_equal(compressed.indices, columns)
        np.testing.assert_array_equal(compressed.values, x[rows, columns])
        np.testing.assert_array_equal(np.diff(compressed.indptr), np.count_nonzero(x, axis=1))
        assert compressed.values.dtype == dtype and compressed.indices.dtype == np.int32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", BATCHES)
def test_rows_times_is_the_dense_product_of_the_chosen_rows(dtype, batch):
    rng = np.random.default_rng(1)
    x = sparse_matrix(rng, 50, 40, dtype)
    compressed = sparse_input.compress_rows(x)
    rows = _batch_rows(rng, batch, len(x))
    for cols in WIDTHS:
        w = rng.standard_normal((40, cols)).astype(dtype)
        out = np.full((len(rows), cols), np.nan, dtype=dtype)
        sparse_input.rows_times(compressed, rows, w, out)
        np.testing.assert_allclose(out, x[rows] @ w, **_tolerance(dtype), err_msg=f"{cols} columns")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", BATCHES)
def test_add_transposed_times_adds_the_scaled_product_once_per_column(dtype, batch):
    rng = np.random.default_rng(2)
    x = sparse_matrix(rng, 50, 40, dtype)
    x[:, 7] = 0.0  # a pixel no sample inks
    compressed = sparse_input.compress_rows(x)
    rows = _batch_rows(rng, batch, len(x))
    for cols in WIDTHS:
        delta = rng.standard_normal((len(rows), cols)).astype(dtype)
        target = rng.standard_normal((40, cols)).astype(dtype)
        before = target.copy()
        sparse_input.add_transposed_times(compressed, rows, delta, -0.25, target)
        expected = before - 0.25 * (x[rows].T @ delta)
        np.testing.assert_allclose(target, expected, **_tolerance(dtype), err_msg=f"{cols} columns")
        uninked = ~x[rows].any(axis=0)
        assert uninked[7]
        np.testing.assert_array_equal(target[uninked], before[uninked])  # untouched, bit for bit


@pytest.mark.parametrize("parts", [1, 2, 3])
@pytest.mark.parametrize("batch", BATCHES)
def test_overwrite_gives_the_bits_of_adding_onto_zeros_whatever_the_target_held(batch, parts):
    """The input layer's gradient is written, never zeroed first: every row, inked or not, of
    every thread's run must come out as if the target had been zeroed."""
    rng = np.random.default_rng(5)
    x = sparse_matrix(rng, 50, 40, np.float32)
    x[:, 7] = 0.0  # a pixel no sample inks
    compressed = sparse_input.compress_rows(x)
    rows = _batch_rows(rng, batch, len(x))
    for cols in WIDTHS:
        delta = rng.standard_normal((len(rows), cols)).astype(np.float32)
        onto_zeros = np.zeros((40, cols), np.float32)
        sparse_input.add_transposed_times(compressed, rows, delta, 1.0, onto_zeros)
        written = np.full((40, cols), np.nan, np.float32)
        if parts == 1:
            sparse_input.add_transposed_times(compressed, rows, delta, 1.0, written, True)
        else:
            sparse_input.add_transposed_times_split_by_pixels(
                compressed, rows, delta, 1.0, written, parts, True
            )
        assert written.tobytes() == onto_zeros.tobytes(), f"{cols} columns"


@pytest.mark.parametrize("cols", [16, 30, 100, 512, 800])
def test_a_large_batch_gives_the_bits_of_its_samples_one_at_a_time(cols):
    """Copied blocks and pixel-by-pixel sums change the memory traffic, never a result: each
    element adds the same products in the same order as sample-by-sample small batches."""
    rng = np.random.default_rng(cols)
    x = sparse_matrix(rng, 200, 784)
    compressed = sparse_input.compress_rows(x)
    rows = _batch_rows(rng, 128, len(x))
    w = rng.standard_normal((784, cols)).astype(np.float32)
    batch_out = np.empty((len(rows), cols), np.float32)
    sparse_input.rows_times(compressed, rows, w, batch_out)
    for i, r in enumerate(rows):
        one = np.empty((1, cols), np.float32)
        sparse_input.rows_times(compressed, np.array([r]), w, one)
        assert one.tobytes() == batch_out[i].tobytes()

    delta = rng.standard_normal((len(rows), cols)).astype(np.float32)
    for scale in (1.0, -0.37):
        whole, one_at_a_time = np.zeros((784, cols), np.float32), np.zeros((784, cols), np.float32)
        sparse_input.add_transposed_times(compressed, rows, delta, scale, whole)
        for i in range(len(rows)):
            sparse_input.add_transposed_times(
                compressed, rows[i : i + 1], delta[i : i + 1], scale, one_at_a_time
            )
        assert whole.tobytes() == one_at_a_time.tobytes()


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
