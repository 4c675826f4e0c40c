"""Saliency metrics: hand-computed golden values, loop references, and pysaliency when present."""

from __future__ import annotations

import numpy as np
import pytest
from reference.heatmaps import naive_auc_judd, naive_auc_splits

from gazekit.errors import InputError
from gazekit.metrics import saliency as S


def test_nss_golden_two_pixel_map():
    s = np.array([[0.0, 1.0]])
    # mean 0.5, sample std sqrt(0.5): pixel 1 standardised = 0.5 / 0.7071
    assert S.nss(s, ([1.0], [0.0])) == pytest.approx(0.5 / np.sqrt(0.5))


def test_cc_golden_identical_and_inverted():
    m = np.arange(12.0).reshape(3, 4)
    assert S.cc(m, m) == pytest.approx(1.0) and S.cc(m, -m) == pytest.approx(-1.0)


def test_sim_golden_half_overlap():
    a = np.array([[0.0, 1.0, 1.0, 0.0]])
    b = np.array([[0.0, 0.0, 1.0, 1.0]])
    assert S.sim(a, b) == pytest.approx(0.5) and S.sim(a, a) == pytest.approx(1.0)


def test_kld_golden_two_bins():
    p = np.array([[0.75, 0.25]])
    q = np.array([[0.5, 0.5]])
    expected = 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25)
    assert S.kld(p, q) == pytest.approx(expected, rel=1e-9)


def test_auc_judd_golden_perfect_and_chance():
    s = np.array([[0.0, 0.1, 0.2, 1.0]])
    assert S.auc_judd(s, ([3.0], [0.0])) == pytest.approx(1.0)
    assert S.auc_judd(s, ([0.0], [0.0])) == pytest.approx(0.5 * (1 / 3) * 0 + 0.5, abs=0.5)


def test_auc_judd_matches_loop_transcription_of_mit_code():
    rng = np.random.default_rng(0)
    for n_fix in (5, 100):
        s = rng.random((30, 40))
        idx = rng.choice(s.size, n_fix, replace=False)
        fmap = np.zeros(s.size)
        fmap[idx] = 1
        assert S.auc_judd(s, fmap.reshape(s.shape)) == pytest.approx(naive_auc_judd(s, idx))


@pytest.mark.parametrize(
    "n_pos", [pytest.param(3, id="few_fixations"), pytest.param(40, id="many_fixations")]
)
def test_vectorised_threshold_sweep_matches_per_split_mit_loop(n_pos):
    rng = np.random.default_rng(n_pos)
    pos, neg = rng.random(n_pos) ** 0.5, rng.random((n_pos, 100)) * 0.8
    assert S._auc_split_thresholds(pos, neg, 0.1) == pytest.approx(naive_auc_splits(pos, neg, 0.1))


def test_auc_rank_golden_with_ties():
    s = np.array([[0.0, 1.0, 1.0, 2.0]])
    # fixation on a 1.0 pixel: 1 pixel below, 2 equal -> (1 + 0.5 * 2) / 4
    assert S.auc_rank(s, ([1.0], [0.0])) == pytest.approx(0.5)
    assert S.auc_rank(s, ([3.0], [0.0])) == pytest.approx(3.5 / 4)


def test_auc_borji_and_shuffled_high_for_peaked_map():
    s = np.zeros((50, 50))
    s[20:30, 20:30] = 1.0
    fix = (np.full(10, 25.0), np.full(10, 25.0))
    assert S.auc_borji(s, fix) > 0.9
    other = (np.array([2.0, 45.0, 10.0]), np.array([2.0, 45.0, 40.0]))
    assert S.auc_shuffled(s, fix, other) > 0.9


def test_info_gain_golden_against_uniform():
    s = np.array([[1.0, 3.0]])
    # min-max -> [0, 1] -> p = [0, 1]; uniform baseline min-max is 0 -> uniform 0.5
    assert S.info_gain(s, ([1.0], [0.0]), S.uniform((1, 2))) == pytest.approx(1.0)


def test_emd_golden_shift_by_one_bin():
    a = np.zeros((4, 4))
    b = np.zeros((4, 4))
    a[1, 1] = 1
    b[1, 2] = 1
    assert S.emd(a, b, size=4) == pytest.approx(1.0)
    c = np.zeros((4, 4))
    c[1, 1] = c[3, 3] = 0.5
    assert S.emd(a, c, size=4) == pytest.approx(0.5 * np.hypot(2, 2))
    assert S.emd(a, a, size=4) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(np.full((3, 3), np.nan), id="nan_map"),
        pytest.param(np.zeros(3), id="one_dimensional"),
    ],
)
def test_bad_maps_are_input_errors(bad):
    with pytest.raises(InputError):
        S.nss(bad, ([1.0], [1.0]))


def test_no_fixation_inside_map_is_input_error():
    from gazekit.errors import GazekitWarning

    with pytest.warns(GazekitWarning), pytest.raises(InputError, match="at least one fixation"):
        S.nss(np.ones((3, 3)), ([10.0], [10.0]))


def test_evaluate_returns_every_metric():
    rng = np.random.default_rng(1)
    m = rng.random((20, 20))
    out = S.evaluate(
        m, (rng.uniform(0, 19, 8), rng.uniform(0, 19, 8)), other_fixations=([1.0], [1.0])
    )
    assert set(out) == {
        "auc_judd",
        "auc_borji",
        "nss",
        "info_gain",
        "cc",
        "kld",
        "sim",
        "emd",
        "auc_shuffled",
    }
    assert set(S.METRICS.names()) >= set(out)


# ---------------------------------------------------------------- pysaliency
def _pysaliency_metrics(monkeypatch):
    pytest.importorskip("torch")
    # pysaliency's AUC code calls np.trapz, removed in NumPy 2.4
    monkeypatch.setattr(np, "trapz", np.trapezoid, raising=False)
    return pytest.importorskip("pysaliency.metrics")


@pytest.fixture
def maps():
    rng = np.random.default_rng(7)
    from scipy.ndimage import gaussian_filter

    a = gaussian_filter(rng.random((64, 80)), 4) + 1e-3
    b = gaussian_filter(rng.random((64, 80)), 4) + 1e-3
    xs, ys = rng.integers(0, 80, 15).astype(float), rng.integers(0, 64, 15).astype(float)
    return a, b, xs, ys


def test_against_pysaliency_nss_cc_sim(maps, monkeypatch):
    pm = _pysaliency_metrics(monkeypatch)
    a, b, xs, ys = maps
    assert S.nss(a, (xs, ys)) == pytest.approx(
        np.mean(pm.NSS(a, xs.astype(int), ys.astype(int))), rel=1e-3
    )
    assert S.cc(a, b) == pytest.approx(pm.CC(a, b), rel=1e-9)
    # pysaliency SIM has no min-max step: compare on maps with minimum 0
    a0, b0 = a - a.min(), b - b.min()
    assert S.sim(a0, b0) == pytest.approx(pm.SIM(a0, b0), rel=1e-9)


def test_against_pysaliency_kld_and_rank_auc(maps, monkeypatch):
    pm = _pysaliency_metrics(monkeypatch)
    from pysaliency.roc import general_roc

    a, b, xs, ys = maps
    # MIT_KLDiv(prediction, empirical) uses the MIT eps as log and quotient regulariser
    assert S.kld(a, b) == pytest.approx(pm.MIT_KLDiv(a, b), rel=1e-6)
    # pysaliency's AUC is the exact rank AUC against all pixels (gazekit's auc_rank);
    # AUC-Judd's trapezoids over N_fix thresholds exceed it by about 1 / (2 N_fix)
    pos = a[ys.astype(int), xs.astype(int)]
    auc_ref = general_roc(np.ascontiguousarray(pos), np.ascontiguousarray(a.ravel()))[0]
    assert S.auc_rank(a, (xs, ys)) == pytest.approx(auc_ref, rel=1e-9)
    assert S.auc_judd(a, (xs, ys)) - auc_ref == pytest.approx(1 / (2 * xs.size), abs=0.01)


def test_fixations_outside_the_map_warn_instead_of_vanishing():
    from gazekit.errors import GazekitWarning

    m = np.arange(12.0).reshape(3, 4)
    with pytest.warns(GazekitWarning, match="1 of 2 fixations lie outside the 4×3 px map"):
        got = S.nss(m, ([1.0, 900.0], [1.0, 1.0]))
    assert got == pytest.approx(S.nss(m, ([1.0], [1.0])))
