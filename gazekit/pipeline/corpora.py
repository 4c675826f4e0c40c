"""Corpus folders split into one pipeline unit per reading.

An EGD-CXR folder holds every session × image in one ``eye_gaze.csv``; a REFLACX
folder holds one ``main_data/<id>/`` directory per reading. Reading such a folder as
one unit would fail the whole corpus for one truncated reading, re-convert all of it
when any file changes, and hold the whole corpus in one worker. Here every reading
is its own unit:

* **EGD**: the driver indexes ``eye_gaze.csv`` once (the byte ranges and line numbers
  of each (session, image)'s rows, cached in the dataset by the file's size and
  mtime); a worker reads only its unit's rows (plus the header line), so memory stays
  per recording and the large file is never parsed whole by a worker. The content
  hash covers exactly what the reader uses for that recording: its rows, its
  ``fixations.csv`` rows, its ``master_sheet.csv`` row and its transcript.
* **REFLACX**: one unit per reading directory; its hash covers that directory, its
  ``gaze_data/<id>/gaze.csv`` and its row of the ``metadata_phase_*.csv`` files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError
from gazekit.io import layout
from gazekit.io.parquet import atomic_open
from gazekit.recording import Recording

log = logging.getLogger(__name__)

#: Unit kinds defined here.
EGD, REFLACX = "egd", "reflacx"


def corpus_kind(path: Path) -> str | None:
    """``"egd"`` or ``"reflacx"`` when ``path`` is such a corpus folder (or, for EGD, a
    folder of them), else ``None``."""
    if not path.is_dir():
        return None
    from gazekit.io.egd import _corpus_dirs

    if _corpus_dirs(path):
        return EGD
    from gazekit.io.reflacx import _reading_dirs

    try:
        return REFLACX if _reading_dirs(path) else None
    except OSError:
        return None


def member_units(path: Path, make: Callable[..., Any], cache_dir: Path | None) -> list[Any]:
    """One unit per reading of a corpus folder (``make`` builds a ``Unit``)."""
    kind = corpus_kind(path)
    if kind == REFLACX:
        from gazekit.io.reflacx import _reading_dirs

        return [make(str(d), REFLACX) for d in _reading_dirs(path)]
    if kind == EGD:
        from gazekit.io.egd import _corpus_dirs

        return [
            make(str(folder), EGD, member=k, ranges=tuple(map(tuple, v)))
            for folder in _corpus_dirs(path)
            for k, v in egd_index(folder, cache_dir)
        ]
    raise InputError("not an EGD or REFLACX corpus folder", path=path)


# --------------------------------------------------------------------------- EGD
def _egd_gaze(folder: Path) -> Path:
    from gazekit.io.egd import _gaze_file

    return _gaze_file(folder)


def egd_member(session: str, dicom: str) -> str:
    """Member name of one EGD recording within its folder's unit list."""
    return f"{session}/{dicom}"


def _split_member(member: str) -> tuple[str, str]:
    session, _, dicom = member.partition("/")
    return session, dicom


def egd_index(folder: Path, cache_dir: Path | None) -> list[tuple[str, list[list[int]]]]:
    """(member, byte ranges) of every (session, image) of an EGD folder's ``eye_gaze.csv``.

    Each range is ``[start byte, stop byte, first file line]`` of a run of consecutive
    rows (of the decompressed text for ``eye_gaze.csv.gz``).
    Cached as JSON under ``cache_dir`` keyed by the file's path, size and mtime.
    """
    gaze = _egd_gaze(folder)
    st = gaze.stat()
    src = layout.digest(str(gaze.resolve()))
    key = layout.digest(st.st_size, st.st_mtime_ns)
    cache = cache_dir / f"egd-index-{src}-{key}.json" if cache_dir is not None else None
    if cache is not None and cache.is_file():
        with open(cache, encoding="utf-8") as fh:
            return [(k, v) for k, v in json.load(fh)]
    index = _build_egd_index(gaze)
    if cache is not None:
        for old in cache.parent.glob(f"egd-index-{src}-*.json"):
            old.unlink(missing_ok=True)
        with atomic_open(cache, "w", encoding="utf-8") as fh:
            json.dump(index, fh)
    return index


def _build_egd_index(gaze: Path) -> list[tuple[str, list[list[int]]]]:
    raw = gaze.read_bytes()
    if _transcoded(raw[:4]):  # ranges into the decompressed / UTF-8 text
        from gazekit.io._csv import read_bytes

        raw = read_bytes(gaze)
    keys, starts = _row_keys(raw)
    if starts is None:
        return [(k, []) for k in dict.fromkeys(keys)]
    ends = np.append(starts[1:], len(raw))
    out: dict[str, list[list[int]]] = {}
    for i, k in enumerate(keys):
        runs = out.setdefault(k, [])
        if runs and runs[-1][1] == starts[i]:
            runs[-1][1] = int(ends[i])
        else:
            runs.append([int(starts[i]), int(ends[i]), i + 2])
    return list(out.items())


def _row_keys(raw: bytes) -> tuple[list[str], np.ndarray | None]:
    """Member of every data row and the byte offset where the row starts.

    The offsets are ``None`` when rows and lines differ (a quoted newline): the
    members then carry no byte ranges and a worker reads the whole file.

    A row too short to name its image (a truncated line) belongs to the row before
    it, so the reading it interrupts is the one that fails.
    """
    bom = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    nl = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    if not nl.size:
        return [], None
    header = raw[bom : nl[0]].decode("utf-8").rstrip("\r")
    from gazekit.io._csv import sniff_delimiter

    delim = sniff_delimiter(header)
    names = [h.strip() for h in header.split(delim)]
    i_dicom = names.index("DICOM_ID") if "DICOM_ID" in names else -1
    i_sess = names.index("SESSION_ID") if "SESSION_ID" in names else -1
    starts = nl + 1
    if starts[-1] >= len(raw):
        starts = starts[:-1]
    body = raw[int(nl[0]) + 1 :].decode("utf-8", errors="replace")
    keys: list[str] = []
    prev = egd_member("1", "")
    need = max(i_dicom, i_sess)
    for row in csv.reader(io.StringIO(body), delimiter=delim):
        if i_dicom >= 0 and len(row) > need and row[i_dicom].strip():
            sess = row[i_sess].strip() if i_sess >= 0 else "1"
            prev = egd_member(sess or "1", row[i_dicom].strip())
        keys.append(prev)
    return keys, (starts if len(keys) == len(starts) else None)


@lru_cache(maxsize=4)
def _egd_fixations(folder: str, sig: str) -> pd.DataFrame | None:
    """The folder's ``fixations.csv``, read once per worker process (per file version)."""
    del sig  # cache key only
    from gazekit.io.egd import read_fixations

    return read_fixations(Path(folder))


def _fixation_rows(folder: Path, session: str, dicom: str) -> pd.DataFrame | None:
    path = folder / "fixations.csv"
    if not path.is_file():
        return None
    st = path.stat()
    fix = _egd_fixations(str(folder), f"{st.st_size}:{st.st_mtime_ns}")
    if fix is None:
        return None
    sel = fix["DICOM_ID"].astype(str) == dicom
    if "SESSION_ID" in fix:
        sel &= fix["SESSION_ID"].fillna("1").astype(str) == session
    return fix[sel]


def _transcoded(head: bytes) -> bool:
    """Whether a file must be decoded before its bytes are CSV text (gzip, UTF-16)."""
    return head[:2] in (b"\x1f\x8b", b"\xff\xfe", b"\xfe\xff")


@lru_cache(maxsize=1)
def _decompressed(path: str, sig: str) -> bytes:
    """A gzipped ``eye_gaze.csv.gz`` as text, decompressed once per worker process."""
    del sig  # cache key only
    from gazekit.io._csv import read_bytes

    return read_bytes(path)


def _egd_rows(unit: Any) -> tuple[bytes, np.ndarray] | None:
    """Header line + the unit's rows of ``eye_gaze.csv``, and their file lines.

    Reads only those byte ranges of a plain file; a gzipped file is decompressed once
    per worker process (not once per reading) and sliced.
    """
    if not unit.ranges:
        return None
    gaze = _egd_gaze(Path(unit.path))
    parts: list[bytes] = []
    lines: list[np.ndarray] = []
    with open(gaze, "rb") as probe:
        transcoded = _transcoded(probe.read(4))
    if transcoded:
        st = gaze.stat()
        fh: Any = io.BytesIO(_decompressed(str(gaze), f"{st.st_size}:{st.st_mtime_ns}"))
    else:
        fh = open(gaze, "rb")
    with fh:
        parts.append(fh.readline().removeprefix(b"\xef\xbb\xbf"))
        for start, stop, first in unit.ranges:
            fh.seek(start)
            chunk = fh.read(stop - start)
            if len(chunk) != stop - start:
                raise OSError(f"{gaze} changed while it was read")
            n = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
            parts.append(chunk if chunk.endswith(b"\n") else chunk + b"\n")
            lines.append(np.arange(first, first + n))
    return b"".join(parts), np.concatenate(lines) if lines else np.zeros(0, np.int64)


def _master_row(folder: Path, dicom: str) -> bytes:
    for cand in (folder / "master_sheet.csv", folder.parent / "master_sheet.csv"):
        if cand.is_file():
            with open(cand, "rb") as fh:
                header = fh.readline()
                rows = [line for line in fh if dicom.encode() in line]
            return header + b"".join(rows)
    return b""


def egd_content_hash(unit: Any) -> str:
    """blake2b of what the EGD reader uses for this recording (see module docstring)."""
    folder = Path(unit.path)
    session, dicom = _split_member(unit.member)
    h = hashlib.blake2b(digest_size=16)
    rows = _egd_rows(unit)
    if rows is None:
        h.update(layout.content_hash(_egd_gaze(folder)).encode())
    else:
        h.update(rows[0])
    fix = _fixation_rows(folder, session, dicom)
    if fix is not None:
        h.update(b"\0fix\0" + pd.util.hash_pandas_object(fix, index=False).to_numpy().tobytes())
    h.update(b"\0master\0" + _master_row(folder, dicom))
    tr = layout.safe_child(
        folder, "audio_segmentation_transcripts", dicom, "transcript.json", what="DICOM_ID"
    )
    if tr.is_file():
        h.update(b"\0transcript\0" + tr.read_bytes())
    return h.hexdigest()


def read_egd_unit(unit: Any, **options: Any) -> list[Recording]:
    """The one recording of an EGD unit."""
    from gazekit.io.egd import read_egd

    folder = Path(unit.path)
    session, dicom = _split_member(unit.member)
    fix_path = folder / "fixations.csv"
    fixations = None
    if fix_path.is_file():
        st = fix_path.stat()
        fixations = _egd_fixations(str(folder), f"{st.st_size}:{st.st_mtime_ns}")
    recs = read_egd(
        folder, only=(session, dicom), gaze_rows=_egd_rows(unit), fixations=fixations, **options
    )
    if not recs:
        raise InputError(f"no rows of session {session} image {dicom} any more", path=folder)
    return recs


# ----------------------------------------------------------------------- REFLACX
def _reflacx_gaze(reading: Path) -> Path | None:
    from gazekit.io.reflacx import _gaze_path

    return _gaze_path(reading)


def _reflacx_meta_row(reading: Path) -> bytes:
    out = []
    for f in sorted(reading.parent.glob("metadata_phase_*.csv")):
        with open(f, "rb") as fh:
            header = fh.readline()
            rows = [line for line in fh if line.split(b",", 1)[0].strip() == reading.name.encode()]
        if rows:
            out.append(f.name.encode() + b"\0" + header + b"".join(rows))
    return b"\0".join(out)


def reflacx_content_hash(unit: Any) -> str:
    """blake2b of a reading's directory, its gaze file and its metadata rows."""
    reading = Path(unit.path)
    h = hashlib.blake2b(digest_size=16)
    h.update(layout.content_hash(reading).encode())
    gaze = _reflacx_gaze(reading)
    if gaze is not None and gaze.parent != reading:
        h.update(b"\0gaze\0" + layout.content_hash(gaze).encode())
    h.update(b"\0meta\0" + _reflacx_meta_row(reading))
    return h.hexdigest()


def reflacx_signature(unit: Any) -> str:
    """Sizes and mtimes of a reading's directory, gaze file and metadata files."""
    reading = Path(unit.path)
    parts = [layout.signature(reading)]
    gaze = _reflacx_gaze(reading)
    if gaze is not None and gaze.parent != reading:
        parts.append(layout.signature(gaze))
    for f in sorted(reading.parent.glob("metadata_phase_*.csv")):
        st = os.stat(f)
        parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return layout.digest(parts)


def read_reflacx_unit(unit: Any, **options: Any) -> list[Recording]:
    """The recording of one REFLACX reading (none when the corpus discarded it)."""
    from gazekit.io.reflacx import REFLACXReader

    return REFLACXReader().read(Path(unit.path), **options)
