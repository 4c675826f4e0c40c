"""Schema-validated Parquet reading and atomic writing.

Every table gazekit writes goes through :func:`write_table`: it is conformed to
its schema in ``data_schemas/``, gets ``schema_version`` and provenance in the
Parquet key-value metadata, and is written to a temporary file in the target
directory that is renamed into place, so a crash never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from gazekit import schemas
from gazekit._version import __version__
from gazekit.errors import InputError, SchemaError

META_KEY = b"gazekit"
#: Prefix and suffix of every temporary file gazekit writes (``.<name>.<random>.tmp``);
#: leftovers of a killed run with this naming are removed by the next run.
TMP_PREFIX = "."
TMP_SUFFIX = ".tmp"


def _umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)  # no read-only query elsewhere: set and restore at once
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permission bits of a new file under the current umask (``0o666 & ~umask``).

    Returns
    -------
    int
        Mode bits, e.g. ``0o644`` under umask 022, ``0o664`` under 002.
    """
    return 0o666 & ~_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The temporary file is removed if the block raises, so ``path`` is either the
    old file, or the complete new one. The file gets the umask's mode (not 0600).

    Parameters
    ----------
    path : str or PathLike
        Final destination.
    suffix : str
        Extra suffix before ``.tmp`` (some writers need the extension, e.g. ``.png``).

    Yields
    ------
    pathlib.Path
        The temporary path to write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{TMP_PREFIX}{path.name}.", suffix=suffix + TMP_SUFFIX, dir=path.parent
    )
    # mkstemp creates 0600; a finished output gets the mode any new file would get, so
    # a group-shared directory (umask 002) stays shared.
    os.fchmod(fd, file_mode())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """``open`` for writing that renames into place only when the block succeeds.

    Parameters
    ----------
    path : str or PathLike
        Final destination; its folder is created as needed.
    mode : str
        A writing mode of :func:`open` (``"w"``, ``"wb"``, ...).
    **kwargs
        Passed to :func:`open` (``encoding``, ``newline``, ...).

    Yields
    ------
    file object
        Open on a temporary file next to ``path``; renamed onto ``path`` when the
        ``with`` block exits without an exception, removed otherwise.

    Examples
    --------
    >>> with atomic_open("notes.txt") as fh:
    ...     _ = fh.write("done")
    >>> Path("notes.txt").read_text()
    'done'
    """
    with atomic_path(path) as tmp, open(tmp, mode, **kwargs) as fh:
        yield fh


def write_table(
    data: pa.Table | pd.DataFrame,
    path: str | os.PathLike[str],
    kind: str,
    metadata: dict[str, Any] | None = None,
    partition: dict[str, str | None] | None = None,
) -> Path:
    """Validate ``data`` against schema ``kind`` and write it atomically as Parquet.

    Parameters
    ----------
    data : pyarrow.Table or pandas.DataFrame
    path : path-like
        Destination ``.parquet`` file.
    kind : str
        Schema name in ``data_schemas/``.
    metadata : dict, optional
        Provenance stored as JSON under the ``gazekit`` metadata key (source file and
        format, sampling rate, screen geometry, frame, parameters...).
    partition : dict, optional
        Hive partition values of the file's directory (``{"corpus": "egd"}``). A
        schema column with a partition key's name must hold only that value; it is
        validated, then left out of the file (the directory name carries it, so
        readers that add hive partition columns see no conflicting duplicate) and
        restored by :func:`read_table`.

    Returns
    -------
    pathlib.Path
    """
    schema = schemas.get(kind)
    table = schema.conform(data, source=str(path))
    meta = {
        "schema": schema.name,
        "schema_version": schema.version,
        "gazekit_version": __version__,
        **schemas.jsonable(metadata or {}),
    }
    if partition:
        table = _drop_partition_columns(table, partition, str(path))
        meta["partition"] = dict(partition)
    kv = dict(table.schema.metadata or {})
    kv.pop(b"pandas", None)
    kv[META_KEY] = json.dumps(meta, sort_keys=True).encode()
    kv[b"schema_version"] = schema.version.encode()
    table = table.replace_schema_metadata(kv)
    path = Path(path)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def _drop_partition_columns(
    table: pa.Table, partition: dict[str, str | None], source: str
) -> pa.Table:
    for key, value in partition.items():
        if key not in table.column_names:
            continue
        col = table.column(key)
        distinct = col.unique().to_pylist()
        if any(v != value for v in distinct):
            raise SchemaError(
                f"partition {key}={value!r} but the table holds {distinct[:5]}",
                path=source,
                column=key,
            )
        table = table.drop_columns([key])
    return table


def _restore_partition_columns(table: pa.Table, meta: dict[str, Any], names: list[str]) -> pa.Table:
    for key, value in (meta.get("partition") or {}).items():
        if key in names and key not in table.column_names:
            table = table.append_column(key, pa.array([value] * table.num_rows, pa.string()))
    return table


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The gazekit provenance dict stored in a Parquet file.

    Parameters
    ----------
    path : path-like
        A Parquet file written by :func:`write_table`.

    Returns
    -------
    dict
        ``schema``, ``schema_version``, ``gazekit_version`` and the provenance passed
        to :func:`write_table` (source, sampling rate, geometry, parameters...).

    Raises
    ------
    InputError
        The file is not readable Parquet, or was not written by gazekit.
    """
    try:
        kv = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"not a readable Parquet file: {exc}", path=path) from None
    if META_KEY not in kv:
        raise InputError(
            "Parquet file was not written by gazekit (no 'gazekit' metadata)", path=path
        )
    try:
        meta = json.loads(kv[META_KEY])
    except (ValueError, UnicodeDecodeError):
        raise InputError("damaged Parquet file: its gazekit metadata is not JSON", path=path) from None
    if not isinstance(meta, dict):
        raise InputError("damaged Parquet file: its gazekit metadata is not an object", path=path)
    return meta


def read_table(
    path: str | os.PathLike[str],
    kind: str | None = None,
    columns: list[str] | None = None,
    filters: Any = None,
) -> tuple[pa.Table, dict[str, Any]]:
    """Read and validate a gazekit Parquet file.

    Parameters
    ----------
    path : path-like
    kind : str, optional
        Expected schema name; defaults to the one recorded in the file.
    columns, filters
        Passed to :func:`pyarrow.parquet.read_table`.

    Returns
    -------
    table : pyarrow.Table
    metadata : dict
        Provenance stored by :func:`write_table`.
    """
    meta = read_metadata(path)
    kind = kind or meta.get("schema")
    if meta.get("schema") != kind:
        raise SchemaError(
            f"file holds a {meta.get('schema')!r} table, expected {kind!r}", path=path
        )
    schema = schemas.get(kind)
    major_file = str(meta.get("schema_version", "0")).split(".")[0]
    if major_file != schema.version.split(".")[0]:
        raise SchemaError(
            f"schema {kind} version {meta.get('schema_version')} is incompatible with this "
            f"gazekit's {schema.version}",
            path=path,
        )
    try:
        table = pq.read_table(path, columns=columns, filters=filters)
    except (OSError, pa.ArrowException) as exc:
        text = " ".join(str(exc).split())[:200]
        raise InputError(f"damaged or truncated Parquet file ({text})", path=path) from None
    if columns is None:
        table = _restore_partition_columns(table, meta, schema.names)
        table = schema.conform(table, source=str(path))
    return table, meta


def read_frame(
    path: str | os.PathLike[str], kind: str | None = None, **kwargs: Any
) -> pd.DataFrame:
    """:func:`read_table` as a pandas DataFrame (metadata in ``df.attrs['gazekit']``).

    Parameters
    ----------
    path : path-like
        A Parquet file written by :func:`write_table`.
    kind : str, optional
        Expected schema name; defaults to the one recorded in the file.
    **kwargs
        ``columns`` and ``filters``, passed to :func:`read_table`.

    Returns
    -------
    pandas.DataFrame
        The validated table, in the units its column names carry.

    Raises
    ------
    InputError
        The file is not a readable gazekit Parquet file.
    SchemaError
        It holds another schema than ``kind``, or an incompatible schema version.
    """
    table, meta = read_table(path, kind, **kwargs)
    df = table.to_pandas()
    df.attrs["gazekit"] = meta
    return df
