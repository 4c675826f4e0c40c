"""Readers and writers of the tracker/corpus formats, on fixtures written as the sources write them."""

from __future__ import annotations

import numpy as np
import pytest

from gazekit import schemas
from gazekit.io import detect_format, read, write
from gazekit.io.parquet import read_frame


@pytest.fixture
def data(data_file):
    return data_file


def test_every_fixture_is_detected_as_its_format(data):
    assert detect_format(data("asc/monocular.asc")) == "asc"
    assert detect_format(data("asc/binocular.asc")) == "asc"
    egd = data("egd")
    assert detect_format(egd) == "egd"
    assert detect_format(egd / "eye_gaze.csv") == "egd"
    assert detect_format(data("reflacx")) == "reflacx"
    assert detect_format(data("tobii/prolab_export.tsv")) == "tobii"


def test_monocular_asc_samples_events_and_image_placement(data):
    (rec,) = read(data("asc/monocular.asc"))
    s = rec.samples
    assert rec.sampling_rate_hz == 1000.0 and rec.image_id == "cxr_0001" and rec.reader_id == "R01"
    assert rec.geometry.frame == "image" and rec.geometry.screen_w_px == 1280
    assert s["t_ms"].iloc[0] == 0.0 and s["t_ms"].iloc[-1] == 27.0
    # screen (640.0, 512.0) with the image's top-left corner at (128, 0): image (512, 512)
    assert s["x_px"].iloc[0] == pytest.approx(512.0) and s["y_px"].iloc[0] == pytest.approx(512.0)
    assert s["valid"].sum() == len(s) - 4  # the four '.' samples of the blink
    assert np.isnan(s["pupil"][~s["valid"]]).all()
    ev = rec.events
    assert ev["event"].tolist() == ["fixation", "saccade", "fixation", "blink"]
    sac = ev.iloc[1]
    assert (sac["onset_ms"], sac["duration_ms"], sac["amplitude_deg"]) == (12.0, 5.0, 3.52)
    assert sac["start_x_px"] == pytest.approx(655.2 - 128) and sac["peak_velocity_deg_s"] == 612
    assert (ev["source"] == "tracker").all()


def test_binocular_asc_averages_valid_eyes_and_keeps_each_eye(data):
    (rec,) = read(data("asc/binocular.asc"))
    s = rec.samples
    assert rec.geometry.frame == "screen" and rec.geometry.screen_h_px == 1080
    assert s["x_px"].iloc[0] == pytest.approx((964.3 + 960.5) / 2)
    # left eye lost on one sample: the gaze is the right eye's
    assert np.isnan(s["x_left_px"].iloc[4]) and s["x_px"].iloc[4] == pytest.approx(959.0)
    assert sorted(rec.events["eye"]) == ["left", "right"]


def test_egd_folder_splits_images_and_maps_gaze_to_image_pixels(data):
    recs = read(data("egd"))
    assert [r.recording_id for r in recs] == [
        "3a5d1f8e-0c9b2e47-6f1a2b3c-4d5e6f70-81920a1b-R1",
        "9c0e2d41-77ab31f2-0d4c5b6a-1e2f3a4b-5c6d7e8f-R1",
    ]
    r = recs[0]
    # the image size comes from the X_ORIGINAL/Y_ORIGINAL mapping: exact up to a pixel on
    # this 45-sample excerpt (two distinct fixations), exact on a full recording
    g = r.geometry
    assert g.frame == "image" and abs(g.image_w_px - 512) <= 1 and abs(g.image_h_px - 512) <= 1
    assert r.geometry.image_left_px == 420 and r.sampling_rate_hz == 60.0
    assert len(r.samples) == 45 and r.samples["t_ms"].iloc[0] == 0.0
    # first row: BPOGX 0.34042 of 1920 px, minus the 420 px pad, at 1080/512 screen px per image px
    row = (data("egd") / "eye_gaze.csv").read_text().splitlines()[1].split(",")
    bx, by = float(row[12]), float(row[13])
    assert r.samples["x_px"].iloc[0] == pytest.approx((bx * 1920 - 420) * g.image_w_px / 1080)
    assert r.samples["y_px"].iloc[0] == pytest.approx(by * 1080 * g.image_h_px / 1080)
    assert r.transcript["text"].iloc[0] == "No pleural effusion."
    assert r.transcript["start_ms"].iloc[0] == pytest.approx(300.0)
    assert (r.events["event"] == "fixation").all() and len(r.events) > 0


def test_reflacx_reading_has_findings_words_and_effective_geometry(data):
    (rec,) = read(data("reflacx"))
    assert rec.recording_id == "P102R108387" and rec.reader_id == "P102"
    assert rec.image_id == "5b1f0c2e-4d3a2b1c-0f9e8d7c-6b5a4938-27160514"
    assert rec.geometry.px_per_deg() == pytest.approx(20.942, abs=1e-2)
    assert rec.findings["label"].tolist() == ["Enlarged cardiac silhouette"]
    assert rec.findings["shape"].tolist() == ["ellipse"]
    assert (rec.transcript["level"] == "word").all() and "." in rec.transcript["text"].tolist()
    assert rec.extra["chest_box"] == [60.0, 40.0, 470.0, 430.0]
    assert rec.events["onset_ms"].iloc[0] == pytest.approx(0.0)


def test_tobii_export_with_decimal_commas_reads_the_same(data):
    a = read(data("tobii/prolab_export.tsv"))[0]
    b = read(data("tobii/prolab_export_decimal_comma.tsv"))[0]
    assert a.recording_id == "R01-Recording1" and a.reader_id == "R01"
    assert len(a.samples) == 24  # the mouse row is dropped
    assert a.samples["valid"].sum() == 22
    assert a.samples["pupil"].iloc[0] == pytest.approx((3.21 + 3.18) / 2)
    assert a.samples["t_ms"].iloc[1] == pytest.approx(8.330)  # μs, from the first row (3 μs)
    np.testing.assert_allclose(a.samples["pupil"], b.samples["pupil"])
    assert a.events["duration_ms"].tolist() == [83.0, 91.0]


def test_generic_csv_needs_a_column_map_and_scales_time(data):
    from gazekit.errors import InputError

    f = data("generic/gaze.csv")
    with pytest.raises(InputError, match="--map"):
        read(f, "generic")
    (rec,) = read(f, "generic", column_map={"t": "timestamp", "x": "gx", "y": "gy"}, time_unit="s")
    assert rec.samples["t_ms"].iloc[1] == 4000.0


@pytest.mark.parametrize("fmt", ["egd", "asc", "reflacx"])
def test_writer_then_reader_round_trips_a_simulated_session(tmp_path, fmt):
    import gazekit.synthetic as syn

    tracker = "gazepoint" if fmt == "egd" else "eyelink"
    (sess,) = list(syn.simulate_corpus(1, seed=5, image_size=256, tracker=tracker))
    rec = sess.recording
    write([rec], tmp_path, fmt)
    (back,) = read(tmp_path / f"{rec.recording_id}.asc" if fmt == "asc" else tmp_path)
    assert back.recording_id == rec.recording_id and back.image_id == rec.image_id
    assert back.reader_id == rec.reader_id
    m = rec.samples["valid"].to_numpy()
    np.testing.assert_array_equal(back.samples["valid"].to_numpy(), m)
    tol = {"egd": 0.01, "asc": 0.06, "reflacx": 0.001}[fmt]  # written decimals, in image px
    np.testing.assert_allclose(back.samples["x_px"][m], rec.samples["x_px"][m], atol=tol)
    np.testing.assert_allclose(back.samples["t_ms"], rec.samples["t_ms"], atol=0.51)
    fix = rec.events[rec.events["event"] == "fixation"]
    got = back.events[back.events["event"] == "fixation"]
    assert len(got) == len(fix)
    np.testing.assert_allclose(got["onset_ms"], fix["onset_ms"], atol=1.0)
    schemas.get("samples").conform(back.samples)


def test_converted_fixture_is_schema_valid_parquet_that_round_trips(tmp_path, data):
    from gazekit.io.convert import convert
    from gazekit.io.dataset_dir import open_dir

    res = convert(
        [data("asc/monocular.asc"), data("egd")], tmp_path / "ds", allow_mixed_pupil_units=True
    )
    assert res.ok and len(res.recordings) == 3
    recs = {r.recording_id: r for r in open_dir(tmp_path / "ds")}
    (orig,) = read(data("asc/monocular.asc"))
    back = recs["monocular"]
    assert back.geometry == orig.geometry and back.image_id == "cxr_0001"
    np.testing.assert_array_equal(back.samples["x_px"].to_numpy(), orig.samples["x_px"].to_numpy())
    assert len(back.events) == 4
    ev = read_frame(tmp_path / "ds" / "events.parquet", "events")
    assert set(ev["recording_id"]) == set(recs)
