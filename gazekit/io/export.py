"""``gazekit export``: a gazekit dataset (or raw recordings) out in another format.

The inverse of :mod:`gazekit.io.convert`: the recordings of a dataset directory, with every
event of ``events.parquet`` (tracker-reported and detected), go to the writer registered
for the format in :data:`gazekit.io.base.WRITERS` (``bids``, ``asc``, ``egd``, ``reflacx``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from gazekit.errors import InputError
from gazekit.io import base
from gazekit.io.bids_common import check_id
from gazekit.io.dataset_dir import is_dataset_dir, load_recording, open_dir, recording_ids
from gazekit.io.parquet import read_frame, read_metadata
from gazekit.recording import Recording


def load_for_export(dataset: str | os.PathLike[str], **reader_options: Any) -> list[Recording]:
    """Recordings of a dataset directory with all their events, or of a raw input.

    Parameters
    ----------
    dataset : path-like
        A gazekit dataset directory (``gazekit convert``/``simulate`` output), or a file or
        corpus folder any reader recognises.
    **reader_options
        Passed to the reader for a raw input.

    Returns
    -------
    list of Recording
    """
    p = Path(dataset)
    if not p.exists():
        raise InputError("no such file or directory", path=p)
    if not is_dataset_dir(p):
        from gazekit.io.convert import expand_inputs

        return [rec for f in expand_inputs([p]) for rec in base.read(f, **reader_options)]
    recs = open_dir(p)
    f = p / "events.parquet"
    if f.is_file():
        ev = read_frame(f, "events")
        for rec in recs:
            sel = ev[ev["recording_id"] == rec.recording_id].reset_index(drop=True)
            rec.events = sel if len(sel) else None
    return recs


def _lazy(path: Path) -> tuple[list[Recording], Callable[[Recording], Recording]]:
    """Metadata-only recordings of a dataset directory, and the loader of a full one."""
    tables = {
        k: read_frame(path / f"{k}.parquet", k) if (path / f"{k}.parquet").is_file() else None
        for k in ("events", "transcripts", "findings")
    }
    metas = []
    for rid in recording_ids(path):
        f = path / "samples" / f"{check_id(rid, 'recording id')}.parquet"
        metas.append(Recording.from_provenance(pd.DataFrame(), read_metadata(f)))

    def load(meta: Recording) -> Recording:
        rec = load_recording(path, meta.recording_id, tables=tables)
        ev = tables["events"]
        if ev is not None:
            sel = ev[ev["recording_id"] == rec.recording_id].reset_index(drop=True)
            rec.events = sel if len(sel) else None
        return rec

    return metas, load


def export(
    dataset: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    fmt: str = "bids",
    *,
    overwrite: bool = False,
    **options: Any,
) -> list[Path]:
    """Write a dataset's recordings in format ``fmt`` under ``outdir``.

    Parameters
    ----------
    dataset : path-like
        See :func:`load_for_export`.
    outdir : path-like
        Output folder (the BIDS root for ``fmt="bids"``).
    fmt : str
        Writer name.
    overwrite : bool
        Write into a non-empty ``outdir``.
    **options
        Passed to the writer (``task``, ``dataset_name`` for BIDS).

    Returns
    -------
    list of Path
        Files written.
    """
    base._ensure_loaded()
    writer = base.WRITERS.get(fmt)
    out = Path(outdir)
    if fmt == "bids" and is_dataset_dir(dataset):
        # one recording in memory at a time
        recs, options["load"] = _lazy(Path(dataset))
    else:
        recs = load_for_export(dataset)
    if not recs:
        raise InputError("no recordings to export", path=dataset)
    if fmt == "bids":
        images = Path(dataset) / "images"
        options.setdefault("images_dir", images if images.is_dir() else None)
        options["overwrite"] = overwrite
    elif out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(
            "output directory is not empty; pass --overwrite to write into it", path=out
        )
    out.mkdir(parents=True, exist_ok=True)
    return writer(recs, out, **options)
