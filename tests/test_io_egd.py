"""EGD-CXR reader/writer: bad input and truncation robustness."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gazekit.errors import GazekitError, InputError
from gazekit.io.base import detect_format, read


def test_egd_reads_two_images_with_float_ms_times_from_zero(data_file):
    recs = read(data_file("egd"))
    assert len(recs) == 2
    for r in recs:
        t = r.samples["t_ms"].to_numpy()
        assert t.dtype == np.float64 and t[0] == 0.0 and np.all(np.diff(t) >= 0)
        assert r.geometry.frame == "image" and r.source_format == "egd"
    assert detect_format(data_file("egd") / "fixations.csv") == "egd"


def test_egd_calibration_images_are_skipped_and_counted(data_file):
    d = data_file("egd")
    recs = read(d)
    assert [r.image_id for r in recs] == [
        "3a5d1f8e-0c9b2e47-6f1a2b3c-4d5e6f70-81920a1b",
        "9c0e2d41-77ab31f2-0d4c5b6a-1e2f3a4b-5c6d7e8f",
    ]
    assert {r.extra["calibration_images_skipped"] for r in recs} == {1}
    cal = [r for r in read(d, calibration="export") if r.extra.get("calibration")]
    assert [r.image_id for r in cal] == ["c3a8c7f2-5d1e4b6a"]
    assert cal[0].geometry.frame == "screen"  # X/Y_ORIGINAL of a calibration target are screen px
    with pytest.raises(InputError, match="calibration"):
        read(d, calibration="keep")


def test_egd_is_one_radiologist_with_the_session_as_its_own_column(data_file):
    recs = read(data_file("egd"))
    assert {r.reader_id for r in recs} == {"EGD-R1"}
    assert [r.metadata()["session_id"] for r in recs] == ["1", "2"]
    assert {r.extra["reader_id_source"] for r in recs} == {"corpus"}


def test_egd_screen_is_the_27_inch_dell_and_rate_is_measured(data_file):
    r = read(data_file("egd"))[0]
    g = r.geometry
    assert (g.screen_w_mm, g.screen_h_mm, g.screen_w_px) == (596.7, 335.7, 1920)
    # 0.311 mm screen px at 711 mm: 39.9 screen px per degree, 2.83 image px per screen px
    assert g.px_per_deg() == pytest.approx(39.93 * 2544 / 899, rel=2e-3)
    assert 60.5 < r.sampling_rate_hz < 63.0  # measured, not the nominal 60 Hz


def test_egd_pupils_are_millimetres_and_off_image_is_int_of_minus_k(data_file):
    d = data_file("egd")
    for r in read(d):
        p = r.samples["pupil"].dropna()
        assert 2.9 < p.min() and p.max() < 4.9
    rows = [ln.split(",") for ln in (d / "eye_gaze.csv").read_text().splitlines()[1:]]
    assert {(c[-2], c[-1]) for c in rows if float(c[6]) * 1920 < 510} == {("-2", "-2")}


def _mutate(path, line, col, value):
    rows = path.read_text().splitlines()
    cells = rows[line - 1].split(",")
    cells[col] = value
    rows[line - 1] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n")


def test_egd_non_numeric_cell_names_line_and_column(data_file):
    d = data_file("egd")
    _mutate(d / "eye_gaze.csv", 5, 12, "abc")  # BPOGX
    with pytest.raises(InputError, match=r"line 5.*BPOGX|BPOGX.*line 5"):
        read(d)


def test_egd_missing_column_is_an_input_error(data_file):
    d = data_file("egd")
    text = (d / "eye_gaze.csv").read_text().replace("BPOGX", "BPOGQ", 1)
    (d / "eye_gaze.csv").write_text(text)
    with pytest.raises(InputError, match="BPOGX"):
        read(d)


def test_egd_backwards_time_is_an_input_error(data_file):
    d = data_file("egd")
    _mutate(d / "eye_gaze.csv", 6, 4, "-5.00000")
    with pytest.raises(InputError, match="line"):
        read(d)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frac=st.floats(0.0, 1.0), which=st.sampled_from(["eye_gaze.csv", "fixations.csv"]))
def test_egd_truncated_files_give_gazekit_error_or_recordings(tmp_path_factory, frac, which):
    src = Path(__file__).parent / "data" / "egd"
    d = tmp_path_factory.mktemp("egd") / "egd"
    shutil.copytree(src, d)
    raw = (d / which).read_bytes()
    (d / which).write_bytes(raw[: int(len(raw) * frac)])
    try:
        recs = read(d, "egd")
    except GazekitError:
        return
    for r in recs:
        assert r.samples["t_ms"].dtype == np.float64
