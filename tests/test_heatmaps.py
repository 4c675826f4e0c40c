"""Heatmaps, per-anatomy maps and region statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference.heatmaps import naive_coverage_counts, naive_heatmap

from gazekit import heatmaps, schemas
from gazekit.anatomy import Atlas
from gazekit.errors import InputError
from gazekit.geometry import Geometry


def _fix(xs, ys, durs, onsets=None):
    onsets = np.cumsum([0, *durs[:-1]]) if onsets is None else onsets
    return pd.DataFrame(
        {"x_px": xs, "y_px": ys, "duration_ms": durs, "onset_ms": onsets,
         "offset_ms": np.asarray(onsets) + np.asarray(durs)}
    )  # fmt: skip


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-5, 85), st.floats(-5, 65), st.floats(50, 900)),
        min_size=1,
        max_size=12,
    ),
    st.floats(2.5, 40.0),
)
def test_splat_and_blur_matches_sum_of_gaussians(pts, sigma):
    x, y, w = (np.array(v) for v in zip(*pts, strict=True))
    got = heatmaps.heatmap(x, y, (60, 80), weights=w, sigma=sigma, unit="px")
    ref = naive_heatmap(x, y, w, (60, 80), sigma)
    assert np.abs(got - ref).max() < 0.03 * ref.max()


def test_wide_kernel_on_coarse_grid_matches_full_resolution_blur():
    rng = np.random.default_rng(5)
    x, y, w = rng.uniform(-30, 530, 200), rng.uniform(-30, 430, 200), rng.uniform(100, 900, 200)
    fast = heatmaps.heatmap(x, y, (400, 500), weights=w, sigma=40, unit="px")
    exact = heatmaps.heatmap(x, y, (400, 500), weights=w, sigma=40, unit="px", exact=True)
    assert np.abs(fast - exact).max() < 0.005 * exact.max()


def test_sigma_in_degrees_uses_px_per_deg():
    a = heatmaps.heatmap([50.0], [50.0], (101, 101), sigma=1.0, geometry=Geometry.from_px_per_deg(5.0))
    b = heatmaps.heatmap([50.0], [50.0], (101, 101), sigma=5.0, unit="px")
    np.testing.assert_allclose(a, b)


def test_degrees_without_geometry_is_input_error():
    with pytest.raises(InputError, match="geometry"):
        heatmaps.heatmap([1.0], [1.0], (10, 10))


@pytest.mark.parametrize(
    ("how", "check"),
    [
        pytest.param(
            "probability", lambda m: np.isclose(m.sum(), 1.0), id="probability_sums_to_one"
        ),
        pytest.param("max", lambda m: np.isclose(m.max(), 1.0), id="max_peaks_at_one"),
        pytest.param("density", lambda m: np.isclose(m.sum() * 4, 1.0), id="density_per_image_px"),
    ],
)
def test_normalisations(how, check):
    m = heatmaps.heatmap(
        [20.0, 30.0], [20.0, 10.0], (40, 40), sigma=2, unit="px", normalize=how, downsample=2
    )
    assert m.shape == (20, 20) and check(m)


def test_duration_weighting_vs_count():
    fx = _fix([10.0, 30.0], [20.0, 20.0], [900.0, 100.0])
    d = heatmaps.compute(fx, (40, 40), sigma=2, unit="px")
    c = heatmaps.compute(fx, (40, 40), sigma=2, unit="px", weight="count")
    assert d[20, 10] / d[20, 30] == pytest.approx(9.0, rel=1e-3)
    assert c[20, 10] == pytest.approx(c[20, 30], rel=1e-6)


def test_per_region_maps_are_masked_and_normalised_within_region():
    m = np.zeros((2, 40, 40), bool)
    m[0, :, :20] = True
    m[1, :, 20:] = True
    atlas = Atlas(m, ("right_lung", "left_lung"))
    heat = heatmaps.heatmap(
        [10.0, 30.0], [20.0, 20.0], (40, 40), weights=[3, 1], sigma=3, unit="px"
    )
    stack = heatmaps.stacked(heat, atlas)
    assert stack.shape == (40, 40, 2)
    np.testing.assert_allclose(stack.sum(axis=(0, 1)), [1.0, 1.0])
    assert (stack[:, 20:, 0] == 0).all() and (stack[:, :20, 1] == 0).all()
    assert heatmaps.region_mass(heat, atlas)[0] == pytest.approx(0.75, abs=0.01)


def test_windowed_heatmaps_use_overlap_with_each_window():
    fx = _fix([5.0, 35.0], [5.0, 35.0], [1000.0, 1000.0], onsets=[0.0, 2000.0])
    maps = heatmaps.windowed(
        fx, (40, 40), [(0, 500), (1500, 2500), (4000, 5000)], sigma=2, unit="px"
    )
    assert maps.shape == (3, 40, 40)
    assert maps[0][5, 5] > 0 and maps[0][35, 35] == 0
    assert maps[1][35, 35] > 0 and maps[1][5, 5] == 0
    assert maps[2].sum() == 0
    tr = pd.DataFrame({"start_ms": [3000.0], "level": ["phrase"]})
    assert heatmaps.phrase_windows(tr, 2000) == [(1000.0, 3000.0)]


def test_region_stats_dwell_visits_first_fixation_and_coverage():
    m = np.zeros((3, 40, 40), bool)
    m[0, :, :20] = True  # right_lung
    m[1, 20:, :20] = True  # right_lower_zone
    m[2, :, 20:] = True  # left_lung
    atlas = Atlas(m, ("right_lung", "right_lower_zone", "left_lung"))
    fx = _fix([5.0, 30.0, 5.0, 5.0], [30.0, 5.0, 5.0, 30.0], [100.0, 200.0, 300.0, 400.0])
    st_ = heatmaps.region_stats(
        fx, atlas, recording_id="r1", coverage_radius=3, coverage_unit="px"
    ).set_index("region")
    assert st_.loc["right_lung", "dwell_ms"] == 800 and st_.loc["right_lung", "fixation_count"] == 3
    assert st_.loc["right_lung", "visits"] == 2 and st_.loc["right_lung", "revisits"] == 1
    assert (
        st_.loc["right_lower_zone", "visits"] == 2
        and st_.loc["right_lower_zone", "first_fixation_ms"] == 0
    )
    assert st_.loc["left_lung", "first_fixation_ms"] == 100
    assert st_.loc["left_lung", "dwell_share"] == pytest.approx(0.2)
    assert st_.loc["right_lower_zone", "parent"] == "right_lung"
    # one disc of radius 3 (29 px; the same point fixated twice) in a 400 px region
    assert st_.loc["right_lower_zone", "coverage"] == pytest.approx(29 / 400)
    schemas.get("region_stats").conform(st_.reset_index())


def test_group_stats_and_reader_agreement():
    rows = []
    for rid, shares in (("a", [0.6, 0.3, 0.1]), ("b", [0.5, 0.4, 0.1]), ("c", [0.7, 0.2, 0.1])):
        for reg, s in zip(("r1", "r2", "r3"), shares, strict=True):
            rows.append({"recording_id": rid, "image_id": "i", "region": reg, "dwell_share": s,
                         "dwell_ms": 1000 * s, "fixation_count": 1, "coverage": s, "revisits": 0})  # fmt: skip
    df = pd.DataFrame(rows)
    g = heatmaps.group_stats(df).set_index("region")
    assert g.loc["r1", "dwell_share_mean"] == pytest.approx(0.6) and g.loc["r1", "n_readers"] == 3
    ag = heatmaps.reader_agreement(df).iloc[0]
    assert ag["kendall_w"] == pytest.approx(1.0) and ag["mean_pairwise_r"] > 0.85


def test_missing_columns_are_input_errors():
    with pytest.raises(InputError, match="x_px"):
        heatmaps.compute(pd.DataFrame({"y_px": [1.0]}), (5, 5), unit="px")


def test_save_heatmaps_npz_and_stats_parquet(tmp_path):
    m = np.ones((1, 8, 8), bool)
    atlas = Atlas(m, ("heart",))
    heat = heatmaps.heatmap([4.0], [4.0], (8, 8), sigma=1, unit="px")
    p = heatmaps.save_heatmaps(tmp_path / "h.npz", heat, atlas)
    with np.load(p) as z:
        assert z["per_region"].shape == (8, 8, 1) and list(z["names"]) == ["heart"]
    st_ = heatmaps.region_stats(
        _fix([4.0], [4.0], [100.0]), atlas, recording_id="r", coverage_radius=1, coverage_unit="px"
    )
    assert heatmaps.write_region_stats(st_, tmp_path / "s.parquet").exists()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-10, 50), st.floats(-10, 40), st.floats(0.0, 12.0)),
        min_size=0,
        max_size=8,
    ),
    st.integers(0, 2**32 - 1),
)
def test_coverage_kernel_matches_brute_force(pts, seed):
    """Each point with its own radius (a viewer that zooms), as the brute-force reference."""
    from gazekit.heatmaps._kernels import coverage_counts

    masks = np.random.default_rng(seed).random((4, 30, 40)) > 0.6
    atlas = Atlas(masks, ("a", "b", "c", "d"))
    x = np.array([p[0] for p in pts] + [np.nan])
    y = np.array([p[1] for p in pts] + [1.0])
    radius = np.array([p[2] for p in pts] + [3.0])
    got = coverage_counts(x, y, radius, atlas.code_map(), 4)
    np.testing.assert_array_equal(got, naive_coverage_counts(x, y, radius, masks))
