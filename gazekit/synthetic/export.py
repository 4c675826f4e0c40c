"""Write synthetic sessions to disk: a gazekit dataset or a tracker/corpus file format.

Layout of ``outdir`` (every file written atomically):

* ``images/<image_id>.png`` — the radiograph, 8-bit grayscale;
* ``anatomy/<image_id>.npz`` — ``masks`` (R, H, W) bool and ``names`` (R,) str;
* ``truth/fixations.parquet`` — the ``truth_fixations`` table;
* for ``fmt="parquet"``: the dataset layout (``manifest.json``, ``recordings.parquet``,
  ``samples/<recording_id>.parquet`` with the true ``label`` column, ``events.parquet``,
  ``transcripts.parquet``, ``findings.parquet``);
* for ``fmt`` in ``egd``, ``reflacx``, ``asc``: the files
  :func:`gazekit.io.writers.write` produces for that format.

Output is byte-identical for the same sessions (PNG and NPZ carry no timestamps).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from gazekit.errors import GazekitError
from gazekit.io.dataset_dir import concat_tables as _concat
from gazekit.io.dataset_dir import write_dataset_tables as _write_tables
from gazekit.io.dataset_dir import write_samples_file as _write_samples
from gazekit.io.layout import id_filename
from gazekit.io.parquet import atomic_open, write_table
from gazekit.recording import Recording
from gazekit.synthetic.session import Session

log = logging.getLogger(__name__)

FORMATS = ("parquet", "egd", "reflacx", "asc")


def write_png(image_u8: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write an (H, W) uint8 image as PNG, atomically."""
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(image_u8))
    if not ok:  # pragma: no cover - cv2 encodes any uint8 array
        raise GazekitError(f"could not encode PNG for {path}")
    with atomic_open(path, "wb") as fh:
        fh.write(buf.tobytes())
    return Path(path)


def write_masks(masks: np.ndarray, names: Iterable[str], path: str | os.PathLike[str]) -> Path:
    """Write anatomy masks as ``.npz`` (``masks`` (R,H,W) bool, ``names`` (R,) str).

    Written with a fixed zip timestamp so the same masks give the same bytes;
    readable with :func:`numpy.load`.
    """
    arrays = {"masks": np.asarray(masks, dtype=bool), "names": np.asarray(list(names), dtype=str)}
    with atomic_open(path, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            bio = io.BytesIO()
            np.lib.format.write_array(bio, arr, allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, bio.getvalue())
    return Path(path)


def _write_image(s: Session, out: Path, seen: set[str]) -> None:
    if s.image_id in seen:
        return
    write_png(np.round(s.image * 255.0).astype(np.uint8), out / "images" / f"{id_filename(s.image_id, 'image_id')}.png")
    write_masks(s.atlas_masks, s.region_names, out / "anatomy" / f"{id_filename(s.image_id, 'image_id')}.npz")
    seen.add(s.image_id)


def _write_truth(truth: list[pd.DataFrame], out: Path, parameters: dict[str, Any] | None) -> None:
    write_table(
        _concat(truth, "truth_fixations"),
        out / "truth" / "fixations.parquet",
        "truth_fixations",
        parameters,
    )


def prepare_output(outdir: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Make ``outdir`` ready for a fresh simulation: absent, empty, or cleared.

    A directory that already holds files is refused unless ``overwrite``; then it is
    emptied first, so no recording of an earlier run is left beside the new ones (a
    later ``convert`` or ``pipeline`` would process them as if they were part of it).
    Only a directory an earlier simulation wrote (``truth/fixations.parquet``) is
    emptied; anything else is refused even with ``overwrite``.

    Parameters
    ----------
    outdir : path-like
    overwrite : bool

    Returns
    -------
    Path

    Raises
    ------
    GazekitError
        The directory is not empty and ``overwrite`` is off, or it is not a simulation's.
    """
    import shutil

    out = Path(outdir)
    if not out.exists() or not any(out.iterdir()):
        return out
    if not overwrite:
        raise GazekitError(f"{out}: output directory is not empty; pass --overwrite to replace it")
    if not (out / "truth" / "fixations.parquet").is_file():
        raise GazekitError(
            f"{out}: not empty and not written by `gazekit simulate` (no truth/fixations.parquet);"
            " refusing to delete it, choose an empty directory"
        )
    for child in out.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()
    return out


def write_sessions(
    sessions: Iterable[Session],
    outdir: str | os.PathLike[str],
    fmt: str = "parquet",
    parameters: dict[str, Any] | None = None,
) -> list[str]:
    """Write sessions, their images, anatomy masks and ground truth under ``outdir``.

    Parameters
    ----------
    sessions : iterable of Session
        Consumed once (a generator from :func:`~gazekit.synthetic.simulate_corpus` is
        fine). For ``parquet`` each session's samples are written as it arrives and then
        dropped, so memory does not grow with the corpus.
    outdir : path-like
    fmt : {"parquet", "egd", "reflacx", "asc"}
    parameters : dict, optional
        Simulation parameters recorded in the manifest and the truth table's metadata.

    Returns
    -------
    list of str
        The recording ids written.
    """
    if fmt not in FORMATS:
        raise GazekitError(f"format must be one of {FORMATS}, got {fmt!r}")
    writers = None
    if fmt != "parquet":  # fail before generating anything
        try:
            from gazekit.io import writers
        except ImportError:
            raise GazekitError(
                f"writing the {fmt!r} format needs gazekit.io.writers, which this installation lacks"
            ) from None
    out = Path(outdir)
    seen: set[str] = set()
    truth: list[pd.DataFrame] = []
    rows: list[dict[str, Any]] = []
    recordings: list[Recording] = []
    for s in sessions:
        _write_image(s, out, seen)
        truth.append(s.truth)
        rec = s.recording
        if writers is None:
            rows.append(_write_samples(rec, out))
            rec = dataclasses.replace(rec, samples=rec.samples.iloc[:0])
        recordings.append(rec)
    _write_truth(truth, out, parameters)
    if writers is None:
        _write_tables(rows, recordings, out, parameters)
    else:
        writers.write(recordings, out, fmt)
    log.info("wrote %d recordings of %d images to %s (%s)", len(recordings), len(seen), out, fmt)
    return [r.recording_id for r in recordings]


def write_ground_truth(
    sessions: Iterable[Session],
    outdir: str | os.PathLike[str],
    parameters: dict[str, Any] | None = None,
) -> list[str]:
    """Write only images, anatomy masks and ``truth/fixations.parquet``; return the recording ids."""
    out = Path(outdir)
    seen: set[str] = set()
    truth = []
    for s in sessions:
        _write_image(s, out, seen)
        truth.append(s.truth)
    _write_truth(truth, out, parameters)
    return [str(t["recording_id"].iloc[0]) for t in truth if len(t)]
