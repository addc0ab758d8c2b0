"""Counter-based random numbers for the augmentation: splitmix64 (Steele, Lea & Flood, 2014).

Each image has its own stream, keyed by ``(seed, image index)``: its draws do not depend on any
other image's, so an image's distortion is bitwise the same whatever the number of threads and
however the batch is split. All integer arithmetic stays in uint64 (mixing uint64 with int64 would
make Numba use floats).
"""

from __future__ import annotations

import numba
import numpy as np

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
#: Shifts and mask that cut a 64-bit draw into two 24-bit ones (see elastic_field.draw_field).
S16 = np.uint64(16)
S40 = np.uint64(40)
MASK24 = np.uint64(0xFFFFFF)
_INV53 = 1.0 / 9007199254740992.0  # 2**-53
#: 2**-24: turns a 24-bit draw into a number in [0, 1).
INV24 = 1.0 / 16777216.0


@numba.njit(cache=True, error_model="numpy")
def _mix64(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True, error_model="numpy")
def image_state(seed, index):
    """The starting state of image ``index``'s stream (both uint64)."""
    return _mix64(_mix64(seed) + _mix64(index ^ _GAMMA))


@numba.njit(cache=True, error_model="numpy")
def next64(state):
    """Returns (new_state, z) with z a uniformly distributed uint64."""
    state = state + _GAMMA
    return state, _mix64(state)


@numba.njit(cache=True, error_model="numpy")
def uniform(state):
    """Returns (new_state, u) with u uniform in [0, 1) (53 bits)."""
    state, z = next64(state)
    return state, float(z >> _S11) * _INV53


def seed_u64(seed: int) -> np.uint64:
    """A Python int seed as the uint64 the streams are keyed by (taken modulo 2**64)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF)
