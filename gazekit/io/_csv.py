"""Delimited-text tables read with pyarrow, with errors that name file, line and column.

The fast path is one call to :func:`pyarrow.csv.read_csv`; only when it fails does a
second, line-by-line pass (Python's :mod:`csv`) locate the offending line and column,
so a good file never pays for the diagnostics.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from gazekit.errors import InputError

DEFAULT_NA: tuple[str, ...] = ("", "NA", "NaN", "nan", "N/A", "null")

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """Whole file as UTF-8 bytes: gunzipped, BOM removed, UTF-16 transcoded.

    Raises
    ------
    InputError
        Unreadable, truncated gzip, or bytes that are not valid UTF-8 (line named).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("not a regular file (device, pipe, socket or directory)", path=path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gunzip_capped(raw, path)
    except (OSError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise InputError(f"cannot read file ({exc})", path=path) from None
    for bom, enc in _BOMS:
        if raw.startswith(bom):
            raw = raw[len(bom) :]
            if enc != "utf-8":
                try:
                    raw = raw.decode(enc).encode("utf-8")
                except UnicodeDecodeError as exc:
                    raise InputError(f"invalid {enc} text ({exc.reason})", path=path) from None
            break
    if not _is_ascii(raw):
        _check_utf8(raw, path)
    return raw


#: Largest decompressed/compressed size ratio accepted for a gzipped text input. Eye
#: tracker text exports compress 5-30× (numbers differ from line to line); gzip can reach
#: ~1000× only on repeated bytes, i.e. a decompression bomb.
MAX_GZIP_RATIO = 200
#: Decompressed size always accepted whatever the ratio (a small, very regular file).
GZIP_FREE_BYTES = 64 << 20


def gunzip_capped(raw: bytes, path: str | os.PathLike[str]) -> bytes:
    """Decompress gzip ``raw`` in chunks, refusing a decompression bomb before it grows.

    Parameters
    ----------
    raw : bytes
        The gzip file's bytes (several members allowed).
    path : str or PathLike
        The file, for the error message.

    Returns
    -------
    bytes
        The decompressed bytes.

    Raises
    ------
    InputError
        The output would exceed ``max(MAX_GZIP_RATIO × len(raw), GZIP_FREE_BYTES)``, or
        the stream is truncated.
    """
    limit = max(MAX_GZIP_RATIO * len(raw), GZIP_FREE_BYTES)
    out: list[bytes] = []
    size = 0
    data = raw
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        chunk_in = data
        while chunk_in:
            piece = d.decompress(chunk_in, 1 << 20)
            size += len(piece)
            if size > limit:
                raise InputError(
                    f"gzip expands more than {limit:,} bytes ({MAX_GZIP_RATIO}× its size): "
                    "refused as a decompression bomb",
                    path=path,
                )
            out.append(piece)
            chunk_in = d.unconsumed_tail
            if d.eof:
                break
        if not d.eof:
            raise InputError("truncated gzip file", path=path)
        data = d.unused_data  # a concatenated gzip member follows
        if data and data[:2] != b"\x1f\x8b":
            break
    return b"".join(out)


def _is_ascii(raw: bytes) -> bool:
    """No byte ≥ 128 (checked in chunks, without decoding the whole file)."""
    arr = np.frombuffer(raw, dtype=np.uint8)
    step = 1 << 24
    return all(int(arr[i : i + step].max(initial=0)) < 128 for i in range(0, arr.size, step))


def _check_utf8(raw: bytes, path: Path) -> None:
    """Raise :class:`InputError` naming the line of the first byte that is not UTF-8."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=True)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputError(
            "not UTF-8 text (save the file as UTF-8, or as UTF-16 with a byte-order mark)",
            path=path,
            line=line,
        ) from None


def sniff_delimiter(header: str) -> str:
    """The delimiter of a header line: tab, semicolon or comma (most frequent wins)."""
    counts = {d: header.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _locate(
    text: str,
    delimiter: str,
    header_line: int,
    numeric: Sequence[str],
    na: set[str],
    path: Path,
    line_numbers: np.ndarray | None = None,
) -> InputError:
    """Find the first ragged line or non-numeric cell (slow path, only after a failure)."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    for i, row in enumerate(reader):
        line = header_line + i
        if line_numbers is not None and 0 < i <= len(line_numbers):
            line = int(line_numbers[i - 1])
        if header is None:
            header = row
            idx = {name: header.index(name) for name in numeric if name in header}
            continue
        if not row:
            continue
        if len(row) != len(header):
            return InputError(
                f"expected {len(header)} fields, found {len(row)} (truncated or ragged line)",
                path=path,
                line=line,
            )
        for name, j in idx.items():
            cell = row[j].strip()
            if cell in na:
                continue
            try:
                float(cell)
            except ValueError:
                return InputError(
                    f"non-numeric value {cell[:40]!r}", path=path, line=line, column=name
                )
    return InputError("malformed delimited text", path=path)


def read_delimited(
    path: str | os.PathLike[str],
    *,
    delimiter: str | None = None,
    required: Sequence[str] = (),
    numeric: Sequence[str] = (),
    na_values: Sequence[str] = DEFAULT_NA,
    skip_lines: int = 0,
    decimal_comma: bool = False,
    data: bytes | None = None,
    line_numbers: np.ndarray | None = None,
) -> pd.DataFrame:
    """Read a CSV/TSV file with a header line into a DataFrame.

    Parameters
    ----------
    path : path-like
        Plain or gzipped text; UTF-8 (BOM allowed) or UTF-16 with BOM; LF or CRLF.
    delimiter : str, optional
        Field separator; sniffed from the header line (tab, ``;`` or ``,``) when omitted.
    required : sequence of str
        Columns that must be present.
    numeric : sequence of str
        Columns parsed as float64 (present ones; missing markers become NaN).
    na_values : sequence of str
        Cell values read as missing.
    skip_lines : int
        Lines before the header line.
    decimal_comma : bool
        Numbers written with a decimal comma (``0,5``), as some locales export them.
    data : bytes, optional
        The text to parse, already read from ``path`` (e.g. the header line and a
        selection of rows); ``path`` then only names the file in messages.
    line_numbers : (N,) ndarray of int, optional
        File line of each data row of ``data``, for messages.

    Returns
    -------
    DataFrame
        Numeric columns float64, the others strings. A header-only file gives an empty frame.

    Raises
    ------
    InputError
        Empty file, missing required column (lists those found), ragged line, or
        non-numeric value, naming the file, the 1-based line and the column.
    """
    path = Path(path)
    raw = read_bytes(path) if data is None else data
    lines = raw.split(b"\n", skip_lines + 1)
    if len(lines) <= skip_lines or not lines[skip_lines].strip():
        raise InputError("empty file: no header line", path=path, line=skip_lines + 1)
    header = lines[skip_lines].decode("utf-8").rstrip("\r")
    delimiter = delimiter or sniff_delimiter(header)
    names = [h.strip() for h in header.split(delimiter)]
    missing = [c for c in required if c not in names]
    if missing:
        raise InputError(
            f"missing column(s) {missing}; found {names}", path=path, line=skip_lines + 1
        )
    body = raw.split(b"\n", skip_lines)[-1] if skip_lines else raw
    num = [c for c in numeric if c in names]
    na = list(na_values)
    if decimal_comma:
        types = {c: pa.string() for c in num}
    else:
        types = {c: pa.float64() for c in num}
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types={**{c: pa.string() for c in names}, **types},
                null_values=na,
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _locate(
            body.decode("utf-8"), delimiter, skip_lines + 1, num, set(na), path, line_numbers
        ) from None
    df = table.to_pandas()
    df.columns = names
    if decimal_comma:
        for c in num:
            s = df[c].str.replace(",", ".", regex=False)
            conv = pd.to_numeric(s, errors="coerce")
            bad = conv.isna() & s.notna()
            if bad.any():
                i = int(np.flatnonzero(bad.to_numpy())[0])
                raise InputError(
                    f"non-numeric value {df[c].iloc[i]!r}",
                    path=path,
                    line=skip_lines + 2 + i,
                    column=c,
                )
            df[c] = conv.astype("float64")
    return df


def check_time(
    t: np.ndarray,
    path: str | os.PathLike[str],
    column: str,
    *,
    first_line: int = 2,
    strict: bool = True,
) -> None:
    """Require finite, increasing timestamps.

    Parameters
    ----------
    t : ndarray
        Times in file order.
    path, column : str
        For the message.
    first_line : int
        File line of ``t[0]`` (header on line 1 by default).
    strict : bool
        Duplicated timestamps are an error too (otherwise only backwards steps).

    Raises
    ------
    InputError
        Naming the line of the first missing, duplicated or backwards timestamp.
    """
    t = np.asarray(t, dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise InputError(
            "missing timestamp", path=path, line=first_line + int(bad[0]), column=column
        )
    d = np.diff(t)
    back = np.flatnonzero(d <= 0 if strict else d < 0)
    if back.size:
        i = int(back[0]) + 1
        what = "duplicated" if d[i - 1] == 0 else "backwards"
        raise InputError(
            f"{what} timestamp ({t[i]:g} after {t[i - 1]:g})",
            path=path,
            line=first_line + i,
            column=column,
        )
