"""Dropout's masks (kernels.drop_out) against a plain reference: one xorshift64* stream, step by
step, as the kernel drew it before it cut the stream into runs made side by side."""

import numpy as np
import pytest
from numba import njit

from trainer.core.training import seed_compiled_random
from trainer.fast import kernels

COUNTS = [1, 3, 4, 5, 255, 256, 257, 1021, 128 * 30, 128 * 512, 128 * 800 + 7]


@njit(cache=False)
def _reference_quarters(count):
    """The stream drawn one step after the other: four 16-bit quarters per 64-bit output."""
    steps = (count + 3) // 4
    out = np.empty(4 * steps, np.uint16)
    state = np.uint64(np.random.randint(1, 2**62)) | np.uint64(1)
    for step in range(steps):
        state ^= state >> np.uint64(12)
        state ^= state << np.uint64(25)
        state ^= state >> np.uint64(27)
        bits = state * np.uint64(2685821657736338717)
        for q in range(4):
            out[4 * step + q] = (bits >> np.uint64(16 * q)) & np.uint64(0xFFFF)
    return out


@pytest.mark.parametrize("count", COUNTS)
def test_the_random_numbers_are_those_of_one_stream_drawn_step_by_step(count):
    seed_compiled_random(count)
    expected = _reference_quarters(count)
    seed_compiled_random(count)
    drawn = kernels._random_quarters(count)
    assert drawn.tobytes() == expected.tobytes()


def test_a_jump_lands_where_the_steps_do():
    state = np.uint64(0x9E3779B97F4A7C15)
    for steps in (0, 1, 2, 63, 64, 1000, 4097):
        walked = state
        for _ in range(steps):
            walked = np.uint64(kernels._xorshift(walked))  # Numba hands back a Python int
        assert kernels._jump(state, steps) == walked, steps


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rate", [0.2, 0.5])
def test_drop_out_keeps_a_unit_when_its_number_is_below_the_threshold(dtype, rate):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((128, 300)).astype(dtype)
    before, mask = a.copy(), np.full_like(a, np.nan)
    seed_compiled_random(7)
    kernels.drop_out(a, mask, rate)
    seed_compiled_random(7)
    quarters = _reference_quarters(a.size)[: a.size].reshape(a.shape)
    kept = quarters < np.uint16((1.0 - rate) * 65536)
    np.testing.assert_array_equal(mask, np.where(kept, dtype(1.0 / (1.0 - rate)), 0.0))
    np.testing.assert_array_equal(a, before * mask)
    assert abs(kept.mean() - (1.0 - rate)) < 0.01
