"""Arrays whose data start on a cache line, for the kernels that load whole vectors at a time.

The sparse input layer's kernels (``sparse_input.py``) load and store 16-lane vectors
(``simd.Lanes``: 64 bytes, one AVX-512 register or two AVX2 ones). NumPy and Numba start a new
array on a 16- or 32-byte boundary, so most such vectors straddled two cache lines, and a load
that straddles two lines costs about two. With the buffers those kernels read starting on a
64-byte boundary (then every row of 512 or 800 floats does too) the forward product takes about
0.65 of the time it took on one thread and the weight gradient about 0.8 (together with the
unsigned indices of the kernels' hottest loops: the figures are in ``sparse_input.py``); the
numbers are the same bit for bit, since where an array starts changes no arithmetic.

Loops that Numba vectorises by itself use 32-byte vectors, which a 32-byte boundary already
suits; BLAS copies its operands into buffers of its own.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Bytes: a cache line, and one 16-lane float32 vector.
ALIGNMENT = 64


@njit(cache=True, nogil=True)
def empty(n, dtype):
    """An uninitialised 1-D array of ``n`` elements of ``dtype`` starting on an ALIGNMENT-byte
    boundary (a view into a slightly larger array), for compiled code's scratch buffers."""
    raw = np.empty(n + ALIGNMENT, dtype=dtype)
    skip = _elements_to_boundary(raw.ctypes.data, raw.itemsize)
    return raw[skip : skip + n]


def zeros(shape, dtype) -> np.ndarray:
    """``np.zeros(shape, dtype)``, C-contiguous, starting on an ALIGNMENT-byte boundary."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    raw = np.zeros(count + ALIGNMENT, dtype=dtype)
    skip = _elements_to_boundary(raw.ctypes.data, dtype.itemsize)
    return raw[skip : skip + count].reshape(shape)


@njit(cache=True, nogil=True)
def _elements_to_boundary(address, itemsize):
    """How many elements of ``itemsize`` bytes from ``address`` to the next ALIGNMENT-byte
    boundary (NumPy's arrays always start on a multiple of their item size)."""
    return (ALIGNMENT - address % ALIGNMENT) % ALIGNMENT // itemsize
