"""pymovements and MNE adapters (run where the optional ``interop`` extra is installed)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from gazekit.interop.mne import regular_grid
from gazekit.synthetic import simulate_session


@pytest.fixture(scope="module")
def gazepoint():
    return simulate_session(seed=2, tracker="gazepoint", image_size=128).recording


@pytest.fixture(scope="module")
def eyelink():
    return simulate_session(seed=2, tracker="eyelink", image_size=128).recording


def test_import_gazekit_loads_no_adapter_library():
    code = (
        "import sys, gazekit, gazekit.io; "
        "print(sorted(m for m in ('pymovements', 'polars', 'mne', 'gazekit.interop') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _binocular(rec):
    s = rec.samples.copy()
    shift = np.where(s["valid"], 3.0, np.nan)
    s["x_left_px"], s["y_left_px"] = s["x_px"] - shift, s["y_px"]
    s["x_right_px"], s["y_right_px"] = s["x_px"] + shift, s["y_px"]
    rec = type(rec)(**{**rec.__dict__, "samples": s, "extra": {"eyes": ["left", "right"]}})
    return rec


@pytest.mark.parametrize("binocular", [False, True], ids=["one_gaze", "two_eyes"])
def test_pymovements_round_trip_keeps_samples_events_and_geometry(gazepoint, binocular):
    pytest.importorskip("pymovements")
    from gazekit.interop import from_pymovements, to_pymovements

    rec = _binocular(gazepoint) if binocular else gazepoint
    gaze = to_pymovements(rec)
    assert {"time", "pixel", "position", "velocity"} <= set(gaze.samples.columns)
    assert len(gaze.samples["pixel"][0]) == (6 if binocular else 2)
    screen = gaze.experiment.screen
    assert (screen.width_px, screen.height_px, screen.origin) == (1920, 1080, "upper left")
    assert screen.distance_cm == pytest.approx(70.0) and screen.width_cm == pytest.approx(53.1)
    # positions are gazekit's degrees of the screen position
    deg = rec.geometry.to_degrees(rec.samples["x_px"].to_numpy(), rec.samples["y_px"].to_numpy())
    pos = np.asarray(gaze.samples["position"].to_list(), dtype=float)[:, -2:]
    ok = rec.samples["valid"].to_numpy()
    np.testing.assert_allclose(pos[ok, 0], deg[0][ok])
    back = from_pymovements(
        gaze, recording_id=rec.recording_id, geometry=rec.geometry, reader_id=rec.reader_id
    )
    for c in back.samples.columns:
        np.testing.assert_allclose(
            back.samples[c].to_numpy(float), rec.samples[c].to_numpy(float), atol=1e-9, err_msg=c
        )
    a = rec.events.reset_index(drop=True)
    b = back.events
    assert b["event"].tolist() == a["event"].tolist()
    assert b["method"].tolist() == a["method"].astype(object).tolist()
    np.testing.assert_allclose(b["onset_ms"], a["onset_ms"])
    np.testing.assert_allclose(b["offset_ms"], a["offset_ms"])


def test_events_pymovements_detects_come_back_as_detected_with_their_method(gazepoint):
    pm = pytest.importorskip("pymovements")
    from gazekit.interop import from_pymovements, to_pymovements

    gaze = to_pymovements(gazepoint, events=False)
    gaze.detect(pm.events.ivt, velocity_threshold=30.0, minimum_duration=50)
    rec = from_pymovements(gaze, recording_id="r", event_method="pymovements-ivt")
    assert len(rec.events) > 10
    assert set(rec.events["source"]) == {"detected"} and set(rec.events["event"]) == {"fixation"}
    assert set(rec.events["method"]) == {"pymovements-ivt"}
    assert rec.geometry.frame == "screen" and rec.sampling_rate_hz == 60.0


def test_mne_raw_has_eyelink_reader_channels_and_annotations(eyelink):
    pytest.importorskip("mne")
    from gazekit.interop import to_mne

    rec = eyelink
    raw = to_mne(rec)
    assert raw.ch_names == ["xpos", "ypos", "pupil"]
    assert raw.get_channel_types() == ["eyegaze", "eyegaze", "pupil"]
    assert raw.info["sfreq"] == 1000.0
    # 1000 Hz on a 1 ms clock: every sample copied unchanged, in screen pixels
    x, _ = rec.geometry.image_to_screen(
        rec.samples["x_px"].to_numpy(), rec.samples["y_px"].to_numpy()
    )
    x = np.where(rec.samples["valid"], x, np.nan)
    np.testing.assert_array_equal(raw.get_data(picks="xpos")[0], x)
    kinds = pd.Series(raw.annotations.description).value_counts().to_dict()
    expect = rec.events["event"].replace({"blink": "BAD_blink"}).value_counts().to_dict()
    assert kinds == expect


def test_mne_per_eye_channels_use_mne_eyetracking_types(gazepoint):
    pytest.importorskip("mne")
    from gazekit.interop import to_mne

    raw = to_mne(_binocular(gazepoint))
    assert raw.ch_names == [
        "xpos_left",
        "ypos_left",
        "pupil_left",
        "xpos_right",
        "ypos_right",
        "pupil_right",
    ]
    assert raw.info["chs"][0]["loc"][3] == -1 and raw.info["chs"][3]["loc"][3] == 1


@pytest.mark.parametrize(
    ("t", "exact"),
    [
        pytest.param([0.0, 2.0, 4.0, 10.0], True, id="on_grid_with_a_gap_is_copied"),
        pytest.param([0.0, 2.3, 3.9, 6.0], False, id="jittered_clock_is_interpolated"),
    ],
)
def test_regular_grid(t, exact):
    t = np.asarray(t)
    v = np.vstack([t * 2.0])
    grid, was_exact = regular_grid(t, v, 500.0)
    assert was_exact is exact
    tg = np.arange(grid.shape[1]) * 2.0
    if exact:
        np.testing.assert_array_equal(grid[0], [0.0, 4.0, 8.0, np.nan, np.nan, 20.0])
    else:
        np.testing.assert_allclose(grid[0], tg * 2.0)  # a linear signal survives exactly
