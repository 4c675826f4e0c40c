"""Execution of one source unit: convert it, run the stale stages, write the tables.

:func:`run_unit` is the only function shipped to workers. It writes every output
file atomically (one file per recording per table) *before* it returns, and returns
only small records, so the driver commits a manifest entry only for complete files
and never holds a recording's data.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from gazekit import schemas
from gazekit.errors import GazekitError
from gazekit.io.layout import CACHE_NAME, partition_values, table_path
from gazekit.io.parquet import atomic_path, read_frame, read_metadata, write_table
from gazekit.pipeline import sources
from gazekit.pipeline.stages import ARRAYS, CONVERT_TABLES, Plan, StageInput, relpath
from gazekit.pipeline.threads import limit_threads
from gazekit.recording import Recording

log = logging.getLogger(__name__)

_MAX_ERROR = 4000


@dataclass
class UnitTask:
    """Work for one source unit.

    Attributes
    ----------
    unit : sources.Unit
        The source unit (its ``path`` is the manifest key).
    root : str
        Absolute path of the dataset directory.
    plan : Plan
    old_content : str or None
        Content hash the manifest holds for the unit (``None``: never converted).
    resume : dict of str to int, or None
        For a unit whose content is ``old_content``: recording id -> index of its
        first stale stage in ``plan.stages``. ``None`` converts the unit from scratch.
    outputs : dict
        Recording id -> table name -> dataset-relative path of existing outputs
        (read back when an earlier stage is up to date).
    """

    unit: sources.Unit
    root: str
    plan: Plan
    old_content: str | None = None
    resume: dict[str, int] | None = None
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    limit_threads: bool = False


@dataclass
class StageRecord:
    """Outcome of one stage for one recording (one manifest row)."""

    recording_id: str
    stage: str
    key: str
    status: str  # "ok" | "failed"
    outputs: dict[str, str] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    n_samples: int = 0
    error: str | None = None
    transient: bool = False
    empty: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass
class UnitResult:
    """What a worker returns for one unit (no table data)."""

    unit: str
    content: str | None
    status: str  # "ok" | "failed" | "unchanged"
    recordings: list[str] | None = None  # set when the unit was converted from scratch
    records: list[StageRecord] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    transient: bool = False
    threads: dict[str, int] | None = None


def is_transient(exc: BaseException) -> bool:
    """Whether an error comes from the environment, not the input (retried next run).

    Out of memory, and operating-system errors (disk full, a file vanishing or
    locked while read, a lost connection) are transient; a :class:`GazekitError`
    (bad input, bad parameters) and any other exception raised by a stage on its
    input are not, and are cached as failures until the input or parameters change.
    """
    if isinstance(exc, GazekitError):
        return False
    return isinstance(exc, MemoryError | OSError | TimeoutError | ConnectionError)


def _error(exc: BaseException) -> str:
    if isinstance(exc, GazekitError):
        text = f"{type(exc).__name__}: {exc}"
    else:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        text = f"{type(exc).__name__}: {exc}\n{tb}"
    return text[:_MAX_ERROR]


def _empty_tables(out: Mapping[str, Any], kinds: Mapping[str, str]) -> tuple[list[str], str | None]:
    """Declared tables a stage returned with no rows, and the stage's note about why."""
    empty, note = [], None
    for name, df in out.items():
        if df is None or kinds.get(name) == ARRAYS or len(df):
            continue
        empty.append(name)
        attrs = getattr(df, "attrs", None) or {}
        note = note or attrs.get("gazekit_note")
    return empty, note


def _write(
    task: UnitTask,
    rec: Recording,
    tables: Mapping[str, pd.DataFrame | None],
    kinds: Mapping[str, str],
    meta: dict[str, Any],
) -> tuple[dict[str, str], dict[str, int]]:
    outputs: dict[str, str] = {}
    rows: dict[str, int] = {}
    part = partition_values(rec.corpus, rec.reader_id)
    for name, df in tables.items():
        if df is None:
            continue
        if name not in kinds:
            raise GazekitError(f"stage {meta['stage']!r} returned undeclared table {name!r}")
        kind = kinds[name]
        if kind == ARRAYS:
            path = _write_arrays(task, rec, name, df)
            outputs[name] = relpath(path, task.root)
            rows[name] = len(df)
            continue
        table = _to_arrow(df)
        names = table.column_names if isinstance(table, pa.Table) else list(table.columns)
        if "recording_id" in schemas.get(kind).names and "recording_id" not in names:
            if isinstance(table, pa.Table):
                ids = pa.array([rec.recording_id] * table.num_rows, pa.string())
                table = table.append_column("recording_id", ids)
            else:
                table = table.assign(recording_id=rec.recording_id)
        path = table_path(task.root, name, rec.corpus, rec.reader_id, rec.recording_id)
        write_table(table, path, kind, metadata=meta, partition=part)
        outputs[name] = relpath(path, task.root)
        rows[name] = len(df)
    return outputs, rows


def _write_arrays(task: UnitTask, rec: Recording, name: str, arrays: Mapping[str, Any]) -> Path:
    if not isinstance(arrays, Mapping):
        raise GazekitError(f"array output {name!r} must be a dict of arrays")
    path = table_path(task.root, name, rec.corpus, rec.reader_id, rec.recording_id)
    path = path.with_suffix(".npz")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **{k: np.asarray(v) for k, v in arrays.items()})
    return path


def _to_arrow(df: pd.DataFrame | pa.Table) -> pd.DataFrame | pa.Table:
    """Fast DataFrame -> Arrow for plain typed frames; object columns go through
    :func:`~gazekit.io.parquet.write_table`'s own coercion (and its errors)."""
    if isinstance(df, pa.Table) or any(pd.api.types.is_object_dtype(dt) for dt in df.dtypes):
        return df
    try:
        return pa.Table.from_pandas(df, preserve_index=False, nthreads=1)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return df


def _source_dir(unit: sources.Unit) -> Path:
    """The folder a unit's recordings come from (side folders such as ``anatomy/`` lie
    in it or above it): a converted dataset's root, a source file's folder, a corpus
    reading's folder."""
    path = Path(unit.path)
    if unit.kind == "gazekit":
        return path.parent.parent
    return path if path.is_dir() else path.parent


def _convert_outputs(rec: Recording) -> dict[str, pd.DataFrame | pa.Table | None]:
    samples = rec.samples  # _write adds the recording_id column
    return {
        "recordings": pa.Table.from_pylist([rec.metadata()]),
        "samples": samples,
        "tracker_events": rec.events,
        "transcripts": rec.transcript,
        "findings": rec.findings,
    }


def _load(task: UnitTask, rid: str, names: set[str]) -> tuple[Recording, dict[str, pd.DataFrame]]:
    """Rebuild a converted recording and earlier stages' tables from the dataset."""
    have = task.outputs.get(rid, {})
    root = Path(task.root)
    if "samples" not in have:
        raise GazekitError(f"recording {rid!r}: no converted samples in the manifest")
    samples_path = root / have["samples"]
    samples = read_frame(samples_path, "samples").drop(columns=["recording_id"], errors="ignore")
    samples.attrs = {}
    rec = Recording.from_provenance(samples, read_metadata(samples_path))
    tables: dict[str, pd.DataFrame] = {}
    for name in sorted(names | {"tracker_events", "transcripts", "findings"}):
        if name in have and name != "samples":
            if have[name].endswith(".npz"):
                with np.load(root / have[name], allow_pickle=False) as z:
                    tables[name] = {k: z[k] for k in z.files}
                continue
            df = read_frame(root / have[name])
            df.attrs = {}
            tables[name] = df
    rec.events = tables.get("tracker_events")
    rec.transcript = tables.get("transcripts")
    rec.findings = tables.get("findings")
    return rec, tables


def _run_stages(
    task: UnitTask,
    rec: Recording,
    tables: dict[str, pd.DataFrame],
    start: int,
    keys: Mapping[str, str],
    records: list[StageRecord],
) -> None:
    plan = task.plan
    failed: str | None = None
    for stage in plan.stages[start:]:
        key = keys[stage.name]
        if failed is not None:
            records.append(
                StageRecord(
                    rec.recording_id,
                    stage.name,
                    key,
                    "failed",
                    error=f"upstream stage {failed!r} failed",
                )
            )
            continue
        t0 = time.perf_counter()
        try:
            out = stage.func(
                StageInput(
                    recording=rec,
                    tables=dict(tables),
                    source=_source_dir(task.unit),
                    cache_dir=Path(task.root) / CACHE_NAME,
                ),
                **plan.params.get(stage.name, {}),
            )
            if not isinstance(out, Mapping):
                raise GazekitError(
                    f"stage {stage.name!r} returned {type(out).__name__}, not a dict of tables"
                )
            meta = {
                "recording_id": rec.recording_id,
                "stage": stage.name,
                "stage_key": key,
                "params": plan.params.get(stage.name, {}),
            }
            outputs, rows = _write(task, rec, out, stage.produces, meta)
        except Exception as exc:
            log.info("%s: stage %s failed: %s", rec.recording_id, stage.name, exc)
            failed = stage.name
            records.append(
                StageRecord(
                    rec.recording_id,
                    stage.name,
                    key,
                    "failed",
                    seconds=time.perf_counter() - t0,
                    n_samples=len(rec.samples),
                    error=_error(exc),
                    transient=is_transient(exc),
                )
            )
            continue
        tables.update({k: v for k, v in out.items() if v is not None})
        empty, note = _empty_tables(out, stage.produces)
        records.append(
            StageRecord(
                rec.recording_id,
                stage.name,
                key,
                "ok",
                outputs=outputs,
                rows=rows,
                seconds=time.perf_counter() - t0,
                n_samples=len(rec.samples),
                empty=empty,
                note=note,
            )
        )


def _convert_unit(task: UnitTask, content: str, result: UnitResult) -> None:
    plan = task.plan
    keys = plan.keys(content)
    t0 = time.perf_counter()
    try:
        recordings = plan.convert.func(task.unit, **plan.params.get(plan.convert.name, {}))
    except Exception as exc:
        log.info("%s: conversion failed: %s", task.unit.id, exc)
        result.status = "failed"
        result.error = _error(exc)
        result.transient = is_transient(exc)
        result.recordings = []
        return
    read_s = (time.perf_counter() - t0) / max(len(recordings), 1)
    ids = [r.recording_id for r in recordings]
    dup = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dup:
        result.status = "failed"
        result.error = f"GazekitError: duplicated recording id(s) in one source: {dup[:5]}"
        result.recordings = []
        return
    result.recordings = ids
    ck = keys[plan.convert.name]
    while recordings:
        rec = recordings.pop(0)  # release each recording once processed
        t1 = time.perf_counter()
        meta = {**rec.provenance(), "stage": plan.convert.name, "stage_key": ck}
        converted = _convert_outputs(rec)
        try:
            outputs, rows = _write(task, rec, converted, CONVERT_TABLES, meta)
        except Exception as exc:
            result.records.append(
                StageRecord(
                    rec.recording_id,
                    plan.convert.name,
                    ck,
                    "failed",
                    error=_error(exc),
                    transient=is_transient(exc),
                )
            )
            _run_stages_failed(task, rec.recording_id, 0, keys, plan.convert.name, result.records)
            continue
        result.records.append(
            StageRecord(
                rec.recording_id,
                plan.convert.name,
                ck,
                "ok",
                outputs=outputs,
                rows=rows,
                seconds=read_s + time.perf_counter() - t1,
                n_samples=len(rec.samples),
            )
        )
        tables = {
            k: v.to_pandas() if isinstance(v, pa.Table) else v
            for k, v in converted.items()
            if v is not None and k != "samples"
        }
        del converted
        _run_stages(task, rec, tables, 0, keys, result.records)


def run_unit(task: UnitTask) -> UnitResult:
    """Bring one source unit up to date; return what was done (see :class:`UnitTask`)."""
    t0 = time.perf_counter()
    result = UnitResult(unit=task.unit.id, content=None, status="ok")
    if task.limit_threads:
        result.threads = limit_threads()
    try:
        content = sources.content_hash(task.unit)
    except Exception as exc:
        result.status, result.error = "failed", _error(exc)
        result.transient = is_transient(exc)
        result.recordings = []
        return result
    result.content = content
    if task.resume is None or content != task.old_content:
        _convert_unit(task, content, result)
    elif not task.resume:
        result.status = "unchanged"
    else:
        keys = task.plan.keys(content)
        for rid, start in task.resume.items():
            later = task.plan.stages[start:]
            needs = {t for s in later for t in (*s.needs, *s.uses)}
            try:
                rec, tables = _load(task, rid, needs)
            except Exception as exc:
                first = later[0].name
                result.records.append(
                    StageRecord(
                        rid,
                        first,
                        keys[first],
                        "failed",
                        error=_error(exc),
                        transient=is_transient(exc),
                    )
                )
                _run_stages_failed(task, rid, start + 1, keys, first, result.records)
                continue
            _run_stages(task, rec, tables, start, keys, result.records)
    result.seconds = time.perf_counter() - t0
    return result


def _run_stages_failed(
    task: UnitTask,
    rid: str,
    start: int,
    keys: Mapping[str, str],
    failed: str,
    records: list[StageRecord],
) -> None:
    for stage in task.plan.stages[start:]:
        records.append(
            StageRecord(
                rid,
                stage.name,
                keys[stage.name],
                "failed",
                error=f"upstream stage {failed!r} failed",
            )
        )
