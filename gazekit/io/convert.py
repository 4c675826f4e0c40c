"""``gazekit convert``: raw recordings in, one validated gazekit dataset directory out.

Each input (a file or a corpus folder) is read by the reader named with ``fmt`` or
found by :func:`gazekit.io.detect_format`; one bad input is recorded as a failure and
the batch goes on (unless ``fail_fast``). Every file is written to a temporary name and
renamed, so an interrupted conversion never leaves a half-written Parquet file.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gazekit.errors import GazekitError, InputError
from gazekit.io import base
from gazekit.io.dataset_dir import is_dataset_dir, write_dataset_tables, write_samples_file
from gazekit.recording import Recording

log = logging.getLogger(__name__)

#: File names a folder scan considers (other files are ignored).
_SUFFIXES = (".asc", ".tsv", ".csv", ".txt", ".gz")


@dataclass
class ConvertResult:
    """Outcome of :func:`convert`.

    Attributes
    ----------
    outdir : Path
    recordings : list of str
        Recording ids written.
    n_samples : int
    failures : list of (str, str)
        ``(input, message)`` of every input that could not be converted.
    """

    outdir: Path
    recordings: list[str] = field(default_factory=list)
    n_samples: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No input failed."""
        return not self.failures

    def summary(self) -> str:
        """One line: recordings, samples, failures."""
        s = f"{len(self.recordings)} recordings ({self.n_samples:,} samples) → {self.outdir}"
        if self.failures:
            s += f"; {len(self.failures)} input(s) failed: " + ", ".join(
                Path(p).name for p, _ in self.failures
            )
        return s


def expand_inputs(inputs: Sequence[str | os.PathLike[str]], fmt: str | None = None) -> list[Path]:
    """Files and corpus folders to read.

    A folder that a reader recognises as a whole (EGD, REFLACX corpus folders) is one
    input; any other folder is searched recursively for files a reader recognises
    (or, with ``fmt``, files with a tabular/ASC suffix).
    """
    base._ensure_loaded()
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if not p.exists():
            raise InputError("no such file or directory", path=p)
        if p.is_file():
            out.append(p)
            continue
        if _folder_reader(p, fmt):
            out.append(p)
            continue
        for f in sorted(q for q in p.rglob("*") if q.is_file()):
            if f.suffix.lower() not in _SUFFIXES or _inside_corpus_folder(f, p):
                continue
            if fmt is not None or _sniffs(f):
                out.append(f)
        for d in sorted(q for q in p.rglob("*") if q.is_dir()):
            if _folder_reader(d, fmt) and not _inside_corpus_folder(d, p):
                out.append(d)
    return out


def _folder_reader(p: Path, fmt: str | None) -> bool:
    names = [fmt] if fmt else [n for n in base.READERS.names() if n != "generic"]
    for n in names:
        if n in base.READERS and n in ("egd", "reflacx"):
            try:
                if base.READERS.get(n).sniff(p):
                    return True
            except GazekitError:
                continue
    return False


def _inside_corpus_folder(f: Path, root: Path) -> bool:
    return any(
        _folder_reader(parent, None)
        for parent in f.parents
        if parent != root and root in parent.parents
    )


def _sniffs(f: Path) -> bool:
    try:
        base.detect_format(f)
    except GazekitError:
        return False
    return True


def _read_one(path: str, fmt: str | None, options: dict[str, Any]) -> list[Recording]:
    return base.read(path, fmt, **options)


def _iter_read(
    paths: list[Path], fmt: str | None, options: dict[str, Any], jobs: int
) -> Iterator[tuple[Path, list[Recording] | None, str | None]]:
    if jobs <= 1 or len(paths) <= 1:
        for p in paths:
            try:
                yield p, _read_one(str(p), fmt, options), None
            except GazekitError as exc:
                yield p, None, str(exc)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futs = {pool.submit(_read_one, str(p), fmt, options): p for p in paths}
        for fut in as_completed(futs):
            p = futs[fut]
            try:
                yield p, fut.result(), None
            except GazekitError as exc:
                yield p, None, str(exc)


def _copy_side_folders(paths: list[Path], out: Path) -> None:
    """Copy ``images/`` and ``anatomy/`` found next to the inputs (or one level up)."""
    seen: set[Path] = set()
    for p in paths:
        folder = p if p.is_dir() else p.parent
        for cand in (folder, folder.parent):
            for side in ("images", "anatomy"):
                src = cand / side
                if src.is_dir() and src.resolve() not in seen:
                    seen.add(src.resolve())
                    dst = out / side
                    dst.mkdir(parents=True, exist_ok=True)
                    for f in src.iterdir():
                        if f.is_file() and not (dst / f.name).exists():
                            tmp = dst / f".{f.name}.tmp"
                            shutil.copyfile(f, tmp)
                            os.replace(tmp, dst / f.name)


def convert(
    inputs: Sequence[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    overwrite: bool = False,
    jobs: int = 1,
    fail_fast: bool = False,
    progress: bool = False,
    allow_mixed_pupil_units: bool = False,
    **reader_options: Any,
) -> ConvertResult:
    """Convert raw recordings into a gazekit dataset directory.

    Parameters
    ----------
    inputs : sequence of path-like
        Files or folders (searched recursively; corpus folders read as a whole).
    outdir : path-like
        Dataset directory to write (see :mod:`gazekit.io.dataset_dir`).
    fmt : str, optional
        Reader name; detected per input when omitted.
    overwrite : bool
        Replace an existing dataset in ``outdir``.
    jobs : int
        Reader processes (inputs are read in parallel, written by this process).
    fail_fast : bool
        Raise on the first failing input instead of recording it and going on.
    progress : bool
        Show a progress bar (tqdm) on stderr.
    allow_mixed_pupil_units : bool
        Write recordings whose pupil units differ into one dataset (each recording's
        unit is in the ``recordings`` table). By default the conversion is refused and
        its samples files removed, so mm, areas and arbitrary units are not pooled.
    **reader_options
        Passed to the readers (screen geometry, ``column_map``, ``time_unit``, ...).

    Returns
    -------
    ConvertResult

    Raises
    ------
    InputError
        Missing inputs, an existing output without ``overwrite``, duplicated recording
        ids, pupil units that differ between recordings (without
        ``allow_mixed_pupil_units``), or (with ``fail_fast``) the first bad input.
    """
    out = Path(outdir)
    if out.exists() and any(out.iterdir()) and not overwrite:
        if is_dataset_dir(out) or (out / "manifest.json").exists():
            raise InputError("output exists; pass --overwrite to replace it", path=out)
        raise InputError("output directory is not empty; pass --overwrite to use it", path=out)
    paths = expand_inputs(inputs, fmt)
    if not paths:
        raise InputError(
            "no recordings found in the inputs", path=Path(inputs[0]) if inputs else None
        )
    if overwrite and (out / "samples").is_dir():
        for f in (out / "samples").glob("*.parquet"):
            f.unlink()
    result = ConvertResult(outdir=out)
    rows: list[dict[str, Any]] = []
    kept: list[Recording] = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(paths), unit="input", desc="convert", leave=False)
    try:
        for path, recs, error in _iter_read(paths, fmt, reader_options, jobs):
            if bar is not None:
                bar.update(1)
            if error is not None:
                if fail_fast:
                    raise InputError(f"conversion stopped (--fail-fast): {error}")
                log.warning("%s", error)
                result.failures.append((str(path), error))
                continue
            for rec in recs or []:
                if rec.recording_id in result.recordings:
                    msg = f"recording id {rec.recording_id!r} appears twice"
                    if fail_fast:
                        raise InputError(msg, path=path)
                    result.failures.append((str(path), msg))
                    continue
                rows.append(write_samples_file(rec, out))
                result.recordings.append(rec.recording_id)
                result.n_samples += len(rec.samples)
                kept.append(_without_samples(rec))
    finally:
        if bar is not None:
            bar.close()
    if not allow_mixed_pupil_units:
        _refuse_mixed_units(kept, out)
    params = {"format": fmt, "inputs": [str(p) for p in paths]}
    extra = {"failures": [{"input": p, "error": e} for p, e in result.failures]}
    write_dataset_tables(rows, kept, out, params, created_by="gazekit convert", extra=extra)
    _copy_side_folders(paths, out)
    return result


def _refuse_mixed_units(kept: list[Recording], out: Path) -> None:
    """Refuse a dataset whose recordings give pupil size in different units.

    The samples files this conversion wrote are removed first, so nothing half-pooled is
    left behind; the decision does not depend on the order the inputs were read in.
    """
    units: dict[str, list[str]] = {}
    for rec in kept:
        if rec.pupil_unit is not None:
            units.setdefault(rec.pupil_unit, []).append(rec.recording_id)
    if len(units) <= 1:
        return
    for rec in kept:
        (out / "samples" / f"{rec.recording_id}.parquet").unlink(missing_ok=True)
    listed = "; ".join(f"{u!r}: {len(ids)} (e.g. {ids[0]})" for u, ids in sorted(units.items()))
    raise InputError(
        f"the inputs give pupil size in different units ({listed}); one dataset would pool "
        "them. Convert them into separate datasets, or pass --allow-mixed-pupil-units to keep "
        "each recording's unit in recordings.parquet",
        path=out,
    )


def _without_samples(rec: Recording) -> Recording:
    import dataclasses

    return dataclasses.replace(rec, samples=rec.samples.iloc[:0])
