"""Pipeline at corpus scale: per-reading units, worker hygiene, crash safety, sources."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from gazekit.errors import GazekitError
from gazekit.pipeline import Manifest, Stage, StageInput, run_pipeline

TESTS = Path(__file__).parent
sys.path.insert(0, str(TESTS))
from test_pipeline import DETECT, detect, tables, toy_corpus  # noqa: E402


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """The same 4 simulated readings (2 images x 2 readers) as EGD, REFLACX and ASC files."""
    pytest.importorskip("gazekit.io.writers")
    from gazekit.synthetic import simulate_corpus
    from gazekit.synthetic.export import write_sessions

    root = tmp_path_factory.mktemp("corpora")
    # each format at its tracker's rate (REFLACX documents 1000 Hz; EGD-CXR's Gazepoint ~60 Hz)
    for fmt, tracker in (("egd", "gazepoint"), ("reflacx", "eyelink"), ("asc", "gazepoint")):
        sessions = simulate_corpus(2, seed=3, n_readers=2, image_size=128, tracker=tracker)
        write_sessions(sessions, root / fmt, fmt=fmt)
    return root


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def _truncate_last_line(path: Path) -> None:
    raw = path.read_bytes().rstrip(b"\n")
    cut = raw.rfind(b"\n") + 60  # keep the last row's first fields only
    path.write_bytes(raw[:cut])


def test_egd_corpus_with_one_truncated_reading_gives_3_done_1_failed_and_exit_1(corpora, tmp_path):
    from gazekit.cli.main import cli

    src = _copy(corpora / "egd", tmp_path / "egd")
    gaze = sorted(src.glob("R*/eye_gaze.csv"))[-1]
    _truncate_last_line(gaze)
    ds = tmp_path / "ds"
    res = CliRunner().invoke(cli, ["pipeline", str(src), "-o", str(ds), "--stages", "anatomy"])
    assert res.exit_code == 1, res.output
    assert "recordings: 3 done, 0 skipped, 1 failed" in res.output
    assert "expected 37 fields" in res.output and f"{gaze}, line" in res.output
    with Manifest(ds, create=False) as m:
        units = m.units_frame()
    assert len(units) == 4 and (units["status"] == "failed").sum() == 1  # session x image
    # Editing one reading's transcript re-converts only that reading.
    tr = sorted(src.glob("R1/audio_segmentation_transcripts/*/transcript.json"))[0]
    doc = json.loads(tr.read_text())
    doc["time_stamped_text"][0]["phrase"] = "edited phrase"
    tr.write_text(json.dumps(doc))
    s = run_pipeline([src], ds, stages=["anatomy"])
    assert (s.units_run, s.recordings_done, s.recordings_failed) == (2, 1, 1)
    assert s.stage_recordings["convert"] == 1


def test_reflacx_readings_are_units_of_their_own(corpora, tmp_path):
    src = _copy(corpora / "reflacx", tmp_path / "rfx")
    gaze = sorted(src.glob("gaze_data/*/gaze.csv"))[0]
    gaze.write_text(gaze.read_text().splitlines()[0] + "\n")  # header only
    s = run_pipeline([src], tmp_path / "ds", stages=["anatomy"])
    assert (s.units, s.recordings_done, s.recordings_failed) == (4, 3, 1)
    assert "no gaze samples" in s.failures[0]["error"]
    assert not s.empty  # every reading found its atlas under the corpus root


def test_folder_of_asc_files_is_expanded_and_the_atlas_beside_them_is_used(corpora, tmp_path):
    src = _copy(corpora / "asc", tmp_path / "asc")
    ds = src / "out"  # the dataset inside the source is not a source
    s = run_pipeline([src], ds, stages=["anatomy"])
    assert (s.units, s.recordings_done, s.recordings_failed) == (4, 4, 0), s.failures
    assert not s.empty
    assert len(tables(ds, "region_stats")) > 0
    again = run_pipeline([src], ds, stages=["anatomy"])
    assert (again.units_run, again.recordings_skipped) == (0, 4)
    # without an atlas the stage produces nothing, and says so
    s = run_pipeline(
        [src], ds, stages=["anatomy"], params={"anatomy": {"atlas_dir": str(tmp_path)}}
    )
    assert s.empty["anatomy"]["count"] == 4
    assert "no atlas for image" in s.format() and "WARNING anatomy" in s.format()


def test_geometry_sidecar_sets_the_physical_setup_of_one_source(corpora, tmp_path):
    src = _copy(corpora / "asc", tmp_path / "asc")
    asc = sorted(src.glob("*.asc"))
    Path(f"{asc[0]}.geometry.json").write_text(json.dumps({"viewing_distance_mm": 555.0}))
    ds = tmp_path / "ds"
    run_pipeline([src], ds, stages=[])
    rec = tables(ds, "recordings").set_index("recording_id")
    dist = rec["viewing_distance_mm"]
    assert dist[asc[0].stem] == 555.0 and (dist.drop(asc[0].stem) != 555.0).all()
    Path(f"{asc[1]}.geometry.json").write_text(json.dumps({"image_w_px": 3}))
    s = run_pipeline([src], ds, stages=[])
    assert (s.units_failed, s.recordings_failed) == (1, 1)
    assert "unknown geometry field" in s.failures[0]["error"]


def test_non_empty_directory_that_is_not_a_dataset_is_refused_and_foreign_tmp_files_kept(
    tmp_path,
):
    src = toy_corpus(tmp_path, n=2)
    out = tmp_path / "notes"
    out.mkdir()
    (out / "thesis.txt").write_text("mine")
    with pytest.raises(GazekitError, match="not empty and is not a pipeline dataset"):
        run_pipeline([src], out, stages=[DETECT])
    ds = tmp_path / "ds"
    run_pipeline([src], ds, stages=[DETECT])
    foreign = ds / "events" / ".draft.tmp"
    ours = ds / "events" / ".rec00.parquet.a1b2c3d4.tmp"
    foreign.write_text("x")
    ours.write_text("x")
    run_pipeline([src], ds, stages=[DETECT])
    assert foreign.exists() and not ours.exists()


def test_shared_table_cache_is_inside_the_dataset_not_in_a_shared_tmp(tmp_path, monkeypatch):
    import tempfile

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    src = toy_corpus(tmp_path, n=3)
    ds = tmp_path / "ds"
    run_pipeline([src], ds, stages=[DETECT])
    assert list((ds / "_cache" / "shared").glob("*.arrow"))
    assert not list(tmp.iterdir())


def flaky(inputs: StageInput) -> dict[str, pd.DataFrame]:
    """Fails with an environment error while GAZEKIT_TEST_FLAKY is set."""
    if os.environ.get("GAZEKIT_TEST_FLAKY") and inputs.recording.recording_id == "rec01":
        raise OSError(28, "No space left on device")
    return detect(inputs)


def test_environment_errors_are_not_cached_and_the_next_run_retries_them(tmp_path, monkeypatch):
    src = toy_corpus(tmp_path, n=3)
    ds = tmp_path / "ds"
    stage = Stage("detect", flaky, {"events": "events"})
    monkeypatch.setenv("GAZEKIT_TEST_FLAKY", "1")
    s = run_pipeline([src], ds, stages=[stage])
    assert (s.recordings_done, s.recordings_failed, s.transient) == (2, 1, 1)
    monkeypatch.delenv("GAZEKIT_TEST_FLAKY")
    s = run_pipeline([src], ds, stages=[stage])  # no --retry-failed needed
    assert (s.recordings_done, s.recordings_failed, s.recordings_skipped) == (1, 0, 2)


def test_worker_blas_openmp_numba_opencv_and_arrow_use_one_thread(tmp_path):
    # (Dask workers: see test_process_pool_and_dask_local_cluster_match_the_sync_run.)
    src = toy_corpus(tmp_path, n=4)
    s = run_pipeline([src], tmp_path / "p", stages=[DETECT], scheduler="processes", workers=2)
    assert s.worker_threads["blas"] == 1, s.worker_threads
    assert {k: v for k, v in s.worker_threads.items() if v > 1} == {}
    assert {"blas", "numba", "opencv", "arrow"} <= set(s.worker_threads)
    sync = run_pipeline([src], tmp_path / "s", stages=[DETECT])
    assert sync.worker_threads == {}  # the caller's own process is left alone


def test_workers_exit_when_the_driver_is_killed(tmp_path):
    psutil = pytest.importorskip("psutil")
    src = toy_corpus(tmp_path, n=8)
    code = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(TESTS)!r})
        import test_pipeline as t
        from gazekit.pipeline import run_pipeline
        run_pipeline([{str(src)!r}], {str(tmp_path / "ds")!r}, stages=t.CHAIN,
                     params={{"detect": {{"sleep_s": 3.0}}}}, scheduler="processes", workers=2)
        """
    )
    driver = subprocess.Popen([sys.executable, "-c", code])
    proc = psutil.Process(driver.pid)
    deadline = time.time() + 90
    workers: list = []
    while time.time() < deadline and len(workers) < 2:
        time.sleep(0.1)
        # pool workers are the fork server's children (the driver's grandchildren)
        workers = [c for c in proc.children(recursive=True) if c.ppid() != driver.pid]
    assert len(workers) >= 2
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    _, alive = psutil.wait_procs(workers, timeout=30)
    assert not alive, [p.pid for p in alive]


def pause(inputs: StageInput, *, sleep_s: float = 0.0) -> dict[str, pd.DataFrame]:
    """A last stage that takes its time: a kill lands after earlier stages wrote."""
    time.sleep(sleep_s)
    ev = inputs.tables["events"]
    return {"pauses": ev.iloc[:1].assign(method="pause")}


PAUSE = Stage("pause", pause, {"pauses": "events"}, needs=("events",), defaults={"sleep_s": 0.0})

_KILL_CODE = """
import sys
sys.path.insert(0, {tests!r})
import test_pipeline_units as u
from gazekit.pipeline import run_pipeline
run_pipeline([{src!r}], {ds!r}, stages=[u.DETECT, u.PAUSE], params={params!r})
"""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_at_a_random_point_then_rerun_equals_a_clean_run(tmp_path, seed):
    rng = random.Random(seed)
    src = toy_corpus(tmp_path, n=6)
    ds = tmp_path / "ds"
    chain = [DETECT, PAUSE]
    old = {"detect": {"window": 10}}
    new = {"detect": {"window": 7}, "pause": {"sleep_s": 0.3}}
    run_pipeline([src], ds, stages=chain, params=old)
    code = _KILL_CODE.format(tests=str(TESTS), src=str(src), ds=str(ds), params=new)
    start = time.time()
    proc = subprocess.Popen([sys.executable, "-c", code])
    # Kill after a random number of recordings had their events rewritten (then a
    # random moment later): between writing files and committing the manifest, or after.
    written = rng.randint(1, 5)
    deadline = start + 60
    while time.time() < deadline:
        fresh = [p for p in ds.glob("events/*/*/*.parquet") if p.stat().st_mtime > start]
        if len(fresh) >= written:
            break
        time.sleep(0.01)
    time.sleep(rng.uniform(0.0, 0.4))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # Re-run with the *old* parameters: outputs the killed run overwrote must not be
    # taken for up to date.
    again = run_pipeline([src], ds, stages=chain, params=old)
    assert again.recordings_failed == 0
    clean = tmp_path / f"clean{seed}"
    run_pipeline([src], clean, stages=chain, params=old)
    for kind in ("samples", "events", "pauses", "recordings"):
        pd.testing.assert_frame_equal(tables(ds, kind), tables(clean, kind))
    assert not [p for p in ds.rglob("*.tmp")]


def test_mapped_atlas_gives_the_same_region_statistics_as_the_npz(tmp_path):
    from gazekit import heatmaps
    from gazekit.anatomy import Atlas
    from gazekit.anatomy.atlas import MappedAtlas

    rng = np.random.default_rng(5)
    masks = rng.random((6, 64, 80)) > 0.6
    atlas = Atlas(masks, ("right_lung", "left_lung", "heart", "r1", "r2", "r3"))
    mapped = Atlas.load(atlas.save_mapped(tmp_path / "img.codes.npy"))
    assert isinstance(mapped, MappedAtlas) and not mapped.code_map().flags.writeable
    n = 200
    fix = pd.DataFrame(
        {
            "x_px": rng.uniform(-5, 85, n),
            "y_px": rng.uniform(-5, 70, n),
            "onset_ms": np.arange(n) * 250.0,
            "duration_ms": rng.uniform(80, 400, n),
        }
    )
    heat = rng.random((16, 20))
    want = heatmaps.region_stats(fix, atlas, coverage_radius=4, coverage_unit="px", heat=heat)
    got = heatmaps.region_stats(fix, mapped, coverage_radius=4, coverage_unit="px", heat=heat)
    pd.testing.assert_frame_equal(got, want)
    assert np.array_equal(mapped.masks, atlas.masks)
    assert (
        mapped.region_of(fix["x_px"], fix["y_px"]).tolist()
        == atlas.region_of(fix["x_px"], fix["y_px"]).tolist()
    )


def test_atlases_mapped_once_by_gazekit_anatomy_give_the_same_region_stats(corpora, tmp_path):
    from gazekit.cli.main import cli

    src = _copy(corpora / "asc", tmp_path / "asc")
    mapped = tmp_path / "mapped"
    for npz in sorted((src / "anatomy").glob("*.npz")):
        res = CliRunner().invoke(cli, ["anatomy", str(npz), "--mapped", "-o", str(mapped)])
        assert res.exit_code == 0, res.output
    assert len(list(mapped.glob("*.codes.npy"))) == 2
    run_pipeline([src], tmp_path / "npz", stages=["anatomy"])
    s = run_pipeline(
        [src], tmp_path / "map", stages=["anatomy"], params={"anatomy": {"atlas_dir": str(mapped)}}
    )
    assert s.recordings_done == 4 and not s.empty
    assert not (tmp_path / "map" / "_cache" / "atlas").exists()  # used as they are
    assert list((tmp_path / "npz" / "_cache" / "atlas").glob("*.codes.npy"))  # mapped once
    pd.testing.assert_frame_equal(
        tables(tmp_path / "map", "region_stats"), tables(tmp_path / "npz", "region_stats")
    )


def test_a_dask_worker_dying_on_a_recording_is_reported_and_retried_by_the_next_run(
    tmp_path, monkeypatch
):
    distributed = pytest.importorskip("distributed")
    import dask
    from test_pipeline import die_on_rec01

    src = toy_corpus(tmp_path, n=3)
    ds = tmp_path / "ds"
    stage = Stage("detect", die_on_rec01, {"events": "events"})
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        s = run_pipeline([src], ds, stages=[stage], client=client, max_in_flight=1)
    assert (s.recordings_done, s.recordings_failed, s.transient) == (2, 1, 1), s.format()
    assert "KilledWorker" in s.failures[0]["error"]
    monkeypatch.setenv("GAZEKIT_TEST_NO_DIE", "1")
    s = run_pipeline([src], ds, stages=[stage])  # not cached: retried without --retry-failed
    assert (s.recordings_done, s.recordings_failed, s.recordings_skipped) == (1, 0, 2)


def test_egd_readings_read_from_their_byte_ranges_equal_the_whole_folder_reader(corpora, tmp_path):
    import gzip

    from gazekit.dataset import open_dataset
    from gazekit.io.egd import read_egd

    src = _copy(corpora / "egd", tmp_path / "egd")
    r1, r2 = src / "R1", src / "R2"
    raw = (r1 / "eye_gaze.csv").read_bytes()
    (r1 / "eye_gaze.csv").unlink()
    (r1 / "eye_gaze.csv.gz").write_bytes(gzip.compress(raw))  # gzipped
    (r2 / "eye_gaze.csv").write_bytes(b"\xef\xbb\xbf" + (r2 / "eye_gaze.csv").read_bytes())  # BOM
    s = run_pipeline([r1, r2], tmp_path / "ds", stages=[])
    assert (s.units, s.recordings_done) == (4, 4)
    key = ["recording_id", "t_ms"]
    got = open_dataset(tmp_path / "ds").samples().sort_values(key).reset_index(drop=True)
    want = pd.concat(
        [r.samples.assign(recording_id=r.recording_id) for f in (r1, r2) for r in read_egd(f)]
    )
    want = want.sort_values(key).reset_index(drop=True)
    cols = ["t_ms", "x_px", "y_px", "pupil"]
    pd.testing.assert_frame_equal(got[cols].astype(float), want[cols].astype(float))
