"""Cache-line aligned arrays (trainer/fast/aligned.py) and the buffers that must be aligned."""

import numpy as np
import pytest
from numba import njit

from trainer.core import backprop
from trainer.fast import aligned


@pytest.mark.parametrize("shape", [(0,), (1,), (3,), (5, 7), (128, 800), (784, 512)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_zeros_are_aligned_zeros_of_the_shape(shape, dtype):
    array = aligned.zeros(shape, dtype)
    assert array.size == 0 or array.ctypes.data % aligned.ALIGNMENT == 0  # empty: no data at all
    assert array.shape == shape and array.dtype == dtype and array.flags.c_contiguous
    assert not array.any()
    array[...] = 1  # writable, and the whole of it belongs to this array
    assert array.sum() == array.size


@njit
def _compiled_empty(n, like):
    buffer = aligned.empty(n, like.dtype)
    buffer[:] = 2.0
    return buffer.ctypes.data % aligned.ALIGNMENT, buffer.size, buffer.sum()


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 784 * 64])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_empty_is_aligned_and_of_the_length(n, dtype):
    offset, size, total = _compiled_empty(n, np.zeros(1, dtype))
    assert (offset == 0 or n == 0) and (size, total) == (n, 2.0 * n)


def test_the_workspace_rows_start_on_cache_lines():
    """The sparse kernels load and store whole rows of δ¹, z¹ and ∂C/∂W¹ as 64-byte vectors."""
    space = backprop.Workspace.allocate([784, 800, 512, 11], 128, np.float32)
    arrays = [*space.activations, *space.zs, *space.deltas, *space.dropout_masks, *space.grad_w]
    assert all(a.ctypes.data % aligned.ALIGNMENT == 0 for a in arrays)
    assert all(not a.any() for a in arrays + list(space.grad_b))
    assert [a.shape for a in space.grad_w] == [(784, 800), (800, 512), (512, 11)]
