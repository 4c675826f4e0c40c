"""Event detection over files: dataset directories or samples Parquet files → events.parquet.

What ``gazekit events`` runs. Inputs are gazekit dataset directories (as
``gazekit convert``/``gazekit simulate --format parquet`` write them) or single
``samples`` Parquet files with their provenance metadata. The output
``OUTDIR/events.parquet`` keeps every existing row except the detected rows of the
same method for the recordings processed now, so running the command on a dataset
itself replaces its detected events and keeps the tracker's.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.recording import Recording

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Item:
    """One recording to process: a dataset directory and id, or a samples file."""

    path: Path
    recording_id: str | None = None

    def load(self) -> Recording:
        """Read the recording (samples and provenance)."""
        from gazekit.io.parquet import read_frame, read_metadata

        if self.recording_id is not None:
            from gazekit.io.dataset_dir import load_recording

            return load_recording(self.path, self.recording_id, tables={})
        meta = read_metadata(self.path)
        if "recording_id" not in meta:
            raise InputError("samples file has no recording provenance", path=self.path)
        return Recording.from_provenance(read_frame(self.path, "samples"), meta)


def expand_inputs(paths: Sequence[str | os.PathLike[str]]) -> list[Item]:
    """Dataset directories → one :class:`Item` per recording; Parquet files as they are."""
    from gazekit.io.dataset_dir import is_dataset_dir, recording_ids

    items: list[Item] = []
    for p in map(Path, paths):
        if p.is_dir():
            if not is_dataset_dir(p):
                raise InputError(
                    "not a gazekit dataset directory (no recordings.parquet + samples/)", path=p
                )
            items += [Item(p, rid) for rid in recording_ids(p)]
        elif p.is_file() and p.suffix == ".parquet":
            items.append(Item(p))
        else:
            raise InputError("input must be a dataset directory or a samples .parquet file", path=p)
    unique: dict[tuple[Path, str | None], Item] = {}
    for it in items:  # an input given twice is detected once
        unique.setdefault((it.path.resolve(), it.recording_id), it)
    seen: dict[str, Path] = {}
    for it in unique.values():
        if it.recording_id is None:
            continue
        if it.recording_id in seen:
            raise InputError(
                f"recording {it.recording_id!r} is also in {seen[it.recording_id]}; "
                "pass each recording once",
                path=it.path,
            )
        seen[it.recording_id] = it.path
    return list(unique.values())


def _with_geometry(rec: Recording, override: dict[str, Any] | None) -> Recording:
    if override:
        d = rec.geometry.to_dict()
        d.update({k: v for k, v in override.items() if v is not None})
        rec.geometry = Geometry.from_dict(d)
    return rec


def detect_items(
    items: Sequence[Item],
    method: str = "ivt",
    *,
    jobs: int = 1,
    geometry: dict[str, Any] | None = None,
    progress: Callable[[Iterator[pd.DataFrame], int], Iterator[pd.DataFrame]] | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Load and detect every item (``jobs`` threads); events of all, in input order.

    ``geometry`` fills in or overrides geometry fields (e.g. ``viewing_distance_mm``);
    ``progress`` wraps the result iterator (e.g. a tqdm bar).
    """
    from gazekit import events

    def one(item: Item) -> pd.DataFrame:
        rec = _with_geometry(item.load(), geometry)
        try:
            return events.detect(rec, method, **params)
        except InputError as exc:
            if exc.path is None:
                raise InputError(exc.message, path=item.path, column=exc.column) from None
            raise

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        it: Iterator[pd.DataFrame] = pool.map(one, items)
        if progress is not None:
            it = progress(it, len(items))
        frames = [f for f in it if len(f)]
    if not frames:
        from gazekit import schemas

        return schemas.get("events").empty().to_pandas()
    return pd.concat(frames, ignore_index=True)


def write_events(
    detected: pd.DataFrame, outdir: str | os.PathLike[str], method: str, parameters: dict[str, Any]
) -> Path:
    """Write ``OUTDIR/events.parquet`` atomically, replacing this method's detected rows.

    Rows already there are kept unless ``source == "detected"``, ``method == method``
    and their recording is among ``detected``'s (tracker rows are always kept). The
    metadata's ``detectors`` dict maps each method to its parameters.
    """
    from gazekit.io.parquet import read_frame, read_metadata, write_table

    out = Path(outdir) / "events.parquet"
    keep: pd.DataFrame | None = None
    detectors: dict[str, Any] = {}
    if out.is_file():
        old = read_frame(out, "events")
        detectors = dict(read_metadata(out).get("detectors") or {})
        ids = set(detected["recording_id"].astype(str))
        drop = (
            (old["source"] == "detected")
            & (old["method"] == method)
            & old["recording_id"].astype(str).isin(ids)
        )
        keep = old[~drop.fillna(False).to_numpy(dtype=bool)]
    detectors[method] = parameters
    frames = [f for f in (keep, detected) if f is not None and len(f)]
    table = pd.concat(frames, ignore_index=True) if frames else detected
    Path(outdir).mkdir(parents=True, exist_ok=True)
    write_table(
        table, out, "events", {"detectors": detectors, "method": method, "parameters": parameters}
    )
    log.info("wrote %d %s events (%d rows in all) → %s", len(detected), method, len(table), out)
    return out
