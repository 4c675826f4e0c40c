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


def test_reflacx_gaze_is_image_pixels_with_ms_times_from_zero(data_file):
    (r,) = read(data_file("reflacx"))
    t = r.samples["t_ms"].to_numpy()
    assert t.dtype == np.float64 and t[0] == 0.0 and t[1] == pytest.approx(1.0)
    assert r.samples["x_px"].iloc[0] == pytest.approx(256.270)
    assert r.samples["y_px"].iloc[1] == pytest.approx(264.747)
    assert r.geometry.frame == "image" and r.geometry.image_w_px == 512
    f = r.findings.iloc[0]
    assert f["label"] == "Enlarged cardiac silhouette" and f["certainty"] == 7
    assert detect_format(data_file("reflacx") / READING) == "reflacx"


def _mutate(path, line, col, value):
    rows = path.read_text().splitlines()
    cells = rows[line - 1].split(",")
    cells[col] = value
    rows[line - 1] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n")


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
