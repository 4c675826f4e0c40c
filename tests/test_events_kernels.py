"""Every Numba kernel of gazekit.events agrees with its plain reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import events as R

from gazekit.events import _kernels as K
from gazekit.events.base import BLINK, FIXATION, SACCADE, UNDEFINED
from gazekit.events.signal import degree_transform, sg_coefficients, to_degrees
from gazekit.geometry import Geometry, letterbox

SETTINGS = settings(max_examples=25, deadline=None)


def _signal(seed: int, n: int, *, jitter: float, drop: float, nan: float, rate: float = 250.0):
    """Random gaze: fixations with noise and jumps, jittered/dropped time, NaN bursts."""
    rng = np.random.default_rng(seed)
    dt = 1000.0 / rate
    t = np.arange(n) * dt + rng.uniform(-jitter, jitter, n) * dt
    t = np.sort(t)
    keep = rng.random(n) >= drop
    keep[:2] = True
    t = t[keep]
    m = len(t)
    jumps = np.cumsum(rng.random(m) < 0.05)
    cx = rng.normal(0, 5, jumps.max() + 1)[jumps]
    cy = rng.normal(0, 5, jumps.max() + 1)[jumps]
    x = cx + rng.normal(0, 0.05, m)
    y = cy + rng.normal(0, 0.05, m)
    valid = rng.random(m) >= nan
    x[~valid] = np.nan
    y[~valid] = np.nan
    blink = ~valid & (rng.random(m) < 0.5)
    return ro(t), ro(x), ro(y), valid, blink, dt


def ro(a: np.ndarray) -> np.ndarray:
    """Read-only view, as ``prepare`` hands the signal's arrays to the kernels."""
    v = a.view()
    v.flags.writeable = False
    return v


def test_affine_degrees_match_geometry_to_degrees_exactly():
    left, top, w, h = letterbox(2000, 2500, 1920, 1080)
    g = Geometry(
        frame="image", screen_w_px=1920, screen_h_px=1080, screen_w_mm=531, screen_h_mm=298,
        viewing_distance_mm=650, image_w_px=2000, image_h_px=2500, image_left_px=left,
        image_top_px=top, image_disp_w_px=w, image_disp_h_px=h,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-100, 2100, 500), rng.uniform(-100, 2600, 500)
    xd, yd = to_degrees(x, y, g)
    ex, ey = g.to_degrees(x, y)
    np.testing.assert_allclose(xd, ex, rtol=0, atol=1e-10)
    np.testing.assert_allclose(yd, ey, rtol=0, atol=1e-10)
    px, py = np.empty(500), np.empty(500)
    K.affine_degrees_parallel(x, y, *degree_transform(g), px, py)
    np.testing.assert_array_equal(px, xd)
    np.testing.assert_array_equal(py, yd)


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    half=st.integers(1, 4),
    order=st.sampled_from([1, 2, 3]),
    jitter=st.sampled_from([0.0, 0.2]),
    drop=st.sampled_from([0.0, 0.1]),
    nan=st.sampled_from([0.0, 0.05]),
)
def test_savgol_kernel_matches_polyfit_reference(seed, half, order, jitter, drop, nan):
    t, x, y, valid, _, dt = _signal(seed, 120, jitter=jitter, drop=drop, nan=nan)
    cv, ca = sg_coefficients(max(half, (order + 1) // 2), order)
    half = max(half, (order + 1) // 2)
    speed = np.empty_like(t)
    accel = np.empty_like(t)
    K.savgol_kinematics(t, x, y, valid, half, order, dt, cv, ca, speed, accel, True)
    rs, ra = R.savgol_kinematics(t, x, y, valid, half, order, dt)
    np.testing.assert_allclose(speed, rs, rtol=1e-6, atol=1e-6)
    if order >= 2:
        np.testing.assert_allclose(accel, ra, rtol=1e-6, atol=1e-3)


def test_savgol_fast_path_is_the_classic_convolution():
    """On a regular grid the kernel (recurrence, parallel blocks) equals scipy's SG derivative."""
    from scipy.signal import savgol_filter

    rng = np.random.default_rng(1)
    n, dt = 2000, 1.0
    t = ro(np.arange(n) * dt)
    x = ro(np.cumsum(rng.normal(0, 1, n)))
    y = ro(np.cumsum(rng.normal(0, 1, n)))
    cv, ca = sg_coefficients(5, 2)
    speed, accel = np.empty(n), np.empty(n)
    speed2, accel2 = np.empty(n), np.empty(n)
    K.savgol_kinematics(t, x, y, np.ones(n, bool), 5, 2, 1.0 * dt, cv, ca, speed, accel, True)
    K.savgol_kinematics_parallel(
        t, x, y, np.ones(n, bool), 5, 2, 1.0 * dt, cv, ca, speed2, accel2, True, 37
    )
    np.testing.assert_allclose(speed2, speed, rtol=1e-10)
    np.testing.assert_allclose(accel2, accel, rtol=1e-10)
    vx = savgol_filter(x, 11, 2, deriv=1, delta=dt) * 1000
    vy = savgol_filter(y, 11, 2, deriv=1, delta=dt) * 1000
    np.testing.assert_allclose(speed[5:-5], np.hypot(vx, vy)[5:-5], rtol=1e-9)
    cv3, ca3 = sg_coefficients(5, 3)
    K.savgol_kinematics(t, x, y, np.ones(n, bool), 5, 3, 1.0 * dt, cv3, ca3, speed, accel, True)
    vx = savgol_filter(x, 11, 3, deriv=1, delta=dt) * 1000
    vy = savgol_filter(y, 11, 3, deriv=1, delta=dt) * 1000
    # the cubic recurrence carries Σk³·x: exact to about 1e-7 between recomputations
    np.testing.assert_allclose(speed[5:-5], np.hypot(vx, vy)[5:-5], rtol=1e-6)


@SETTINGS
@given(seed=st.integers(0, 10_000), thr=st.floats(0.1, 5.0))
def test_ivt_kernel_matches_reference(seed, thr):
    rng = np.random.default_rng(seed)
    speed = rng.exponential(1.0, 300)
    speed[rng.random(300) < 0.05] = np.nan
    valid = rng.random(300) > 0.1
    blink = ~valid & (rng.random(300) < 0.5)
    out = np.empty(300, np.int8)
    K.ivt_labels(speed, valid, blink, thr, out)
    np.testing.assert_array_equal(out, R.ivt_labels(speed, valid, blink, thr))


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    disp=st.floats(0.05, 3.0),
    window=st.sampled_from([10.0, 40.0, 100.0]),
    nan=st.sampled_from([0.0, 0.02]),
    drop=st.sampled_from([0.0, 0.1]),
)
def test_idt_kernel_matches_reference(seed, disp, window, nan, drop):
    t, x, y, valid, blink, dt = _signal(seed, 400, jitter=0.1, drop=drop, nan=nan)
    out = np.empty(len(t), np.int8)
    K.idt_labels(t, x, y, valid, blink, disp, window, dt, out)
    np.testing.assert_array_equal(out, R.idt_labels(t, x, y, valid, blink, disp, window, dt))


def test_idt_deques_grow_past_their_initial_capacity():
    """A 2 s window over a slowly decreasing signal keeps 2000 indices in one deque."""
    n = 3000
    t = np.arange(n, dtype=float)
    x = np.linspace(0.5, 0.0, n)
    y = np.zeros(n)
    valid = np.ones(n, bool)
    out = np.empty(n, np.int8)
    K.idt_labels(t, x, y, valid, ~valid, 1.0, 2000.0, 1.0, out)
    ref = R.idt_labels(t, x, y, valid, ~valid, 1.0, 2000.0, 1.0)
    np.testing.assert_array_equal(out, ref)
    assert (out == FIXATION).all()


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        pytest.param([1, 1, 2, 2, 1], [(0, 1, 1), (2, 3, 2), (4, 4, 1)], id="three_runs"),
        pytest.param([0, 1, 1, 0, 0, 4], [(1, 2, 1), (5, 5, 4)], id="undefined_is_no_event"),
        pytest.param([1, 1, 1, 1], [(0, 1, 1), (2, 3, 1)], id="time_hole_splits_run"),
    ],
)
def test_label_runs_exact(codes, expected):
    t = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0][: len(codes)])
    if expected == [(0, 1, 1), (2, 3, 1)]:
        t = np.array([0.0, 1.0, 100.0, 101.0])
    s, e, k = K.label_runs(np.array(codes, np.int8), t, 10.0)
    assert list(zip(s.tolist(), e.tolist(), k.tolist(), strict=True)) == expected


@SETTINGS
@given(seed=st.integers(0, 10_000), drop=st.sampled_from([0.0, 0.2]))
def test_runs_and_properties_match_reference(seed, drop):
    t, x, y, valid, _blink, dt = _signal(seed, 300, jitter=0.1, drop=drop, nan=0.05)
    rng = np.random.default_rng(seed)
    codes = rng.choice(np.array([UNDEFINED, FIXATION, SACCADE, BLINK], np.int8), 300)
    codes = np.repeat(codes, 5)[: len(t)]
    gap = 1.5 * dt
    got = K.label_runs(codes, t, gap)
    ref = R.label_runs(codes, t, gap)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_array_equal(a, b)
    speed = np.abs(rng.normal(0, 50, len(t)))
    args = (got[0], got[1], t, x, y, ro(x * 0.05), ro(y * 0.05), speed, valid, dt, gap)
    np.testing.assert_allclose(
        K.event_properties(*args), R.event_properties(*args), rtol=1e-10, atol=1e-9
    )


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    gap_ms=st.sampled_from([0.0, 20.0, 75.0]),
    dist=st.floats(0.1, 10.0),
    min_ms=st.sampled_from([0.0, 30.0, 60.0]),
)
def test_postprocessing_kernels_match_reference(seed, gap_ms, dist, min_ms):
    t, x, y, valid, blink, dt = _signal(seed, 400, jitter=0.1, drop=0.05, nan=0.02)
    rng = np.random.default_rng(seed + 1)
    codes = rng.choice(np.array([UNDEFINED, FIXATION, SACCADE], np.int8), 100, p=[0.1, 0.6, 0.3])
    codes = np.repeat(codes, rng.integers(1, 8, 100))[: len(t)]
    if len(codes) < len(t):
        codes = np.concatenate([codes, np.full(len(t) - len(codes), FIXATION, np.int8)])
    codes[blink] = BLINK
    gap = 3 * dt
    got = codes.copy()
    merges = K.merge_fixations(got, t, x, y, valid, gap_ms, dist, dt, gap)
    ref, rmerges = R.merge_fixations(codes, t, x, y, valid, gap_ms, dist, dt, gap)
    np.testing.assert_array_equal(got, ref)
    assert merges == rmerges
    dropped = K.drop_short(got, t, FIXATION, min_ms, UNDEFINED, dt, gap)
    ref, rdropped = R.drop_short(ref, t, FIXATION, min_ms, UNDEFINED, dt, gap)
    np.testing.assert_array_equal(got, ref)
    assert dropped == rdropped
