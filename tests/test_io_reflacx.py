"""REFLACX reader/writer: values, bad input and truncation robustness."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gazekit.errors import GazekitError, InputError
from gazekit.io.base import detect_format, read

READING = "main_data/P102R108387"
GAZE = "gaze_data/P102R108387/gaze.csv"


def _reading(recs, rid="P102R108387"):
    return next(r for r in recs if r.recording_id == rid)


def test_reflacx_gaze_is_image_pixels_with_ms_times_from_zero(data_file):
    r = _reading(read(data_file("reflacx")))
    t = r.samples["t_ms"].to_numpy()
    assert t.dtype == np.float64 and t[0] == 0.0 and t[1] == pytest.approx(1.0)
    # integer positions as the corpus writes them, DICOM pixels of a 2544 x 3056 image
    assert r.samples["x_px"].iloc[0] == 1302 and r.samples["y_px"].iloc[0] == 1187
    assert r.geometry.frame == "image" and r.geometry.image_w_px == 2544
    # pupil is REFLACX's normalised area (a ratio near 1), not a tracker area
    assert 0.5 < np.nanmin(r.samples["pupil"]) and np.nanmax(r.samples["pupil"]) < 2.2
    assert r.samples["valid"].sum() == len(r.samples) - 30  # the blink's empty cells
    assert detect_format(data_file("reflacx") / READING) == "reflacx"


def test_reflacx_ids_never_give_a_reader_unknown_is_explicit(data_file):
    recs = read(data_file("reflacx"))
    assert [r.reader_id for r in recs] == [None, None]
    assert {r.extra["reader_id_source"] for r in recs} == {"unknown"}
    assert all(r.metadata()["reader_id"] is None for r in recs)


def test_reflacx_reader_map_file_or_option_gives_the_reader(data_file):
    d = data_file("reflacx")
    (d / "main_data" / "readers.csv").write_text("id,reader_id\r\nP102R108387,user3\r\n")
    recs = read(d)
    assert _reading(recs).reader_id == "user3"
    assert _reading(recs).extra["reader_id_source"] == "readers.csv"
    assert _reading(recs, "P300R482915").reader_id is None
    assert {r.reader_id for r in read(d, reader_id="rad1")} == {"rad1"}


def test_reflacx_zoom_is_kept_per_sample_and_per_fixation(data_file):
    r = _reading(read(data_file("reflacx")))
    s = r.samples
    # 132 image px/deg before the zoom at sample 400, 53 after: the corpus's own columns
    assert s["px_per_deg_x"].iloc[399] == 132 and s["px_per_deg_x"].iloc[400] == 53
    assert s["px_per_deg_y"].iloc[0] == 131
    assert r.events["px_per_deg_x"].tolist() == [132.0, 132.0, 53.0, 53.0]
    assert r.extra["geometry_mode"] == "time-varying"
    # the fixed geometry is the most-used view, exact there
    assert r.geometry.px_per_deg() == pytest.approx(132.0)
    assert r.geometry.image_left_px == 470 and r.geometry.image_disp_w_px == pytest.approx(979)
    assert _reading(read(data_file("reflacx")), "P300R482915").extra["geometry_mode"] == "fixed"


def test_reflacx_fixation_off_the_image_is_kept(data_file):
    r = _reading(read(data_file("reflacx")))
    assert r.events["x_px"].iloc[1] == -35.0


def test_reflacx_phase1_labels_map_to_gazeintent(data_file):
    from gazekit.vocab import to_gazeintent

    r = _reading(read(data_file("reflacx")))
    assert r.findings["label"].tolist() == ["Nodule", "Pleural effusion", "Pleural thickening"]
    assert r.extra["label_set"] == "REFLACX phase 1" and r.extra["phase"] == 1
    assert [to_gazeintent(v) for v in r.findings["label"]] == [
        "lung_lesion", "pleural_effusion", "pleural_other",
    ]  # fmt: skip
    for lab in ("Airway wall thickening", "Emphysema", "Quality issue"):
        assert to_gazeintent(lab) is None


def test_reflacx_certainty_is_one_to_five_and_seven_is_refused(data_file):
    d = data_file("reflacx")
    assert _reading(read(d)).findings["certainty"].tolist() == [4.0, 2.0, 2.0]
    _mutate(d / READING / "anomaly_location_ellipses.csv", 2, 4, "7")
    with pytest.raises(InputError, match=r"certainty.*1-5.*line 2|line 2.*certainty"):
        read(d)


def test_reflacx_without_gaze_data_reads_fixation_only_recordings(data_file):
    d = data_file("reflacx")
    shutil.rmtree(d / "gaze_data")
    recs = read(d)
    r = _reading(recs)
    assert len(r.samples) == 0 and r.fixation_only is True
    assert r.metadata()["fixation_only"] is True and r.source_file.endswith("fixations.csv")
    assert r.events["onset_ms"].iloc[0] == 0.0 and len(r.events) == 4
    assert r.events["duration_ms"].iloc[0] == pytest.approx(175.0)
    assert r.extra["geometry_mode"] == "time-varying"


def test_reflacx_fixture_is_written_as_the_corpus_writes_it(data_file):
    raw = (data_file("reflacx") / GAZE).read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF everywhere
    first = raw.split(b"\r\n")[1].split(b",")
    assert first[1] == b"1302" and first[4] == b"132" and first[6] == b"0.81712"


def _mutate(path, line, col, value):
    rows = path.read_text().splitlines()
    cells = rows[line - 1].split(",")
    cells[col] = value
    rows[line - 1] = ",".join(cells)
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode())


def test_reflacx_non_numeric_cell_names_line_and_column(data_file):
    d = data_file("reflacx")
    _mutate(d / GAZE, 4, 1, "abc")
    with pytest.raises(InputError, match=r"line 4.*x_position|x_position.*line 4"):
        read(d)


def test_reflacx_missing_column_is_an_input_error(data_file):
    d = data_file("reflacx")
    p = d / READING / "fixations.csv"
    p.write_text(p.read_text().replace("x_position", "x_pos", 1))
    with pytest.raises(InputError, match="x_position"):
        read(d)


def test_reflacx_backwards_time_is_an_input_error(data_file):
    d = data_file("reflacx")
    _mutate(d / GAZE, 6, 0, "0.100")
    with pytest.raises(InputError, match="line"):
        read(d)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    frac=st.floats(0.0, 1.0),
    which=st.sampled_from(
        [
            GAZE,
            f"{READING}/fixations.csv",
            f"{READING}/anomaly_location_ellipses.csv",
            f"{READING}/timestamps_transcription.csv",
            f"{READING}/chest_bounding_box.csv",
        ]
    ),
)
def test_reflacx_truncated_files_give_gazekit_error_or_recordings(tmp_path_factory, frac, which):
    d = tmp_path_factory.mktemp("rx") / "reflacx"
    shutil.copytree(Path(__file__).parent / "data" / "reflacx", d)
    raw = (d / which).read_bytes()
    (d / which).write_bytes(raw[: int(len(raw) * frac)])
    try:
        recs = read(d, "reflacx")
    except GazekitError:
        return
    for r in recs:
        assert r.samples["t_ms"].dtype == np.float64
