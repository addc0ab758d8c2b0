"""A hidden layer's forward product z = a W split over training's threads, one BLAS call each.

Training's parallel work — the input layer's products, Adam's step, and each layer's backward
products side by side (``backprop.py``) — runs on Numba's OpenMP threads. Left to itself,
OpenBLAS would run the other layers' products on a pool of threads of its own, and a batch would
hand the second core back and forth between the two pools about ten times; a sleeping thread
takes tens of microseconds to wake, and one that spins instead holds the core the other pool
needs next (``numba_threads.THREAD_ENVIRONMENT``). So while training's batches run on two
threads, BLAS is held to one (``blas_threads.at_most``), and the forward product is split here
over the OpenMP threads instead: each computes a run of whole columns of z with one call to
BLAS's gemm, the one Numba's ``np.dot`` calls. Measured on a ``default`` epoch's other layers
(``python bench/bench_training_speed.py``, the two ways alternating): 1.90 s this way against
2.01 s one product at a time on OpenBLAS's own threads in one run, 2.38 s against 2.35 s in
another — on these shapes no more than this machine's noise; the ``keras`` configuration's
smaller products gain more (its epochs 0.40–0.43× PyTorch's in three runs, 0.43× before).

OpenBLAS computes each element of z from the same operations in the same order whether it
computes all the columns or a run of them — for float32 products large enough for its general
kernel. Products of up to about 10⁶ multiply-adds go to kernels for small products, whose order
differs, and its float64 products differ too; those are not split (``parts_for``). So z is
``np.dot``'s bit for bit, on any number of threads (``tests/test_split_products.py`` checks it on
many shapes, training's among them).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

_JIT = dict(cache=True, nogil=True)
#: A thread gets at least this many columns of z: fewer cost more to start than they save.
MIN_COLUMNS_PER_THREAD = 64
#: ... and at least this many multiply-adds (rows × columns × inner size): four times the size up
#: to which OpenBLAS uses its kernels for small products, which would give other numbers.
MIN_WORK_PER_THREAD = 1 << 22

#: BLAS's gemm as Numba's own ``np.dot`` calls it (column-major, through SciPy's BLAS): kind
#: ("s" float32, "d" float64), transa, transb, m, n, k, &alpha, a, lda, b, ldb, &beta, c, ldc.
_xxgemm = types.ExternalFunction(
    "numba_xxgemm",
    types.intc(
        types.char,
        types.char,
        types.char,
        types.intp,
        types.intp,
        types.intp,
        types.voidptr,
        types.voidptr,
        types.intp,
        types.voidptr,
        types.intp,
        types.voidptr,
        types.voidptr,
        types.intp,
    ),
)
_FLOAT32, _FLOAT64, _AS_IT_IS = ord("s"), ord("d"), ord("n")


@intrinsic
def _address(typingctx, array):
    """Where ``array``'s first element is, for BLAS."""

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.bitcast(data, context.get_value_type(types.voidptr))

    return types.voidptr(array), codegen


@njit(**_JIT)
def _gemm(a, b, c):
    """c = a b for 2-D arrays stored by rows, each row contiguous but rows possibly further
    apart (column runs of wider arrays). Column-major BLAS sees each as its transpose, so it is
    asked for cᵀ = bᵀ aᵀ. (The call's status only says whether SciPy's BLAS could be loaded;
    were it not, the batch's unsplit products, ``np.dot``, would raise.)"""
    m, n = c.shape
    size = c.itemsize
    one_and_zero = np.array([1.0, 0.0], c.dtype)  # alpha and beta: c = 1 · a b + 0 · c
    _xxgemm(
        np.int8(_FLOAT32 if size == 4 else _FLOAT64),
        np.int8(_AS_IT_IS),
        np.int8(_AS_IT_IS),
        n,
        m,
        a.shape[1],
        _address(one_and_zero),
        _address(b),
        b.strides[0] // size,
        _address(a),
        a.strides[0] // size,
        _address(one_and_zero[1:]),
        _address(c),
        c.strides[0] // size,
    )


@njit(**_JIT)
def parts_for(z, inner, threads):
    """How many threads compute the product z of ``inner``-long sums: up to ``threads``, each
    computing at least ``MIN_COLUMNS_PER_THREAD`` columns and ``MIN_WORK_PER_THREAD``
    multiply-adds; one for float64."""
    rows, columns = z.shape
    if z.itemsize != 4:
        return 1
    work = rows * columns * inner
    return max(1, min(threads, columns // MIN_COLUMNS_PER_THREAD, work // MIN_WORK_PER_THREAD))


@njit(**_JIT)
def times(a, w, z, threads):
    """z = a w (``np.dot(a, w, z)``), its columns split over ``parts_for(z, …, threads)``
    threads (one: on the calling thread)."""
    parts = parts_for(z, a.shape[1], threads)
    if parts == 1:
        np.dot(a, w, z)
    else:
        _times_split_by_columns(a, w, z, parts)


@njit(parallel=True, **_JIT)
def _times_split_by_columns(a, w, z, parts):
    columns = z.shape[1]
    for part in prange(parts):
        first, stop = part * columns // parts, (part + 1) * columns // parts
        _gemm(a, w[:, first:stop], z[:, first:stop])
