"""The adaptive detector: kernel = reference, exact labels on a clean saccade + PSO, synthetic agreement."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gazekit.events import _kernels, _reference, detect, label_samples
from gazekit.events.adaptive import peak_threshold
from gazekit.events.base import FIXATION, PSO, SACCADE
from gazekit.metrics.classification import cohen_kappa


@settings(max_examples=60, deadline=None)
@given(
    speed=arrays(np.float64, st.integers(5, 300), elements=st.floats(0, 400)),
    seed=st.integers(0, 2**16),
    local_min=st.booleans(),
)
def test_kernel_matches_the_reference(speed, seed, local_min):
    rng = np.random.default_rng(seed)
    ok = rng.random(speed.size) > 0.05
    t = np.cumsum(rng.uniform(0.8, 1.2, speed.size))
    a = np.ones(speed.size, np.int8)
    b = np.ones(speed.size, np.int8)
    _kernels.adaptive_walk(speed, ok, t, 120.0, 40.0, 40.0, 3.0, a, local_min)
    _reference.adaptive_walk(speed, ok, t, 120.0, 40.0, 40.0, 3.0, b, local_min)
    np.testing.assert_array_equal(a, b)


def test_clean_saccade_then_oscillation_gets_exact_labels():
    t = np.arange(200.0)
    speed = np.full(200, 5.0)
    speed[100:120] = [
        20,
        60,
        150,
        300,
        420,
        450,
        420,
        300,
        200,
        120,
        60,
        25,
        8,
        6,
        30,
        45,
        30,
        8,
        5,
        5,
    ]
    ok = np.ones(200, bool)
    codes = np.full(200, FIXATION, np.int8)
    _kernels.adaptive_walk(speed, ok, t, 100.0, 15.0, 40.0, 5.0, codes, False)
    assert (codes[:100] == FIXATION).all() and (codes[118:] == FIXATION).all()
    assert (codes[100:112] == SACCADE).all()  # from the first sample >= ST to the last >= LT
    assert (codes[112:117] == PSO).all()  # the re-acceleration within 40 ms


def test_robust_threshold_ignores_spikes():
    rng = np.random.default_rng(0)
    v = np.abs(rng.normal(5, 3, 5000))
    spiky = v.copy()
    spiky[::50] = 2000.0  # tracker artefacts
    pt, stt, _, _ = peak_threshold(v, np.ones(v.size, bool))
    pt2, _, _, _ = peak_threshold(spiky, np.ones(v.size, bool))
    assert 10 < pt < 40 and stt < pt
    assert abs(pt2 - pt) < 3


@pytest.mark.parametrize(("tracker", "floor"), [("eyelink", 0.6), ("gazepoint", 0.4)])
def test_agreement_with_simulated_truth(tracker, floor):
    from gazekit.synthetic import simulate_session

    rec = simulate_session(seed=3, tracker=tracker, image_size=256).recording
    codes = label_samples(rec, method="adaptive")
    truth = rec.samples["label"].to_numpy()
    assert cohen_kappa(truth == "fixation", codes == FIXATION) > floor
    assert cohen_kappa(truth == "saccade", codes == SACCADE) > floor - 0.1
    ev = detect(rec, method="adaptive")
    assert (np.diff(ev["onset_ms"].to_numpy()) >= 0).all()
    assert (ev["offset_ms"].to_numpy()[:-1] <= ev["onset_ms"].to_numpy()[1:] + 1e-9).all()
    # a PSO always follows a saccade directly
    kinds = ev["event"].tolist()
    for i, k in enumerate(kinds):
        if k == "pso":
            assert i > 0 and kinds[i - 1] == "saccade"
