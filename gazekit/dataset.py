"""Open a gazekit dataset — pipeline output or ``gazekit convert`` output — as tables.

Two layouts are understood:

``partitioned`` (written by ``gazekit pipeline``)
    ``DIR/<table>/corpus=<c>/reader=<r>/<recording_id>.parquet`` plus
    ``DIR/_manifest.sqlite``. Every table reads as one table with ``corpus`` and
    ``reader`` partition columns.
``flat`` (written by ``gazekit convert`` / ``gazekit simulate --format parquet``)
    ``DIR/<table>.parquet`` and ``DIR/samples/<recording_id>.parquet``.

:func:`gazekit.load` is the front door: it returns a :class:`Dataset`, whose
:meth:`Dataset.recording` gives one :class:`~gazekit.recording.Recording` (samples,
geometry, tracker events, transcript, findings) and whose table methods give pandas
(or, with ``lazy=True``, dask) DataFrames.

Examples
--------
>>> import gazekit
>>> from gazekit.synthetic import simulate_session
>>> from gazekit.io.dataset_dir import write_dataset
>>> import tempfile
>>> session = simulate_session(seed=1, image_size=128)
>>> out = write_dataset([session.recording], tempfile.mkdtemp() + "/ds")
>>> ds = gazekit.load(out)
>>> ds.recording_ids == [session.recording_id]
True
>>> rec = ds.recording(session.recording_id)
>>> len(rec.samples) == len(session.recording.samples)
True
>>> fix = ds.fixations(source="tracker")  # one source, explicitly
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pds

from gazekit import schemas
from gazekit.errors import InputError
from gazekit.io.layout import MANIFEST_NAME, PARTITION_KEYS, id_filename, recording_id_from_path
from gazekit.io.parquet import read_frame, read_metadata
from gazekit.recording import Recording

__all__ = ["Dataset", "load", "open_dataset"]

Filter = Mapping[str, Any] | Sequence[tuple[str, str, Any]] | pc.Expression | None

_HIVE = pds.partitioning(pa.schema([(k, pa.string()) for k in PARTITION_KEYS]), flavor="hive")
_OPS = {
    "=": lambda f, v: f == v,
    "==": lambda f, v: f == v,
    "!=": lambda f, v: f != v,
    "<": lambda f, v: f < v,
    "<=": lambda f, v: f <= v,
    ">": lambda f, v: f > v,
    ">=": lambda f, v: f >= v,
    "in": lambda f, v: f.isin(list(v)),
    "not in": lambda f, v: ~f.isin(list(v)),
}


def to_expression(filter: Filter) -> pc.Expression | None:
    """Turn a filter into a pyarrow expression.

    Parameters
    ----------
    filter : dict, list of tuples, pyarrow Expression or None
        ``{"corpus": "egd", "reader": ["R1", "R2"]}`` (equality, or membership for a
        list), ``[("duration_ms", ">", 100.0), ...]`` (ANDed), or an expression.
    """
    if filter is None or isinstance(filter, pc.Expression):
        return filter
    terms: list[pc.Expression] = []
    if isinstance(filter, Mapping):
        for col, val in filter.items():
            is_seq = isinstance(val, Iterable) and not isinstance(val, str | bytes)
            terms.append(_OPS["in" if is_seq else "="](pc.field(col), val))
    else:
        for item in filter:
            try:
                col, op, val = item
                terms.append(_OPS[op](pc.field(col), val))
            except (KeyError, ValueError, TypeError):
                raise InputError(f"bad filter term {item!r}; use (column, op, value)") from None
    expr = terms[0] if terms else None
    for t in terms[1:]:
        expr = expr & t
    return expr


def _read_partitioned_file(
    path: str, base: str, columns: list[str] | None, expr: pc.Expression | None
) -> pd.DataFrame:
    d = pds.dataset([path], format="parquet", partitioning=_HIVE, partition_base_dir=base)
    return d.to_table(columns=columns, filter=expr).to_pandas()


def _read_flat_samples(
    path: str, columns: list[str] | None, expr: pc.Expression | None
) -> pd.DataFrame:
    d = pds.dataset(path, format="parquet")
    table = d.to_table(filter=expr)
    if "recording_id" not in table.column_names:
        rid = recording_id_from_path(path)
        table = table.append_column("recording_id", pa.array([rid] * table.num_rows, pa.string()))
    if columns is not None:
        table = table.select(columns)
    return table.to_pandas()


class Dataset:
    """A gazekit dataset directory (see module docstring); use :func:`open_dataset`.

    Attributes
    ----------
    path : pathlib.Path
    layout : {"partitioned", "flat"}
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise InputError("dataset directory does not exist", path=path)
        if (self.path / MANIFEST_NAME).is_file() or any(
            p.is_dir() and any(c.name.startswith("corpus=") for c in p.iterdir())
            for p in self.path.iterdir()
            if p.is_dir()
        ):
            self.layout = "partitioned"
        elif (self.path / "samples").is_dir() or any(self.path.glob("*.parquet")):
            self.layout = "flat"
        else:
            raise InputError(
                "not a gazekit dataset (no table directories, manifest or *.parquet)", path=path
            )

    def __repr__(self) -> str:
        return f"Dataset({str(self.path)!r}, layout={self.layout!r}, tables={self.tables()})"

    def tables(self) -> list[str]:
        """Names of the tables present."""
        if self.layout == "partitioned":
            return sorted(
                p.name for p in self.path.iterdir() if p.is_dir() and p.name[0] not in "._"
            )
        names = {p.stem for p in self.path.glob("*.parquet")}
        if (self.path / "samples").is_dir():
            names.add("samples")
        return sorted(names)

    def files(self, kind: str, recording_ids: Iterable[str] | None = None) -> list[Path]:
        """Files of table ``kind`` (for ``samples``: optionally only these recordings)."""
        if self.layout == "flat" and kind != "samples":
            path = self.path / f"{kind}.parquet"
            return [path] if path.is_file() else []
        base = self.path / kind
        if not base.is_dir():
            return []
        if self.layout == "flat":
            names = [f"{id_filename(r)}.parquet" for r in recording_ids] if recording_ids is not None else None
            if names is None:
                return sorted(p for p in base.glob("*.parquet") if p.name[0] not in "._")
            return [base / n for n in names if (base / n).is_file()]
        if recording_ids is None:
            return sorted(p for p in base.glob("*/*/*.parquet") if p.name[0] not in "._")
        out: list[Path] = []
        for rid in recording_ids:
            out += sorted(base.glob(f"*/*/{id_filename(rid)}.parquet"))
        return out

    def _empty(self, kind: str, columns: list[str] | None) -> pd.DataFrame:
        try:
            schema = schemas.get(kind)
        except InputError:
            schema = None
        df = schema.empty().to_pandas() if schema is not None else pd.DataFrame()
        if self.layout == "partitioned":
            df = df.assign(**{k: pd.Series(dtype="string") for k in PARTITION_KEYS})
        return df[columns] if columns is not None else df

    def table(
        self,
        kind: str,
        filter: Filter = None,
        columns: list[str] | None = None,
        lazy: bool = False,
        recording_ids: Iterable[str] | None = None,
    ) -> Any:
        """Read table ``kind`` (``events``, ``recordings``, ``region_stats``, ...).

        Parameters
        ----------
        kind : str
            Table name: a directory of a partitioned dataset or ``<kind>.parquet``
            (or ``samples/``) of a flat one.
        filter : dict, list of (column, op, value) or pyarrow Expression, optional
            Row filter; on a partitioned dataset ``corpus``/``reader`` filters prune
            whole directories.
        columns : list of str, optional
        lazy : bool
            Return a dask DataFrame with one partition per file instead of pandas.
        recording_ids : iterable of str, optional
            Only these recordings' files (fast: no scan of the others).

        Returns
        -------
        pandas.DataFrame or dask.dataframe.DataFrame
        """
        if self.layout == "flat" and kind != "recordings" and isinstance(filter, Mapping):
            filter, ids_from = self._flat_partition_filter(filter)
            if ids_from is not None:
                keep = set(ids_from)
                recording_ids = [r for r in (recording_ids or keep) if r in keep]
        expr = to_expression(filter)
        ids = None if recording_ids is None else list(recording_ids)
        files = self.files(kind, ids if self.layout == "partitioned" or kind == "samples" else None)
        if ids is not None and not (self.layout == "partitioned" or kind == "samples"):
            rid = pc.field("recording_id").isin(ids)
            expr = rid if expr is None else expr & rid
        if not files:
            if kind not in self.tables():
                raise InputError(f"no table {kind!r}; tables: {self.tables()}", path=self.path)
            if next((self.path / kind).glob("*/*/*.npz"), None) is not None:
                raise InputError(f"{kind!r} holds arrays: use .arrays({kind!r}, recording_id)")
            empty = self._empty(kind, columns)
            if lazy:
                import dask.dataframe as dd

                return dd.from_pandas(empty, npartitions=1)
            return empty
        partitioned = self.layout == "partitioned"
        base = str(self.path / kind)
        if lazy:
            return self._lazy(files, partitioned, base, columns, expr, kind)
        if partitioned:
            d = pds.dataset(
                [str(f) for f in files],
                format="parquet",
                partitioning=_HIVE,
                partition_base_dir=base,
            )
            df = d.to_table(columns=columns, filter=expr).to_pandas()
        elif kind == "samples":
            frames = [_read_flat_samples(str(f), columns, expr) for f in files]
            df = pd.concat(frames, ignore_index=True)
        else:
            df = (
                pds.dataset(str(files[0]), format="parquet")
                .to_table(columns=columns, filter=expr)
                .to_pandas()
            )
        return df

    def _flat_partition_filter(
        self, filter: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[str] | None]:
        """Resolve ``corpus``/``reader`` filters of a flat dataset through its recordings."""
        part = {k: v for k, v in filter.items() if k in PARTITION_KEYS}
        if not part:
            return dict(filter), None
        rec_filter = {("reader_id" if k == "reader" else k): v for k, v in part.items()}
        recs = self.table("recordings", rec_filter, columns=["recording_id"])
        rest = {k: v for k, v in filter.items() if k not in PARTITION_KEYS}
        return rest, recs["recording_id"].tolist()

    def _lazy(self, files, partitioned, base, columns, expr, kind):  # type: ignore[no-untyped-def]
        import dask.dataframe as dd

        paths = [str(f) for f in files]
        if partitioned:

            def read(p: str) -> pd.DataFrame:
                return _read_partitioned_file(p, base, columns, expr)
        elif kind == "samples":

            def read(p: str) -> pd.DataFrame:
                return _read_flat_samples(p, columns, expr)
        else:

            def read(p: str) -> pd.DataFrame:
                return (
                    pds.dataset(p, format="parquet")
                    .to_table(columns=columns, filter=expr)
                    .to_pandas()
                )

        meta = read(paths[0]).iloc[:0]
        return dd.from_map(read, paths, meta=meta, enforce_metadata=False)

    def samples(
        self,
        recording_ids: Iterable[str] | None = None,
        filter: Filter = None,
        columns: list[str] | None = None,
        lazy: bool = False,
    ) -> Any:
        """Gaze samples with a ``recording_id`` column (see :meth:`table`)."""
        return self.table("samples", filter, columns, lazy, recording_ids)

    def events(
        self,
        filter: Filter = None,
        source: str | None = None,
        method: str | None = None,
        event: str | None = None,
        lazy: bool = False,
    ) -> Any:
        """Events (tracker and detected), optionally of one ``source``/``method``/``event``."""
        kind = "events" if "events" in self.tables() else "tracker_events"
        extra = {
            col: val
            for col, val in (("source", source), ("method", method), ("event", event))
            if val is not None
        }
        if filter is None or isinstance(filter, Mapping):
            return self.table(kind, {**(filter or {}), **extra}, lazy=lazy)
        expr = to_expression(filter)
        for col, val in extra.items():
            term = pc.field(col) == val
            expr = term if expr is None else expr & term
        return self.table(kind, expr, lazy=lazy)

    def fixations(
        self,
        filter: Filter = None,
        source: str = "auto",
        method: str | None = None,
        eye: str | None = None,
    ) -> pd.DataFrame:
        """Fixations of exactly one source, method and eye (the rule every stage uses).

        Parameters
        ----------
        filter : dict, list of (column, op, value) or pyarrow Expression, optional
            Row filter (see :meth:`table`).
        source : {"auto", "detected", "tracker"}
            ``auto``: gazekit's detected fixations when the dataset has any, else the
            tracker's (:func:`gazekit.io.selection.select_events`).
        method : str, optional
            Detector or tracker name; needed when the source holds several.
        eye : str, optional
            ``left``, ``right`` or ``both``; needed when several are present.

        Returns
        -------
        pandas.DataFrame
            ``events`` rows with ``event == "fixation"`` (onsets and durations in ms,
            positions in the dataset's px frame); ``df.attrs["selection"]`` says which
            source, method and eye they are.

        Raises
        ------
        gazekit.InputError
            An ambiguous choice (several methods or eyes and none given), or a requested
            source/method/eye that is absent.
        """
        from gazekit.io.selection import select_events

        rows = self.events(filter, event="fixation")
        rows, sel = select_events(rows, source, method, eye)
        rows.attrs["selection"] = sel.to_dict()
        return rows

    def recordings(self, filter: Filter = None, lazy: bool = False) -> Any:
        """The recordings table (one row per recording).

        Parameters
        ----------
        filter : dict, list of (column, op, value) or pyarrow Expression, optional
            Row filter (see :meth:`table`).
        lazy : bool
            Return a dask DataFrame instead of pandas.

        Returns
        -------
        pandas.DataFrame or dask.dataframe.DataFrame
            Columns of the ``recordings`` schema.
        """
        return self.table("recordings", filter, lazy=lazy)

    @property
    def recording_ids(self) -> list[str]:
        """Ids of every recording, in the ``recordings`` table's order."""
        return [str(r) for r in self.table("recordings", columns=["recording_id"])["recording_id"]]

    def recording(self, recording_id: str) -> Recording:
        """One recording with its samples, geometry, tracker events, transcript and findings.

        Parameters
        ----------
        recording_id : str
            An id from :attr:`recording_ids`.

        Returns
        -------
        gazekit.recording.Recording
            Samples (``t_ms`` in ms, gaze in ``geometry.frame`` px), the provenance
            stored with them, and this recording's rows of the ``events`` (tracker
            source only), ``transcripts`` and ``findings`` tables.

        Raises
        ------
        gazekit.InputError
            When the dataset has no such recording (the message lists some that exist).
        """
        if self.layout == "flat" and str(recording_id) in self.recording_ids:
            from gazekit.io.dataset_dir import load_recording

            return load_recording(self.path, str(recording_id))  # fixation-only ones too
        files = self.files("samples", [str(recording_id)])
        if not files:
            known = self.recording_ids
            shown = ", ".join(known[:10]) + (f", … ({len(known)} in all)" if len(known) > 10 else "")
            raise InputError(
                f"no recording {recording_id!r} in this dataset; recordings: {shown or 'none'}",
                path=self.path,
            )
        meta = read_metadata(files[0])
        samples = read_frame(files[0], "samples")
        rec = Recording.from_provenance(samples, meta)

        def rows(kind: str) -> pd.DataFrame | None:
            if kind not in self.tables():
                return None
            df = self.table(kind, [("recording_id", "=", str(recording_id))])
            df = df.drop(columns=[c for c in PARTITION_KEYS if c in df.columns])
            return df.reset_index(drop=True) if len(df) else None

        kind = "events" if "events" in self.tables() else "tracker_events"
        ev = rows(kind)
        if ev is not None and "source" in ev.columns:
            ev = ev[ev["source"] == "tracker"].reset_index(drop=True)
        rec.events = ev if ev is not None and len(ev) else None
        rec.transcript = rows("transcripts")
        rec.findings = rows("findings")
        return rec

    def arrays(self, kind: str, recording_id: str) -> dict[str, np.ndarray]:
        """Array output ``kind`` (e.g. ``heatmaps``) of one recording, as a dict of arrays."""
        paths = sorted((self.path / kind).glob(f"*/*/{id_filename(recording_id)}.npz"))
        if not paths:
            raise InputError(f"no {kind!r} arrays for recording {recording_id!r}", path=self.path)
        with np.load(paths[0], allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    def manifest(self) -> pd.DataFrame:
        """Per-recording per-stage status of a pipeline dataset (``manifest.json`` rows if flat)."""
        if self.layout == "partitioned":
            from gazekit.io.layout import read_manifest_frame

            return read_manifest_frame(self.path)
        import json

        path = self.path / "manifest.json"
        if not path.is_file():
            raise InputError("dataset has no manifest.json", path=self.path)
        meta = json.loads(path.read_text("utf-8"))
        return pd.DataFrame({"recording_id": meta.get("recordings", [])})


def open_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Open a partitioned (pipeline) or flat (``gazekit convert``) dataset directory.

    Parameters
    ----------
    path : path-like
        The dataset directory.

    Returns
    -------
    Dataset

    Raises
    ------
    gazekit.InputError
        When ``path`` is not a directory or holds no gazekit dataset.
    """
    return Dataset(path)


#: The front door: ``gazekit.load(path)`` is :func:`open_dataset`.
load = open_dataset
