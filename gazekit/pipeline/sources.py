"""Source units: what one pipeline task converts.

A *unit* is either

* ``"source"``: a raw file or directory that :func:`gazekit.io.read` understands
  (an EyeLink ``.asc``, a REFLACX reading directory, ...), possibly holding several
  recordings; or
* ``"gazekit"``: one recording of a flat gazekit dataset directory (what
  ``gazekit convert`` / ``gazekit simulate --format parquet`` write): its
  ``samples/<recording_id>.parquet`` plus its rows of the shared ``events``,
  ``transcripts`` and ``findings`` tables.

The cheap signature (sizes and mtimes) of a unit covers the shared tables too; its
content hash covers only the unit's own bytes and rows, so editing one recording's
rows of a shared table re-hashes every unit of that dataset but recomputes only the
recording whose rows changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gazekit.errors import InputError
from gazekit.io.parquet import atomic_path, read_frame
from gazekit.pipeline import layout
from gazekit.recording import Recording

log = logging.getLogger(__name__)

#: Shared tables of a flat gazekit dataset: file name -> Recording attribute.
SHARED_TABLES = {
    "events.parquet": "events",
    "transcripts.parquet": "transcript",
    "findings.parquet": "findings",
}


@dataclass(frozen=True)
class Unit:
    """One unit of pipeline work (see module docstring).

    Attributes
    ----------
    path : str
        Absolute path of the source file or directory (the manifest key).
    kind : {"source", "gazekit"}
    shared : tuple of str
        Shared table files a ``"gazekit"`` unit reads its rows from.
    """

    path: str
    kind: str = "source"
    shared: tuple[str, ...] = ()


def is_flat_dataset(path: Path) -> bool:
    """Whether ``path`` is a flat gazekit dataset directory (``samples/*.parquet``)."""
    return (
        path.is_dir()
        and (path / "samples").is_dir()
        and ((path / "manifest.json").is_file() or (path / "recordings.parquet").is_file())
    )


def _flat_units(root: Path) -> list[Unit]:
    shared = tuple(str(root / n) for n in SHARED_TABLES if (root / n).is_file())
    if (root / "recordings.parquet").is_file():
        from gazekit.io.dataset_dir import samples_files

        # every listed recording has its file, and no file is left from another run
        names = sorted(f.name for f in samples_files(root))
    else:
        with os.scandir(root / "samples") as it:
            names = sorted(
                e.name for e in it if e.name.endswith(".parquet") and e.name[0] not in "._"
            )
    return [Unit(str(root / "samples" / n), "gazekit", shared) for n in names]


def discover(sources: Iterable[str | os.PathLike[str]]) -> list[Unit]:
    """Expand the command-line sources into units, sorted and without duplicates.

    A flat gazekit dataset directory gives one unit per recording; a directory that
    contains such datasets (one level down) gives theirs; any other file or directory
    is one ``"source"`` unit read by :func:`gazekit.io.read`.

    Raises
    ------
    InputError
        When a source does not exist.
    """
    units: dict[str, Unit] = {}
    for src in sources:
        path = Path(src).resolve()
        if not path.exists():
            raise InputError("source does not exist", path=src)
        if is_flat_dataset(path):
            found = _flat_units(path)
        elif path.is_dir() and any(is_flat_dataset(p) for p in path.iterdir()):
            found = [
                u for p in sorted(path.iterdir()) if is_flat_dataset(p) for u in _flat_units(p)
            ]
        else:
            found = [Unit(str(path))]
        for u in found:
            units.setdefault(u.path, u)
    return [units[k] for k in sorted(units)]


def signature(unit: Unit) -> str:
    """Cheap change detector: sizes and mtimes of the unit and its shared tables."""
    own = layout.signature(unit.path)
    if not unit.shared:
        return own
    return layout.digest(own, [_file_sig(p) for p in unit.shared])


def _file_sig(path: str) -> str:
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"


def _cache_file(path: str, sig: str) -> Path:
    stem = layout.digest(os.path.abspath(path))
    return Path(tempfile.gettempdir()) / "gazekit-shared" / f"{stem}-{layout.digest(sig)}.arrow"


def _build_cache(path: str, cache: Path) -> None:
    """Sort a shared table by recording id into an uncompressed Arrow IPC file."""
    table = pq.read_table(path)
    if "recording_id" in table.column_names:
        table = table.sort_by("recording_id")
    with atomic_path(cache) as tmp, pa.OSFile(str(tmp), "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    for old in cache.parent.glob(cache.name.split("-")[0] + "-*.arrow"):
        if old != cache:
            with contextlib.suppress(OSError):
                old.unlink()


@lru_cache(maxsize=8)
def _shared_index(path: str, sig: str) -> tuple[pa.Table, dict[str, tuple[int, int]]]:
    """A shared table sorted by recording id, and each recording's row range.

    The sorted table is cached as an uncompressed Arrow IPC file in the temporary
    directory and memory-mapped, so workers on one machine share it through the page
    cache and only the pages of the rows they slice are touched; the shared tables of a
    large corpus are never copied into each worker's heap.
    """
    cache = _cache_file(path, sig)
    if not cache.is_file():
        _build_cache(path, cache)
    table = pa.ipc.open_file(pa.memory_map(str(cache), "r")).read_all()
    if table.num_rows == 0 or "recording_id" not in table.column_names:
        return table.slice(0, 0), {}
    runs = pc.run_end_encode(table.column("recording_id").combine_chunks())
    ends = runs.run_ends.to_pylist()
    starts = [0, *ends[:-1]]
    index = dict(zip(runs.values.to_pylist(), zip(starts, ends, strict=True), strict=True))
    return table, index


def shared_rows(path: str, recording_id: str) -> pa.Table:
    """The rows of ``recording_id`` in shared table ``path`` (possibly zero rows)."""
    table, index = _shared_index(path, _file_sig(path))
    start, stop = index.get(recording_id, (0, 0))
    return table.slice(start, stop - start)


def _recording_id(unit: Unit) -> str:
    return layout.recording_id_from_path(unit.path)


def content_hash(unit: Unit) -> str:
    """blake2b of the unit's bytes (and, for ``"gazekit"`` units, of its shared rows)."""
    own = layout.content_hash(unit.path)
    if unit.kind != "gazekit":
        return own
    h = hashlib.blake2b(own.encode(), digest_size=16)
    rid = _recording_id(unit)
    for path in unit.shared:
        rows = shared_rows(path, rid)
        sink = io.BytesIO()
        with pa.ipc.new_stream(sink, rows.schema.remove_metadata()) as w:
            w.write_table(rows.replace_schema_metadata(None))
        h.update(Path(path).name.encode() + b"\0" + sink.getvalue())
    return h.hexdigest()


def read_gazekit_unit(unit: Unit) -> list[Recording]:
    """Load one recording of a flat gazekit dataset, with its shared-table rows."""
    samples = read_frame(unit.path, "samples")
    meta = samples.attrs.pop("gazekit")
    samples.attrs = {}
    rec = Recording.from_provenance(samples.drop(columns=["recording_id"], errors="ignore"), meta)
    for path in unit.shared:
        rows = shared_rows(path, rec.recording_id)
        frame = rows.to_pandas() if rows.num_rows else None
        if frame is not None and SHARED_TABLES[Path(path).name] == "events":
            # only the tracker's events: detected rows of an earlier `gazekit events` run
            # would otherwise sit beside this run's detection under the same method name
            frame = frame[frame["source"] == "tracker"].reset_index(drop=True)
            frame = frame if len(frame) else None
        setattr(rec, SHARED_TABLES[Path(path).name], frame)
    return [rec]


def read_unit(unit: Unit, **params: Any) -> list[Recording]:
    """Default conversion: a flat-dataset recording, or :func:`gazekit.io.read` of a source."""
    if unit.kind == "gazekit":
        if params:
            log.debug("reader parameters %s ignored for converted recordings", sorted(params))
        return read_gazekit_unit(unit)
    try:
        from gazekit.io import read
    except ImportError:
        raise InputError(
            "reading raw tracker files needs gazekit.io.read, which this installation lacks",
            path=unit.path,
        ) from None
    recs = read(unit.path, **params)
    return list(recs)
