"""The driver: plan which units are stale, run them on a backend, commit the manifest."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gazekit.errors import GazekitError
from gazekit.io.layout import CACHE_NAME, LOCK_NAME, MANIFEST_NAME, inside
from gazekit.pipeline import sources
from gazekit.pipeline.backends import Backend, make_backend
from gazekit.pipeline.defaults import build_plan
from gazekit.pipeline.manifest import Manifest, StageRow, UnitRow
from gazekit.pipeline.stages import Plan, SourceStage, Stage
from gazekit.pipeline.worker import UnitResult, UnitTask, run_unit

log = logging.getLogger(__name__)


@dataclass
class Summary:
    """What a pipeline run did.

    Attributes
    ----------
    units, units_run, units_skipped : int
        Source units found, sent to workers, and skipped as up to date.
    recordings_done : int
        Recordings (re)computed in this run with every stage ``ok``.
    recordings_skipped : int
        Recordings already up to date (including ones whose earlier failure is cached).
    recordings_failed : int
        Recordings with a failed stage after this run (new or cached failures).
    failures : list of dict
        ``{"id", "stage", "error"}`` for failures of this run (first line of the error).
    transient : int
        Failures of this run caused by the environment (out of memory, I/O, a worker
        that died); they are not cached, so the next run retries them.
    empty : dict
        Per stage: recordings for which it wrote a table with no rows, and a note
        (e.g. the anatomy stage without an atlas for the image).
    worker_threads : dict
        Largest thread count seen in the workers per numeric library (``blas``,
        ``openmp``, ``numba``, ``opencv``, ``arrow``); empty for the in-process run.
    stage_seconds, stage_recordings, stage_samples : dict
        Per stage: worker time (s), recordings computed, samples processed.
    wall_seconds, plan_seconds : float
        Whole run, and discovery + planning in the driver.
    """

    scheduler: str = "sync"
    workers: int = 1
    dashboard: str | None = None
    units: int = 0
    units_run: int = 0
    units_skipped: int = 0
    units_failed: int = 0
    recordings_done: int = 0
    recordings_skipped: int = 0
    recordings_failed: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    transient: int = 0
    empty: dict[str, dict[str, Any]] = field(default_factory=dict)
    worker_threads: dict[str, int] = field(default_factory=dict)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    stage_recordings: dict[str, int] = field(default_factory=dict)
    stage_samples: dict[str, int] = field(default_factory=dict)
    wall_seconds: float = 0.0
    plan_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-dict form (JSON-serialisable)."""
        return asdict(self)

    def format(self) -> str:
        """Human-readable summary (what the CLI prints)."""
        lines = [
            f"units: {self.units} ({self.units_run} run, {self.units_skipped} up to date, "
            f"{self.units_failed} failed to convert)",
            f"recordings: {self.recordings_done} done, {self.recordings_skipped} skipped, "
            f"{self.recordings_failed} failed",
            f"wall time {self.wall_seconds:.2f} s (planning {self.plan_seconds:.2f} s) on "
            f"{self.scheduler} with {self.workers} worker(s)",
        ]
        for stage, sec in self.stage_seconds.items():
            n = self.stage_recordings.get(stage, 0)
            per = 1000 * sec / n if n else 0.0
            lines.append(
                f"  {stage:<14} {n:>7} recordings {sec:9.2f} s  ({per:.1f} ms/recording, "
                f"{self.stage_samples.get(stage, 0)} samples)"
            )
        if self.worker_threads:
            lines.append(
                "  worker threads: "
                + ", ".join(f"{k} {v}" for k, v in sorted(self.worker_threads.items()))
            )
        for stage, info in self.empty.items():
            note = f" ({info['note']})" if info.get("note") else ""
            lines.append(
                f"  WARNING {stage}: {info['count']} recording(s) got no rows in "
                f"{', '.join(info['tables'])}{note}"
            )
        if self.transient:
            lines.append(
                f"  {self.transient} failure(s) came from the environment (memory, I/O, a "
                "worker that died); they are not cached and the next run retries them"
            )
        for f in self.failures[:20]:
            lines.append(f"  FAILED {f['id']} [{f['stage']}]: {f['error']}")
        if len(self.failures) > 20:
            lines.append(f"  ... and {len(self.failures) - 20} more failures (see the manifest)")
        return "\n".join(lines)


#: Names a pipeline dataset directory may hold before it has a manifest.
_OWN_NAMES = {LOCK_NAME, MANIFEST_NAME, CACHE_NAME}


def check_output_dir(root: Path) -> None:
    """Refuse to write a dataset into a non-empty directory that is not one.

    Raises
    ------
    GazekitError
        When ``root`` exists, holds other files, and has no pipeline manifest.
    """
    if not root.exists():
        return
    if not root.is_dir():
        raise GazekitError(f"output {root} exists and is not a directory")
    if (root / MANIFEST_NAME).is_file():
        return
    other = sorted(p.name for p in root.iterdir() if p.name not in _OWN_NAMES)
    if other:
        raise GazekitError(
            f"output directory {root} is not empty and is not a pipeline dataset "
            f"(found {other[:5]}); choose a new or empty directory"
        )


@contextlib.contextmanager
def _lock(root: Path) -> Iterator[None]:
    from filelock import FileLock, Timeout

    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise GazekitError(f"another pipeline run is writing {root}") from None
    try:
        yield
    finally:
        lock.release()


#: What :func:`gazekit.io.parquet.atomic_path` names its temporary files:
#: ``.<file name>.<8 random characters>.tmp``, for the files the pipeline writes.
_OWN_TMP = re.compile(r"^\.[^/]+\.(parquet|npz|json|arrow|npy)\.[A-Za-z0-9_]{8}\.tmp$")


def _remove_temporaries(root: Path, tables: Sequence[str]) -> int:
    """Delete the temporary files a killed run of ours left behind.

    Only in the plan's table directories and the cache, and only names of the
    pattern gazekit's atomic writer uses; anything else is left alone.
    """
    n = 0
    for top in (*tables, CACHE_NAME):
        for dirpath, _, files in os.walk(root / top):
            for name in files:
                if _OWN_TMP.match(name):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(os.path.join(dirpath, name))
                        n += 1
    if n:
        log.info("removed %d temporary file(s) left by an interrupted run", n)
    return n


def _delete(root: Path, relpaths: Sequence[str]) -> None:
    for rel in relpaths:
        try:
            path = inside(root, rel)  # a manifest path never deletes outside the dataset
        except GazekitError as exc:
            log.warning("%s", exc)
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@dataclass
class _Planned:
    tasks: list[UnitTask]
    signatures: dict[str, str]
    skipped_recordings: int
    cached_failed: int
    known: dict[str, int] = field(default_factory=dict)


def _plan_unit(
    unit: sources.Unit,
    row: UnitRow | None,
    sig: str,
    rows: Mapping[tuple[str, str], StageRow],
    plan: Plan,
    root: str,
    retry_failed: bool,
) -> tuple[UnitTask | None, int]:
    """Task for one unit, or ``None`` when up to date; plus its cached-failure count."""
    if row is None or row.content is None:
        return UnitTask(unit, root, plan), 0
    keys = plan.keys(row.content)
    if row.key != keys[plan.convert.name] or (row.status == "failed" and retry_failed):
        return UnitTask(unit, root, plan, old_content=row.content), 0
    if row.status == "failed":
        return (None if sig == row.signature else UnitTask(unit, root, plan, row.content)), 1
    resume: dict[str, int] = {}
    outputs: dict[str, dict[str, str]] = {}
    failed = 0
    for rid in row.recordings:
        for i, name in enumerate(plan.names):
            r = rows.get((rid, name))
            if r is None or r.key != keys[name] or (r.status == "failed" and retry_failed):
                if i == 0:
                    return UnitTask(unit, root, plan, old_content=row.content), 0
                resume[rid] = i - 1
                merged: dict[str, str] = {}
                for prev in plan.names[:i]:
                    merged.update(json.loads(rows[(rid, prev)].outputs))
                outputs[rid] = merged
                break
            if r.status == "failed":
                failed += 1
                break
    if not resume and sig == row.signature:
        return None, failed
    return UnitTask(unit, root, plan, row.content, resume, outputs), failed


def _plan(
    units: list[sources.Unit], manifest: Manifest, plan: Plan, root: Path, retry_failed: bool
) -> _Planned:
    unit_rows = manifest.units()
    rows = manifest.stage_rows()
    out = _Planned([], {}, 0, 0)
    sources.clear_caches()
    for unit in units:
        sig = sources.signature(unit)
        out.signatures[unit.id] = sig
        row = unit_rows.get(unit.id)
        task, failed = _plan_unit(unit, row, sig, rows, plan, str(root), retry_failed)
        out.cached_failed += failed
        known = len(row.recordings) - failed if row else 0
        if task is None:
            out.skipped_recordings += known
        else:
            out.tasks.append(task)
            out.known[unit.id] = known
    sources.clear_caches()
    return out


def run_pipeline(
    sources_: Sequence[str | os.PathLike[str]],
    dataset: str | os.PathLike[str],
    *,
    stages: Sequence[str | Stage] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    convert: SourceStage | None = None,
    scheduler: str = "sync",
    workers: int | None = None,
    scheduler_file: str | None = None,
    client: Any = None,
    max_in_flight: int | None = None,
    retry_failed: bool = False,
    prune: bool = False,
    progress: bool | None = None,
) -> Summary:
    """Bring a partitioned Parquet dataset up to date with its sources.

    Parameters
    ----------
    sources_ : sequence of path-like
        Source files/directories (see :func:`gazekit.pipeline.sources.discover`).
    dataset : path-like
        Output dataset directory (created if missing).
    stages, params, convert
        The stage chain and parameters (see :func:`~gazekit.pipeline.build_plan`).
    scheduler : str
        ``sync``, ``processes``, ``dask`` (a LocalCluster) or ``dask://HOST:PORT``.
    workers : int, optional
        Worker processes for ``processes`` and ``dask``.
    scheduler_file : str, optional
        Dask scheduler file (overrides ``scheduler``).
    client : distributed.Client, optional
        Run on this client (overrides ``scheduler``).
    max_in_flight : int, optional
        Bound on units submitted at once (memory stays bounded by it).
    retry_failed : bool
        Re-run failed recordings whose inputs and parameters did not change.
    prune : bool
        Drop outputs and manifest entries of units no longer among the sources.
    progress : bool, optional
        Show a tqdm bar; default when stderr is a terminal.

    Returns
    -------
    Summary
    """
    t_start = time.perf_counter()
    root = Path(dataset).resolve()
    plan = build_plan(stages, params, convert)
    summary = Summary()
    check_output_dir(root)
    units = sources.discover(sources_, dataset=root)
    with _lock(root), Manifest(root) as manifest:
        _remove_temporaries(root, list(plan.tables()))
        if prune:
            keep = {u.id for u in units}
            for path in set(manifest.units()) - keep:
                log.info("pruning %s (no longer among the sources)", path)
                _delete(root, manifest.remove_unit(path))
        planned = _plan(units, manifest, plan, root, retry_failed)
        summary.units = len(units)
        summary.units_skipped = len(units) - len(planned.tasks)
        summary.recordings_skipped = planned.skipped_recordings
        summary.recordings_failed = planned.cached_failed
        summary.plan_seconds = time.perf_counter() - t_start
        log.info(
            "%d unit(s), %d to run, %d up to date",
            len(units),
            len(planned.tasks),
            summary.units_skipped,
        )
        if planned.tasks:
            # Outputs about to be rewritten stop counting as up to date before any
            # worker touches them: a run killed between writing files and committing
            # the manifest then recomputes them instead of trusting them.
            manifest.invalidate(planned.tasks)
            backend = make_backend(
                scheduler,
                n_workers=workers,
                scheduler_file=scheduler_file,
                client=client,
                max_in_flight=max_in_flight,
            )
            summary.scheduler, summary.workers = backend.name, backend.n_workers
            summary.dashboard = backend.dashboard
            for task in planned.tasks:
                task.limit_threads = backend.remote
            try:
                _execute(backend, planned, manifest, plan, root, summary, progress)
            finally:
                backend.close()
    summary.wall_seconds = time.perf_counter() - t_start
    return summary


def _execute(
    backend: Backend,
    planned: _Planned,
    manifest: Manifest,
    plan: Plan,
    root: Path,
    summary: Summary,
    progress: bool | None,
) -> None:
    if progress is None:
        progress = sys.stderr.isatty()
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(planned.tasks), unit="unit", desc="pipeline", dynamic_ncols=True)
        if backend.dashboard:
            bar.write(f"Dask dashboard: {backend.dashboard}")
    elif backend.dashboard:
        log.info("Dask dashboard: %s", backend.dashboard)
    seconds: Counter[str] = Counter()
    done: Counter[str] = Counter()
    samples: Counter[str] = Counter()
    try:
        for task, outcome in backend.run(run_unit, planned.tasks):
            if isinstance(outcome, BaseException):
                # The worker died or the task was lost: an environment failure, never
                # cached (the unit stays invalidated, so the next run redoes it).
                log.warning("%s: task failed: %s", task.unit.id, outcome)
                outcome = UnitResult(
                    unit=task.unit.id,
                    content=None,
                    status="failed",
                    recordings=None,
                    error=f"{type(outcome).__name__}: {outcome}",
                    transient=True,
                )
            if not outcome.transient:
                stale = manifest.record(outcome, planned.signatures[task.unit.id], plan)
                _delete(root, stale)
            _tally(outcome, planned.known[task.unit.id], summary, seconds, done, samples)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    summary.units_run = len(planned.tasks)
    order = plan.names
    summary.stage_seconds = {k: seconds[k] for k in order if k in seconds}
    summary.stage_recordings = {k: done[k] for k in order if k in seconds}
    summary.stage_samples = {k: samples[k] for k in order if k in seconds}


def _tally(
    result: UnitResult,
    known: int,
    summary: Summary,
    seconds: Counter[str],
    done: Counter[str],
    samples: Counter[str],
) -> None:
    if result.threads:
        for k, v in result.threads.items():
            summary.worker_threads[k] = max(summary.worker_threads.get(k, 0), v)
    summary.transient += result.transient + sum(r.transient for r in result.records)
    for rec in result.records:
        if rec.empty and rec.status == "ok":
            info = summary.empty.setdefault(rec.stage, {"count": 0, "tables": [], "note": None})
            info["count"] += 1
            info["tables"] = sorted(set(info["tables"]) | set(rec.empty))
            info["note"] = info["note"] or rec.note
    if result.status == "failed":
        # A source that cannot be converted counts as one failed recording (what a
        # cached unit failure counts on the next run; a corpus reading is exactly one).
        summary.units_failed += 1
        summary.recordings_failed += 1
        summary.failures.append(
            {"id": result.unit, "stage": "convert", "error": (result.error or "").splitlines()[0]}
        )
    failed_ids: set[str] = set()
    ids: set[str] = set()
    for rec in result.records:
        ids.add(rec.recording_id)
        seconds[rec.stage] += rec.seconds
        samples[rec.stage] += rec.n_samples if rec.status == "ok" else 0
        done[rec.stage] += rec.status == "ok"
        if rec.status == "failed" and rec.recording_id not in failed_ids:
            failed_ids.add(rec.recording_id)
            summary.failures.append(
                {
                    "id": rec.recording_id,
                    "stage": rec.stage,
                    "error": (rec.error or "").splitlines()[0],
                }
            )
    summary.recordings_failed += len(failed_ids)
    summary.recordings_done += len(ids - failed_ids)
    if result.recordings is None and result.status != "failed":
        summary.recordings_skipped += max(known - len(ids), 0)
