"""Whole-corpus pipeline: convert → events → anatomy/heatmaps → intent, incrementally.

Every recording found in the sources is brought up to date in a hive-partitioned
Parquet dataset (one directory per table, ``corpus=.../reader=.../<recording_id>.parquet``)
with a SQLite manifest of per-recording, per-stage status, cache keys and outputs.
Unchanged recordings are skipped; changing a stage's parameters recomputes that stage
and the ones after it; a killed run resumes where it stopped. The same per-unit tasks
run in-process, in a process pool, or on a dask.distributed cluster.

Examples
--------
>>> from gazekit.pipeline import run_pipeline  # doctest: +SKIP
>>> summary = run_pipeline(["corpus/"], "dataset/", scheduler="processes")  # doctest: +SKIP
>>> print(summary.format())  # doctest: +SKIP
"""

from __future__ import annotations

from gazekit.pipeline import defaults as defaults
from gazekit.pipeline.defaults import build_plan
from gazekit.pipeline.manifest import Manifest, read_manifest
from gazekit.pipeline.runner import Summary, run_pipeline
from gazekit.pipeline.sources import Unit, discover
from gazekit.pipeline.stages import (
    ARRAYS,
    CONVERT_TABLES,
    STAGES,
    Plan,
    SourceStage,
    Stage,
    StageInput,
    parse_param,
    resolve_plan,
)

__all__ = [
    "ARRAYS",
    "CONVERT_TABLES",
    "STAGES",
    "Manifest",
    "Plan",
    "SourceStage",
    "Stage",
    "StageInput",
    "Summary",
    "Unit",
    "build_plan",
    "defaults",
    "discover",
    "parse_param",
    "read_manifest",
    "resolve_plan",
    "run_pipeline",
]
