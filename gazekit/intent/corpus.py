"""Intent labels for a whole gazekit dataset directory."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.intent.labellers import IntentParams, label_fixations
from gazekit.io.parquet import read_frame, write_table
from gazekit.io.selection import select_events

log = logging.getLogger(__name__)


def _read(path: Path, kind: str, required: bool = True) -> pd.DataFrame | None:
    f = path / f"{kind}.parquet"
    if not f.is_file():
        if required:
            raise InputError(f"{kind}.parquet missing from gazekit dataset", path=path)
        return None
    return read_frame(f, kind)


def label_dataset(
    path: str | os.PathLike[str],
    regime: str = "radseq",
    *,
    source: str = "auto",
    method: str | None = None,
    eye: str | None = None,
    params: IntentParams | None = None,
    output: str | os.PathLike[str] | None = None,
    progress: Callable[[Iterator[dict[str, Any]], int], Iterator[dict[str, Any]]] | None = None,
) -> pd.DataFrame:
    """Label every recording of a gazekit dataset directory.

    Parameters
    ----------
    path : path
        Dataset directory with events, transcripts, findings and recordings tables.
    regime : str
        Labeller name (see :data:`gazekit.intent.labellers`).
    source : {"auto", "detected", "tracker"}
        Fixations to label; ``auto`` takes detected ones if the dataset has any, else
        the tracker's (see :mod:`gazekit.io.selection`).
    method, eye : str, optional
        Detector/tracker name and eye, needed when the source holds several.
    params : IntentParams, optional
    output : path, optional
        Where to write the ``intent_labels`` table (Parquet, atomic).
    progress : callable, optional
        ``progress(rows, n)`` wraps the iterator over the ``n`` recordings (e.g. a tqdm
        bar).

    Returns
    -------
    DataFrame
        ``intent_labels`` rows of all recordings; ``attrs["gazekit"]["selection"]`` is
        the source, method and eye labelled.

    Raises
    ------
    InputError
        No fixations in the dataset (run ``gazekit events`` first), an ambiguous
        source/method/eye, or a recording the labeller refuses.
    """
    path = Path(path)
    events = _read(path, "events")
    recs = _read(path, "recordings")
    trans = _read(path, "transcripts", required=False)
    finds = _read(path, "findings", required=False)
    fix, sel = select_events(events, source, method, eye, require=True)
    out = []
    rows: Iterator[dict[str, Any]] = iter(recs.to_dict("records"))  # type: ignore[union-attr]
    if progress is not None:
        rows = progress(rows, len(recs))  # type: ignore[arg-type]
    for row in rows:
        rid = row["recording_id"]
        geom = Geometry.from_dict(row) if row.get("frame") else None
        f = fix[fix["recording_id"] == rid]
        t = trans[trans["recording_id"] == rid] if trans is not None else None
        d = finds[finds["recording_id"] == rid] if finds is not None else None
        try:
            out.append(
                label_fixations(
                    f, t, d, regime, geometry=geom, params=params, recording_id=str(rid)
                )
            )
        except InputError as e:
            raise InputError(f"recording {rid}: {e}", path=path) from None
    df = pd.concat(out, ignore_index=True) if out else None
    if df is None:
        raise InputError("dataset has no recordings", path=path)
    meta = {"regime": regime, "selection": sel.to_dict()}
    if output is not None:
        write_table(df, output, "intent_labels", meta)
    df.attrs["gazekit"] = meta
    return df
