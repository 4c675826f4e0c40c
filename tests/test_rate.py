"""The sampling rate is measured from the timestamps, not trusted from a header."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gazekit import events, io
from gazekit.errors import GazekitWarning
from gazekit.rate import checked_rate, measured_rate_hz
from gazekit.synthetic import simulate_session


@pytest.fixture(scope="module")
def session60():
    return simulate_session(seed=11, tracker="gazepoint", strategy="seq", image_size=256)


@pytest.mark.parametrize(
    ("step_ms", "declared", "want", "warns"),
    [
        pytest.param(1.0, 1000.0, 1000.0, False, id="agreeing_declaration_is_kept"),
        pytest.param(50 / 3, 60.0, 60.0, False, id="60hz_float_steps_agree"),
        pytest.param(5.0, 500.0, 200.0, True, id="500hz_header_with_5ms_steps_uses_200hz"),
        pytest.param(50 / 3, 1000.0, 60.0, True, id="1000hz_declared_60hz_data_uses_60hz"),
        pytest.param(4.0, None, 250.0, False, id="undeclared_rate_is_measured"),
    ],
)
def test_checked_rate(step_ms, declared, want, warns):
    t = np.arange(500) * step_ms
    t = np.delete(t, np.arange(100, 130))  # a track-loss gap does not move the median
    if warns:
        with pytest.warns(GazekitWarning, match=f"using {want:g} Hz"):
            assert checked_rate(t, declared) == pytest.approx(want, abs=0.1)
    else:
        assert checked_rate(t, declared) == pytest.approx(want, abs=0.1)


def test_whole_ms_timestamps_of_a_60hz_tracker_are_within_tolerance():
    t = np.round(np.arange(600) * 1000.0 / 60.0)  # 16/17 ms steps
    assert measured_rate_hz(t) == pytest.approx(60.0, abs=0.1)
    assert checked_rate(t, 60.0) == 60.0


def test_reflacx_file_recorded_at_60hz_is_read_and_detected_at_60hz(session60, tmp_path):
    io.write([session60.recording], tmp_path, "reflacx")
    with pytest.warns(GazekitWarning, match="declared sampling rate 1000 Hz"):
        (rec,) = io.read(tmp_path, "reflacx")
    assert rec.sampling_rate_hz == pytest.approx(60.0, abs=0.1)
    ev = events.detect(rec, "ivt")
    n_fix = int((ev["event"] == "fixation").sum())
    n_true = len(session60.truth)
    assert n_true * 0.5 <= n_fix <= n_true * 1.5


def test_detection_measures_the_rate_when_the_declaration_is_wrong(session60):
    rec = dataclasses.replace(session60.recording, sampling_rate_hz=1000.0)
    with pytest.warns(GazekitWarning, match="using 60 Hz"):
        ev = events.detect(rec, "ivt")
    assert (ev["event"] == "fixation").sum() > 0.5 * len(session60.truth)


def test_asc_header_saying_500hz_over_5ms_steps_is_read_at_200hz(tmp_path):
    s = simulate_session(seed=12, tracker="eyelink", strategy="seq", image_size=256)
    rec = s.recording
    every5 = rec.samples.iloc[::5].reset_index(drop=True)
    bad = dataclasses.replace(rec, samples=every5, sampling_rate_hz=500.0, events=None)
    (path,) = io.write([bad], tmp_path, "asc")
    with pytest.warns(GazekitWarning, match="declared sampling rate 500 Hz.*5 ms"):
        (back,) = io.read(path, "asc")
    assert back.sampling_rate_hz == 200.0
