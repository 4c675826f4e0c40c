"""The pipeline manifest: per-unit and per-recording-per-stage state, in SQLite.

``DATASET/_manifest.sqlite`` (the leading underscore keeps Parquet readers from
listing it) holds three tables:

``units``
    One row per source file or directory: cheap signature (sizes + mtimes), content
    hash (blake2b), convert cache key, status, error, recording ids produced.
``stages``
    One row per recording per stage: cache key (chained input + parameter hash),
    parameter hash, status (``ok``/``failed``), error, output paths and row counts,
    seconds, number of samples.
``params``
    Parameter hash -> stage name and parameters (JSON).

Each unit's result is committed in one transaction after its output files are
complete, so a crash loses at most the units in flight, which a re-run redoes.
Only the driver process writes the manifest; workers never touch it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gazekit.errors import InputError
from gazekit.io.layout import MANIFEST_NAME, MANIFEST_QUERY
from gazekit.pipeline.stages import Plan
from gazekit.pipeline.worker import UnitResult

FORMAT_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS units (
    unit TEXT PRIMARY KEY, signature TEXT, content TEXT, key TEXT, status TEXT NOT NULL,
    error TEXT, recordings TEXT NOT NULL, seconds REAL, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS stages (
    recording_id TEXT NOT NULL, stage TEXT NOT NULL, unit TEXT NOT NULL, key TEXT NOT NULL,
    param_hash TEXT NOT NULL, status TEXT NOT NULL, error TEXT, outputs TEXT NOT NULL,
    rows TEXT NOT NULL, seconds REAL, n_samples INTEGER, updated REAL NOT NULL,
    PRIMARY KEY (recording_id, stage)
);
CREATE INDEX IF NOT EXISTS stages_unit ON stages (unit);
CREATE TABLE IF NOT EXISTS params (
    param_hash TEXT PRIMARY KEY, stage TEXT NOT NULL, params TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class UnitRow:
    """Manifest state of one source unit."""

    unit: str
    signature: str | None
    content: str | None
    key: str | None
    status: str
    error: str | None
    recordings: list[str]


@dataclass(frozen=True)
class StageRow:
    """Manifest state of one recording's stage (``outputs`` is JSON text)."""

    key: str
    status: str
    outputs: str


class Manifest:
    """SQLite manifest of a pipeline dataset (see module docstring).

    Parameters
    ----------
    root : path-like
        Dataset directory; the file is ``root/_manifest.sqlite``.
    create : bool
        Create the file when missing (otherwise :class:`InputError`).
    """

    def __init__(self, root: str | os.PathLike[str], create: bool = True) -> None:
        self.path = Path(root) / MANIFEST_NAME
        if not create and not self.path.exists():
            raise InputError("not a gazekit pipeline dataset (no manifest)", path=self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._hashes: dict[int, tuple[Plan, dict[str, str]]] = {}
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            with self._transaction():
                for stmt in _SCHEMA.split(";"):
                    if stmt.strip():
                        self._db.execute(stmt)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('format_version', ?)", (FORMAT_VERSION,)
                )
            found = self._db.execute(
                "SELECT value FROM meta WHERE key='format_version'"
            ).fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"not a readable pipeline manifest ({exc}); move it away to start a new dataset",
                path=self.path,
            ) from None
        if found.split(".")[0] != FORMAT_VERSION.split(".")[0]:
            raise InputError(f"manifest format {found} is not supported", path=self.path)

    def _transaction(self) -> _Tx:
        return _Tx(self._db)

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------
    def units(self) -> dict[str, UnitRow]:
        """Every unit's row, by unit path."""
        cur = self._db.execute(
            "SELECT unit, signature, content, key, status, error, recordings FROM units"
        )
        return {r[0]: UnitRow(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in cur}

    def stage_rows(self) -> dict[tuple[str, str], StageRow]:
        """Every stage row, by ``(recording_id, stage)``."""
        cur = self._db.execute("SELECT recording_id, stage, key, status, outputs FROM stages")
        return {(r[0], r[1]): StageRow(r[2], r[3], r[4]) for r in cur}

    def frame(self) -> pd.DataFrame:
        """The ``stages`` table joined with parameters, one row per recording per stage."""
        return pd.read_sql_query(MANIFEST_QUERY, self._db)

    def units_frame(self) -> pd.DataFrame:
        """The ``units`` table as a DataFrame."""
        return pd.read_sql_query("SELECT * FROM units ORDER BY unit", self._db)

    # -- writing ---------------------------------------------------------------------------
    def record(self, result: UnitResult, signature: str | None, plan: Plan) -> list[str]:
        """Commit one unit's result in one transaction.

        Returns
        -------
        list of str
            Dataset-relative paths of outputs the new state no longer references (the
            caller deletes them after this commit).
        """
        now = time.time()
        stale: list[str] = []
        with self._transaction():
            old = self._db.execute(
                "SELECT recordings FROM units WHERE unit=?", (result.unit,)
            ).fetchone()
            old_ids = json.loads(old[0]) if old else []
            if result.recordings is not None:
                ids = result.recordings
                gone = [r for r in old_ids if r not in set(ids)]
                stale += self._drop_recordings(gone)
            else:
                ids = old_ids
            convert_key = plan.keys(result.content)[plan.convert.name] if result.content else None
            self._db.execute(
                "INSERT OR REPLACE INTO units VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    result.unit,
                    signature,
                    result.content,
                    convert_key,
                    "failed" if result.status == "failed" else "ok",
                    result.error,
                    json.dumps(ids),
                    result.seconds,
                    now,
                ),
            )
            hashes = self._param_hashes(plan)
            for rec in result.records:
                if rec.transient:  # not cached: the next run retries it
                    continue
                prev = self._db.execute(
                    "SELECT outputs, unit FROM stages WHERE recording_id=? AND stage=?",
                    (rec.recording_id, rec.stage),
                ).fetchone()
                if prev and prev[1] != result.unit and self._lists(prev[1], rec.recording_id):
                    rec.status = "failed"
                    rec.error = (
                        f"GazekitError: recording id {rec.recording_id!r} is also produced by "
                        f"{prev[1]}; the later source overwrote its outputs (rename one)"
                    )
                if prev:
                    keep = set(rec.outputs.values())
                    stale += [p for p in json.loads(prev[0]).values() if p not in keep]
                self._db.execute(
                    "INSERT OR REPLACE INTO stages VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        rec.recording_id,
                        rec.stage,
                        result.unit,
                        rec.key,
                        hashes[rec.stage],
                        rec.status,
                        rec.error,
                        json.dumps(rec.outputs),
                        json.dumps(rec.rows),
                        rec.seconds,
                        rec.n_samples,
                        now,
                    ),
                )
        return stale

    def _param_hashes(self, plan: Plan) -> dict[str, str]:
        """Parameter hash of every stage, stored once per plan (inside a transaction)."""
        cached = self._hashes.get(id(plan))
        if cached is not None and cached[0] is plan:
            return cached[1]
        hashes = {name: plan.param_hash(name) for name in plan.names}
        for name, h in hashes.items():
            self._db.execute(
                "INSERT OR IGNORE INTO params VALUES (?,?,?)",
                (h, name, json.dumps(plan.params.get(name, {}), sort_keys=True, default=str)),
            )
        self._hashes[id(plan)] = (plan, hashes)
        return hashes

    def invalidate(self, tasks: Sequence[Any]) -> None:
        """Mark the outputs ``tasks`` will rewrite as not up to date, in one transaction.

        A unit converted from scratch loses its convert key (so it is converted again
        unless this run commits it); a resumed recording loses the keys of the stages
        it re-runs.
        """
        with self._transaction():
            for task in tasks:
                if task.resume is None:
                    self._db.execute("UPDATE units SET key=NULL WHERE unit=?", (task.unit.id,))
                    self._db.execute("UPDATE stages SET key='' WHERE unit=?", (task.unit.id,))
                    continue
                names = [s.name for s in task.plan.stages]
                for rid, start in task.resume.items():
                    for name in names[start:]:
                        self._db.execute(
                            "UPDATE stages SET key='' WHERE recording_id=? AND stage=?",
                            (rid, name),
                        )

    def _lists(self, unit: str, recording_id: str) -> bool:
        row = self._db.execute("SELECT recordings FROM units WHERE unit=?", (unit,)).fetchone()
        return bool(row) and recording_id in json.loads(row[0])

    def _drop_recordings(self, ids: list[str]) -> list[str]:
        stale: list[str] = []
        for rid in ids:
            for (outputs,) in self._db.execute(
                "SELECT outputs FROM stages WHERE recording_id=?", (rid,)
            ).fetchall():
                stale += list(json.loads(outputs).values())
            self._db.execute("DELETE FROM stages WHERE recording_id=?", (rid,))
        return stale

    def remove_unit(self, unit: str) -> list[str]:
        """Forget a unit and its recordings; return their output paths to delete."""
        with self._transaction():
            row = self._db.execute("SELECT recordings FROM units WHERE unit=?", (unit,)).fetchone()
            stale = self._drop_recordings(json.loads(row[0])) if row else []
            self._db.execute("DELETE FROM units WHERE unit=?", (unit,))
        return stale


class _Tx:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type: Any, *rest: object) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")


def read_manifest(root: str | os.PathLike[str]) -> pd.DataFrame:
    """Per-recording per-stage manifest of a pipeline dataset as a DataFrame."""
    with Manifest(root, create=False) as m:
        return m.frame()
