"""gazekit.events: invariants on synthetic recordings, exact labels, bad input, CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gazekit import events, schemas
from gazekit.cli.main import cli
from gazekit.errors import GazekitError, GeometryError, InputError
from gazekit.events import BLINK, FIXATION, SACCADE
from gazekit.geometry import Geometry
from gazekit.metrics.classification import cohen_kappa
from gazekit.recording import Recording
from gazekit.synthetic import display_geometry, simulate_session

METHODS = [m for m in ("ivt", "idt", "adaptive") if m in events.DETECTORS]
GEOM = display_geometry(512, 512)


@pytest.fixture(scope="module", params=["gazepoint", "eyelink"], ids=["60hz_jittered", "1000hz"])
def session(request):
    return simulate_session(seed=3, tracker=request.param, strategy="hybrid", image_size=512)


def _rec(t, x, y, pupil=None, valid=None, geometry=GEOM, rate=1000.0):
    n = len(t)
    df = pd.DataFrame(
        {
            "t_ms": np.asarray(t, float),
            "x_px": np.asarray(x, float),
            "y_px": np.asarray(y, float),
            "pupil": np.full(n, 20.0) if pupil is None else pupil,
            "valid": np.isfinite(x) if valid is None else valid,
        }
    )
    return Recording("r", df, geometry, "test", "mem", "memory", sampling_rate_hz=rate)


@pytest.mark.parametrize("method", METHODS)
def test_events_are_sorted_non_overlapping_and_long_enough(session, method):
    ev = events.detect(session.recording, method)
    schemas.get("events").conform(ev)  # valid events table
    assert (ev["source"] == "detected").all() and (ev["method"] == method).all()
    on, off = ev["onset_ms"].to_numpy(), ev["offset_ms"].to_numpy()
    assert (np.diff(on) > 0).all(), "sorted by onset"
    assert (on[1:] >= off[:-1] - 1e-9).all(), "non-overlapping"
    assert (off > on).all()
    np.testing.assert_allclose(ev["duration_ms"], off - on)
    params = ev.attrs["gazekit_events"]["parameters"]
    fix = ev[ev["event"] == "fixation"]
    minimum = max(params.get("min_fixation_ms", 0.0), params.get("window_ms", 0.0))
    assert (fix["duration_ms"] >= minimum - 1e-9).all()
    sac = ev[ev["event"] == "saccade"]
    assert (sac["peak_velocity_deg_s"] >= sac["mean_velocity_deg_s"]).all()
    if "pso" in set(ev["event"]):
        prev = ev["event"].shift(1)
        assert (prev[ev["event"] == "pso"] == "saccade").all(), "PSO only right after a saccade"


def test_ivt_agrees_with_the_synthetic_truth(session):
    codes = events.label_samples(session.recording, "ivt")
    truth = session.recording.samples["label"].to_numpy(dtype=object, na_value="")
    k_fix = cohen_kappa(truth == "fixation", codes == FIXATION)
    k_blink = cohen_kappa(truth == "blink", codes == BLINK)
    assert k_fix > 0.6
    assert k_blink > 0.7
    if session.recording.sampling_rate_hz == 1000.0:
        assert cohen_kappa(truth == "saccade", codes == SACCADE) > 0.8


def test_detect_many_equals_detect_per_recording(session):
    other = simulate_session(seed=4, tracker="gazepoint", image_size=256).recording
    many = events.detect_many([session.recording, other], "ivt", jobs=2)
    one = pd.concat(
        [events.detect(session.recording, "ivt"), events.detect(other, "ivt")], ignore_index=True
    )
    pd.testing.assert_frame_equal(many, one)


def test_step_signal_gets_exact_ivt_labels():
    """3-sample SG = central difference: a one-sample jump is saccade on its two sides."""
    t = np.arange(400.0)
    x = np.where(t < 200, 100.0, 160.0)
    rec = _rec(t, x, np.full(400, 200.0))
    codes = events.label_samples(
        rec, "ivt", sg_window_ms=3.0, sg_order=2, min_fixation_ms=0.0, merge_gap_ms=0.0
    )
    expected = np.full(400, FIXATION, np.int8)
    expected[[199, 200]] = SACCADE
    np.testing.assert_array_equal(codes, expected)
    ev = events.detect(rec, "ivt", sg_window_ms=3.0, sg_order=2)
    assert ev["event"].tolist() == ["fixation", "saccade", "fixation"]
    assert ev["onset_ms"].tolist() == [0.0, 199.0, 201.0]
    assert ev["offset_ms"].tolist() == [199.0, 201.0, 400.0]
    sac = ev.iloc[1]
    exact = GEOM.angular_distance(100.0, 200.0, 160.0, 200.0)
    assert sac["amplitude_px"] == pytest.approx(60.0)
    assert sac["amplitude_deg"] == pytest.approx(float(exact))


def test_step_signal_gets_exact_idt_labels():
    """Two samples in flight between two 100 px plateaus: exactly those are saccade."""
    t = np.arange(400.0)
    x = np.select([t < 150, t == 150, t == 151], [100.0, 200.0, 300.0], 400.0)
    rec = _rec(t, x, np.full(400, 200.0))
    codes = events.label_samples(rec, "idt")
    expected = np.full(400, FIXATION, np.int8)
    expected[[150, 151]] = SACCADE
    np.testing.assert_array_equal(codes, expected)
    ev = events.detect(rec, "idt")
    assert ev["event"].tolist() == ["fixation", "saccade", "fixation"]
    assert ev["onset_ms"].tolist() == [0.0, 150.0, 152.0]
    assert ev["x_px"].tolist() == [100.0, 250.0, 400.0]


@pytest.mark.parametrize(
    ("loss_ms", "events_expected"),
    [
        pytest.param(30, ["fixation"], id="short_loss_is_interpolated"),
        pytest.param(150, ["fixation", "blink", "fixation"], id="blink_from_150ms_loss"),
        pytest.param(900, ["fixation", "fixation"], id="nan_gap_splits_fixation"),
    ],
)
def test_data_loss_becomes_gap_fill_blink_or_split(loss_ms, events_expected):
    t = np.arange(2000.0)
    rng = np.random.default_rng(0)
    x = 300 + rng.normal(0, 0.2, 2000)
    y = 300 + rng.normal(0, 0.2, 2000)
    lost = (t >= 800) & (t < 800 + loss_ms)
    x[lost] = np.nan
    y[lost] = np.nan
    ev = events.detect(_rec(t, x, y), "ivt")
    assert ev["event"].tolist() == events_expected
    fix = ev[ev["event"] == "fixation"]
    inside = (fix["onset_ms"] < 800 + loss_ms) & (fix["offset_ms"] > 800)
    assert inside.sum() == (1 if loss_ms == 30 else 0)


def test_pupil_collapse_marks_a_short_loss_as_blink():
    t = np.arange(1000.0)
    x = np.full(1000, 300.0)
    pupil = np.full(1000, 20.0)
    pupil[480:500] = 4.0  # lid closing
    x[500:530] = np.nan  # 30 ms loss: too short for a blink by duration alone
    sig = events.prepare(_rec(t, x, np.full(1000, 300.0), pupil=pupil))
    assert sig.blink[480:530].all() and not sig.blink[:400].any()


def test_60hz_jittered_dropped_time_base_gives_exact_velocity():
    rng = np.random.default_rng(1)
    t = np.arange(600) * (1000 / 60) + rng.uniform(-6, 6, 600)
    t = t[rng.random(600) > 0.05]
    x = 0.02 * t  # 20 units/s
    speed, accel = events.savgol_speed(t, x, np.zeros_like(t), window_ms=20.0)
    ok = np.isfinite(speed)  # NaN only where no neighbour lies within the window
    assert ok.mean() > 0.98
    np.testing.assert_allclose(speed[ok], 20.0, rtol=1e-9)
    np.testing.assert_allclose(accel[np.isfinite(accel)], 0.0, atol=1e-6)


def test_signal_degrees_are_the_exact_per_sample_visual_angle(session):
    sig = events.prepare(session.recording)
    ok = np.isfinite(sig.x_px)
    xd, yd = session.recording.geometry.to_degrees(sig.x_px[ok], sig.y_px[ok])
    np.testing.assert_allclose(sig.x_deg[ok], xd, atol=1e-10)
    np.testing.assert_allclose(sig.y_deg[ok], yd, atol=1e-10)


@pytest.mark.parametrize(
    ("t", "x", "match"),
    [
        pytest.param([0.0, 1.0], [1.0, 2.0], "too few samples", id="too_few_samples"),
        pytest.param([0.0, 1.0, 2.0, 3.0], [np.nan] * 4, "no valid gaze", id="all_nan"),
        pytest.param([0.0, 2.0, 1.0, 3.0], [1.0] * 4, "row 2", id="non_monotonic_time"),
        pytest.param([0.0, np.nan, 2.0, 3.0], [1.0] * 4, "not finite", id="nan_time"),
    ],
)
def test_bad_input_raises_input_error(t, x, match):
    with pytest.raises(InputError, match=match):
        events.detect(_rec(t, x, np.ones(len(t))), "ivt")


def test_unknown_geometry_asks_for_screen_or_degree_free():
    rec = _rec(np.arange(100.0), np.arange(100.0), np.ones(100), geometry=Geometry())
    with pytest.raises(GeometryError, match="degree_free=True"):
        events.detect(rec, "ivt")
    ev = events.detect(rec, "ivt", degree_free=True, velocity_threshold_deg_s=5000.0)
    assert ev["event"].tolist() == ["fixation"]
    assert ev["amplitude_deg"].isna().all()


def test_unknown_parameter_is_a_clear_error():
    with pytest.raises(GazekitError, match="velocity_treshold"):
        events.detect(_rec(np.arange(10.0), np.ones(10), np.ones(10)), velocity_treshold=3)


def test_cli_writes_detected_rows_and_keeps_tracker_rows(tmp_path):
    from gazekit.synthetic import simulate_corpus
    from gazekit.synthetic.export import write_sessions

    ds = tmp_path / "ds"
    write_sessions(simulate_corpus(1, seed=2, n_readers=2, image_size=128), ds, "parquet")
    tracker = pd.read_parquet(ds / "events.parquet")
    run = CliRunner().invoke
    res = run(cli, ["events", str(ds), "-o", str(ds), "--no-progress"])
    assert res.exit_code == 0, res.output
    res = run(cli, ["events", str(ds), "-o", str(ds), "--method", "idt", "--dispersion-deg", "1.5"])
    assert res.exit_code == 0, res.output
    res = run(cli, ["events", str(ds), "-o", str(ds), "--velocity-threshold-deg-s", "40"])
    assert res.exit_code == 0, res.output
    out = pd.read_parquet(ds / "events.parquet")
    assert len(out[out["source"] == "tracker"]) == len(tracker)
    det = out[out["source"] == "detected"]
    assert set(det["method"]) == {"ivt", "idt"}
    assert set(det["recording_id"]) == set(tracker["recording_id"])
    from gazekit.io.parquet import read_metadata

    meta = read_metadata(ds / "events.parquet")
    assert meta["detectors"]["ivt"]["velocity_threshold_deg_s"] == 40.0
    assert meta["detectors"]["idt"]["dispersion_deg"] == 1.5
    # a samples file works as input too, into another directory
    f = next((ds / "samples").glob("*.parquet"))
    res = run(cli, ["events", str(f), "-o", str(tmp_path / "o"), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert set(pd.read_parquet(tmp_path / "o" / "events.parquet")["source"]) == {"detected"}
    res = run(cli, ["events", str(ds), "-o", str(tmp_path / "o"), "--method", "nope"])
    assert res.exit_code != 0 and "nope" in res.output


def test_long_recordings_in_worker_threads_match_the_main_thread():
    """≥ 200k samples: multi-threaded kernels in the main thread, serial ones in workers."""
    rng = np.random.default_rng(5)
    n = 250_000
    t = np.arange(n, dtype=float)
    jumps = np.cumsum(rng.random(n) < 0.004)
    x = rng.uniform(50, 450, jumps[-1] + 1)[jumps] + rng.normal(0, 0.3, n)
    y = rng.uniform(50, 450, jumps[-1] + 1)[jumps] + rng.normal(0, 0.3, n)
    a, b = _rec(t, x, y), _rec(t, y, x)
    main = pd.concat([events.detect(a), events.detect(b)], ignore_index=True)
    workers = events.detect_many([a, b], "ivt", jobs=2)
    pd.testing.assert_frame_equal(workers, main, check_exact=False, rtol=1e-9)
