"""The adaptive detector: each rule on a synthetic signal that isolates it; kernels = references."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import events as R

from gazekit.events import (
    BLINK,
    FIXATION,
    PSO,
    PURSUIT,
    SACCADE,
    label_samples,
    resolve,
    savgol_speed,
)
from gazekit.events import _adaptive_kernels as AK
from gazekit.events.pursuit import pursuit_kernel
from gazekit.events.signal import sg_coefficients
from gazekit.metrics.classification import cohen_kappa

RATE = 1000.0


def _fixation_noise(rng: np.random.Generator, n: int, sd: float = 0.01) -> np.ndarray:
    return rng.normal(0.0, sd, n)


def saccade_trace(
    *, amp: float = 8.0, dur_ms: float = 40.0, pso_amp: float = 0.4, pso_hz: float = 25.0,
    pso_tau_ms: float = 12.0, n: int = 600, start: int = 250, seed: int = 0, noise: float = 0.02,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """1000 Hz x (deg): fixation, a minimum-jerk saccade, a damped oscillation back and forth.

    Returns ``(t, x, y, reversal)``, where ``reversal`` is the first sample after the peak
    at which the true movement along the saccade reverses.
    """  # fmt: skip
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    x = np.zeros(n)
    s = np.clip((t - start) / dur_ms, 0.0, 1.0)
    x += amp * (10 * s**3 - 15 * s**4 + 6 * s**5)
    after = np.clip(t - start - dur_ms, 0.0, None)
    # overshoot that returns: the oscillation starts at the landing with zero position
    osc = pso_amp * np.sin(2 * np.pi * pso_hz * after / 1000.0) * np.exp(-after / pso_tau_ms)
    x += np.where(t >= start + dur_ms, osc, 0.0)
    true_v = np.gradient(x)
    peak = int(np.argmax(true_v))
    reversal = peak + int(np.argmax(true_v[peak:] <= 0))
    x += _fixation_noise(rng, n, noise)
    y = _fixation_noise(rng, n, noise)
    return t, x, y, reversal


def samples(t: np.ndarray, x: np.ndarray, y: np.ndarray, **cols: np.ndarray) -> pd.DataFrame:
    """A samples table whose px are degrees (detected with ``degree_free=True``)."""
    return pd.DataFrame({"t_ms": t, "x_px": x, "y_px": y, **cols})


def label(df: pd.DataFrame, **kw: object) -> np.ndarray:
    return label_samples(df, "adaptive", degree_free=True, **kw)


# ----------------------------------------------------------------------------- rules
def test_saccade_ends_at_the_first_reversal_and_the_pso_starts_there():
    """Larsson et al. 2013; Friedman et al. 2018: offset at the first direction reversal."""
    t, x, y, reversal = saccade_trace()
    codes = label(samples(t, x, y))
    sacc = np.flatnonzero(codes == SACCADE)
    pso = np.flatnonzero(codes == PSO)
    assert len(sacc) and len(pso)
    assert abs(int(sacc[-1]) + 1 - reversal) <= 2  # within 2 ms of the true reversal
    assert pso[0] == sacc[-1] + 1
    assert 5 <= len(pso) <= 80


def test_without_an_oscillation_there_is_no_pso():
    t, x, y, _ = saccade_trace(pso_amp=0.0)
    codes = label(samples(t, x, y))
    assert (codes == SACCADE).sum() >= 30
    assert not (codes == PSO).any()


def test_cubic_20ms_filter_keeps_a_40hz_oscillation_the_quadratic_erases():
    """Savitzky & Golay: the cubic 20 ms derivative passes 0.92 of 40 Hz, the quadratic 0.46."""
    t = np.arange(2000, dtype=float)
    w = 2 * np.pi * 40.0 / 1000.0
    x = 0.1 * np.sin(w * t)
    true_peak = 0.1 * w * 1000.0
    cubic, _ = savgol_speed(t, x, np.zeros_like(x), window_ms=20.0, order=3)
    quad, _ = savgol_speed(t, x, np.zeros_like(x), window_ms=20.0, order=2)
    assert np.nanmax(cubic[50:-50]) / true_peak == pytest.approx(0.92, abs=0.02)
    assert np.nanmax(quad[50:-50]) / true_peak == pytest.approx(0.46, abs=0.02)
    assert resolve("adaptive").signal.sg_order == 3


def test_saccade_touching_interpolated_samples_becomes_blink():
    """A lid artefact around a short loss is no saccade (Holmqvist et al. 2011)."""
    t, x, y, _ = saccade_trace(pso_amp=0.0)
    x[265:268] = np.nan  # a 3 ms loss in the middle of the saccade: interpolated
    y[265:268] = np.nan
    codes = label(samples(t, x, y))
    assert not (codes == SACCADE).any()
    assert (codes[255:275] == BLINK).all()


def test_high_velocity_excursion_against_the_saccade_is_pso_along_it_a_new_saccade():
    """Nyström & Holmqvist 2010 / REMoDNaV: a fast PSO is not a second saccade."""
    t, x, y, _ = saccade_trace(pso_amp=0.0)
    back = np.clip((t - 295) / 12.0, 0, 1)
    bump = 1.0 * (10 * back**3 - 15 * back**4 + 6 * back**5)  # 1 deg in 12 ms: > PT

    def saccade_runs(codes: np.ndarray) -> int:
        return int((np.diff((codes == SACCADE).astype(int)) == 1).sum())

    against = label(samples(t, x - bump, y))
    assert saccade_runs(against) == 1 and (against[297:305] == PSO).all()
    along = label(samples(t, x + bump, y))
    assert saccade_runs(along) == 2


def test_pso_is_capped_and_no_larger_than_the_saccade():
    t, x, y, _ = saccade_trace(pso_amp=0.5, pso_hz=30.0, pso_tau_ms=400.0)
    codes = label(samples(t, x, y))
    assert (codes == PSO).sum() <= 81

    def walk(back_to: float) -> np.ndarray:
        """A 1 deg step in 10 ms, then, 3 ms later, a return to ``back_to`` in 20 ms."""
        t = np.arange(200, dtype=float)
        x = np.interp(t, [0, 100, 110, 113, 133, 199], [0, 0, 1, 1, back_to, back_to])
        y = np.zeros(200)
        speed = np.abs(np.gradient(x)) * 1000.0 + 1.0
        ok = np.ones(200, bool)
        codes = np.full(200, FIXATION, np.int8)
        cv, _ = sg_coefficients(1, 1)
        AK.adaptive_walk(t, x, y, speed, ok, ok, 1, cv, 1.0, 1000.0, np.array([40.0]),
                         np.array([10.0]), 2, 5.0, 40.0, 80.0, True, codes)  # fmt: skip
        return codes

    assert (walk(0.5)[113:133] == PSO).all()  # back by half the saccade: PSO
    assert not (walk(-0.5) == PSO).any()  # back by 1.5 times the saccade: no PSO


def test_local_thresholds_keep_a_small_saccade_in_a_quiet_stretch():
    """REMoDNaV's 1 s context: noise elsewhere does not hide a small saccade here."""
    rng = np.random.default_rng(4)
    n = 6000
    t = np.arange(n, dtype=float)
    x = _fixation_noise(rng, n, 0.02)
    x[:4000] += rng.normal(0, 0.4, 4000)  # four noisy seconds
    s = np.clip((t - 5000) / 18.0, 0, 1)
    x += 0.6 * (10 * s**3 - 15 * s**4 + 6 * s**5)  # a 0.6 deg saccade in the quiet second
    y = _fixation_noise(rng, n, 0.02)
    local = label(samples(t, x, y), pursuit_velocity_deg_s=0.0)
    flat = label(samples(t, x, y), pursuit_velocity_deg_s=0.0, context_ms=0.0)
    assert (local[4995:5020] == SACCADE).sum() >= 8
    assert not (flat[4995:5020] == SACCADE).any()


def test_a_one_sample_spike_is_no_saccade():
    """Minimum peak of two samples (REMoDNaV)."""
    rng = np.random.default_rng(5)
    t = np.arange(1000, dtype=float)
    x = _fixation_noise(rng, 1000, 0.02)
    x[500] += 1.0
    codes = label(samples(t, x, rng.normal(0, 0.02, 1000)), sg_order=1, sg_window_ms=3.0)
    assert not (codes == SACCADE).any()


def test_pursuit_of_a_moving_target_is_pursuit_and_a_static_fixation_is_not():
    rng = np.random.default_rng(6)
    t = np.arange(3000, dtype=float)
    x = _fixation_noise(rng, 3000, 0.03)
    x[1000:2000] += 10.0 * (t[1000:2000] - 1000) / 1000.0  # 10 deg/s for 1 s
    x[2000:] += 10.0
    codes = label(samples(t, x, _fixation_noise(rng, 3000, 0.03)))
    assert (codes[1150:1850] == PURSUIT).mean() > 0.9
    assert not (codes[:900] == PURSUIT).any() and not (codes[2150:] == PURSUIT).any()


def test_no_pso_below_200hz():
    t, x, y, _ = saccade_trace()
    sub = slice(None, None, 17)  # ~59 Hz
    codes = label(samples(t[sub], x[sub], y[sub]))
    assert (codes == SACCADE).any() and not (codes == PSO).any()


@pytest.mark.parametrize(("tracker", "floor"), [("eyelink", 0.6), ("gazepoint", 0.4)])
def test_agreement_with_simulated_truth(tracker, floor):
    from gazekit.synthetic import simulate_session

    rec = simulate_session(seed=3, tracker=tracker, image_size=256).recording
    codes = label_samples(rec, method="adaptive")
    truth = rec.samples["label"].to_numpy()
    assert cohen_kappa(truth == "fixation", codes == FIXATION) > floor
    assert cohen_kappa(truth == "saccade", codes == SACCADE) > floor - 0.1
    ivt = label_samples(rec, method="ivt")
    if tracker == "gazepoint":  # at 60 Hz at least I-VT's fixation agreement
        assert cohen_kappa(truth == "fixation", codes == FIXATION) >= cohen_kappa(
            truth == "fixation", ivt == FIXATION
        ) - 0.02


# ------------------------------------------------------------------ kernels = references
def _walk_inputs(seed: int, n: int, rate: float):
    rng = np.random.default_rng(seed)
    dt = 1000.0 / rate
    t = np.arange(n) * dt
    if seed % 3 == 0:
        t = t + np.concatenate(([0.0], np.cumsum(rng.random(n - 1) < 0.02) * dt))
    jumps = np.cumsum(rng.random(n) < 0.02)
    centres = rng.normal(0, 5, jumps.max() + 1)
    x = centres[jumps] + rng.normal(0, 0.03, n) + 0.3 * np.sin(t / 7.0) * (rng.random() < 0.5)
    y = rng.normal(0, 0.03, n)
    ok = rng.random(n) > 0.01
    x[~ok] = np.nan
    y[~ok] = np.nan
    speed, _ = savgol_speed(t, x, y, valid=ok, window_ms=20.0, order=3, dt_ms=dt)
    ok &= np.isfinite(speed)
    clean = ok & (rng.random(n) > 0.01)
    return t, x, y, np.where(ok, speed, 0.0), ok, clean, dt


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), rate=st.sampled_from([250.0, 500.0, 1000.0]),
       min_peak=st.sampled_from([1, 2]), with_pso=st.booleans())  # fmt: skip
def test_adaptive_walk_matches_the_reference(seed, rate, min_peak, with_pso):
    t, x, y, speed, ok, clean, dt = _walk_inputs(seed, 1500, rate)
    rng = np.random.default_rng(seed + 1)
    block = 500.0
    nb = int((t[-1] - t[0] + 1) // block) + 1
    bpt = rng.uniform(40, 120, nb)
    bst = bpt * rng.uniform(0.2, 0.6, nb)
    half = max(1, round(20.0 / dt) // 2)
    cv, _ = sg_coefficients(half, 3)
    codes = np.where(ok, FIXATION, 0).astype(np.int8)
    got = codes.copy()
    AK.adaptive_walk(t, x, y, speed, ok, clean, half, cv, dt, block, bpt, bst, min_peak,
                     10.0, 40.0, 80.0, with_pso, got)  # fmt: skip
    ref = R.adaptive_walk(t, x, y, speed, ok, clean, half, 3, dt, block, bpt, bst, min_peak,
                          10.0, 40.0, 80.0, with_pso, codes)  # fmt: skip
    np.testing.assert_array_equal(got, ref)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), context=st.sampled_from([200.0, 1000.0]))
def test_block_thresholds_match_the_reference(seed, context):
    t, _, _, speed, ok, _, _ = _walk_inputs(seed, 3000, 500.0)
    pt0, st0 = 150.0, 40.0
    block = context / 2
    nb = int((t[-1] - t[0] + 1) // block) + 1
    bpt, bst = np.empty(nb), np.empty(nb)
    AK.block_thresholds(t, speed, ok, pt0, st0, block, context, 6.0, 3.0, 1.0, 20, bpt, bst)
    rpt, rst = R.block_thresholds(t, speed, ok, pt0, st0, block, context, 6.0, 3.0, 1.0, 20, nb)
    np.testing.assert_allclose(bpt, rpt, rtol=1e-9)
    np.testing.assert_allclose(bst, rst, rtol=1e-9)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), velocity=st.sampled_from([2.0, 5.0]))
def test_pursuit_kernel_matches_the_reference(seed, velocity):
    rng = np.random.default_rng(seed)
    n = 480
    t = np.arange(n) * 2.0
    x = np.cumsum(rng.choice([0.0, 0.02], n) * (rng.random(n) < 0.7)) + rng.normal(0, 0.01, n)
    y = rng.normal(0, 0.01, n)
    ok = rng.random(n) > 0.02
    codes = rng.choice(np.array([FIXATION, SACCADE], np.int8), 12, p=[0.8, 0.2])
    codes = np.repeat(codes, n // 12)
    got = codes.copy()
    count = pursuit_kernel(t, x, y, ok, got, 200.0, velocity, 100.0)
    ref, rcount = R.pursuit_kernel(t, x, y, ok, codes, 200.0, velocity, 100.0)
    np.testing.assert_array_equal(got, ref)
    assert count == rcount
