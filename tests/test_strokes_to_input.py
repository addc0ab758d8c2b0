"""strokes_to_input: the MNIST recipe (20 px ink box, centre of mass at (14, 14)) on real pen digits,
invariances, degenerate drawings, bad input, and a property test over arbitrary strokes."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainer.strokes.strokes_to_input import (
    EDGE_WIDTH,
    INK_BOX,
    PEN_WIDTH,
    PREPROCESSING_VERSION,
    StrokeError,
    center_of_mass,
    strokes_to_input,
)

PEN_DEV = Path(__file__).resolve().parents[2] / "shared/data/pen-digits-dev.jsonl.gz"


@pytest.fixture(scope="module")
def pen_digits():
    """200 real pen digits, spread over all institutions (the file is grouped by institution)."""
    if not PEN_DEV.exists():
        pytest.skip(
            f"pen-digit dev set not found at {PEN_DEV} (it lives in ../shared/data, not in git)"
        )
    with gzip.open(PEN_DEV, "rt", encoding="utf-8") as f:
        digits = [json.loads(line) for line in f]
    return digits[::25][:200]


@pytest.fixture(scope="module")
def rendered(pen_digits):
    return [strokes_to_input(d["strokes"]) for d in pen_digits]


def _img(v):
    return np.asarray(v).reshape(28, 28)


def _ink_box(v, threshold):
    """(height, width) in pixels of the pixels above threshold."""
    b = _img(v) > threshold
    rows = np.flatnonzero(b.any(axis=1))
    cols = np.flatnonzero(b.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def _valid(v):
    assert isinstance(v, np.ndarray)
    assert v.dtype == np.float32 and v.shape == (784,)
    assert np.isfinite(v).all()
    assert v.min() >= 0.0 and v.max() <= 1.0


def _cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _points(strokes):
    return np.concatenate([np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes])


# ---------------------------------------------------------------------------------------------
# the MNIST recipe on real pen digits


def test_real_digits_output_is_valid_and_fully_inked(rendered):
    for v in rendered:
        _valid(v)
        assert v.max() == 1.0  # the pen's core is full ink


def test_real_digits_centre_of_mass_is_at_14_14(rendered):
    coms = np.array([center_of_mass(v) for v in rendered])
    assert np.abs(coms - 14.0).max() < 0.05


def test_real_digits_ink_box_longer_side_is_20px(rendered):
    # At the 0.5 coverage level the continuous ink is exactly INK_BOX = 20 px long (centre line
    # 20 - pen_width plus pen_width/2 at each end). Sampling it at pixel centres counts 19, 20 or 21
    # pixels depending on the sub-pixel offset (round caps make 19 more likely than 21). At the 0.1
    # level the ramp adds 2 x 0.4 px (edge 1 px), so 20 or 21 pixels.
    long05 = np.array([max(_ink_box(v, 0.5)) for v in rendered])
    long01 = np.array([max(_ink_box(v, 0.1)) for v in rendered])
    assert set(long05) <= {19, 20, 21}
    assert abs(long05.mean() - 20.0) < 0.3
    assert set(long01) <= {20, 21}
    assert (long05 == 20).mean() > 0.8  # the typical case is exactly MNIST's 20 px


def test_real_digits_aspect_ratio_is_kept(pen_digits, rendered):
    # Expected ink box = the strokes' box scaled to (20 - pen) on the longer side, plus the pen on
    # both sides. Pixel sampling of the 0.5 level adds at most +-1 px.
    errs = []
    for d, v in zip(pen_digits, rendered):
        ext = np.ptp(_points(d["strokes"]), axis=0)
        scale = (INK_BOX - PEN_WIDTH) / ext.max()
        want_h, want_w = ext[1] * scale + PEN_WIDTH, ext[0] * scale + PEN_WIDTH
        h, w = _ink_box(v, 0.5)
        errs.append((h - want_h, w - want_w))
    errs = np.array(errs)
    assert np.abs(errs).max() <= 1.5
    assert np.abs(errs).mean() < 0.5


def test_translation_and_scale_invariance(pen_digits, rendered):
    for d, v in zip(pen_digits[:60], rendered[:60]):
        ext = np.ptp(_points(d["strokes"]), axis=0).max()
        for size in (30.0, 90.0, 600.0):
            s = size / ext
            moved = [np.asarray(q, dtype=np.float64) * s + (1234.5, -987.25) for q in d["strokes"]]
            w = strokes_to_input(moved)
            assert np.abs(w - v).max() < 1e-4  # the same drawing: the same input
            # ...and as a real device would report it: coordinates rounded to 0.1 px
            rounded = [np.round(q * 10) / 10 for q in moved]
            w = strokes_to_input(rounded)
            assert _cos(w, v) > 0.99
            assert np.abs(w - v).max() < 0.25


def test_stroke_width_does_not_depend_on_drawn_size(pen_digits):
    for d in pen_digits[:30]:
        ext = np.ptp(_points(d["strokes"]), axis=0).max()
        ink = []
        for size in (30.0, 120.0, 600.0):
            scaled = [
                np.round(np.asarray(q, dtype=np.float64) * (size / ext) * 10) / 10
                for q in d["strokes"]
            ]
            ink.append(strokes_to_input(scaled).sum())
        assert max(ink) / min(ink) < 1.03


@pytest.mark.parametrize("length", [3.0, 40.0, 5000.0])
def test_line_width_is_pen_width_whatever_the_drawn_size(length):
    # Across a straight line, the linear ramp integrates to exactly the pen width.
    v = _img(strokes_to_input([[(0.0, 7.0), (length, 7.0)]]))
    assert v[:, 14].sum() == pytest.approx(PEN_WIDTH, abs=0.02)
    h = _img(strokes_to_input([[(7.0, 0.0), (7.0, length)]]))
    assert h[14, :].sum() == pytest.approx(PEN_WIDTH, abs=0.02)


def test_pen_width_and_edge_can_be_swept(pen_digits):
    strokes = pen_digits[0]["strokes"]
    sums = [strokes_to_input(strokes, pen_width=p).sum() for p in (1.5, 2.3, 3.0)]
    assert sums[0] < sums[1] < sums[2]
    assert np.array_equal(
        strokes_to_input(strokes),
        strokes_to_input(strokes, pen_width=PEN_WIDTH, edge_width=EDGE_WIDTH),
    )
    soft = strokes_to_input(strokes, edge_width=2.0)
    hard = strokes_to_input(strokes, edge_width=0.5)
    assert ((soft > 0) & (soft < 1)).sum() > ((hard > 0) & (hard < 1)).sum()
    for bad in (0.0, -1.0, 20.0, float("nan"), float("inf"), "wide"):
        with pytest.raises(ValueError):
            strokes_to_input(strokes, pen_width=bad)
        with pytest.raises(ValueError):
            strokes_to_input(strokes, edge_width=bad)


def test_preprocessing_version_names_algorithm_and_defaults():
    assert isinstance(PREPROCESSING_VERSION, str)
    assert PREPROCESSING_VERSION.startswith("strokes-v")
    assert f"pen={PEN_WIDTH:g}" in PREPROCESSING_VERSION
    assert f"edge={EDGE_WIDTH:g}" in PREPROCESSING_VERSION


# ---------------------------------------------------------------------------------------------
# degenerate drawings


def test_empty_drawing_is_none():
    assert strokes_to_input([]) is None
    assert strokes_to_input([[], []]) is None
    assert strokes_to_input([np.empty((0, 2))]) is None
    assert strokes_to_input(()) is None


def test_empty_strokes_are_ignored():
    a = strokes_to_input([[(1, 2), (30, 40)], [(30, 2), (1, 40)]])
    b = strokes_to_input([[], [(1, 2), (30, 40)], [], np.empty((0, 2)), [(30, 2), (1, 40)], []])
    assert np.array_equal(a, b)


def test_lists_tuples_and_arrays_give_the_same_input():
    pts = [(0.0, 0.0), (10.0, 25.0), (20.0, 3.0), (4.0, 11.5)]
    a = strokes_to_input([pts])
    assert np.array_equal(a, strokes_to_input([[list(p) for p in pts]]))
    assert np.array_equal(a, strokes_to_input((tuple(pts),)))
    assert np.array_equal(a, strokes_to_input([np.array(pts)]))
    assert np.array_equal(a, strokes_to_input(np.array([pts])))
    assert np.array_equal(a, strokes_to_input([[(0, 0), (10, 25), (20, 3), (4, 11.5)]]))


def test_single_click_is_a_round_dot_at_the_centre():
    v = strokes_to_input([[(123.4, 56.7)]])
    _valid(v)
    img = _img(v)
    assert img[14, 14] == 1.0
    assert center_of_mass(v) == pytest.approx((14.0, 14.0), abs=1e-9)
    core = img[1:, 1:]  # rows/cols 1..27, centred on 14
    assert np.allclose(img, img.T) and np.allclose(core, core[::-1, ::-1])  # round, symmetric
    r = PEN_WIDTH / 2 + EDGE_WIDTH / 2
    rows, cols = np.nonzero(img)
    assert np.hypot(rows - 14, cols - 14).max() < r
    # area of a disc of diameter pen_width (the linear ramp adds pi * edge^2 / 12)
    assert img.sum() == pytest.approx(
        math.pi * ((PEN_WIDTH / 2) ** 2 + EDGE_WIDTH**2 / 12), rel=0.1
    )


def test_repeated_identical_points_are_a_dot():
    dot = strokes_to_input([[(5.0, 5.0)]])
    assert np.array_equal(strokes_to_input([[(5.0, 5.0)] * 500]), dot)
    assert np.array_equal(strokes_to_input([[(7, 7)], [(7, 7), (7, 7)], []]), dot)


@pytest.mark.parametrize("y", [0.0, 300.0])
def test_straight_horizontal_and_vertical_lines(y):
    h = strokes_to_input([[(10.0, y), (250.0, y)]])
    v = strokes_to_input([[(y, 10.0), (y, 250.0)]])
    _valid(h)
    _valid(v)
    assert np.allclose(_img(v), _img(h).T, atol=1e-6)
    assert center_of_mass(h) == pytest.approx((14.0, 14.0), abs=0.05)
    height, width = _ink_box(h, 0.5)
    assert width in (19, 20, 21)
    assert height in (2, 3)  # just the pen (2.3 px)


def test_two_dots_are_20px_apart_in_ink():
    v = _img(strokes_to_input([[(0, 0)], [(50, 0)]]))
    height, width = _ink_box(v, 0.5)
    assert width in (19, 20, 21) and height in (2, 3)


def test_hundred_thousand_points():
    rng = np.random.default_rng(1)
    t = np.linspace(0.0, 2 * math.pi, 100_000)
    ring = np.column_stack([200 + 150 * np.cos(t), 200 + 150 * np.sin(t)])
    dense = strokes_to_input([ring])
    _valid(dense)
    sparse = strokes_to_input([ring[::500]])  # the same ring with 200 points
    assert _cos(dense, sparse) > 0.995
    noisy = strokes_to_input([ring + rng.normal(0, 0.3, ring.shape)])
    _valid(noisy)
    assert center_of_mass(noisy) == pytest.approx((14.0, 14.0), abs=0.05)


# ---------------------------------------------------------------------------------------------
# bad and extreme coordinates


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_coordinates_raise_stroke_error(bad):
    with pytest.raises(StrokeError, match=r"stroke 1, point 2: coordinates must be finite"):
        strokes_to_input([[(0, 0), (1, 1)], [(0, 0), (1, 1), (bad, 3.0)]])
    with pytest.raises(ValueError):  # StrokeError is a ValueError
        strokes_to_input([[(0.0, bad)]])


@pytest.mark.parametrize(
    "strokes",
    [
        [[1, 2, 3]],  # not points
        [(1.0, 2.0), (3.0, 4.0)],  # points given where strokes belong
        [[(1, 2, 3), (4, 5, 6)]],  # 3-D points
        [[("a", "b")]],  # not numbers
        [[(1, 2), (3,)]],  # ragged
        "12",
        None,
        5,
        [[(10**400, 1)]],  # too large for a float
    ],
)
def test_malformed_strokes_raise_stroke_error(strokes):
    with pytest.raises(StrokeError):
        strokes_to_input(strokes)


def test_huge_and_tiny_coordinates_give_the_same_digit(pen_digits):
    strokes = pen_digits[3]["strokes"]
    v = strokes_to_input(strokes)
    for factor in (1e30, 1e-30, 1e300, 1e-300):
        w = strokes_to_input([np.asarray(s, dtype=np.float64) * factor for s in strokes])
        _valid(w)
        assert _cos(w, v) > 0.999


@pytest.mark.parametrize(
    "strokes",
    [
        [[(-1.7e308, -1.7e308), (1.7e308, 1.7e308)]],
        [[(1e308, 0.0), (-1e308, 5e-324)]],
        [[(5e-324, 0.0), (0.0, 5e-324), (1e-320, 1e-320)]],
        [[(1e30, 1e30), (1e30, 1e30 + 1e15)]],
        [[(0.0, 0.0), (1e-300, 1e300)]],
    ],
)
def test_extreme_coordinates_give_finite_output(strokes):
    _valid(strokes_to_input(strokes))


# ---------------------------------------------------------------------------------------------
# center_of_mass


def test_center_of_mass():
    img = np.zeros((28, 28))
    img[3, 5] = 1.0
    img[3, 9] = 3.0
    assert center_of_mass(img) == (3.0, 8.0)
    assert center_of_mass(img.ravel()) == (3.0, 8.0)
    with pytest.raises(ValueError, match="no ink"):
        center_of_mass(np.zeros(784))
    with pytest.raises(ValueError):
        center_of_mass(np.full(783, 1.0))


# ---------------------------------------------------------------------------------------------
# property: anything in, a valid image / None / StrokeError out

_special = st.sampled_from(
    [
        0.0,
        1.0,
        -1.0,
        1e30,
        -1e30,
        1e-30,
        1e308,
        -1e308,
        5e-324,
        1e-310,
        math.nan,
        math.inf,
        -math.inf,
    ]
)
_coord = st.one_of(st.floats(), _special, st.floats(-1000, 1000))
_point = st.tuples(_coord, _coord)
_stroke = st.one_of(
    st.lists(_point, max_size=40),
    st.lists(_point, min_size=1, max_size=3).flatmap(  # repeated points
        lambda ps: st.lists(st.sampled_from(ps), max_size=40)
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_stroke, max_size=5))
def test_any_strokes_give_valid_image_none_or_stroke_error(strokes):
    n_points = sum(len(s) for s in strokes)
    finite = all(math.isfinite(c) for s in strokes for p in s for c in p)
    try:
        v = strokes_to_input(strokes)
    except StrokeError:
        assert not finite
        return
    assert finite
    if n_points == 0:
        assert v is None
    else:
        _valid(v)
        assert v.max() > 0.0
