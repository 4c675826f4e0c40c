"""``gazekit convert``: raw recordings in, one validated gazekit dataset directory out.

Each input (a file or a corpus folder) is read by the reader named with ``fmt`` or
found by :func:`gazekit.io.detect_format`; one bad input is recorded as a failure and
the batch goes on (unless ``fail_fast``), whatever the reader raised.

Crash safety: the whole new dataset is written into a staging directory beside the
output (``.<name>.gazekit-staging``) and switched into place only when complete, so the
old dataset stays usable until the new one is complete and a killed conversion never
leaves a mixed or half-written dataset. One conversion at a time writes an output
(a lock file ``.<name>.gazekit-lock`` beside it); the next run removes the leftovers of
a killed one (and finishes a switch that was cut between its two renames), so an
interrupted conversion is simply run again, without ``--overwrite``.
"""

from __future__ import annotations

import contextlib
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
from gazekit.io.parquet import file_mode
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
        if not p.is_dir() and not p.is_file():
            raise InputError("not a regular file or directory (device, pipe or socket)", path=p)
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
    unique: dict[Path, Path] = {}
    for q in out:  # an input given twice (or inside a folder also given) is read once
        unique.setdefault(q.resolve(), q)
    return list(unique.values())


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


def _failure(path: Path, exc: Exception) -> str:
    """The message of one failed input (a reader bug is reported, not raised)."""
    if isinstance(exc, GazekitError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename or path}: {exc.strerror or exc}"
    text = " ".join(str(exc).split())[:200]
    log.debug("reader error on %s", path, exc_info=exc)
    return f"{path}: the reader failed ({exc.__class__.__name__}: {text})"


def _iter_read(
    paths: list[Path], fmt: str | None, options: dict[str, Any], jobs: int
) -> Iterator[tuple[Path, list[Recording] | None, str | None]]:
    if jobs <= 1 or len(paths) <= 1:
        for p in paths:
            try:
                yield p, _read_one(str(p), fmt, options), None
            except Exception as exc:  # one bad input never aborts the batch
                yield p, None, _failure(p, exc)
        return
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futs = {pool.submit(_read_one, str(p), fmt, options): p for p in paths}
        for fut in as_completed(futs):
            p = futs[fut]
            try:
                yield p, fut.result(), None
            except Exception as exc:
                yield p, None, _failure(p, exc)


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
                            os.chmod(tmp, file_mode())
                            os.replace(tmp, dst / f.name)


STAGING = ".{}.gazekit-staging"
PREVIOUS = ".{}.gazekit-old"
LOCK = ".{}.gazekit-lock"


def _sibling(out: Path, pattern: str) -> Path:
    return out.parent / pattern.format(out.name)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold the conversion lock of ``out`` (refuse when another conversion holds it)."""
    from filelock import FileLock, Timeout

    out.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(_sibling(out, LOCK)), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise GazekitError(
            f"{out}: another gazekit convert is writing this output; wait for it to finish"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _complete(path: Path) -> bool:
    return (path / "manifest.json").is_file() and (path / "recordings.parquet").is_file()


def recover(out: str | os.PathLike[str]) -> None:
    """Clean up after a killed conversion of ``out`` (call with the lock held).

    A switch cut between its two renames is finished (or rolled back when the new
    dataset was not complete); the staging directory and the previous dataset are
    removed. Only names of gazekit's own making are touched.

    Parameters
    ----------
    out : str or PathLike
        The output dataset directory.
    """
    out = Path(out)
    stage, old = _sibling(out, STAGING), _sibling(out, PREVIOUS)
    if old.is_dir() and not out.exists():
        if stage.is_dir() and _complete(stage):
            os.replace(stage, out)
            log.info("%s: finished the switch of an interrupted conversion", out)
        else:
            os.replace(old, out)
            log.info("%s: restored the dataset an interrupted conversion was replacing", out)
    for leftover in (stage, old):
        if leftover.is_dir():
            shutil.rmtree(leftover)
            log.info("removed %s left by an interrupted conversion", leftover)


def _switch(stage: Path, out: Path) -> None:
    """Put the complete dataset ``stage`` at ``out`` (the old one stays until then)."""
    old = _sibling(out, PREVIOUS)
    if out.exists():
        os.replace(out, old)
    os.replace(stage, out)
    if old.exists():
        shutil.rmtree(old)


def convert(
    inputs: Sequence[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    overwrite: bool = False,
    jobs: int = 1,
    fail_fast: bool = False,
    progress: bool = False,
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
    **reader_options
        Passed to the readers (screen geometry, ``column_map``, ``time_unit``, ...).

    Returns
    -------
    ConvertResult

    Raises
    ------
    InputError
        Missing inputs, an existing output without ``overwrite``, an output that is a
        non-empty directory but not a gazekit dataset, no input converted, or (with
        ``fail_fast``) the first bad input.
    GazekitError
        Another conversion is writing ``outdir``.
    """
    out = Path(outdir)
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    if out.exists() and not out.is_dir():
        raise InputError("output exists and is not a directory; pass a directory", path=out)
    paths = expand_inputs(inputs, fmt)
    if not paths:
        raise InputError(
            "no recordings found in the inputs", path=Path(inputs[0]) if inputs else None
        )
    with _locked(out):
        recover(out)
        if out.exists() and any(out.iterdir()):
            dataset = is_dataset_dir(out) or (out / "manifest.json").exists()
            if not dataset:
                raise InputError(
                    "output directory is not empty and not a gazekit dataset; "
                    "pass a new or empty directory",
                    path=out,
                )
            if not overwrite:
                raise InputError("output exists; pass --overwrite to replace it", path=out)
        stage = _sibling(out, STAGING)
        stage.mkdir(mode=0o777)
        try:
            result = _convert_into(stage, paths, fmt, jobs, fail_fast, progress, reader_options)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        result.outdir = out
        _switch(stage, out)
    return result


def _convert_into(
    out: Path,
    paths: list[Path],
    fmt: str | None,
    jobs: int,
    fail_fast: bool,
    progress: bool,
    reader_options: dict[str, Any],
) -> ConvertResult:
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
                try:
                    rows.append(write_samples_file(rec, out))
                except GazekitError as exc:
                    if fail_fast:
                        raise
                    log.warning("%s", exc)
                    result.failures.append((str(path), str(exc)))
                    continue
                result.recordings.append(rec.recording_id)
                result.n_samples += len(rec.samples)
                kept.append(_without_samples(rec))
    finally:
        if bar is not None:
            bar.close()
    if not rows:
        reasons = "; ".join(e for _, e in result.failures[:5])
        more = f" (and {len(result.failures) - 5} more)" if len(result.failures) > 5 else ""
        raise InputError(f"none of the {len(paths)} input(s) could be converted: {reasons}{more}")
    params = {"format": fmt, "inputs": [str(p) for p in paths]}
    extra = {"failures": [{"input": p, "error": e} for p, e in result.failures]}
    _copy_side_folders(paths, out)
    # manifest.json is written last: a staging directory with it is complete
    write_dataset_tables(rows, kept, out, params, created_by="gazekit convert", extra=extra)
    return result


def _without_samples(rec: Recording) -> Recording:
    import dataclasses

    return dataclasses.replace(rec, samples=rec.samples.iloc[:0])
