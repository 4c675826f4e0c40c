"""Intent labels for a whole gazekit dataset directory."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pandas as pd

from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.intent.labellers import IntentParams, label_fixations
from gazekit.io.parquet import read_frame, write_table

log = logging.getLogger(__name__)

SOURCES = ("auto", "detected", "tracker")


def _read(path: Path, kind: str, required: bool = True) -> pd.DataFrame | None:
    f = path / f"{kind}.parquet"
    if not f.is_file():
        if required:
            raise InputError(f"{kind}.parquet missing from gazekit dataset", path=path)
        return None
    return read_frame(f, kind)


def pick_fixations(events: pd.DataFrame, source: str = "auto") -> pd.DataFrame:
    """Fixation rows of one source: ``auto`` prefers detected, else tracker, per recording."""
    if source not in SOURCES:
        raise InputError(f"source must be one of {SOURCES}, got {source!r}")
    fx = events[events["event"] == "fixation"]
    if source != "auto":
        return fx[fx["source"] == source]
    parts = []
    for _, g in fx.groupby("recording_id", sort=False):
        det = g[g["source"] == "detected"]
        if len(det) and det["method"].nunique() > 1:
            m = sorted(det["method"].dropna().unique())[0]
            log.info("several detectors in %s: using %s", g["recording_id"].iloc[0], m)
            det = det[det["method"] == m]
        parts.append(det if len(det) else g[g["source"] == "tracker"])
    return pd.concat(parts, ignore_index=True) if parts else fx


def label_dataset(
    path: str | os.PathLike[str],
    regime: str = "radseq",
    *,
    source: str = "auto",
    params: IntentParams | None = None,
    output: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Label every recording of a gazekit dataset directory.

    Parameters
    ----------
    path : path
        Dataset directory with events, transcripts, findings and recordings tables.
    regime : str
        Labeller name (see :data:`gazekit.intent.labellers`).
    source : {"auto", "detected", "tracker"}
        Fixations to label; ``auto`` prefers detected ones per recording.
    params : IntentParams, optional
    output : path, optional
        Where to write the ``intent_labels`` table (Parquet, atomic).

    Returns
    -------
    DataFrame
        ``intent_labels`` rows of all recordings.
    """
    path = Path(path)
    events = _read(path, "events")
    recs = _read(path, "recordings")
    trans = _read(path, "transcripts", required=False)
    finds = _read(path, "findings", required=False)
    fix = pick_fixations(events, source)  # type: ignore[arg-type]
    out = []
    for row in recs.to_dict("records"):  # type: ignore[union-attr]
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
    if output is not None:
        write_table(df, output, "intent_labels", {"regime": regime, "source": source})
    return df
