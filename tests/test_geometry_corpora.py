"""One px/deg/mm conversion family on Geometry, and the corpora's time-varying mapping downstream."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from gazekit import heatmaps
from gazekit.events.signal import degree_transform
from gazekit.geometry import Geometry, is_time_varying, local_px_per_deg
from gazekit.io.base import read, write

GEOM = Geometry(
    frame="image", screen_w_px=1920, screen_h_px=1080, screen_w_mm=596.7, screen_h_mm=335.7,
    viewing_distance_mm=711.0, image_w_px=2544, image_h_px=3056, image_left_px=510,
    image_top_px=0, image_disp_w_px=899, image_disp_h_px=1080,
)  # fmt: skip


def test_px_per_deg_is_the_inverse_of_the_angle_one_pixel_subtends_at_the_centre():
    cx, cy = GEOM.screen_to_image(np.array([960.0]), np.array([540.0]))
    ppx, ppy = GEOM.px_per_deg_xy()
    one_x = GEOM.angular_distance(cx - 0.5, cy, cx + 0.5, cy)[0]
    one_y = GEOM.angular_distance(cx, cy - 0.5, cx, cy + 0.5)[0]
    assert ppx == pytest.approx(1.0 / one_x, rel=1e-9)
    assert ppy == pytest.approx(1.0 / one_y, rel=1e-9)
    assert GEOM.px_per_deg() == ppx


def test_deg_to_px_and_px_to_deg_invert_each_other_with_a_local_mapping():
    assert GEOM.px_to_deg(GEOM.deg_to_px(1.5)) == pytest.approx(1.5)
    local = np.array([132.0, np.nan, 53.0])
    got = GEOM.deg_to_px(np.array([1.0, 1.0, 2.0]), local)
    np.testing.assert_allclose(got, [132.0, GEOM.px_per_deg(), 106.0])
    np.testing.assert_allclose(GEOM.px_to_deg(got, local), [1.0, 1.0, 2.0])


def test_mm_affine_is_degree_transform_and_reproduces_to_degrees():
    ax, bx, ay, by = GEOM.mm_affine()
    assert degree_transform(GEOM) == (ax, bx, ay, by, 711.0)
    x, y = np.array([0.0, 1200.0, 2543.0]), np.array([10.0, 1500.0, 3000.0])
    xd, yd = GEOM.to_degrees(x, y)
    np.testing.assert_allclose(np.degrees(np.arctan2(ax + bx * x, 711.0)), xd)
    np.testing.assert_allclose(np.degrees(np.arctan2(ay + by * y, 711.0)), yd)
    mx, _ = GEOM.px_to_mm(x, y)
    np.testing.assert_allclose(np.degrees(np.arctan2(mx, 711.0)), xd)


def test_pixel_scale_geometry_gives_back_its_px_per_deg():
    g = Geometry.from_px_per_deg(37.5)
    assert g.px_per_deg() == pytest.approx(37.5, rel=1e-12)
    assert g.deg_to_px(2.0) == pytest.approx(75.0)
    assert heatmaps.PixelScale(37.5) == g
    assert heatmaps.sigma_to_px(1.0, "deg", g) == pytest.approx(37.5)


def test_local_mapping_falls_back_to_the_geometry_and_detects_change():
    t = pd.DataFrame({"px_per_deg_x": [132.0, np.nan], "px_per_deg_y": [131.0, 52.0]})
    ppx, ppy = local_px_per_deg(t, GEOM)
    np.testing.assert_allclose(ppx, [132.0, GEOM.px_per_deg_xy()[0]])
    np.testing.assert_allclose(ppy, [131.0, 52.0])
    assert is_time_varying(t) and not is_time_varying(t.iloc[:1])


def test_heatmap_sigma_in_degrees_follows_each_fixations_zoom():
    shape = (400, 600)
    x, y, w = np.array([150.0, 450.0]), np.array([200.0, 200.0]), np.array([200.0, 100.0])
    ppd = np.array([[20.0, 20.0], [8.0, 12.0]])  # unzoomed, then zoomed ×2.5 (anisotropic)
    got = heatmaps.heatmap(x, y, shape, weights=w, sigma=1.0, unit="deg", px_per_deg=ppd)
    a = heatmaps.heatmap(
        x[:1], y[:1], shape, weights=w[:1], sigma=20.0, unit="px", normalize="none"
    )
    b = heatmaps.heatmap(x[1:], y[1:], shape, weights=w[1:], sigma=8.0, unit="px", normalize="none")
    assert not np.allclose(got, (a + b) / (a + b).sum())  # the y axis of the zoomed one is 12 px
    # second fixation alone: separable, σx 8 px, σy 12 px
    one = heatmaps.heatmap(x[1:], y[1:], shape, sigma=1.0, unit="deg", px_per_deg=ppd[1:])
    cols, rows = one.sum(axis=0), one.sum(axis=1)
    sx = np.sqrt(np.sum(cols * (np.arange(600) - 450.0) ** 2))
    sy = np.sqrt(np.sum(rows * (np.arange(400) - 200.0) ** 2))
    assert sx == pytest.approx(8.0, rel=0.02) and sy == pytest.approx(12.0, rel=0.02)
    # the two fixations' mass keeps their weights
    assert got[:, :300].sum() == pytest.approx(2 / 3, abs=1e-3)


def test_reflacx_heatmap_uses_the_per_fixation_columns(data_file):
    (rec,) = [r for r in read(data_file("reflacx")) if r.recording_id == "P102R108387"]
    ev = rec.events
    zoomed = ev.iloc[2:3]
    m = heatmaps.compute(zoomed, (3056, 2544), geometry=rec.geometry, downsample=4)
    ref = heatmaps.compute(
        zoomed.drop(columns=["px_per_deg_x", "px_per_deg_y"]), (3056, 2544), sigma=53.0,
        unit="px", downsample=4,
    )  # fmt: skip
    rows = ref.sum(axis=1)
    # x: 53 px as the reference; y: 52 px/deg, so the profile is a little narrower
    np.testing.assert_allclose(m.sum(axis=0), ref.sum(axis=0), atol=2e-4)
    assert m.sum(axis=1).max() > rows.max()


def test_intent_margin_is_taken_at_each_fixations_mapping(data_file):
    from gazekit.intent.labellers import IntentParams, margin_in_px

    (rec,) = [r for r in read(data_file("reflacx")) if r.recording_id == "P102R108387"]
    got = margin_in_px(rec.geometry, IntentParams(margin_deg=1.0), rec.events)
    np.testing.assert_allclose(got, [131.5, 131.5, 52.5, 52.5])
    assert margin_in_px(rec.geometry, IntentParams(margin_deg=1.0)) == pytest.approx(132.0)


def test_split_with_unknown_readers_falls_back_to_images_and_warns(caplog):
    from gazekit.models.data import Example, split_recordings

    def ex(i: int, reader: str) -> Example:
        z = np.zeros((3, 2), np.float32)
        return Example(
            recording_id=f"r{i}", image_id=f"img{i % 10}", reader_id=reader, xy=z,
            dur=np.zeros(3, np.float32), t=np.zeros(3, np.float32), region=np.zeros(3, np.int64),
            intent=np.zeros((3, 13), np.float32), onset_ms=np.zeros(3),
        )  # fmt: skip

    known = [ex(i, f"R{i % 7}") for i in range(70)]
    unknown = [ex(i, "None") for i in range(70)]
    with caplog.at_level(logging.WARNING, logger="gazekit.models.data"):
        tr, va, te = split_recordings(unknown, seed=1)
    assert "no reader identity" in caplog.text
    assert len(tr) + len(va) + len(te) == 70  # nobody dropped for straddling readers
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gazekit.models.data"):
        split_recordings(known, seed=1)
    assert "no reader identity" not in caplog.text


def test_reflacx_writer_writes_what_the_reader_read_in_the_corpus_format(data_file, tmp_path):
    recs = read(data_file("reflacx"), reader_map={"P102R108387": "user2", "P300R482915": "user5"})
    write(recs, tmp_path, "reflacx")
    raw = (tmp_path / "gaze_data" / "P102R108387" / "gaze.csv").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")
    row = raw.split(b"\r\n")[401].split(b",")
    assert row[1] == b"1190" or row[1].lstrip(b"-").isdigit()  # integer positions
    assert row[4] == b"53" and float(row[6]) <= 2.0  # zoomed mapping, normalised window
    ell = (tmp_path / "main_data" / "P102R108387" / "anomaly_location_ellipses.csv").read_text()
    head, *lines = ell.splitlines()
    assert head.split(",")[5:] == sorted(head.split(",")[5:])
    assert [ln.split(",")[4] for ln in lines] == ["4", "2"]
    back = {r.recording_id: r for r in read(tmp_path)}
    a, b = back["P102R108387"], next(r for r in recs if r.recording_id == "P102R108387")
    assert a.reader_id == "user2" and a.extra["reader_id_source"] == "readers.csv"
    np.testing.assert_array_equal(a.samples["px_per_deg_x"], b.samples["px_per_deg_x"])
    np.testing.assert_allclose(a.samples["x_px"], b.samples["x_px"])
    np.testing.assert_allclose(a.samples["pupil"], b.samples["pupil"])
    # phase-1 labels are written as their phase 2-3 counterparts
    labels = ["Lung nodule or mass", "Other", "Pleural abnormality"]  # Pleural thickening: Other
    assert a.findings["label"].tolist() == labels
    assert a.findings["certainty"].tolist() == [4.0, 2.0, 2.0]


def test_simulated_corpus_files_have_the_real_magnitudes(tmp_path):
    import gazekit.synthetic as syn

    (gp,) = list(syn.simulate_corpus(1, seed=3, image_size=256, tracker="gazepoint"))
    (el,) = list(syn.simulate_corpus(1, seed=3, image_size=256, tracker="eyelink"))
    write([gp.recording], tmp_path / "egd", "egd")
    write([el.recording], tmp_path / "rx", "reflacx")
    egd = pd.read_csv(tmp_path / "egd" / "eye_gaze.csv")
    ok = egd["LPMMV"] == 1
    assert egd.loc[ok, "LPMM"].between(2.0, 6.0).all()  # mm, not px or tracker units
    assert 2.9 < egd.loc[ok, "LPMM"].median() < 4.9  # EGD-CXR's radiologist: 2.9-4.9 mm
    assert egd.loc[ok, "LPD"].between(10, 30).all()  # camera px, ~5 px per mm
    assert "." in (tmp_path / "egd" / "eye_gaze.csv").read_text().splitlines()[1].split(",")[5]
    rid = el.recording.recording_id
    gz = pd.read_csv(tmp_path / "rx" / "gaze_data" / rid / "gaze.csv")
    assert gz["pupil_area_normalized"].dropna().between(0.5, 2.2).all()
    assert gz["window_width"].between(0, 2).all() and gz["window_level"].between(0, 2).all()
    assert (gz["x_position"].dropna() == gz["x_position"].dropna().round()).all()
    ell = pd.read_csv(tmp_path / "rx" / "main_data" / rid / "anomaly_location_ellipses.csv")
    assert ell["certainty"].between(1, 5).all()
    (back,) = read(tmp_path / "egd")
    assert back.reader_id == gp.recording.reader_id and back.extra["session_id"] == "1"


def test_empty_px_per_deg_columns_change_nothing():
    from gazekit.intent.labellers import IntentParams, margin_in_px

    fix = pd.DataFrame(
        {"x_px": [500.0, 900.0], "y_px": [600.0, 700.0], "duration_ms": [200.0, 300.0]}
    )
    empty = fix.assign(px_per_deg_x=np.nan, px_per_deg_y=np.nan)
    a = heatmaps.compute(fix, (3056, 2544), geometry=GEOM, downsample=8)
    b = heatmaps.compute(empty, (3056, 2544), geometry=GEOM, downsample=8)
    np.testing.assert_array_equal(a, b)
    p = IntentParams(margin_deg=1.0)
    assert margin_in_px(GEOM, p, empty) == margin_in_px(GEOM, p, fix) == GEOM.px_per_deg()


def test_coverage_radius_follows_each_fixations_zoom():
    """1° of coverage is 20 px where the view shows 20 px/deg, whatever the fixed geometry says."""
    from gazekit import heatmaps
    from gazekit.anatomy import Atlas

    atlas = Atlas(np.ones((1, 100, 100), bool), ("image",))
    fix = pd.DataFrame({"recording_id": ["r"], "event": ["fixation"], "x_px": [50.0],
                        "y_px": [50.0], "onset_ms": [0.0], "duration_ms": [200.0]})  # fmt: skip
    fixed = Geometry.from_px_per_deg(10.0)
    base = heatmaps.region_stats(fix, atlas, geometry=fixed)
    zoomed = heatmaps.region_stats(fix.assign(px_per_deg_x=20.0, px_per_deg_y=20.0), atlas,
                                   geometry=fixed)  # fmt: skip
    assert base["coverage"].iloc[0] == pytest.approx(np.pi * 10**2 / 1e4, rel=0.05)
    assert zoomed["coverage"].iloc[0] == pytest.approx(np.pi * 20**2 / 1e4, rel=0.05)
    assert zoomed["coverage_radius_px"].iloc[0] == pytest.approx(20.0)
