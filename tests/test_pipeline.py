"""Whole-corpus pipeline: layout, incremental re-runs, failures, crash safety, backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.dataset as pds
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from gazekit import schemas
from gazekit.errors import GazekitError, InputError, SchemaError
from gazekit.geometry import Geometry
from gazekit.io.layout import recording_id_from_path, table_path
from gazekit.io.parquet import read_frame, write_table
from gazekit.pipeline import (
    STAGES,
    Stage,
    StageInput,
    build_plan,
    read_manifest,
    run_pipeline,
)
from gazekit.recording import Recording

TESTS = Path(__file__).parent
EVENT_COLS = schemas.get("events").names


def _events(rid: str, onsets: np.ndarray, durations: np.ndarray, method: str) -> pd.DataFrame:
    n = len(onsets)
    df = pd.DataFrame({c: np.full(n, np.nan) for c in EVENT_COLS})
    df["recording_id"] = rid
    df["event"] = "fixation"
    df["source"] = "detected"
    df["method"] = method
    df["eye"] = "both"
    df["onset_ms"] = onsets
    df["offset_ms"] = onsets + durations
    df["duration_ms"] = durations
    return df


# Stage functions live at module level so process-pool and Dask workers can import them.
def detect(
    inputs: StageInput, *, window: int = 10, sleep_s: float = 0.0
) -> dict[str, pd.DataFrame]:
    """One 'fixation' per ``window`` samples, centred on the mean gaze."""
    if inputs.recording.recording_id.endswith("bad"):
        raise ValueError("synthetic failure for a recording named *bad")
    time.sleep(sleep_s)
    s = inputs.recording.samples
    t = s["t_ms"].to_numpy()[::window]
    ev = _events(inputs.recording.recording_id, t, np.full(len(t), 5.0), "every")
    ev["x_px"] = s["x_px"].to_numpy()[::window]
    tracker = inputs.tables.get("tracker_events")
    frames = [f for f in (tracker, ev) if f is not None and len(f)]
    return {"events": pd.concat(frames, ignore_index=True)}


def summarize(inputs: StageInput, *, factor: float = 1.0) -> dict[str, pd.DataFrame]:
    """A later stage that needs ``events``."""
    ev = inputs.tables["events"]
    fix = ev[ev["source"] == "detected"]
    out = _events(
        inputs.recording.recording_id,
        np.array([fix["onset_ms"].min()]),
        np.array([fix["duration_ms"].sum() * factor]),
        "summary",
    )
    return {"summary": out}


DETECT = Stage("detect", detect, {"events": "events"}, defaults={"window": 10, "sleep_s": 0.0})
SUMMARIZE = Stage(
    "summarize", summarize, {"summary": "events"}, needs=("events",), defaults={"factor": 1.0}
)
CHAIN = [DETECT, SUMMARIZE]


def make_recording(
    rid: str, reader: str | None, n: int, seed: int, corpus: str = "toy"
) -> Recording:
    rng = np.random.default_rng(seed)
    samples = pd.DataFrame(
        {
            "t_ms": np.arange(n) * 1000.0 / 60.0,
            "x_px": rng.uniform(0, 100, n),
            "y_px": rng.uniform(0, 100, n),
            "pupil": np.ones(n),
            "valid": True,
        }
    )
    tracker = _events(rid, np.array([0.0]), np.array([100.0]), "gp3").assign(source="tracker")
    return Recording(
        recording_id=rid,
        samples=samples,
        geometry=Geometry(frame="image", image_w_px=100.0, image_h_px=100.0),
        corpus=corpus,
        source_file=f"{rid}.csv",
        source_format="toy",
        sampling_rate_hz=60.0,
        image_id=f"img{seed}",
        reader_id=reader,
        events=tracker,
    )


def write_flat(recs: list[Recording], out: Path) -> Path:
    """A flat gazekit dataset, as ``gazekit convert`` writes it."""
    for r in recs:
        write_table(
            r.samples, out / "samples" / f"{r.recording_id}.parquet", "samples", r.provenance()
        )
    write_table(
        pd.DataFrame([r.metadata() for r in recs]), out / "recordings.parquet", "recordings"
    )
    write_table(pd.concat([r.events for r in recs]), out / "events.parquet", "events")
    (out / "manifest.json").write_text(json.dumps({"recordings": [r.recording_id for r in recs]}))
    return out


def toy_corpus(root: Path, n: int = 6, bad: bool = False) -> Path:
    readers = ["R1", "R2", None]
    recs = [make_recording(f"rec{i:02d}", readers[i % 3], 40 + 7 * i, i) for i in range(n)]
    if bad:
        recs.append(make_recording("rec-bad", "R1", 30, 99))
    return write_flat(recs, root / "src")


def tables(ds: Path, kind: str) -> pd.DataFrame:
    d = pds.dataset(ds / kind, format="parquet", partitioning="hive")
    df = d.to_table().to_pandas()
    return df.sort_values([c for c in ("recording_id", "onset_ms", "t_ms") if c in df]).reset_index(
        drop=True
    )


def test_first_run_writes_one_file_per_recording_per_table_as_one_hive_table(tmp_path):
    src = toy_corpus(tmp_path)
    ds = tmp_path / "ds"
    summary = run_pipeline([src], ds, stages=CHAIN)
    assert (summary.recordings_done, summary.recordings_failed) == (6, 0)
    for kind in ("recordings", "samples", "tracker_events", "events", "summary"):
        files = sorted((ds / kind).glob("corpus=*/reader=*/*.parquet"))
        assert len(files) == 6, kind
    assert (ds / "events/corpus=toy/reader=unknown/rec02.parquet").is_file()
    # pandas reads each table directory as one table; partition columns do not clash
    rec = pd.read_parquet(ds / "recordings")
    assert sorted(rec["recording_id"]) == [f"rec{i:02d}" for i in range(6)]
    assert set(rec["corpus"].astype(str)) == {"toy"}
    samples = pd.read_parquet(ds / "samples")
    assert samples.groupby("recording_id").size().to_dict() == {
        f"rec{i:02d}": 40 + 7 * i for i in range(6)
    }
    dd = pytest.importorskip("dask.dataframe")
    assert len(dd.read_parquet(ds / "samples")) == len(samples)
    ev = tables(ds, "events")
    assert set(ev["source"]) == {"tracker", "detected"}
    assert len(ev[ev["source"] == "tracker"]) == 6
    assert set(ev.loc[ev["recording_id"] == "rec02", "reader"]) == {"unknown"}
    assert rec.loc[rec["recording_id"] == "rec02", "reader_id"].isna().all()


def test_partition_value_conflicting_with_a_column_is_rejected(tmp_path):
    rec = make_recording("a", "R1", 5, 0)
    path = write_table(
        pd.DataFrame([rec.metadata()]), tmp_path / "ok.parquet", "recordings",
        partition={"corpus": "toy", "reader": "R1"},
    )  # fmt: skip
    assert "corpus" not in pd.read_parquet(path).columns  # the directory carries it
    assert read_frame(path)["corpus"].tolist() == ["toy"]  # restored on read
    with pytest.raises(SchemaError, match="partition corpus"):
        write_table(
            pd.DataFrame([rec.metadata()]),
            tmp_path / "x.parquet",
            "recordings",
            partition={"corpus": "other"},
        )


def test_unchanged_rerun_skips_every_recording_and_writes_nothing(tmp_path):
    src = toy_corpus(tmp_path)
    ds = tmp_path / "ds"
    run_pipeline([src], ds, stages=CHAIN)
    mtimes = {p: p.stat().st_mtime_ns for p in ds.rglob("*.parquet")}
    again = run_pipeline([src], ds, stages=CHAIN)
    assert (again.units_run, again.recordings_skipped, again.recordings_done) == (0, 6, 0)
    assert {p: p.stat().st_mtime_ns for p in ds.rglob("*.parquet")} == mtimes


def test_changing_a_later_stage_parameter_recomputes_only_that_stage(tmp_path):
    src = toy_corpus(tmp_path)
    ds = tmp_path / "ds"
    run_pipeline([src], ds, stages=CHAIN)
    before = tables(ds, "summary")
    s = run_pipeline([src], ds, stages=CHAIN, params={"summarize": {"factor": 2.0}})
    assert s.stage_recordings == {"summarize": 6}
    after = tables(ds, "summary")
    np.testing.assert_allclose(after["duration_ms"], 2 * before["duration_ms"])
    # an earlier stage's change cascades to the stages after it, not to convert
    s = run_pipeline(
        [src], ds, stages=CHAIN, params={"detect": {"window": 5}, "summarize": {"factor": 2.0}}
    )
    assert s.stage_recordings == {"detect": 6, "summarize": 6}
    m = read_manifest(ds)
    assert set(m["status"]) == {"ok"}
    assert json.loads(m.loc[m["stage"] == "detect", "params"].iloc[0]) == {
        "window": 5,
        "sleep_s": 0.0,
    }


def test_touched_source_is_rehashed_and_only_a_changed_recording_recomputed(tmp_path):
    src = toy_corpus(tmp_path)
    ds = tmp_path / "ds"
    run_pipeline([src], ds, stages=CHAIN)
    f = src / "samples" / "rec01.parquet"
    os.utime(f, ns=(time.time_ns(), time.time_ns()))  # new mtime, same bytes
    s = run_pipeline([src], ds, stages=CHAIN)
    assert (s.units_run, s.recordings_done, s.recordings_skipped) == (1, 0, 6)
    rec = make_recording("rec01", "R2", 20, 123)  # new content, fewer samples
    write_table(rec.samples, f, "samples", rec.provenance())
    s = run_pipeline([src], ds, stages=CHAIN)
    assert (s.recordings_done, s.recordings_skipped) == (1, 5)
    assert (tables(ds, "samples")["recording_id"] == "rec01").sum() == 20


def test_failure_is_recorded_per_recording_and_the_run_continues(tmp_path):
    src = toy_corpus(tmp_path, bad=True)
    ds = tmp_path / "ds"
    s = run_pipeline([src], ds, stages=CHAIN)
    assert (s.recordings_done, s.recordings_failed) == (6, 1)
    assert s.failures[0]["id"] == "rec-bad" and "synthetic failure" in s.failures[0]["error"]
    m = read_manifest(ds).set_index(["recording_id", "stage"])
    assert m.loc[("rec-bad", "detect"), "status"] == "failed"
    assert "ValueError" in m.loc[("rec-bad", "detect"), "error"]
    assert m.loc[("rec-bad", "summarize"), "error"] == "upstream stage 'detect' failed"
    assert m.loc[("rec-bad", "convert"), "status"] == "ok"
    # cached failure: not retried unless asked
    again = run_pipeline([src], ds, stages=CHAIN)
    assert (again.units_run, again.recordings_failed) == (0, 1)
    retry = run_pipeline([src], ds, stages=CHAIN, retry_failed=True)
    assert (retry.units_run, retry.stage_recordings.get("convert", 0)) == (1, 0)


def test_source_that_cannot_be_read_is_a_failed_unit_not_a_crash(tmp_path):
    bad = tmp_path / "garbage.xyz"
    bad.write_text("not gaze data")
    src = toy_corpus(tmp_path, n=2)

    def reader(unit, **params):
        if unit.path.endswith(".xyz"):
            raise GazekitError("unsupported format")
        from gazekit.pipeline.sources import read_unit

        return read_unit(unit)

    from gazekit.pipeline import SourceStage

    s = run_pipeline([src, bad], tmp_path / "ds", stages=CHAIN, convert=SourceStage(reader))
    assert (s.units_failed, s.recordings_done) == (1, 2)
    assert s.failures[0]["error"] == "GazekitError: unsupported format"


def test_recording_removed_from_source_loses_its_outputs_with_prune(tmp_path):
    src = toy_corpus(tmp_path, n=3)
    ds = tmp_path / "ds"
    run_pipeline([src], ds, stages=CHAIN)
    from gazekit.io.parquet import read_frame, write_table

    (src / "samples" / "rec00.parquet").unlink()
    with pytest.raises(InputError, match="have no samples file"):  # still listed: an error
        run_pipeline([src], ds, stages=CHAIN)
    recs = read_frame(src / "recordings.parquet", "recordings")
    write_table(recs[recs["recording_id"] != "rec00"], src / "recordings.parquet", "recordings")
    run_pipeline([src], ds, stages=CHAIN)
    assert "rec00" in set(tables(ds, "events")["recording_id"])  # kept without --prune
    run_pipeline([src], ds, stages=CHAIN, prune=True)
    assert sorted(set(tables(ds, "events")["recording_id"])) == ["rec01", "rec02"]
    assert "rec00" not in set(read_manifest(ds)["recording_id"])


def test_plan_rejects_unknown_parameters_and_missing_inputs():
    with pytest.raises(GazekitError, match="unknown parameter"):
        build_plan(CHAIN, {"detect": {"windw": 3}})
    with pytest.raises(GazekitError, match="needs table"):
        build_plan([SUMMARIZE])
    with pytest.raises(GazekitError, match="not in the pipeline"):
        build_plan(CHAIN, {"nope": {}})


def test_kill_9_mid_run_then_rerun_leaves_no_duplicated_missing_or_partial_rows(tmp_path):
    src = toy_corpus(tmp_path, n=12)
    ds = tmp_path / "ds"
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        import test_pipeline as t
        from gazekit.pipeline import run_pipeline
        run_pipeline([{str(src)!r}], {str(ds)!r}, stages=t.CHAIN,
                     params={{"detect": {{"sleep_s": 0.2}}}})
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 30
    while time.time() < deadline and len(list(ds.glob("summary/*/*/*.parquet"))) < 3:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = len(list(ds.glob("summary/*/*/*.parquet")))
    assert 3 <= done_before < 12
    s = run_pipeline([src], ds, stages=CHAIN, params={"detect": {"sleep_s": 0.2}})
    assert s.recordings_failed == 0 and s.recordings_done + s.recordings_skipped == 12
    assert not [p for p in ds.rglob("*") if p.name.endswith(".tmp")]
    clean = tmp_path / "clean"
    run_pipeline([src], clean, stages=CHAIN, params={"detect": {"sleep_s": 0.0}})
    for kind in ("samples", "events", "summary", "recordings"):
        got, want = tables(ds, kind), tables(clean, kind)
        pd.testing.assert_frame_equal(got, want)


def test_process_pool_and_dask_local_cluster_match_the_sync_run(tmp_path):
    distributed = pytest.importorskip("distributed")
    src = toy_corpus(tmp_path, n=8, bad=True)
    runs = {}
    s = run_pipeline([src], tmp_path / "sync", stages=CHAIN)
    runs["sync"] = s
    s = run_pipeline([src], tmp_path / "proc", stages=CHAIN, scheduler="processes", workers=2)
    runs["processes"] = s
    sched_file = tmp_path / "scheduler.json"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
        scheduler_kwargs={"scheduler_file": str(sched_file)},
    ) as cluster:  # fmt: skip
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        runs["dask"] = run_pipeline(
            [src], tmp_path / "dask", stages=CHAIN, scheduler=address, max_in_flight=3
        )
        by_file = run_pipeline([src], tmp_path / "file", stages=[DETECT], scheduler_file=sched_file)
        assert by_file.workers == 2 and (by_file.recordings_done, by_file.recordings_failed) == (
            8,
            1,
        )
        assert runs["dask"].dashboard and runs["dask"].dashboard.startswith("http")
    assert runs["dask"].workers == 2 and runs["processes"].workers == 2
    for name in ("dask", "processes"):  # one BLAS/Numba/OpenCV/Arrow thread per worker
        assert runs[name].worker_threads["blas"] == 1, runs[name].worker_threads
        assert max(runs[name].worker_threads.values()) == 1, runs[name].worker_threads
    for name, s in runs.items():
        assert (s.recordings_done, s.recordings_failed) == (8, 1), name
    for kind in ("samples", "events", "summary", "recordings", "tracker_events"):
        want = tables(tmp_path / "sync", kind)
        for other in ("proc", "dask"):
            pd.testing.assert_frame_equal(tables(tmp_path / other, kind), want)
    keys = [
        read_manifest(tmp_path / d).set_index(["recording_id", "stage"])["key"]
        for d in ("sync", "proc", "dask")
    ]
    pd.testing.assert_series_equal(keys[0], keys[1])
    pd.testing.assert_series_equal(keys[0], keys[2])


def odd_names_reader(unit, **params):
    """A source stage yielding a recording whose ids need escaping in file names."""
    return [make_recording("_a/b c.x", "R 1", 12, 3, corpus="e/g")]


def test_ids_with_path_characters_are_escaped_and_read_back_intact(tmp_path):
    from gazekit.pipeline import SourceStage

    src = tmp_path / "raw.txt"
    src.write_text("x")
    ds = tmp_path / "ds"
    run_pipeline([src], ds, stages=CHAIN, convert=SourceStage(odd_names_reader))
    path = table_path(ds, "events", "e/g", "R 1", "_a/b c.x")
    assert path.relative_to(ds).parts == (
        "events",
        "corpus=e%2Fg",
        "reader=R%201",
        "%5Fa%2Fb%20c.x.parquet",
    )
    ev = tables(ds, "events")
    assert set(ev["recording_id"]) == {"_a/b c.x"}
    assert set(ev["corpus"]) == {"e/g"} and set(ev["reader"]) == {"R 1"}


def test_cli_runs_the_pipeline_and_prints_the_summary(tmp_path, monkeypatch):
    from gazekit.cli.main import cli

    for stage in CHAIN:  # registered by name for the CLI, restored afterwards
        monkeypatch.setitem(STAGES._items, stage.name, stage)
    src = toy_corpus(tmp_path, n=3)
    out = tmp_path / "ds"
    runner = CliRunner()
    args = [
        "pipeline",
        str(src),
        "-o",
        str(out),
        "--stages",
        "detect,summarize",
        "-p",
        "summarize.factor=3",
        "--summary-json",
        str(tmp_path / "s.json"),
    ]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "recordings: 3 done, 0 skipped, 0 failed" in res.output
    assert json.loads((tmp_path / "s.json").read_text())["stage_recordings"]["summarize"] == 3
    res = runner.invoke(cli, args)
    assert "0 done, 3 skipped" in res.output
    res = runner.invoke(cli, ["pipeline", str(src), "-o", str(out), "-p", "oops"])
    assert res.exit_code != 0 and "STAGE.PARAM=VALUE" in res.output
    df = read_frame(next((out / "summary").glob("*/*/*.parquet")))
    assert df["method"].tolist() == ["summary"]


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=18).filter(lambda s: "\x00" not in s))  # ≤ 220 bytes once percent-encoded
def test_any_recording_id_round_trips_through_its_file_name(rid):
    path = table_path("/d", "events", "c", None, rid)
    assert path.parent.name == "reader=unknown"
    assert recording_id_from_path(path) == rid
    assert path.name[0] not in "._" and "/" not in path.name


def test_same_recording_id_from_two_sources_is_reported_as_a_failure(tmp_path):
    a = write_flat([make_recording("dup", "R1", 10, 1)], tmp_path / "a")
    b = write_flat([make_recording("dup", "R1", 12, 2)], tmp_path / "b")
    s = run_pipeline([a, b], tmp_path / "ds", stages=CHAIN)
    assert s.recordings_failed == 1
    assert "also produced by" in s.failures[0]["error"]


@pytest.fixture(scope="module")
def synthetic_corpus(tmp_path_factory):
    synthetic = pytest.importorskip("gazekit.synthetic")
    from gazekit.synthetic.export import write_sessions

    out = tmp_path_factory.mktemp("synthetic") / "src"
    write_sessions(synthetic.simulate_corpus(2, seed=3, n_readers=2, image_size=256), out)
    return out


def test_anatomy_stage_writes_region_stats_and_heatmaps_from_simulated_atlases(
    synthetic_corpus, tmp_path
):
    pytest.importorskip("gazekit.heatmaps")
    from gazekit.anatomy import Atlas
    from gazekit.dataset import open_dataset

    ds = tmp_path / "ds"
    params = {"anatomy": {"fixations": "tracker", "save_heatmaps": True}}
    s = run_pipeline([synthetic_corpus], ds, stages=[DETECT, "anatomy"], params=params)
    assert (s.recordings_done, s.recordings_failed) == (4, 0), s.failures
    d = open_dataset(ds)
    stats = d.table("region_stats")
    fix = d.fixations(source="tracker")
    for rid, g in stats.groupby("recording_id"):
        image_id = g["image_id"].iloc[0]
        atlas = Atlas.load(synthetic_corpus / "anatomy" / f"{image_id}.npz")
        assert sorted(g["region"]) == sorted(atlas.names)
        total = fix.loc[fix["recording_id"] == rid, "duration_ms"].sum()
        assert 0 < g["dwell_ms"].max() <= total + 1e-6
    # without an events stage, "auto" falls back to the tracker's fixations: same table
    run_pipeline([synthetic_corpus], tmp_path / "alone", stages=["anatomy"])
    alone = open_dataset(tmp_path / "alone").table("region_stats")
    key = ["recording_id", "region"]
    pd.testing.assert_frame_equal(
        alone.sort_values(key).reset_index(drop=True),
        stats.sort_values(key).reset_index(drop=True),
    )
    with pytest.raises(InputError, match="holds arrays"):
        d.table("heatmaps")
    heat = d.arrays("heatmaps", stats["recording_id"].iloc[0])
    assert heat["per_region"].shape[-1] == len(heat["names"])
    assert abs(float(heat["heatmap"].sum()) - 1.0) < 1e-4
    # a missing atlas gives empty statistics, or a recorded failure when asked
    s = run_pipeline(
        [synthetic_corpus], ds, stages=[DETECT, "anatomy"],
        params={"anatomy": {**params["anatomy"], "atlas_dir": str(tmp_path), "missing_atlas": "fail"}},
    )  # fmt: skip
    assert s.recordings_failed == 4 and "no anatomy atlas" in s.failures[0]["error"]
    assert s.stage_recordings == {"anatomy": 0}


def die_on_rec01(inputs: StageInput) -> dict[str, pd.DataFrame]:
    """Kills its worker process on one recording (as the OOM killer would)."""
    if inputs.recording.recording_id == "rec01" and not os.environ.get("GAZEKIT_TEST_NO_DIE"):
        os._exit(1)
    return detect(inputs)


def test_a_dying_worker_process_fails_its_units_and_the_rerun_finishes_them(tmp_path, monkeypatch):
    src = toy_corpus(tmp_path, n=6)
    ds = tmp_path / "ds"
    stage = Stage("detect", die_on_rec01, {"events": "events"})
    s = run_pipeline([src], ds, stages=[stage], scheduler="processes", workers=2, max_in_flight=2)
    assert 1 <= s.units_failed <= 2 and s.recordings_done >= 4
    assert "BrokenProcessPool" in " ".join(f["error"] for f in s.failures)
    monkeypatch.setenv("GAZEKIT_TEST_NO_DIE", "1")
    s = run_pipeline([src], ds, stages=[stage])
    assert s.recordings_failed == 0
    assert sorted(set(tables(ds, "events")["recording_id"])) == [f"rec{i:02d}" for i in range(6)]


def test_intent_stage_matches_label_dataset_on_the_same_fixations(synthetic_corpus, tmp_path):
    from gazekit.dataset import open_dataset
    from gazekit.intent import label_dataset

    ds = tmp_path / "ds"
    params = {"intent": {"regime": "radexplore", "fixations": "tracker"}}
    s = run_pipeline([synthetic_corpus], ds, stages=["intent"], params=params)
    assert (s.recordings_done, s.recordings_failed) == (4, 0), s.failures
    got = open_dataset(ds).table("intent_labels").drop(columns=["corpus", "reader"])
    want = label_dataset(synthetic_corpus, "radexplore", source="tracker")
    key = ["recording_id", "fixation_index"]
    got = got.sort_values(key).reset_index(drop=True)
    want = want.sort_values(key).reset_index(drop=True)
    assert len(got) == len(want) > 0
    assert got["labels"].map(list).tolist() == want["labels"].map(list).tolist()
    assert (got["regime"] == "radexplore").all()
    # changing the regime recomputes the intent stage only
    s = run_pipeline(
        [synthetic_corpus], ds, stages=["intent"], params={"intent": {"regime": "radseq"}}
    )
    assert s.stage_recordings == {"intent": 4}
    assert (open_dataset(ds).table("intent_labels")["regime"] == "radseq").all()
