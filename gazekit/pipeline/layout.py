"""Where the pipeline puts things: hive-partitioned table paths and content hashes.

A pipeline dataset is one directory per table (``events/``, ``samples/``, ...), each
hive-partitioned by corpus and reader, one Parquet file per recording::

    DATASET/events/corpus=egd/reader=R1/<recording_id>.parquet

Partition values and file names are percent-encoded (``urllib.parse.quote``), which
pyarrow's hive partitioning decodes. A recording without a reader id goes under
``reader=unknown``: a null partition value (``__HIVE_DEFAULT_PARTITION__``) would
break ``pandas.read_parquet`` of the directory ("cannot unify dictionaries with
nulls"); the ``recordings`` table keeps ``reader_id`` null.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from gazekit import schemas

PARTITION_KEYS = ("corpus", "reader")
NULL_PARTITION = "unknown"
MANIFEST_NAME = "_manifest.sqlite"
LOCK_NAME = "_lock"
#: Per-dataset cache directory (sorted shared tables, corpus indexes, mapped atlases).
CACHE_NAME = "_cache"
_CHUNK = 1 << 20


def _quote(value: str) -> str:
    text = quote(value, safe="")
    # pyarrow and Dask skip files and directories whose names start with "." or "_".
    if text[:1] in (".", "_"):
        text = f"%{ord(text[0]):02X}{text[1:]}"
    return text


def partition_values(corpus: str, reader_id: str | None) -> dict[str, str | None]:
    """Hive partition values of a recording (``reader`` is ``"unknown"`` when missing)."""
    return {"corpus": corpus, "reader": NULL_PARTITION if reader_id is None else reader_id}


def table_path(
    root: str | os.PathLike[str], table: str, corpus: str, reader_id: str | None, recording_id: str
) -> Path:
    """Path of one recording's file of ``table`` under dataset ``root``."""
    reader = NULL_PARTITION if reader_id is None else _quote(str(reader_id))
    return (
        Path(root)
        / table
        / f"corpus={_quote(str(corpus))}"
        / f"reader={reader}"
        / f"{_quote(str(recording_id))}.parquet"
    )


def recording_id_from_path(path: str | os.PathLike[str]) -> str:
    """Inverse of the file-name part of :func:`table_path`."""
    return unquote(Path(path).name[: -len(".parquet")])


def digest(*parts: Any) -> str:
    """Short stable hash (blake2b, 128 bit, hex) of JSON-serialisable ``parts``."""
    text = json.dumps(schemas.jsonable(list(parts)), sort_keys=True, separators=(",", ":"))
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _files(path: Path) -> list[Path]:
    """Files of a source, skipping any pipeline dataset inside it (its own outputs)."""
    if not path.is_dir():
        return [path]
    out: list[Path] = []
    for dirpath, dirs, files in os.walk(path):
        if MANIFEST_NAME in files and Path(dirpath) != path:
            dirs.clear()
            continue
        dirs.sort()
        out += [Path(dirpath, f) for f in files]
    return sorted(out)


def signature(path: str | os.PathLike[str]) -> str:
    """Cheap change detector of a source file or directory: sizes and mtimes (ns)."""
    path = Path(path)
    if path.is_file():
        st = path.stat()
        return f"{st.st_size}:{st.st_mtime_ns}"
    parts = []
    for p in _files(path):
        st = p.stat()
        parts.append((str(p.relative_to(path)), st.st_size, st.st_mtime_ns))
    return digest(parts)


def content_hash(path: str | os.PathLike[str]) -> str:
    """blake2b (128 bit) of a file's bytes, or of a directory's relative names and bytes.

    Streams in 1 MiB chunks, so memory stays constant for any file size.
    """
    path = Path(path)
    h = hashlib.blake2b(digest_size=16)
    for p in _files(path):
        if p != path:
            h.update(str(p.relative_to(path)).encode() + b"\0")
        with open(p, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    return h.hexdigest()
