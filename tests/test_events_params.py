"""Typed event parameters: one validation for Python, the command line and the pipeline."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gazekit import events
from gazekit.cli.main import cli
from gazekit.errors import GazekitError, GazekitWarning
from gazekit.events import AdaptiveParams, resolve
from gazekit.geometry import Geometry
from gazekit.recording import Recording


def test_resolve_splits_types_and_fills_the_detector_defaults():
    p = resolve("adaptive", pso_max_ms="60", sg_order=2.0, min_fixation_ms=30)
    assert p.detector.pso_max_ms == 60.0 and p.signal.sg_order == 2
    assert p.post.min_fixation_ms == 30.0 and p.post.min_saccade_ms == 10.0
    assert p.as_dict()["peak_k_sd"] == 6.0


@pytest.mark.parametrize(
    ("method", "params", "match"),
    [
        pytest.param("ivt", {"velocity_treshold_deg_s": 3}, "velocity_treshold", id="misspelt_name"),
        pytest.param("adaptive", {"velocity_threshold_deg_s": 3}, "unknown", id="other_detectors_name"),
        pytest.param("ivt", {"sg_order": 4}, "sg_order", id="order_out_of_range"),
        pytest.param("ivt", {"sg_order": 2.5}, "integer", id="fractional_integer"),
        pytest.param("adaptive", {"pso_max_ms": "long"}, "number", id="text_for_a_number"),
        pytest.param("adaptive", {"onset_k_sd": 7}, "below peak_k_sd", id="onset_above_peak"),
        pytest.param("idt", {"dispersion_deg": -1}, "dispersion_deg", id="negative_threshold"),
        pytest.param("nope", {}, "known", id="unknown_method"),
    ],
)  # fmt: skip
def test_bad_parameters_fail_before_any_work(method, params, match):
    with pytest.raises(GazekitError, match=match):
        resolve(method, **params)


def test_every_field_has_a_unit_suffix_and_a_help_text():
    units = ("_ms", "_deg", "_deg_s", "_hz", "_sd", "_samples")
    unitless = {"sg_order", "degree_free", "pupil_collapse"}  # an order, a switch, a fraction
    for cls in (events.SignalParams, events.PostParams, events.IVTParams, events.IDTParams,
                AdaptiveParams):  # fmt: skip
        for f in dataclasses.fields(cls):
            assert f.name.endswith(units) or f.name in unitless, f.name
            assert f.metadata.get("help"), f.name


def test_cli_options_are_generated_and_checked_per_method(tmp_path):
    from gazekit.synthetic import simulate_corpus
    from gazekit.synthetic.export import write_sessions

    ds = tmp_path / "ds"
    write_sessions(simulate_corpus(1, seed=2, n_readers=1, image_size=128), ds, "parquet")
    run = CliRunner().invoke
    res = run(cli, ["events", "--help"])
    assert "--pso-max-ms" in res.output and "--velocity-threshold-deg-s" in res.output
    res = run(cli, ["events", str(ds), "-o", str(tmp_path / "o"), "--method", "adaptive",
                    "--pso-max-ms", "60", "--no-progress"])  # fmt: skip
    assert res.exit_code == 0, res.output
    res = run(cli, ["events", str(ds), "-o", str(tmp_path / "o"), "--method", "adaptive",
                    "--velocity-threshold-deg-s", "60"])  # fmt: skip
    assert res.exit_code != 0 and "velocity_threshold_deg_s" in res.output


def test_pipeline_rejects_an_unknown_events_parameter_when_the_plan_is_built():
    from gazekit.pipeline import build_plan

    build_plan(["events"], {"events": {"method": "adaptive", "pso_max_ms": 60}})
    with pytest.raises(GazekitError, match="events"):
        build_plan(["events"], {"events": {"method": "adaptive", "pso_max": 60}})


def test_per_sample_scale_columns_replace_the_fixed_geometry():
    """Zoomed images: degrees = px / px_per_deg at each sample."""
    t = np.arange(400.0)
    x = np.where(t < 200, 100.0, 160.0)
    scale = np.where(t < 300, 30.0, 60.0)  # the zoom doubles at 300 ms
    df = pd.DataFrame({"t_ms": t, "x_px": x, "y_px": np.full(400, 50.0),
                       "px_per_deg_x": scale, "px_per_deg_y": scale})  # fmt: skip
    sig = events.prepare(df, Geometry())
    np.testing.assert_allclose(sig.x_deg, x / scale)
    np.testing.assert_allclose(sig.y_deg, 50.0 / scale)
    df.loc[5, "px_per_deg_x"] = 0.0
    with pytest.raises(GazekitError, match="px_per_deg"):
        events.prepare(df, Geometry())


def test_sampling_rate_comes_from_the_timestamps_when_the_header_disagrees():
    geom = Geometry(frame="screen", screen_w_px=1024, screen_h_px=768, screen_w_mm=380,
                    screen_h_mm=300, viewing_distance_mm=670)  # fmt: skip
    t = np.arange(500) * 5.0  # 200 Hz
    df = pd.DataFrame({"t_ms": t, "x_px": 500.0 + 0 * t, "y_px": 400.0 + 0 * t})
    rec = Recording("r", df, geom, "c", "", "memory", sampling_rate_hz=500.0)
    with pytest.warns(GazekitWarning, match="declared sampling rate 500 Hz.*using 200 Hz"):
        sig = events.prepare(rec)
    assert sig.sampling_rate_hz == pytest.approx(200.0)
