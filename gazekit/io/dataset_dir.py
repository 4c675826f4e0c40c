"""The gazekit dataset directory: what ``gazekit convert`` writes and every stage reads.

Layout (every file written atomically)::

    DIR/manifest.json            gazekit version, schema versions, recording ids, parameters
    DIR/recordings.parquet       one row per recording (metadata, geometry)
    DIR/samples/<id>.parquet     samples (id percent-encoded, see io.layout), with the recording's provenance in the metadata
                                 (none for a fixation-only recording: its row of
                                 recordings.parquet is its provenance)
    DIR/events.parquet           tracker events (``source="tracker"``) and detected ones
    DIR/transcripts.parquet      dictation phrases/words
    DIR/findings.parquet         finding labels and geometry
    DIR/images/<image_id>.png    radiographs, DIR/anatomy/<image_id>.npz atlases (optional)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit import schemas
from gazekit._version import __version__
from gazekit.errors import InputError
from gazekit.io.layout import id_filename
from gazekit.io.parquet import atomic_open, read_frame, read_metadata, write_table
from gazekit.recording import Recording


def concat_tables(frames: list[pd.DataFrame | None], kind: str) -> pd.DataFrame | Any:
    """Concatenate the non-empty frames, or the empty table of schema ``kind``."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return schemas.get(kind).empty()
    return pd.concat(frames, ignore_index=True)


#: Largest gaze coordinate accepted (px). Trackers report gaze off the screen, but
#: never further than a few screen widths; the largest displays and radiographs are
#: under 16 000 px. A value beyond ±100 000 px is a corrupt or sentinel value.
MAX_GAZE_PX = 100_000.0


def check_samples(rec: Recording) -> None:
    """Refuse samples with impossible gaze: infinite or beyond ±:data:`MAX_GAZE_PX`.

    NaN (track loss, blinks) is fine; time is checked by the readers.

    Parameters
    ----------
    rec : Recording

    Raises
    ------
    InputError
        Naming the recording, the column, how many samples and the first one.
    """
    import numpy as np

    for col in ("x_px", "y_px"):
        if col not in rec.samples:
            continue
        v = rec.samples[col].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = np.isinf(v) | (np.abs(np.nan_to_num(v)) > MAX_GAZE_PX)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"recording {rec.recording_id!r}: {int(bad.sum())} sample(s) have impossible "
                f"gaze (first: {v[i]:g} px at row {i}; at most ±{MAX_GAZE_PX:g} px)",
                path=rec.source_file or None,
                column=col,
            )


def write_samples_file(rec: Recording, out: Path) -> dict[str, Any]:
    """Write one recording's samples file; return its ``recordings`` table row.

    The file carries a ``recording_id`` column (dictionary-encoded by Parquet, a few
    bytes for the whole file), so its rows keep their key when many samples files are
    read as one table by pandas, polars, DuckDB or Dask.

    Parameters
    ----------
    rec : Recording
        Checked with :func:`check_samples` first.
    out : Path
        Dataset directory; the file is ``out/samples/<encoded recording_id>.parquet``
        (:func:`gazekit.io.layout.id_filename`).

    A fixation-only recording (no samples) gets no file: only ``samples/`` is created.

    Returns
    -------
    dict
        The recording's ``recordings`` row.
    """
    import pyarrow as pa

    if rec.fixation_only and not len(rec.samples):
        (out / "samples").mkdir(parents=True, exist_ok=True)
        return rec.metadata()

    check_samples(rec)
    path = out / "samples" / f"{id_filename(rec.recording_id, 'recording_id')}.parquet"
    table = schemas.get("samples").conform(
        rec.samples.drop(columns=["recording_id"], errors="ignore"), source=str(path)
    )
    ids = pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(table.num_rows, np.int32)), pa.array([str(rec.recording_id)])
    )
    write_table(table.append_column("recording_id", ids), path, "samples", rec.provenance())
    return rec.metadata()


def samples_without_key(samples: pd.DataFrame, recording_id: str, path: Path) -> pd.DataFrame:
    """A samples file's rows without its ``recording_id`` column, checked against the file's id.

    Raises
    ------
    InputError
        The column names another recording (a renamed or stale file).
    """
    if "recording_id" not in samples.columns:
        return samples
    ids = samples["recording_id"].unique()
    if len(ids) and (len(ids) > 1 or str(ids[0]) != str(recording_id)):
        raise InputError(
            f"samples file holds recording(s) {list(map(str, ids[:3]))}, its metadata says "
            f"{recording_id!r} (renamed or stale file?)",
            path=path,
            column="recording_id",
        )
    return samples.drop(columns=["recording_id"])


def write_dataset_tables(
    rows: list[dict[str, Any]],
    recordings: list[Recording],
    out: Path,
    parameters: dict[str, Any] | None,
    *,
    created_by: str = "gazekit.synthetic",
    extra: dict[str, Any] | None = None,
) -> None:
    """Write the per-dataset tables and ``manifest.json`` (samples files are written already).

    ``rows`` are the ``recordings`` rows returned by :func:`write_samples_file`;
    ``recordings`` supply the events, transcripts and findings; ``extra`` adds keys to
    the manifest (e.g. the conversion's failures).
    """
    write_table(pd.DataFrame(rows), out / "recordings.parquet", "recordings")
    write_table(
        concat_tables([r.events for r in recordings], "events"), out / "events.parquet", "events"
    )
    write_table(
        concat_tables([r.transcript for r in recordings], "transcripts"),
        out / "transcripts.parquet",
        "transcripts",
    )
    write_table(
        concat_tables([r.findings for r in recordings], "findings"),
        out / "findings.parquet",
        "findings",
    )
    manifest = {
        "gazekit_version": __version__,
        "created_by": created_by,
        "schema_versions": {
            k: schemas.get(k).version
            for k in ("samples", "recordings", "events", "transcripts", "findings")
        },
        "recordings": [r["recording_id"] for r in rows],
        "fixation_only": bool(rows) and all(bool(r.get("fixation_only")) for r in rows),
        "parameters": parameters or {},
        **(extra or {}),
    }
    with atomic_open(out / "manifest.json", "w", encoding="utf-8") as fh:
        json.dump(schemas.jsonable(manifest), fh, indent=2, sort_keys=True)


def write_dataset(
    recordings: list[Recording],
    outdir: str | os.PathLike[str],
    parameters: dict[str, Any] | None = None,
    *,
    created_by: str = "gazekit.synthetic",
) -> Path:
    """Write recordings in the gazekit dataset layout (what ``gazekit convert`` produces)."""
    out = Path(outdir)
    rows = [write_samples_file(rec, out) for rec in recordings]
    write_dataset_tables(rows, recordings, out, parameters, created_by=created_by)
    return out


def is_dataset_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a gazekit dataset directory."""
    p = Path(path)
    return p.is_dir() and (p / "recordings.parquet").is_file() and (p / "samples").is_dir()


def _table(path: Path, kind: str) -> pd.DataFrame | None:
    f = path / f"{kind}.parquet"
    return read_frame(f, kind) if f.is_file() else None


def recording_ids(path: str | os.PathLike[str]) -> list[str]:
    """Recording ids of a dataset directory, in the ``recordings`` table's order."""
    path = Path(path)
    if not is_dataset_dir(path):
        raise InputError(
            "not a gazekit dataset directory (no recordings.parquet + samples/)", path=path
        )
    return [str(r) for r in read_frame(path / "recordings.parquet", "recordings")["recording_id"]]


def samples_files(path: str | os.PathLike[str]) -> list[Path]:
    """The samples file of every recording in the ``recordings`` table, in its order.

    Fixation-only recordings (``fixation_only`` true) have none and are left out.

    Parameters
    ----------
    path : path-like
        Dataset directory.

    Returns
    -------
    list of Path

    Raises
    ------
    InputError
        A listed recording has no samples file, or a samples file belongs to no listed
        recording (left from an earlier run into the same directory); both would
        otherwise change the numbers without a word.
    """
    path = Path(path)
    recording_ids(path)  # a dataset directory, or a clear error
    table = read_frame(path / "recordings.parquet", "recordings")
    only = (
        table["fixation_only"].fillna(False).astype(bool)
        if "fixation_only" in table
        else pd.Series(False, index=table.index)
    )
    ids = [str(r) for r in table.loc[~only, "recording_id"]]  # fixation-only: no samples file
    files = [path / "samples" / f"{id_filename(rid, 'recording_id')}.parquet" for rid in ids]
    missing = [f for f in files if not f.is_file()]
    if missing:
        raise InputError(
            f"{len(missing)} recording(s) listed in recordings.parquet have no samples file "
            f"(e.g. {missing[0].name}); restore them or convert the dataset again",
            path=missing[0],
        )
    listed = {f.name for f in files}
    stray = sorted(
        f.name
        for f in (path / "samples").glob("*.parquet")
        if f.name[0] not in "._" and f.name not in listed
    )
    if stray:
        raise InputError(
            f"samples file(s) {stray[:3]} belong to no recording in recordings.parquet "
            "(left from an earlier run?); remove them or write the dataset into an empty "
            "directory",
            path=path / "samples" / stray[0],
        )
    return files


def load_recording(
    path: str | os.PathLike[str],
    recording_id: str,
    *,
    tables: dict[str, pd.DataFrame | None] | None = None,
) -> Recording:
    """One recording of a dataset directory, with its events, transcript and findings.

    Parameters
    ----------
    path : path-like
        Dataset directory.
    recording_id : str
    tables : dict, optional
        Already-read ``events``/``transcripts``/``findings`` tables (to load many
        recordings without re-reading them).
    """
    path = Path(path)
    f = path / "samples" / f"{id_filename(recording_id, 'recording_id')}.parquet"
    if tables is None:
        tables = {k: _table(path, k) for k in ("events", "transcripts", "findings")}
    if f.is_file():
        meta = read_metadata(f)
        samples = samples_without_key(read_frame(f, "samples"), meta["recording_id"], f)
        rec = Recording.from_provenance(samples, meta)
    else:
        rec = _fixation_only_recording(path, recording_id, tables, f)

    def rows(kind: str) -> pd.DataFrame | None:
        t = tables.get(kind)
        if t is None or not len(t):
            return None
        sel = t[t["recording_id"] == recording_id].reset_index(drop=True)
        return sel if len(sel) else None

    ev = rows("events")
    if ev is not None:
        ev = ev[ev["source"] == "tracker"].reset_index(drop=True)
    rec.events = ev if ev is not None and len(ev) else None
    rec.transcript = rows("transcripts")
    rec.findings = rows("findings")
    return rec


def _fixation_only_recording(
    path: Path, recording_id: str, tables: dict[str, pd.DataFrame | None], f: Path
) -> Recording:
    """A fixation-only recording rebuilt from its ``recordings`` row (it has no samples file)."""
    recs = tables.get("recordings")
    if recs is None:
        recs = tables["recordings"] = read_frame(path / "recordings.parquet", "recordings")
    row = recs[recs["recording_id"] == recording_id]
    if not len(row):
        ids = [str(r) for r in recs["recording_id"]]
        shown = ", ".join(ids[:20]) + (f" ... ({len(ids) - 20} more)" if len(ids) > 20 else "")
        raise InputError(
            f"no recording {recording_id!r} in this dataset; recordings: {shown or 'none'}",
            path=path,
        )
    if "fixation_only" not in row or not bool(row["fixation_only"].iloc[0]):
        raise InputError(f"no samples for recording {recording_id!r}", path=f)
    meta = {k: (None if pd.isna(v) else v) for k, v in row.iloc[0].to_dict().items()}
    return Recording.from_provenance(schemas.get("samples").empty().to_pandas(), meta)


def open_dir(path: str | os.PathLike[str]) -> list[Recording]:
    """Every recording of a dataset directory (see :func:`load_recording`)."""
    path = Path(path)
    samples_files(path)  # every listed recording with samples has its file, none is stray
    ids = recording_ids(path)
    tables = {k: _table(path, k) for k in ("events", "transcripts", "findings", "recordings")}
    return [load_recording(path, rid, tables=tables) for rid in ids]
