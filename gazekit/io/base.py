"""Reader and writer plug-in registries, and format auto-detection.

A reader is an object with a ``name``, ``sniff(path) -> bool`` (cheap look at the
file name and first bytes) and ``read(path, **options) -> list[Recording]``. A writer
is a function ``write(recordings, outdir, **options) -> list[Path]``. Modules
register themselves in :data:`READERS` / :data:`WRITERS`; :func:`read` picks the
reader by name or by sniffing.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from gazekit.errors import InputError
from gazekit.recording import Recording
from gazekit.registry import Registry


class Reader(Protocol):
    """What a format reader provides."""

    name: str

    def sniff(self, path: Path) -> bool:
        """Whether ``path`` looks like this format."""
        ...

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Parse ``path`` into recordings."""
        ...


Writer = Callable[..., list[Path]]

READERS: Registry[Reader] = Registry("reader")
WRITERS: Registry[Writer] = Registry("writer")


def head_text(path: str | os.PathLike[str], n_bytes: int = 8192) -> str:
    """First bytes of a (possibly gzipped) text file, decoded leniently, BOM removed."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(n_bytes)
        if raw[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as fh:
                raw = fh.read(n_bytes)
    except (OSError, EOFError) as exc:
        raise InputError(f"cannot read file: {exc}", path=path) from None
    for bom, enc in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if raw.startswith(bom):
            return raw[len(bom) :].decode(enc, errors="replace")
    return raw.decode("utf-8", errors="replace")


def _ensure_loaded() -> None:
    # Importing the format modules registers them.
    import importlib

    for mod in ("eyelink", "egd", "reflacx", "tobii", "bids", "edf", "gazesearch", "generic"):
        try:
            importlib.import_module(f"gazekit.io.{mod}")
        except ModuleNotFoundError as exc:
            if exc.name != f"gazekit.io.{mod}":
                raise


def detect_format(path: str | os.PathLike[str]) -> str:
    """Name of the reader that recognises ``path``.

    Parameters
    ----------
    path : path-like
        A recording file or corpus folder.

    Returns
    -------
    str
        A registered reader name (``egd``, ``reflacx``, ``asc``, ``edf``, ``tobii``,
        ``bids``, ``gazesearch``); ``generic`` is never guessed.

    Raises
    ------
    InputError
        When ``path`` does not exist, or no reader recognises it (listing the known
        formats).
    """
    _ensure_loaded()
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or directory", path=path)
    for name in READERS.names():
        if name == "generic":
            continue
        if READERS.get(name).sniff(path):
            return name
    raise InputError(
        f"unknown format (known: {', '.join(READERS.names())}); pass --format, and for a plain "
        "CSV/TSV use --format generic with --map t=...,x=...,y=...",
        path=path,
    )


def read(path: str | os.PathLike[str], fmt: str | None = None, **options: Any) -> list[Recording]:
    """Read a recording file or corpus folder into :class:`~gazekit.recording.Recording` objects.

    Parameters
    ----------
    path : path-like
        A recording file or corpus folder.
    fmt : str, optional
        Reader name (``egd``, ``reflacx``, ``asc``, ``edf``, ``tobii``, ``bids``,
        ``gazesearch``, ``generic``); detected when omitted.
    **options
        Passed to the reader (e.g. screen geometry, column map).

    Returns
    -------
    list of Recording
        One per recording (reader × image) found, with samples in the units their column
        names carry (``t_ms`` ms, ``x_px``/``y_px`` px).

    Raises
    ------
    InputError
        The format is unknown or cannot be detected, or the file is malformed (the
        message names the file, line and column when known).
    GazekitError
        ``fmt`` names no registered reader.
    """
    _ensure_loaded()
    name = fmt or detect_format(path)
    return READERS.get(name).read(Path(path), **options)


def write(
    recordings: list[Recording], outdir: str | os.PathLike[str], fmt: str, **options: Any
) -> list[Path]:
    """Write recordings in a tracker/corpus format.

    Parameters
    ----------
    recordings : list of Recording
        Recordings to write.
    outdir : path-like
        Output folder (created as needed).
    fmt : str
        A registered writer: ``egd``, ``reflacx``, ``asc``, ``bids``.
    **options
        Passed to the writer.

    Returns
    -------
    list of pathlib.Path
        Every file written.

    Raises
    ------
    GazekitError
        ``fmt`` names no registered writer.
    """
    _ensure_loaded()
    return WRITERS.get(fmt)(recordings, Path(outdir), **options)


def events_table(rows: Any) -> Any:
    """An ``events`` table (pandas) from rows/frame, missing numeric columns as NaN."""
    import numpy as np
    import pandas as pd

    from gazekit import schemas

    df = pd.DataFrame(rows)
    schema = schemas.get("events")
    for col in schema.columns:
        if col.name not in df:
            df[col.name] = np.nan if col.type.startswith("float") else None
    return schema.conform(df[schema.names]).to_pandas()


def mean_of_eyes(left: Any, right: Any) -> Any:
    """Per-sample mean of two eyes' values, ignoring the eye that is NaN (NaN when both are).

    Used for binocular gaze and pupil columns; works in two passes over the data without
    stacking the eyes.
    """
    import numpy as np

    left = np.asarray(left, dtype=np.float64)
    right = np.asarray(right, dtype=np.float64)
    ok_l, ok_r = np.isfinite(left), np.isfinite(right)
    n = ok_l.astype(np.float64) + ok_r
    with np.errstate(invalid="ignore", divide="ignore"):
        return (np.where(ok_l, left, 0.0) + np.where(ok_r, right, 0.0)) / n
