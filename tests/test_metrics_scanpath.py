"""Scanpath metrics: hand-computed golden cases, kernel references, properties, multimatch-gaze."""

from __future__ import annotations

import heapq
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gazekit.errors import GazekitError, GazekitWarning, InputError
from gazekit.metrics import scanpath as sp
from gazekit.metrics._scanpath_kernels import levenshtein, min_cost_path, nw_score


# ----------------------------------------------------------- plain Python references
def ref_nw(a, b, sub, gap):
    n, m = len(a), len(b)
    f = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        f[i][0] = gap * i
    for j in range(m + 1):
        f[0][j] = gap * j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            f[i][j] = max(
                f[i - 1][j - 1] + sub[a[i - 1]][b[j - 1]], f[i - 1][j] + gap, f[i][j - 1] + gap
            )
    return f[n][m]


def ref_levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def ref_dijkstra(cost):
    """Dijkstra over the right/down/diagonal DAG; returns (path cost, path)."""
    n, m = cost.shape
    dist = {(0, 0): 0.0}
    prev = {}
    heap = [(0.0, 0, 0)]
    done = set()
    while heap:
        d, i, j = heapq.heappop(heap)
        if (i, j) in done:
            continue
        done.add((i, j))
        for di, dj in ((0, 1), (1, 0), (1, 1)):
            u, v = i + di, j + dj
            if u < n and v < m:
                nd = d + cost[u, v]
                if nd < dist.get((u, v), math.inf):
                    dist[(u, v)] = nd
                    prev[(u, v)] = (i, j)
                    heapq.heappush(heap, (nd, u, v))
    node, path = (n - 1, m - 1), [(n - 1, m - 1)]
    while node != (0, 0):
        node = prev[node]
        path.append(node)
    return dist[(n - 1, m - 1)], path[::-1]


symbols = arrays(np.int64, st.integers(0, 12), elements=st.integers(0, 4))


@settings(max_examples=60, deadline=None)
@given(a=symbols, b=symbols, gap=st.sampled_from([0.0, -0.5]))
def test_nw_kernel_agrees_with_python_reference(a, b, gap):
    sub = np.arange(25, dtype=np.float64).reshape(5, 5) % 7 - 2.0
    assert nw_score(a, b, sub, gap) == pytest.approx(ref_nw(a, b, sub.tolist(), gap))


@settings(max_examples=60, deadline=None)
@given(a=symbols, b=symbols)
def test_levenshtein_kernel_agrees_with_python_reference(a, b):
    assert levenshtein(a, b) == ref_levenshtein(a.tolist(), b.tolist())


@settings(max_examples=40, deadline=None)
@given(
    cost=arrays(
        np.float64,
        st.tuples(st.integers(1, 8), st.integers(1, 8)),
        elements=st.floats(0, 100, allow_nan=False),
    )
)
def test_min_cost_path_agrees_with_dijkstra_reference(cost):
    path = min_cost_path(cost)
    ref_cost, ref_path = ref_dijkstra(cost)
    got_cost = float(cost[path[1:, 0], path[1:, 1]].sum())
    assert got_cost == pytest.approx(ref_cost, abs=1e-9)
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (cost.shape[0] - 1, cost.shape[1] - 1)
    steps = np.diff(path, axis=0)
    assert np.all((steps >= 0) & (steps <= 1)) and np.all(steps.sum(axis=1) >= 1)
    if len(np.unique(cost)) == cost.size:  # no ties: same path
        assert [tuple(p) for p in path] == ref_path


# --------------------------------------------------------------------- MultiMatch
P3 = np.array([[0.0, 0.0, 200.0], [100.0, 0.0, 200.0], [100.0, 100.0, 400.0]])
Q3 = np.array([[0.0, 0.0, 200.0], [100.0, 0.0, 400.0], [100.0, 200.0, 400.0]])
F1000 = {"frame_size": (1000, 1000)}
SEC = np.array([1.0, 1.0, 1e-3])  # multimatch-gaze takes durations in seconds


def test_multimatch_hand_worked_three_fixations():
    # saccades (100,0),(0,100) vs (100,0),(0,200): diagonal alignment, diffs 0 and 100
    got = sp.multimatch(P3, Q3, frame_size=(1000, 1000))
    diag = math.hypot(1000, 1000)
    assert got["vector"] == pytest.approx(1 - 50 / (2 * diag))
    assert got["direction"] == pytest.approx(1.0)
    assert got["length"] == pytest.approx(1 - 50 / diag)
    assert got["position"] == pytest.approx(1.0)
    assert got["duration"] == pytest.approx(1 - 0.25)


def test_multimatch_identical_scanpaths_score_one_on_every_dimension():
    got = sp.multimatch(Q3, Q3, **F1000)
    assert list(got) == list(sp.MULTIMATCH_DIMENSIONS)
    assert all(v == pytest.approx(1.0) for v in got.values())


def test_multimatch_short_scanpath_gives_nan_not_padding():
    got = sp.multimatch(P3[:2], Q3, **F1000)
    assert all(math.isnan(v) for v in got.values())


def test_dataframe_and_array_both_take_milliseconds():
    df = pd.DataFrame({"x_px": Q3[:, 0], "y_px": Q3[:, 1], "duration_ms": Q3[:, 2]})
    assert sp.multimatch(P3, df, **F1000) == pytest.approx(sp.multimatch(P3, Q3, **F1000))
    np.testing.assert_array_equal(sp.as_scanpath(df), Q3)


def test_bad_scanpath_raises_input_error():
    with pytest.raises(InputError, match="shape"):
        sp.multimatch(np.zeros((4, 2)), Q3, **F1000)
    with pytest.raises(InputError, match="non-finite"):
        sp.scanmatch(np.array([[1.0, np.nan, 100.0]]), Q3, **F1000)
    with pytest.raises(InputError, match="lacks columns"):
        sp.stde(pd.DataFrame({"x_px": [1.0]}), Q3, **F1000)
    with pytest.raises(InputError, match="frame_size"):
        sp.sed(P3, Q3, frame_size=(0, 100))


def _random_path(rng, n, w=1280, h=720):
    return np.column_stack([rng.uniform(0, w, n), rng.uniform(0, h, n), rng.uniform(50, 600, n)])


def test_multimatch_matches_multimatch_gaze_package():
    mm = pytest.importorskip("multimatch_gaze")
    rng = np.random.default_rng(7)
    dt = [("start_x", "f8"), ("start_y", "f8"), ("duration", "f8")]
    for _ in range(40):
        p, q = _random_path(rng, rng.integers(3, 15)), _random_path(rng, rng.integers(3, 15))
        want = mm.docomparison(
            np.rec.fromarrays((p * SEC).T, dtype=dt),
            np.rec.fromarrays((q * SEC).T, dtype=dt),
            screensize=[1280, 720],
        )
        got = sp.multimatch(p, q, frame_size=(1280, 720))
        np.testing.assert_allclose(list(got.values()), want, rtol=0, atol=1e-12)


def test_multimatch_simplification_merges_collinear_saccades_through_short_fixation():
    # (100,0) then (100,0) through a 10 ms fixation -> one (200,0) saccade: equals q exactly
    p = np.array([[0.0, 0.0, 200], [100.0, 0.0, 10], [200.0, 0.0, 200], [200.0, 100.0, 200]])
    q = np.array([[0.0, 0.0, 200.0], [200.0, 0.0, 200.0], [200.0, 100.0, 200.0]])
    kw = {
        "amplitude_threshold_px": 150.0,
        "direction_threshold_deg": 45.0,
        "duration_threshold_ms": 50.0,
        **F1000,
    }
    assert all(v == pytest.approx(1.0) for v in sp.multimatch(p, q, **kw).values())
    assert sp.multimatch(p, q, **F1000)["vector"] < 1.0  # off by default
    with pytest.raises(InputError, match="all three"):
        sp.multimatch(p, q, amplitude_threshold_px=150.0, **F1000)


def test_multimatch_simplified_matches_multimatch_gaze_grouping():
    mm = pytest.importorskip("multimatch_gaze")
    rng = np.random.default_rng(3)
    dt = [("start_x", "f8"), ("start_y", "f8"), ("duration", "f8")]
    compared = 0
    for _ in range(60):
        p, q = _random_path(rng, rng.integers(3, 15)), _random_path(rng, rng.integers(3, 15))
        p[:, 2] -= 40.0
        q[:, 2] -= 40.0
        try:
            want = mm.docomparison(
                np.rec.fromarrays((p * SEC).T, dtype=dt),
                np.rec.fromarrays((q * SEC).T, dtype=dt),
                screensize=[1280, 720],
                grouping=True,
                TDir=45.0,
                TDur=0.3,
                TAmp=400.0,
            )
        except (IndexError, ValueError):  # multimatch-gaze crashes on some inputs
            continue
        got = sp.multimatch(
            p,
            q,
            amplitude_threshold_px=400.0,
            direction_threshold_deg=45.0,
            duration_threshold_ms=300.0,
            frame_size=(1280, 720),
        )
        np.testing.assert_allclose(list(got.values()), want, rtol=0, atol=1e-12)
        compared += 1
    assert compared > 40


paths = st.integers(3, 12).flatmap(
    lambda n: arrays(
        np.float64,
        (n, 3),
        elements=st.floats(0.01, 300, allow_nan=False),
    )
)


@settings(max_examples=40, deadline=None)
@given(p=paths, q=paths)
def test_multimatch_bounded_and_one_on_identity(p, q):
    got = sp.multimatch(p, q, frame_size=(300, 300))
    for v in got.values():
        assert -1e-12 <= v <= 1 + 1e-12
    assert all(v == pytest.approx(1.0) for v in sp.multimatch(p, p, frame_size=(300, 300)).values())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 12), m=st.integers(3, 12))
def test_multimatch_symmetric_when_alignment_is_unique(seed, n, m):
    # continuous random scanpaths have no cost ties, so the alignment is unique
    rng = np.random.default_rng(seed)
    p, q = _random_path(rng, n), _random_path(rng, m)
    f = {"frame_size": (1280, 720)}
    got, back = sp.multimatch(p, q, **f), sp.multimatch(q, p, **f)
    assert list(got.values()) == pytest.approx(list(back.values()), abs=1e-12)


# ---------------------------------------------------------------------- ScanMatch
def test_scanmatch_hand_computed_without_temporal_bins():
    # 2x1 grid on a 2x1 image, threshold 2 -> Sub = [[2, 1], [1, 2]]
    p = np.array([[0.5, 0.5, 100.0], [1.5, 0.5, 50.0]])
    q = np.array([[1.5, 0.5, 100.0]])
    np.testing.assert_array_equal(sp.scanmatch_substitution((2, 1), 2.0), [[2.0, 1.0], [1.0, 2.0]])
    got = sp.scanmatch(p, q, frame_size=(2, 1), bins=(2, 1), threshold=2.0, temporal_bin_ms=None)
    assert got == pytest.approx(2 / (2 * 2))


def test_scanmatch_temporal_bins_repeat_labels_by_rounded_duration():
    # p -> [0, 0, 1] (100 ms, 50 ms); q -> [1, 1]; best: (0,1)+(1,1) = 1 + 2 = 3
    p = np.array([[0.5, 0.5, 100.0], [1.5, 0.5, 50.0]])
    q = np.array([[1.5, 0.5, 100.0]])
    got = sp.scanmatch(p, q, frame_size=(2, 1), bins=(2, 1), threshold=2.0, temporal_bin_ms=50)
    assert got == pytest.approx(3 / (2 * 3))
    # 75 ms rounds half away from zero to 2 bins, as MATLAB's round
    assert len(sp._repeat_by_duration(np.array([4]), np.array([75.0]), 50.0, "round")) == 2


@settings(max_examples=40, deadline=None)
@given(p=paths, q=paths)
def test_scanmatch_is_symmetric_bounded_and_one_on_identity(p, q):
    p[:, 2] = np.clip(p[:, 2] * 10, 50.0, 1000.0)  # 1 to 20 bins of 50 ms each
    q[:, 2] = np.clip(q[:, 2] * 10, 50.0, 1000.0)
    f = {"frame_size": (300, 300)}
    got = sp.scanmatch(p, q, **f)
    assert 0.0 <= got <= 1.0
    assert got == pytest.approx(sp.scanmatch(q, p, **f))
    assert sp.scanmatch(p, p, **f) == pytest.approx(1.0)


def test_scanmatch_nan_when_all_fixations_shorter_than_half_a_bin():
    p = np.array([[1.0, 1.0, 20.0]])
    assert math.isnan(sp.scanmatch(p, p, frame_size=(2, 2), temporal_bin_ms=50))


# ---------------------------------------------------------------- SED, SS, SemSS
def test_sed_on_grid_counts_one_deletion():
    p = np.array([[0.5, 0.5, 100.0], [1.5, 0.5, 100.0], [2.5, 0.5, 100.0]])
    q = np.array([[0.5, 0.5, 100.0], [2.5, 0.5, 100.0]])
    assert sp.grid_labels(p, frame_size=(5, 5), bins=(5, 5)).tolist() == [0, 1, 2]
    assert sp.sed(p, q, frame_size=(5, 5), bins=(5, 5)) == 1


def test_sed_on_anatomy_labels():
    assert sp.sed_labels(["right_lung", "heart", "left_lung"], ["heart", "left_lung", "spine"]) == 2


def test_sequence_score_hand_computed():
    assert sp.sequence_score(list("abc"), list("ac")) == pytest.approx(2 / 3)
    assert sp.sequence_score(list("abc"), list("xyz")) == 0.0


def test_semss_duration_aware_repeats_int_of_50ms_bins():
    # ['a','b'] @ 100, 50 ms -> a a b ; ['a'] @ 150 ms -> a a a : 2 matches / 3
    got = sp.semss(["a", "b"], ["a"], durations_ms_p=[100, 50], durations_ms_q=[150])
    assert got == pytest.approx(2 / 3)
    with pytest.raises(InputError):
        sp.semss(["a", "b"], ["a"], durations_ms_p=[100], durations_ms_q=[150])


@settings(max_examples=60, deadline=None)
@given(
    a=st.lists(st.sampled_from("abcd"), max_size=15),
    b=st.lists(st.sampled_from("abcd"), max_size=15),
)
def test_sequence_score_symmetric_bounded_identity(a, b):
    if not a and not b:
        assert math.isnan(sp.sequence_score(a, b))
        return
    got = sp.sequence_score(a, b)
    assert 0.0 <= got <= 1.0
    assert got == sp.sequence_score(b, a)
    assert sp.sed_labels(a, b) == sp.sed_labels(b, a)
    if a:
        assert sp.sequence_score(a, a) == 1.0 and sp.sed_labels(a, a) == 0


# --------------------------------------------------------------------------- STDE
def test_stde_hand_computed_shift_published_sum_and_l2_variants():
    ref = np.array([[0.0, 0.0, 100.0], [10.0, 0.0, 100.0]])
    cand = ref + np.array([32.0, 0.0, 0.0])  # 0.1 of the 320 px frame
    f = {"frame_size": (320, 240), "k_max": 2}
    tde1 = (0.06875 + 0.1) / 2
    tde2_sum = (0.1 + 0.1) / 2  # GazeSearch: sum of the per-fixation distances / k
    tde2_l2 = math.sqrt(0.1**2 + 0.1**2) / 2
    want_sum = (math.exp(-tde1) + math.exp(-tde2_sum)) / 2
    want_l2 = (math.exp(-tde1) + math.exp(-tde2_l2)) / 2
    assert sp.stde(ref, cand, **f) == pytest.approx(want_sum)
    assert sp.stde(ref, cand, window="sum", **f) == pytest.approx(want_sum)
    assert sp.stde(ref, cand, window="l2", **f) == pytest.approx(want_l2)
    assert sp.stde(ref, cand, k_max=1, frame_size=(320, 240), window="l2") == pytest.approx(
        sp.stde(ref, cand, k_max=1, frame_size=(320, 240))
    )
    assert sp.stde(ref, ref, frame_size=(320, 240)) == 1.0
    with pytest.raises(InputError, match="window"):
        sp.stde(ref, cand, window="max", **f)


@settings(max_examples=30, deadline=None)
@given(p=paths, q=paths)
def test_stde_bounded(p, q):
    f = {"frame_size": (300, 300)}
    assert 0.0 < sp.stde(p, q, **f) <= sp.stde(p, q, window="l2", **f) <= 1.0


# ------------------------------------------------------------------ frames, units
def test_every_frame_dependent_metric_requires_the_frame():
    for fn in (sp.multimatch, sp.scanmatch, sp.sed, sp.sequence_score_grid, sp.stde):
        with pytest.raises(TypeError, match="frame_size"):
            fn(P3, Q3)


def test_points_outside_the_frame_warn_with_the_count():
    rng = np.random.default_rng(1)
    p, q = _random_path(rng, 8, 1024, 1024), _random_path(rng, 8, 1024, 1024)
    with pytest.warns(GazekitWarning, match="outside the 320×240 px frame"):
        small = sp.sed(p, q, frame_size=(320, 240))
    right = sp.sed(p, q, frame_size=(1024, 1024))
    assert small <= right  # clipped into the border cells, so fewer distinct symbols


def test_grid_keeps_points_near_the_edge_in_the_last_column_unlike_gazesearchs_44px_cells():
    # GazeSearch (224 px frame, n = 5, cells of 224 // 5 = 44 px) labels x = 221 as
    # 221 // 44 = 5, i.e. the first cell of the next row; gazekit keeps it in column 4.
    p = np.array([[221.0, 10.0, 100.0]])
    assert sp.grid_labels(p, frame_size=(224, 224), bins=(5, 5)).tolist() == [4]


def test_registry_lists_scanpath_metrics():
    assert {"multimatch", "scanmatch", "sed", "sequence_score", "semss", "stde"} <= set(
        sp.METRICS.names()
    )
    with pytest.raises(GazekitError, match="unknown scanpath metric"):
        sp.METRICS.get("nope")
