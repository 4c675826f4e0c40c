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
