"""Where datasets put things: safe file names from ids, table paths and content hashes.

Every identifier read from an input file (a recording id, an EyeLink ``TRIAL_VAR``,
an EGD ``DICOM_ID``, a Tobii participant name, a CheXmask image id, ``--map
recording=``) becomes a file name only through :func:`id_filename`, and every file an
id selects is checked with :func:`safe_child`, so no id can reach outside the output
directory or the corpus (``../``, ``/``, ``\\``, NUL and absolute ids).

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
from gazekit.errors import InputError

PARTITION_KEYS = ("corpus", "reader")
NULL_PARTITION = "unknown"
MANIFEST_NAME = "_manifest.sqlite"
#: The manifest as one row per recording per stage (the ``stages`` table joined with the
#: parameters and input units); the pipeline's ``Manifest.frame`` runs the same query.
MANIFEST_QUERY = (
    "SELECT s.recording_id, s.stage, s.status, s.error, s.unit, u.content AS input_hash,"
    " s.key, s.param_hash, p.params, s.outputs, s.rows, s.seconds, s.n_samples, s.updated"
    " FROM stages s LEFT JOIN params p USING (param_hash)"
    " LEFT JOIN units u USING (unit) ORDER BY s.recording_id, s.rowid"
)
LOCK_NAME = "_lock"
#: Per-dataset cache directory (sorted shared tables, corpus indexes, mapped atlases).
CACHE_NAME = "_cache"
_CHUNK = 1 << 20
#: Longest encoded file-name stem accepted; 255 bytes is the name limit of ext4, XFS,
#: APFS and NTFS, less room for a suffix and a temporary name (``.<name>.parquet.XXXXXXXX.tmp``).
MAX_NAME_BYTES = 220


def id_filename(value: object, what: str = "identifier") -> str:
    """The one id-to-file-name function: a percent-encoded, single-component name.

    Every character except ASCII letters, digits and ``-._~`` is percent-encoded
    (``urllib.parse.quote(safe="")``), so ``/``, ``\\``, NUL and ``%`` can never appear
    raw; a leading ``.`` or ``_`` is encoded too, so ``..`` becomes ``%2E.`` and no
    name is hidden from pyarrow/Dask. The encoding is reversible with
    ``urllib.parse.unquote`` (see :func:`recording_id_from_path`).

    Parameters
    ----------
    value : object
        The identifier (converted with ``str``).
    what : str
        What the id is, for the error message (e.g. ``"recording_id"``).

    Returns
    -------
    str
        A file name with no path separator, never ``.``/``..``, at most
        :data:`MAX_NAME_BYTES` bytes.

    Raises
    ------
    InputError
        The id is empty or its encoded name is too long.
    """
    text = str(value)
    if not text:
        raise InputError(f"empty {what}: every recording needs a non-empty id")
    try:
        name = quote(text, safe="")
    except UnicodeEncodeError:
        raise InputError(f"{what} {text!r} is not valid Unicode text") from None
    # pyarrow and Dask skip files and directories whose names start with "." or "_".
    if name[:1] in (".", "_"):
        name = f"%{ord(name[0]):02X}{name[1:]}"
    if len(name.encode()) > MAX_NAME_BYTES:
        raise InputError(
            f"{what} {text[:40]!r}... is too long for a file name "
            f"({len(name.encode())} bytes encoded, at most {MAX_NAME_BYTES})"
        )
    return name



def safe_child(root: str | os.PathLike[str], *parts: str, what: str = "identifier") -> Path:
    """``root/part/...``, refused when any part would leave ``root``.

    Use for every file selected by a name read from an input (an EGD ``DICOM_ID``
    selecting a transcript, an image id selecting ``images/<id>.png``). Names are
    used as they are (corpora name their files by their ids), but a part that is
    empty, absolute, contains NUL, ``/`` or ``\\`` or is ``.``/``..`` is refused, and
    the resolved path (symbolic links followed) must stay under the resolved ``root``.

    Parameters
    ----------
    root : str or PathLike
        The directory the result must stay inside.
    *parts : str
        Single path components (a file or directory name each).
    what : str
        What the names are, for the error message.

    Returns
    -------
    pathlib.Path
        ``Path(root, *parts)`` (not resolved).

    Raises
    ------
    InputError
        A part is unsafe or the path escapes ``root``.
    """
    root = Path(root)
    for part in parts:
        part = str(part)
        if (
            not part
            or part in (".", "..")
            or any(c in part for c in ("/", "\\", "\0"))
            or os.path.isabs(part)
        ):
            raise InputError(
                f"unsafe {what} {part!r}: names read from input files must be plain file "
                "names (no '/', '\\', NUL, '.' or '..')",
                path=root,
            )
    path = root.joinpath(*map(str, parts))
    base = root.resolve()
    if not path.resolve().is_relative_to(base):
        raise InputError(f"{what} {'/'.join(map(str, parts))!r} leads outside {base}", path=root)
    return path


def inside(root: str | os.PathLike[str], path: str | os.PathLike[str]) -> Path:
    """``path`` (relative paths taken under ``root``), refused unless it stays inside ``root``.

    Use before deleting or overwriting a path read from a manifest.

    Parameters
    ----------
    root : str or PathLike
        Dataset directory.
    path : str or PathLike
        Path stored in the manifest.

    Returns
    -------
    pathlib.Path
        The path joined to ``root``.

    Raises
    ------
    InputError
        The path is absolute outside ``root``, contains NUL, or resolves outside it.
    """
    root = Path(root)
    text = str(path)
    if "\0" in text:
        raise InputError(f"path {text!r} contains NUL", path=root)
    full = root / text
    if not full.resolve().is_relative_to(root.resolve()) or full.resolve() == root.resolve():
        raise InputError(f"manifest path {text!r} is outside the dataset; refusing to touch it", path=root)
    return full


def partition_values(corpus: str, reader_id: str | None) -> dict[str, str | None]:
    """Hive partition values of a recording (``reader`` is ``"unknown"`` when missing)."""
    return {"corpus": corpus, "reader": NULL_PARTITION if reader_id is None else reader_id}


def table_path(
    root: str | os.PathLike[str], table: str, corpus: str, reader_id: str | None, recording_id: str
) -> Path:
    """Path of one recording's file of ``table`` under dataset ``root``."""
    reader = NULL_PARTITION if reader_id is None else id_filename(reader_id, "reader_id")
    return (
        Path(root)
        / table
        / f"corpus={id_filename(corpus, 'corpus')}"
        / f"reader={reader}"
        / f"{id_filename(recording_id, 'recording_id')}.parquet"
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


def read_manifest_frame(root: str | os.PathLike[str]) -> Any:
    """A pipeline dataset's manifest, read-only: one row per recording per stage.

    Reading a dataset never imports the pipeline runner: this opens the SQLite file
    read-only and runs :data:`MANIFEST_QUERY`.

    Parameters
    ----------
    root : path-like
        The dataset directory.

    Returns
    -------
    pandas.DataFrame
        Columns ``recording_id``, ``stage``, ``status``, ``error``, ``unit``,
        ``input_hash``, ``key``, ``param_hash``, ``params``, ``outputs``, ``rows``,
        ``seconds``, ``n_samples``, ``updated``.

    Raises
    ------
    InputError
        No manifest, or a file that is not a readable gazekit manifest.
    """
    import sqlite3

    import pandas as pd

    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        raise InputError("not a gazekit pipeline dataset (no manifest)", path=path)
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return pd.read_sql_query(MANIFEST_QUERY, db)
    except (sqlite3.Error, pd.errors.DatabaseError) as exc:
        raise InputError(f"unreadable manifest: {exc}", path=path) from None
