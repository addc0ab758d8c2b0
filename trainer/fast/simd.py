"""Sixteen-lane vectors for Numba kernels that must keep a row of sums in registers.

Numba's loop vectoriser handles one innermost loop at a time, so ``out[i, :] += v * w[k, :]``
inside a loop over k loads and stores the whole row of ``out`` for every k; for the 30 hidden units
of Nielsen's network that bookkeeping costs more than the arithmetic. Numba also leaves LLVM's SLP
vectoriser switched off (it miscompiled; numba#8852), so scalar accumulators stay scalar.
These intrinsics let a kernel say what it means instead: a ``Lanes`` value is an LLVM
``<16 x float>`` (or double) that lives in registers across a loop — two with AVX2, one with
AVX-512; sixteen lanes rather than eight halve the loop's overhead per product.

Arithmetic is a multiply followed by an add, never a fused multiply-add, so every lane is rounded
exactly like the scalar loop it replaces. Loads and stores take an element index into a contiguous
1-D array and do no bounds checking: the caller keeps ``index + LANES <= len(array)``.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, models, register_model

LANES = 16


class Lanes(types.Type):
    """LANES values of one floating-point dtype, held as one LLVM vector."""

    def __init__(self, dtype):
        self.dtype = dtype
        super().__init__(name=f"Lanes{LANES}({dtype})")


@register_model(Lanes)
class _LanesModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        element = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(element, LANES))


def _pointer(context, builder, array_type, array, index, index_type, vector_type):
    data = context.make_array(array_type)(context, builder, array).data
    offset = context.cast(builder, index, index_type, types.intp)
    return builder.bitcast(builder.gep(data, [offset]), vector_type.as_pointer())


def _element_alignment(context, dtype) -> int:
    return context.get_abi_sizeof(context.get_value_type(dtype))


@intrinsic
def load(typingctx, array, index):
    """array[index:index + LANES] as one vector."""
    result = Lanes(array.dtype)

    def codegen(context, builder, signature, args):
        vector = context.get_value_type(result)
        pointer = _pointer(
            context, builder, signature.args[0], args[0], args[1], signature.args[1], vector
        )
        return builder.load(pointer, align=_element_alignment(context, array.dtype))

    return result(array, index), codegen


@intrinsic
def load_from_lane(typingctx, array, index, first):
    """Like ``load``, with the lanes before ``first`` set to zero.

    A row whose length is not a multiple of LANES ends with a vector that overlaps the one before
    it; zeroing the overlap lets a read-modify-write of that last vector leave those elements be.
    """
    return Lanes(array.dtype)(array, index, first), _masked_load(">=")


@intrinsic
def load_before_lane(typingctx, array, index, first):
    """Like ``load``, with the lanes from ``first`` on set to zero: the other half of
    ``load_from_lane``, which starts a row's last vector from zero where it is new and from what
    is there where it overlaps the vector before."""
    return Lanes(array.dtype)(array, index, first), _masked_load("<")


def _masked_load(kept_lanes: str):
    """The code of a load that keeps the lanes ``kept_lanes`` (">=" or "<") ``first``."""

    def codegen(context, builder, signature, args):
        vector = context.get_value_type(signature.return_type)
        pointer = _pointer(
            context, builder, signature.args[0], args[0], args[1], signature.args[1], vector
        )
        values = builder.load(pointer, align=_element_alignment(context, signature.args[0].dtype))
        lane_type = ir.IntType(64)
        lanes = ir.Constant(ir.VectorType(lane_type, LANES), list(range(LANES)))
        first_lane = context.cast(builder, args[2], signature.args[2], types.int64)
        keep = builder.icmp_signed(kept_lanes, lanes, _splat(builder, first_lane, lane_type))
        return builder.select(keep, values, ir.Constant(vector, None))

    return codegen


@intrinsic
def store(typingctx, array, index, values):
    """array[index:index + LANES] = values."""

    def codegen(context, builder, signature, args):
        vector = context.get_value_type(signature.args[2])
        pointer = _pointer(
            context, builder, signature.args[0], args[0], args[1], signature.args[1], vector
        )
        builder.store(args[2], pointer, align=_element_alignment(context, array.dtype))
        return context.get_dummy_value()

    return types.none(array, index, values), codegen


@intrinsic
def zeros(typingctx, like):
    """A vector of zeros of the dtype of the array ``like``."""
    result = Lanes(like.dtype)

    def codegen(context, builder, signature, args):
        return ir.Constant(context.get_value_type(result), None)

    return result(like), codegen


@intrinsic
def multiply_add(typingctx, total, scalar, values):
    """total + scalar·values, lane by lane (multiply, round, add, round)."""

    def codegen(context, builder, signature, args):
        element = context.get_value_type(signature.args[0].dtype)
        factor = context.cast(builder, args[1], signature.args[1], signature.args[0].dtype)
        product = builder.fmul(_splat(builder, factor, element), args[2])
        return builder.fadd(args[0], product)

    return total(total, scalar, values), codegen


def _splat(builder, value, element_type):
    """A vector with ``value`` in every lane."""
    vector = ir.VectorType(element_type, LANES)
    single = builder.insert_element(
        ir.Constant(vector, ir.Undefined), value, ir.Constant(ir.IntType(32), 0)
    )
    return builder.shuffle_vector(
        single,
        ir.Constant(vector, ir.Undefined),
        ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES),
    )
