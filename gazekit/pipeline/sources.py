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
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gazekit.errors import InputError
from gazekit.io import layout
from gazekit.io.parquet import atomic_path, read_frame
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
        Absolute path of the source file or directory.
    kind : {"source", "gazekit", "egd", "reflacx"}
        ``egd``/``reflacx``: one reading of a corpus folder
        (:mod:`gazekit.pipeline.corpora`).
    shared : tuple of str
        Shared table files a ``"gazekit"`` unit reads its rows from.
    member : str
        The reading within ``path`` (EGD: ``"<session>/<dicom_id>"``), else ``""``.
    ranges : tuple of (int, int, int)
        EGD: byte ranges of the reading's rows in ``eye_gaze.csv`` and the file line
        of each range's first row.
    cache : str
        Directory for per-dataset caches (not part of the unit's identity).
    """

    path: str
    kind: str = "source"
    shared: tuple[str, ...] = ()
    member: str = ""
    ranges: tuple[tuple[int, int, int], ...] = field(default=(), compare=False, repr=False)
    cache: str = field(default="", compare=False, repr=False)

    @property
    def id(self) -> str:
        """The manifest key: the path, plus ``::member`` for a reading of a corpus file."""
        return f"{self.path}::{self.member}" if self.member else self.path


def is_flat_dataset(path: Path) -> bool:
    """Whether ``path`` is a flat gazekit dataset directory (``samples/*.parquet``)."""
    return (
        path.is_dir()
        and (path / "samples").is_dir()
        and ((path / "manifest.json").is_file() or (path / "recordings.parquet").is_file())
    )


def _flat_units(root: Path, cache: str) -> list[Unit]:
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
    return [Unit(str(root / "samples" / n), "gazekit", shared, cache=cache) for n in names]


def is_pipeline_dataset(path: Path) -> bool:
    """Whether ``path`` is a pipeline output dataset (it holds the manifest)."""
    return (path / layout.MANIFEST_NAME).is_file()


def _inside(path: Path, excluded: list[Path]) -> bool:
    return any(path == e or e in path.parents for e in excluded)


def _expand(path: Path, excluded: list[Path]) -> list[Path]:
    """Files and corpus folders under a folder, found as ``gazekit convert`` finds them."""
    from gazekit.io.convert import expand_inputs

    found = [p.resolve() for p in expand_inputs([path])]
    return [p for p in found if not _inside(p, excluded)]


def discover(
    sources: Iterable[str | os.PathLike[str]],
    dataset: str | os.PathLike[str] | None = None,
) -> list[Unit]:
    """Expand the command-line sources into units, sorted and without duplicates.

    A flat gazekit dataset directory gives one unit per recording; a directory that
    contains such datasets (one level down) gives theirs; an EGD or REFLACX corpus
    folder gives one unit per reading (:mod:`gazekit.pipeline.corpora`); any other
    directory is searched for tracker files and corpus folders as ``gazekit convert``
    searches it; a file is one ``"source"`` unit read by :func:`gazekit.io.read`.
    The output ``dataset`` (and any other pipeline dataset) is never a source, even
    when it lies inside one.

    Raises
    ------
    InputError
        When a source does not exist, or a directory holds nothing readable.
    """
    from gazekit.pipeline import corpora

    excluded = [Path(dataset).resolve()] if dataset is not None else []
    cache = str(Path(dataset).resolve() / layout.CACHE_NAME) if dataset is not None else ""
    cache_dir = Path(cache) if cache else None

    def make(path: str, kind: str = "source", **kw: Any) -> Unit:
        return Unit(path, kind, cache=cache, **kw)

    units: dict[str, Unit] = {}
    for src in sources:
        path = Path(src).resolve()
        if not path.exists():
            raise InputError("source does not exist", path=src)
        if not (path.is_dir() or path.is_file()):  # a device, pipe or socket never ends
            raise InputError("not a regular file or directory; pass a recording file", path=src)
        if _inside(path, excluded) or is_pipeline_dataset(path):
            raise InputError("a pipeline dataset cannot be its own source", path=src)
        if is_flat_dataset(path):
            found = _flat_units(path, cache)
        elif path.is_dir() and any(is_flat_dataset(p) for p in path.iterdir()):
            found = [
                u
                for p in sorted(path.iterdir())
                if is_flat_dataset(p) and not _inside(p.resolve(), excluded)
                for u in _flat_units(p, cache)
            ]
        elif corpora.corpus_kind(path):
            found = corpora.member_units(path, make, cache_dir)
        elif path.is_dir():
            found = []
            for p in _expand(path, excluded):
                if corpora.corpus_kind(p):
                    found += corpora.member_units(p, make, cache_dir)
                else:
                    found.append(make(str(p)))
            if not found:
                raise InputError("no tracker files or corpus folders found here", path=src)
        else:
            found = [make(str(path))]
        for u in found:
            units.setdefault(u.id, u)
    return [units[k] for k in sorted(units)]


_signature_memo: dict[str, str] = {}


def clear_caches() -> None:
    """Forget file signatures memoised during one planning pass."""
    _signature_memo.clear()


def _memo_signature(path: str) -> str:
    if path not in _signature_memo:
        _signature_memo[path] = layout.signature(path)
    return _signature_memo[path]


def signature(unit: Unit) -> str:
    """Cheap change detector: sizes and mtimes of what the unit is read from."""
    from gazekit.pipeline import corpora

    if unit.kind == corpora.EGD:
        own = layout.digest(_memo_signature(unit.path), unit.member)
    elif unit.kind == corpora.REFLACX:
        own = corpora.reflacx_signature(unit)
    else:
        own = layout.signature(unit.path)
    side = [_file_sig(str(p)) for p in geometry_sidecars(unit)]
    if not unit.shared and not side:
        return own
    return layout.digest(own, [_memo_file_sig(p) for p in unit.shared], side)


def _memo_file_sig(path: str) -> str:
    key = f"file:{path}"
    if key not in _signature_memo:
        _signature_memo[key] = _file_sig(path)
    return _signature_memo[key]


def _file_sig(path: str) -> str:
    st = os.stat(path)
    return f"{st.st_size}:{st.st_mtime_ns}"


def _cache_dir(unit: Unit, path: str) -> Path:
    if unit.cache:
        return Path(unit.cache) / "shared"
    return Path(path).parent / layout.CACHE_NAME / "shared"


def _cache_file(cache_dir: Path, path: str, sig: str) -> Path:
    stem = layout.digest(os.path.abspath(path))
    return cache_dir / f"{stem}-{layout.digest(sig)}.arrow"


def _build_cache(path: str, cache: Path, content: str) -> None:
    """Sort a shared table by recording id into an uncompressed Arrow IPC file."""
    table = pq.read_table(path)
    if "recording_id" in table.column_names:
        table = table.sort_by("recording_id")
    table = table.replace_schema_metadata({b"gazekit_source_content": content.encode()})
    with atomic_path(cache) as tmp, pa.OSFile(str(tmp), "wb") as sink:
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    for old in cache.parent.glob(cache.name.split("-")[0] + "-*.arrow"):
        if old != cache:
            with contextlib.suppress(OSError):
                old.unlink()


@lru_cache(maxsize=8)
def _shared_index(
    path: str, sig: str, cache_dir: str
) -> tuple[pa.Table, dict[str, tuple[int, int]]]:
    """A shared table sorted by recording id, and each recording's row range.

    The sorted table is cached as an uncompressed Arrow IPC file in the dataset's
    cache directory and memory-mapped, so workers on one machine share it through
    the page cache and only the pages of the rows they slice are touched; the shared
    tables of a large corpus are never copied into each worker's heap. The cache
    records the source's content hash and is rebuilt when that does not match (once
    per worker process and source version).
    """
    content = layout.content_hash(path)
    cache = _cache_file(Path(cache_dir), path, sig)
    table = None
    if cache.is_file():
        with contextlib.suppress(OSError, pa.ArrowInvalid):
            table = pa.ipc.open_file(pa.memory_map(str(cache), "r")).read_all()
        meta = (table.schema.metadata or {}) if table is not None else {}
        if meta.get(b"gazekit_source_content") != content.encode():
            log.info("cache %s does not match %s; rebuilding it", cache, path)
            table = None
    if table is None:
        _build_cache(path, cache, content)
        table = pa.ipc.open_file(pa.memory_map(str(cache), "r")).read_all()
    table = table.replace_schema_metadata(None)
    if table.num_rows == 0 or "recording_id" not in table.column_names:
        return table.slice(0, 0), {}
    runs = pc.run_end_encode(table.column("recording_id").combine_chunks())
    ends = runs.run_ends.to_pylist()
    starts = [0, *ends[:-1]]
    index = dict(zip(runs.values.to_pylist(), zip(starts, ends, strict=True), strict=True))
    return table, index


def shared_rows(unit: Unit, path: str, recording_id: str) -> pa.Table:
    """The rows of ``recording_id`` in shared table ``path`` (possibly zero rows)."""
    table, index = _shared_index(path, _file_sig(path), str(_cache_dir(unit, path)))
    start, stop = index.get(recording_id, (0, 0))
    return table.slice(start, stop - start)


def _recording_id(unit: Unit) -> str:
    return layout.recording_id_from_path(unit.path)


def content_hash(unit: Unit) -> str:
    """blake2b of what the unit's reader reads (see the module docstring)."""
    from gazekit.pipeline import corpora

    if unit.kind == corpora.EGD:
        own = corpora.egd_content_hash(unit)
    elif unit.kind == corpora.REFLACX:
        own = corpora.reflacx_content_hash(unit)
    else:
        own = layout.content_hash(unit.path)
    sidecars = geometry_sidecars(unit)
    if unit.kind != "gazekit" and not sidecars:
        return own
    h = hashlib.blake2b(own.encode(), digest_size=16)
    for side in sidecars:
        h.update(b"\0geometry\0" + side.read_bytes())
    if unit.kind == "gazekit":
        rid = _recording_id(unit)
        for path in unit.shared:
            rows = shared_rows(unit, path, rid)
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
        rows = shared_rows(unit, path, rec.recording_id)
        frame = rows.to_pandas() if rows.num_rows else None
        if frame is not None and SHARED_TABLES[Path(path).name] == "events":
            # only the tracker's events: detected rows of an earlier `gazekit events` run
            # would otherwise sit beside this run's detection under the same method name
            frame = frame[frame["source"] == "tracker"].reset_index(drop=True)
            frame = frame if len(frame) else None
        setattr(rec, SHARED_TABLES[Path(path).name], frame)
    return [rec]


#: Geometry fields a sidecar may set: the physical set-up, which readers cannot know.
SIDECAR_FIELDS = ("screen_w_mm", "screen_h_mm", "viewing_distance_mm")


def geometry_sidecars(unit: Unit) -> list[Path]:
    """Geometry sidecars that apply to a unit, most general first.

    ``geometry.json`` in the folder holding the source (or in a source folder), then
    ``<source file>.geometry.json`` next to a source file. Converted gazekit
    recordings carry their geometry already and take none.
    """
    if unit.kind == "gazekit":
        return []
    path = Path(unit.path)
    folder = path if path.is_dir() else path.parent
    out = [folder / "geometry.json"]
    if path.is_file():
        out.append(path.with_name(path.name + ".geometry.json"))
    return [p for p in out if p.is_file()]


def sidecar_geometry(unit: Unit) -> dict[str, float]:
    """The geometry fields the unit's sidecars set (later sidecars override earlier)."""
    import json

    out: dict[str, float] = {}
    for side in geometry_sidecars(unit):
        try:
            doc = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read geometry sidecar ({exc})", path=side) from None
        if not isinstance(doc, dict):
            raise InputError("geometry sidecar must be a JSON object", path=side)
        unknown = sorted(set(doc) - set(SIDECAR_FIELDS))
        if unknown:
            raise InputError(
                f"unknown geometry field(s) {unknown}; a sidecar sets {list(SIDECAR_FIELDS)}",
                path=side,
            )
        for k, v in doc.items():
            if not isinstance(v, int | float) or isinstance(v, bool) or not v > 0:
                raise InputError(f"{k} must be a positive number of mm, got {v!r}", path=side)
            out[k] = float(v)
    return out


def read_unit(unit: Unit, **params: Any) -> list[Recording]:
    """Default conversion of a unit (see :class:`Unit`), with its geometry sidecars.

    A flat-dataset recording is loaded as converted; an EGD or REFLACX reading with
    :mod:`gazekit.pipeline.corpora`; any other source with :func:`gazekit.io.read`.
    Screen size in mm and viewing distance from :func:`sidecar_geometry` replace what
    the reader assumed, per source.
    """
    from gazekit.pipeline import corpora

    if unit.kind == "gazekit":
        if params:
            log.debug("reader parameters %s ignored for converted recordings", sorted(params))
        return read_gazekit_unit(unit)
    side = sidecar_geometry(unit)
    if unit.kind == corpora.EGD:
        recs = corpora.read_egd_unit(unit, **params)
    elif unit.kind == corpora.REFLACX:
        recs = corpora.read_reflacx_unit(unit, **params)
    else:
        try:
            from gazekit.io import read
        except ImportError:
            raise InputError(
                "reading raw tracker files needs gazekit.io.read, which this installation lacks",
                path=unit.path,
            ) from None
        recs = list(read(unit.path, **params))
    if side:
        from gazekit.geometry import Geometry

        for rec in recs:
            rec.geometry = Geometry.from_dict({**rec.geometry.to_dict(), **side})
    return recs
