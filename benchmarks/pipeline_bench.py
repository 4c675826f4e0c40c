"""End-to-end benchmark of ``gazekit pipeline`` on a simulated corpus.

Builds a flat gazekit dataset of ``--n`` simulated 60 Hz recordings (Gazepoint-like)
and ``--n-long`` 1000 Hz recordings of ``--long-s`` seconds (EyeLink-like), then runs
the default stage chain and reports:

* recordings/s and samples/s per stage (worker time);
* orchestration overhead per recording: wall time of a sync run minus the time
  spent inside the stages (read, compute, write), over the number of recordings;
* speed-up from 1 to 2 worker processes (``--scheduler processes``);
* a no-op re-run (nothing changed) of the whole corpus;
* peak resident memory of the driver and of the worker processes.

Targets (issue #8): overhead < 20 ms/recording, 2 workers >= 1.8x one worker,
no-op re-run of 10,000 recordings < 10 s. The full size is ``--n 10000 --n-long 200
--long-s 3600``; smaller runs say so in their output.

To keep generation affordable, ``--base`` sessions are simulated with
:mod:`gazekit.synthetic` and the corpus cycles through them under distinct
recording ids and readers (long recordings tile one session to ``--long-s``).

Usage::

    python benchmarks/pipeline_bench.py --n 2000 --n-long 2 --long-s 600
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.io.parquet import atomic_open, write_table
from gazekit.pipeline import run_pipeline
from gazekit.pipeline.defaults import default_stage_names
from gazekit.synthetic import simulate_corpus
from gazekit.synthetic.export import write_masks


def _with_id(df: pd.DataFrame | None, rid: str) -> pd.DataFrame | None:
    if df is None or not len(df):
        return None
    return df.assign(recording_id=rid)


def _tile(samples: pd.DataFrame, duration_ms: float) -> pd.DataFrame:
    period = float(samples["t_ms"].iloc[-1]) + 1.0
    reps = int(np.ceil(duration_ms / period))
    parts = [samples.assign(t_ms=samples["t_ms"] + k * period) for k in range(reps)]
    out = pd.concat(parts, ignore_index=True)
    return out[out["t_ms"] <= duration_ms]


def build_corpus(
    out: Path, n: int, n_long: int, long_s: float, n_base: int, seed: int, image_size: int
) -> int:
    """Write the flat dataset; return the number of samples."""
    sessions = list(simulate_corpus(n_base, seed=seed, image_size=image_size))
    if n_long:
        sessions += list(
            simulate_corpus(1, seed=seed + 1, tracker="eyelink", image_size=image_size)
        )
    for s in sessions:  # the anatomy atlas of every image, as `gazekit simulate` writes it
        write_masks(s.atlas_masks, s.region_names, out / "anatomy" / f"{s.image_id}.npz")
    short = [s.recording for s in sessions[:n_base]]
    long_ = [s.recording for s in sessions[n_base:]]
    rows, events, transcripts, findings = [], [], [], []
    total = 0
    jobs = [(f"g{i:05d}", short[i % len(short)], None) for i in range(n)]
    jobs += [(f"e{i:04d}", long_[0], long_s * 1000.0) for i in range(n_long)]
    for i, (rid, base, dur) in enumerate(jobs):
        samples = base.samples if dur is None else _tile(base.samples, dur)
        rec = type(base)(**{**base.__dict__, "recording_id": rid, "samples": samples})
        rec.reader_id = f"R{i % 5 + 1}"
        write_table(samples, out / "samples" / f"{rid}.parquet", "samples", rec.provenance())
        rows.append(rec.metadata())
        total += len(samples)
        for acc, df in (
            (events, rec.events),
            (transcripts, rec.transcript),
            (findings, rec.findings),
        ):
            df = _with_id(df, rid)
            if df is not None:
                acc.append(df)
    write_table(pd.DataFrame(rows), out / "recordings.parquet", "recordings")
    for name, acc in (("events", events), ("transcripts", transcripts), ("findings", findings)):
        if acc:
            write_table(pd.concat(acc, ignore_index=True), out / f"{name}.parquet", name)
    with atomic_open(out / "manifest.json", "w") as fh:
        json.dump({"recordings": [j[0] for j in jobs], "created_by": "pipeline_bench"}, fh)
    return total


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0


class WorkerMemory:
    """Samples the RSS of this process's descendants (pool workers) every 50 ms."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak_mb = 0.0
        self.driver_peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        import psutil

        while not self._stop.wait(0.05):
            self.driver_peak_mb = max(self.driver_peak_mb, self._proc.memory_info().rss / 2**20)
            for child in self._proc.children(recursive=True):
                try:
                    self.peak_mb = max(self.peak_mb, child.memory_info().rss / 2**20)
                except psutil.Error:
                    pass

    def __enter__(self) -> WorkerMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="60 Hz recordings (default 10000)")
    ap.add_argument("--n-long", type=int, default=200, help="1000 Hz recordings (default 200)")
    ap.add_argument("--long-s", type=float, default=3600.0, help="length of those (s)")
    ap.add_argument("--base", type=int, default=8, help="distinct simulated sessions")
    ap.add_argument("--image-size", type=int, default=1024, help="simulated image size (px)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-scaling", action="store_true", help="skip the 1-vs-N worker runs")
    ap.add_argument("--stages", default=None, help="comma-separated stages (default chain)")
    ap.add_argument("--workdir", default=None, help="keep corpus and datasets here")
    ap.add_argument("--json", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)

    full = args.n >= 10_000 and args.n_long >= 200 and args.long_s >= 3600
    stages = args.stages.split(",") if args.stages is not None else default_stage_names()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="gazekit-bench-"))
    src = work / "corpus"
    print(
        f"gazekit pipeline benchmark: {args.n} x 60 Hz + {args.n_long} x 1000 Hz "
        f"({args.long_s:.0f} s) recordings; stages: convert,{','.join(stages)}"
    )
    if not full:
        print("NOTE: scaled down from the full size (--n 10000 --n-long 200 --long-s 3600)")
    t0 = time.perf_counter()
    if not (src / "manifest.json").exists():
        n_samples = build_corpus(
            src, args.n, args.n_long, args.long_s, args.base, seed=7, image_size=args.image_size
        )
    else:
        n_samples = int(pd.read_parquet(src / "recordings.parquet")["n_samples"].sum())
    n_rec = args.n + args.n_long
    print(
        f"corpus: {n_rec} recordings, {n_samples:,} samples, built in "
        f"{time.perf_counter() - t0:.1f} s at {src}"
    )

    results: dict[str, object] = {
        "n": args.n,
        "n_long": args.n_long,
        "long_s": args.long_s,
        "samples": n_samples,
        "full_size": full,
    }

    def run(name: str, **kw: object):  # type: ignore[no-untyped-def]
        out = work / name
        shutil.rmtree(out, ignore_errors=True)
        t = time.perf_counter()
        s = run_pipeline([src], out, stages=stages, progress=False, **kw)
        wall = time.perf_counter() - t
        assert s.recordings_failed == 0, s.failures[:3]
        return s, wall, out

    # 1. sync run: per-stage throughput and orchestration overhead
    s, wall, out = run("sync")
    inside = sum(s.stage_seconds.values())
    overhead_ms = 1000.0 * (wall - inside) / n_rec
    print(f"\nsync: {wall:.2f} s wall, {n_rec / wall:.1f} recordings/s")
    per_stage = {}
    for stage, sec in s.stage_seconds.items():
        per_stage[stage] = {
            "seconds": sec,
            "recordings_per_s": s.stage_recordings[stage] / sec if sec else None,
            "samples_per_s": s.stage_samples[stage] / sec if sec else None,
        }
        print(
            f"  {stage:<12} {s.stage_recordings[stage] / sec:9.1f} recordings/s "
            f"{s.stage_samples[stage] / sec:14,.0f} samples/s"
        )
    print(f"orchestration overhead: {overhead_ms:.2f} ms/recording (target < 20)")
    results.update(sync_wall_s=wall, per_stage=per_stage, overhead_ms_per_recording=overhead_ms)

    # 2. no-op re-run
    t = time.perf_counter()
    again = run_pipeline([src], out, stages=stages, progress=False)
    noop = time.perf_counter() - t
    assert again.units_run == 0
    scaled = noop * 10_000 / n_rec
    print(
        f"no-op re-run: {noop:.2f} s for {n_rec} recordings "
        f"(~{scaled:.2f} s per 10,000; target < 10)"
    )
    results.update(noop_rerun_s=noop, noop_rerun_s_per_10k=scaled)

    # 3. 1 vs N worker processes
    walls = {}
    worker_peak = driver_peak = 0.0
    for w in () if args.skip_scaling else (1, args.workers):
        with WorkerMemory() as mem:
            _, walls[w], _ = run(f"proc{w}", scheduler="processes", workers=w)
        worker_peak = max(worker_peak, mem.peak_mb)
        driver_peak = max(driver_peak, mem.driver_peak_mb)
        load = os.getloadavg()[0]
        print(
            f"processes x{w}: {walls[w]:.2f} s ({n_rec / walls[w]:.1f} recordings/s; "
            f"1-min load average {load:.1f} on {os.cpu_count()} CPUs)"
        )
        if load > (os.cpu_count() or 1):
            print("  WARNING: the machine is busy with other work; the speed-up is unreliable")
    speedup = walls[1] / walls[args.workers] if walls else None
    if speedup is not None:
        print(f"speed-up 1 -> {args.workers} workers: {speedup:.2f}x (target >= 1.8x for 2)")
    results.update(process_walls_s=walls, speedup=speedup)

    results["peak_rss_sync_process_mb"] = _peak_mb(resource.RUSAGE_SELF)
    results["peak_rss_driver_mb"] = driver_peak
    results["peak_rss_worker_mb"] = worker_peak
    print(
        f"peak RSS: sync run (driver doing the work) {results['peak_rss_sync_process_mb']:.0f} MB, "
        f"process-pool driver {results['peak_rss_driver_mb']:.0f} MB, largest worker "
        f"{results['peak_rss_worker_mb']:.0f} MB"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
