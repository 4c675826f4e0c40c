"""One event-selection rule: one source, one method, one eye, or a clear refusal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gazekit.cli.main import cli
from gazekit.errors import GazekitWarning, InputError
from gazekit.io.base import events_table
from gazekit.io.selection import check_single_selection, select_events
from gazekit.synthetic import simulate_corpus
from gazekit.synthetic.export import write_sessions


def _fix(rid: str, source: str, method: str, n: int, eye: str = "both") -> list[dict]:
    return [
        {"recording_id": rid, "event": "fixation", "source": source, "method": method,
         "eye": eye, "onset_ms": 300.0 * i, "offset_ms": 300.0 * i + 200.0,
         "duration_ms": 200.0, "x_px": 10.0 * i, "y_px": 5.0}
        for i in range(n)
    ]  # fmt: skip


@pytest.fixture
def mixed() -> pd.DataFrame:
    rows = _fix("a", "tracker", "eyelink", 4) + _fix("a", "detected", "ivt", 5)
    rows += _fix("a", "detected", "idt", 3)
    return events_table(rows)


def test_auto_source_with_two_detectors_is_refused_naming_both(mixed):
    with pytest.raises(InputError, match=r"several methods \(idt, ivt\).*method"):
        select_events(mixed)


def test_explicit_method_keeps_only_that_detectors_rows(mixed):
    rows, sel = select_events(mixed, method="idt")
    assert len(rows) == 3 and set(rows["method"]) == {"idt"}
    assert sel.to_dict() == {"source": "detected", "method": "idt", "eye": "both"}


def test_auto_source_prefers_detected_over_tracker():
    ev = events_table(_fix("a", "tracker", "eyelink", 4) + _fix("a", "detected", "ivt", 5))
    rows, sel = select_events(ev)
    assert (sel.source, sel.method, len(rows)) == ("detected", "ivt", 5)
    rows, sel = select_events(ev, "tracker")
    assert (sel.source, sel.method, len(rows)) == ("tracker", "eyelink", 4)


def test_binocular_tracker_fixations_need_an_eye():
    ev = events_table(
        _fix("a", "tracker", "eyelink", 4, "left") + _fix("a", "tracker", "eyelink", 4, "right")
    )
    with pytest.raises(InputError, match=r"several eyes \(left, right\)"):
        select_events(ev)
    rows, sel = select_events(ev, eye="right")
    assert len(rows) == 4 and sel.eye == "right"


def test_absent_method_is_refused_listing_the_present_ones(mixed):
    with pytest.raises(InputError, match="present: eyelink, idt, ivt"):
        select_events(mixed, method="adaptive")


def test_no_fixations_with_require_says_run_gazekit_events():
    with pytest.raises(InputError, match="run `gazekit events` first"):
        select_events(events_table([]), require=True)


def test_recordings_without_the_selected_kind_are_warned_about():
    ev = events_table(_fix("a", "detected", "ivt", 5) + _fix("b", "tracker", "eyelink", 4))
    with pytest.warns(GazekitWarning, match="1 recording"):
        rows, _ = select_events(ev)
    assert set(rows["recording_id"]) == {"a"}


def test_heatmap_library_refuses_a_table_that_pools_sources(mixed):
    from gazekit import heatmaps

    with pytest.raises(InputError, match="mixes several sources"):
        heatmaps.compute(mixed, (64, 64), sigma=2.0, unit="px")
    check_single_selection(select_events(mixed, method="ivt")[0])


@pytest.fixture(scope="module")
def two_detectors(tmp_path_factory) -> Path:
    """A simulated 60 Hz dataset with tracker fixations, I-VT and I-DT run into it."""
    d = tmp_path_factory.mktemp("sel") / "ds"
    sessions = simulate_corpus(1, seed=5, tracker="gazepoint", image_size=256, n_findings=2)
    write_sessions(sessions, d, "parquet")
    run = CliRunner()
    for method in ("ivt", "idt"):
        r = run.invoke(cli, ["events", str(d), "-o", str(d), "--method", method, "--no-progress"])
        assert r.exit_code == 0, r.output
    return d


def test_heatmap_cli_refuses_pooled_detectors_and_dwell_fits_the_recording(two_detectors, tmp_path):
    d = two_detectors
    run = CliRunner()
    args = ["heatmap", str(d / "events.parquet"), "--no-figures"]
    r = run.invoke(cli, [*args, "-o", str(tmp_path / "a")])
    assert r.exit_code != 0 and "--method" in r.output
    r = run.invoke(cli, [*args, "--method", "ivt", "-o", str(tmp_path / "b")])
    assert r.exit_code == 0, r.output
    stats = pd.read_parquet(tmp_path / "b" / "region_stats.parquet")
    ev = pd.read_parquet(d / "events.parquet")
    ivt = ev[(ev["event"] == "fixation") & (ev["method"] == "ivt")]
    rec = pd.read_parquet(d / "recordings.parquet").iloc[0]
    # dwell_share = dwell / total dwell of the recording's selected fixations
    hit = stats[stats["dwell_share"] > 0]
    total = float((hit["dwell_ms"] / hit["dwell_share"]).median())
    assert total == pytest.approx(ivt["duration_ms"].sum())
    assert total <= rec["duration_ms"]
    from gazekit.io.parquet import read_metadata

    meta = read_metadata(tmp_path / "b" / "region_stats.parquet")
    assert meta["selection"] == {"source": "detected", "method": "ivt", "eye": "both"}


def test_intent_cli_labels_one_detector_not_their_union(two_detectors, tmp_path):
    d = two_detectors
    run = CliRunner()
    r = run.invoke(cli, ["intent", str(d), "-o", str(tmp_path / "x.parquet")])
    assert r.exit_code != 0 and "several methods (idt, ivt)" in r.output
    r = run.invoke(cli, ["intent", str(d), "--method", "idt", "-o", str(tmp_path / "l.parquet")])
    assert r.exit_code == 0, r.output
    labels = pd.read_parquet(tmp_path / "l.parquet")
    ev = pd.read_parquet(d / "events.parquet")
    n_idt = int(((ev["event"] == "fixation") & (ev["method"] == "idt")).sum())
    assert len(labels) == n_idt
    assert np.isin(labels["onset_ms"], ev.loc[ev["method"] == "idt", "onset_ms"]).all()
