"""Writing recordings as a BIDS eye-tracking dataset (BIDS 1.11 physiological recordings).

Layout written for each recording (``<m>`` = ``sub-<reader>_task-<task>_run-<n>``)::

    dataset_description.json, README, participants.tsv/.json
    sub-<reader>/sub-<reader>_scans.tsv/.json          recording ids, images, provenance
    sub-<reader>/beh/<m>_recording-eye1_physio.tsv.gz  timestamp, x_coordinate, y_coordinate
                                                       [, pupil_size], no header row
    sub-<reader>/beh/<m>_recording-eye1_physio.json    Columns, SamplingFrequency, StartTime,
                                                       PhysioType "eyetrack", RecordedEye, ...
    sub-<reader>/beh/<m>_recording-eye1_physioevents.tsv.gz/.json   fixations, saccades, ...
    sub-<reader>/beh/<m>_events.tsv/.json              the radiograph's presentation, with
                                                       StimulusPresentation (screen geometry)
    stimuli/<image_id>.png                             when the dataset holds the image

What follows the specification text (``physiological-recordings.md`` and the 1.11 schema,
as the BIDS validator checks it):

* one ``_physio`` file per recorded eye, ``recording-eye1``/``eye2``, the eye named by the
  REQUIRED ``RecordedEye`` (``left``, ``right``, or ``cyclopean`` for a combined gaze signal);
* gaze in screen pixels, ``SampleCoordinateSystem: "gaze-on-screen"``, with the REQUIRED
  ``Units`` of ``x_coordinate``/``y_coordinate``; samples the tracker flagged invalid have
  ``n/a`` coordinates;
* ``timestamp`` is the tracker clock in ms; ``StartTime`` (s) places the first sample on
  the ``events.tsv`` timeline, whose zero is the recording's ``t_ms = 0`` (the radiograph
  is on screen for the whole recording);
* ``physioevents`` onsets are ``timestamp`` values (``OnsetSource: "timestamp"``),
  durations in seconds (the schema's unit for ``duration``);
* the screen (``ScreenSize`` and ``ScreenDistance`` in metres, ``ScreenResolution`` in
  pixels, ``ScreenOrigin``) is ``StimulusPresentation`` in the ``events.json`` sidecar,
  REQUIRED there for ``gaze-on-screen`` recordings; a value gazekit does not know is left
  out rather than invented.

Ids become BIDS labels (letters and digits only) through :func:`gazekit.io.bids.bids_labels`;
``participants.tsv`` (``reader_id``) and ``scans.tsv`` (``recording_id``) record the mapping,
so :class:`gazekit.io.bids.BIDSReader` gives back the original ids.
"""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit._version import __version__
from gazekit.errors import InputError
from gazekit.io.bids_common import (
    BIDS_VERSION,
    CALIBRATION_FIELDS,
    EVENT_NUMERIC,
    EVENT_POSITIONS,
    METHODS,
    PLACEMENT_COLUMNS,
    TRIAL_TYPES,
    bids_labels,
    check_id,
)
from gazekit.io.parquet import atomic_open, atomic_path
from gazekit.recording import Recording

log = logging.getLogger(__name__)

TASK_NAME = "chest radiograph reading"
_MANUFACTURER = {"asc": "SR Research", "edf": "SR Research"}


def _write_json(path: Path, obj: dict[str, Any]) -> Path:
    with atomic_open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, sort_keys=False, allow_nan=False)
        fh.write("\n")
    return path


def _write_tsv(path: Path, df: pd.DataFrame, *, header: bool) -> Path:
    """TSV (gzipped when the name ends in ``.gz``), ``n/a`` for missing, written atomically."""
    with atomic_path(path) as tmp:
        if path.name.endswith(".gz"):
            # no file name and mtime 0 in the gzip header: nothing leaks from the machine
            # (the validator checks it), and the same data gives the same bytes
            with (
                open(tmp, "wb") as raw,
                gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz,
            ):
                gz.write(df.to_csv(sep="\t", header=header, index=False, na_rep="n/a").encode())
        else:
            df.to_csv(tmp, sep="\t", header=header, index=False, na_rep="n/a", lineterminator="\n")
    return path


def _eye_signals(rec: Recording) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """``(RecordedEye, x, y, pupil)`` per file to write, in the recording's frame."""
    s = rec.samples
    eyes = [e for e in rec.extra.get("eyes", []) if e in ("left", "right")]
    n = len(s)

    def col(name: str) -> np.ndarray:
        return s[name].to_numpy(np.float64) if name in s else np.full(n, np.nan)

    if len(eyes) == 2 and "x_left_px" in s and "x_right_px" in s:
        return [(e, col(f"x_{e}_px"), col(f"y_{e}_px"), col(f"pupil_{e}")) for e in eyes]
    valid = s["valid"].to_numpy(bool)
    x = np.where(valid, col("x_px"), np.nan)
    y = np.where(valid, col("y_px"), np.nan)
    # one tracked eye, or a gaze signal combining both eyes (Gazepoint's best POG,
    # a simulator's single gaze): BIDS calls the latter "cyclopean"
    return [(eyes[0] if len(eyes) == 1 else "cyclopean", x, y, col("pupil"))]


def _screen_px(rec: Recording, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    g = rec.geometry
    if g.frame == "image":
        return g.image_to_screen(x, y)
    return x, y


def _physio_sidecar(rec: Recording, eye: str, has_pupil: bool) -> dict[str, Any]:
    t = rec.samples["t_ms"].to_numpy(np.float64)
    columns = ["timestamp", "x_coordinate", "y_coordinate"] + (["pupil_size"] if has_pupil else [])
    rate = rec.sampling_rate_hz
    if rate is None or not np.isfinite(rate):
        raise InputError(
            f"recording {rec.recording_id!r}: the sampling rate is unknown, and BIDS requires "
            "SamplingFrequency; set it when reading (e.g. the reader's sampling-rate option)"
        )
    meta: dict[str, Any] = {
        "TaskName": TASK_NAME,
        "SamplingFrequency": float(rate),
        "StartTime": float(t[0]) / 1000.0,
        "Columns": columns,
        "PhysioType": "eyetrack",
        "RecordedEye": eye,
        "SampleCoordinateSystem": "gaze-on-screen",
    }
    if rec.source_format in _MANUFACTURER:
        meta["Manufacturer"] = _MANUFACTURER[rec.source_format]
    cal = (rec.extra.get("calibration") or {}).get(eye)
    if isinstance(cal, dict):
        for key, field in CALIBRATION_FIELDS.items():
            if cal.get(key) is not None:
                meta[field] = cal[key]
    meta["timestamp"] = {
        "Description": "Time stamp of the sample on the eye tracker's clock.",
        "Units": "ms",
        "Origin": "Tracker clock; 0 is the first sample when the source gave no clock",
    }
    for axis in ("x", "y"):
        meta[f"{axis}_coordinate"] = {
            "LongName": f"Gaze position ({axis})",
            "Description": f"Gaze position {axis}-coordinate of the recorded eye on the screen, "
            "origin at the top-left corner of the screen, n/a where the tracker lost the eye.",
            "Units": "pixel",
        }
    if has_pupil:
        unit = str(rec.pupil_unit or "arbitrary")
        kind = {"mm": "diameter"}.get(unit)
        what = (
            f"pupil {kind}"
            if kind
            else "pupil size (whether area or diameter is not recorded in the source)"
        )
        meta["pupil_size"] = {
            "Description": f"Tracker-reported {what} of the recorded eye.",
            "Units": unit,
        }
    return meta


def _physio_table(rec: Recording, x: np.ndarray, y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    t = rec.samples["t_ms"].to_numpy(np.float64)
    sx, sy = _screen_px(rec, x, y)
    cols: dict[str, np.ndarray] = {"timestamp": t + rec.t0, "x_coordinate": sx, "y_coordinate": sy}
    if np.isfinite(p).any():
        cols["pupil_size"] = p
    return pd.DataFrame(cols)


def _events_for_eye(
    ev: pd.DataFrame | None, eye: str, first: bool, eyes: list[str]
) -> pd.DataFrame:
    """Events written next to ``eye``'s file: that eye's, and (in the first file) the rest."""
    if ev is None or not len(ev):
        return pd.DataFrame()
    own = ev["eye"].astype(object).where(ev["eye"].notna(), None)
    mask = own == eye
    if first:
        mask |= ~own.isin([e for e in eyes if e != eye])
    return ev[mask.to_numpy(bool)]


def _physioevents(rec: Recording, ev: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    g = rec.geometry
    out: dict[str, Any] = {
        "onset": ev["onset_ms"].to_numpy(np.float64) + rec.t0,
        "duration": ev["duration_ms"].to_numpy(np.float64) / 1000.0,
        "trial_type": ev["event"].astype(object).to_numpy(),
    }
    for bids_name, (cx, cy) in EVENT_POSITIONS.items():
        x, y = ev[cx].to_numpy(np.float64), ev[cy].to_numpy(np.float64)
        sx, sy = g.image_to_screen(x, y) if g.frame == "image" else (x, y)
        out[f"{bids_name}x_coordinate"], out[f"{bids_name}y_coordinate"] = sx, sy
    for name in EVENT_NUMERIC:
        out[name] = ev[name].to_numpy(np.float64)
    for name in ("source", "method", "eye"):
        out[name] = ev[name].astype(object).where(ev[name].notna(), None).to_numpy()
    table = pd.DataFrame(out)
    kinds = sorted(set(table["trial_type"]))
    methods = sorted({m for m in table["method"] if m is not None})
    unknown = [k for k in kinds if k not in TRIAL_TYPES]
    if unknown:
        raise InputError(f"recording {rec.recording_id!r}: unknown event type(s) {unknown}")
    meta: dict[str, Any] = {
        "TaskName": TASK_NAME,
        "Columns": list(table.columns),
        "Description": "Oculomotor events: reported by the eye tracker or detected by gazekit "
        "(column 'source'), with the detection method in column 'method'.",
        "OnsetSource": "timestamp",
        "onset": {
            "Description": "Event start, on the clock of the timestamp column.",
            "Units": "ms",
        },
        "duration": {"Description": "Event duration.", "Units": "s"},
        "trial_type": {
            "Description": "Oculomotor event type.",
            "Levels": {k: TRIAL_TYPES[k] for k in kinds},
        },
    }
    for bids_name in EVENT_POSITIONS:
        what = {
            "": "Mean gaze position",
            "start_": "Gaze position at onset",
            "end_": "Gaze position at offset",
        }[bids_name]
        for axis in ("x", "y"):
            meta[f"{bids_name}{axis}_coordinate"] = {
                "Description": f"{what} ({axis}) on the screen, origin at the top-left corner.",
                "Units": "pixel",
            }
    frame_px = "displayed image's pixel grid" if g.frame == "image" else "screen"
    for name, (desc, unit) in EVENT_NUMERIC.items():
        meta[name] = {"Description": desc.format(frame=frame_px), "Units": unit}
    meta["source"] = {
        "Description": "Where the event comes from.",
        "Levels": {
            "tracker": "Reported by the eye tracker or the corpus.",
            "detected": "Detected by gazekit from the samples.",
        },
    }
    meta["method"] = {
        "Description": "Detection method (the tracker's own parser, or gazekit's detector).",
        "Levels": {m: METHODS.get(m, f"Detection method {m!r}.") for m in methods},
    }
    meta["eye"] = {"Description": "Eye the event was detected on (n/a: the combined gaze)."}
    return table, meta


def _stimulus_presentation(rec: Recording) -> dict[str, Any]:
    g = rec.geometry
    sp: dict[str, Any] = {"ScreenOrigin": ["top", "left"]}
    if g.viewing_distance_mm is not None:
        sp["ScreenDistance"] = g.viewing_distance_mm / 1000.0
    if g.screen_w_px is not None and g.screen_h_px is not None:
        w, h = g.screen_w_px, g.screen_h_px
        if float(w).is_integer() and float(h).is_integer():
            sp["ScreenResolution"] = [int(w), int(h)]
    if g.screen_w_mm is not None and g.screen_h_mm is not None:
        sp["ScreenSize"] = [g.screen_w_mm / 1000.0, g.screen_h_mm / 1000.0]
    missing = [k for k in ("ScreenDistance", "ScreenResolution", "ScreenSize") if k not in sp]
    if missing:
        log.warning(
            "recording %s: %s unknown, left out of StimulusPresentation (the BIDS validator "
            "reports it); pass the screen geometry when reading the recording",
            rec.recording_id,
            ", ".join(missing),
        )
    return sp


def _task_events(rec: Recording, stim_file: str | None) -> tuple[pd.DataFrame, dict[str, Any]]:
    g = rec.geometry
    t = rec.samples["t_ms"].to_numpy(np.float64)
    dt = 1000.0 / float(rec.sampling_rate_hz)  # type: ignore[arg-type]
    row: dict[str, Any] = {
        "onset": 0.0,
        "duration": (float(t[-1]) + dt) / 1000.0 if len(t) else 0.0,
        "trial_type": "radiograph",
        "image_id": rec.image_id,
    }
    if stim_file is not None:
        row["stim_file"] = stim_file
    if g.frame == "image":
        for bids_name, field in PLACEMENT_COLUMNS.items():
            row[bids_name] = getattr(g, field)
    meta: dict[str, Any] = {
        "TaskName": TASK_NAME,
        "TaskDescription": "Reading a chest radiograph, as for a report, while the eyes are "
        "tracked.",
        "onset": {
            "Description": "Time of the radiograph's display; 0 is the recording's start.",
            "Units": "s",
        },
        "duration": {"Description": "Time the radiograph stayed on screen.", "Units": "s"},
        "trial_type": {
            "Description": "Stimulus kind.",
            "Levels": {"radiograph": "A chest radiograph shown for reading."},
        },
        "image_id": {"Description": "Identifier of the radiograph in its corpus."},
        "StimulusPresentation": _stimulus_presentation(rec),
    }
    if stim_file is not None:
        meta["stim_file"] = {"Description": "The radiograph, relative to the stimuli/ folder."}
    if g.frame == "image":
        descr = {
            "image_width": "Width of the radiograph's pixel grid (the frame of gazekit's gaze).",
            "image_height": "Height of the radiograph's pixel grid.",
            "display_left": "Screen x of the displayed radiograph's left edge.",
            "display_top": "Screen y of the displayed radiograph's top edge.",
            "display_width": "Width of the radiograph as displayed on the screen.",
            "display_height": "Height of the radiograph as displayed on the screen.",
        }
        for k, d in descr.items():
            meta[k] = {"Description": d, "Units": "pixel"}
    return pd.DataFrame([row]), meta


def _image_file(images: Path | None, image_id: str | None) -> Path | None:
    if images is None or image_id is None:
        return None
    for ext in (".png", ".jpg", ".jpeg"):
        f = images / f"{image_id}{ext}"
        if f.is_file():
            return f
    return None


def write(
    recordings: list[Recording],
    outdir: Path,
    *,
    task: str = "cxr",
    dataset_name: str = "gazekit eye-tracking dataset",
    images_dir: str | Path | None = None,
    overwrite: bool = False,
    load: Callable[[Recording], Recording] | None = None,
    **options: Any,
) -> list[Path]:
    """Write recordings as a BIDS eye-tracking dataset rooted at ``outdir``.

    Parameters
    ----------
    recordings : list of Recording
        With their events (tracker-reported and detected) attached; metadata only (no
        samples) when ``load`` is given.
    outdir : Path
        BIDS root; must be empty or absent unless ``overwrite``.
    task : str
        BIDS task label (letters and digits).
    dataset_name : str
        ``Name`` in ``dataset_description.json``.
    images_dir : path-like, optional
        Folder with ``<image_id>.png`` radiographs, copied to ``stimuli/``.
    overwrite : bool
        Write into a non-empty ``outdir`` (files of the same name are replaced).
    load : callable, optional
        Gives the full recording (samples and events) of a metadata-only one, so a large
        corpus is written one recording at a time.

    Returns
    -------
    list of Path
        Every file written.

    Raises
    ------
    InputError
        An id that could escape the output folder, two recordings with one id, a
        recording without samples or sampling rate, a task label that is not alphanumeric,
        or a non-empty ``outdir`` without ``overwrite``.
    """
    del options
    out = Path(outdir)
    if not task.isalnum() or not task.isascii():
        raise InputError(f"task label must be letters and digits, got {task!r}")
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise InputError(
            "output directory is not empty; pass --overwrite to write into it", path=out
        )
    ids = [check_id(r.recording_id, "recording id") for r in recordings]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise InputError(f"recording id(s) {dup} appear more than once")
    for r in recordings:
        if r.reader_id is not None:
            check_id(r.reader_id, "reader id")
        if r.image_id is not None:
            check_id(r.image_id, "image id")
    images = Path(images_dir) if images_dir is not None else None
    sub_of = bids_labels([r.reader_id for r in recordings])
    written: list[Path] = []
    scans: dict[str, list[dict[str, Any]]] = {}
    runs: dict[str, int] = {}
    for meta_rec in sorted(recordings, key=lambda r: (sub_of[r.reader_id], r.recording_id)):
        rec = load(meta_rec) if load is not None else meta_rec
        if not len(rec.samples):
            raise InputError(f"recording {rec.recording_id!r} has no samples to write")
        sub = sub_of[rec.reader_id]
        runs[sub] = runs.get(sub, 0) + 1
        stem = f"sub-{sub}_task-{task}_run-{runs[sub]}"
        beh = out / f"sub-{sub}" / "beh"
        signals = _eye_signals(rec)
        eyes = [s[0] for s in signals]
        for i, (eye, x, y, p) in enumerate(signals):
            base = beh / f"{stem}_recording-eye{i + 1}"
            table = _physio_table(rec, x, y, p)
            meta = _physio_sidecar(rec, eye, "pupil_size" in table)
            written.append(
                _write_tsv(base.with_name(base.name + "_physio.tsv.gz"), table, header=False)
            )
            written.append(_write_json(base.with_name(base.name + "_physio.json"), meta))
            ev = _events_for_eye(rec.events, eye, i == 0, eyes)
            if len(ev):
                etable, emeta = _physioevents(rec, ev)
                written.append(
                    _write_tsv(
                        base.with_name(base.name + "_physioevents.tsv.gz"), etable, header=False
                    )
                )
                written.append(_write_json(base.with_name(base.name + "_physioevents.json"), emeta))
            scans.setdefault(sub, []).append(
                {
                    "filename": f"beh/{base.name}_physio.tsv.gz",
                    "recording_id": rec.recording_id,
                    "image_id": rec.image_id,
                    "corpus": rec.corpus,
                    "source_format": rec.source_format,
                    "source_file": rec.source_file,
                }
            )
        img = _image_file(images, rec.image_id)
        stim = None
        if img is not None:
            stim = f"{rec.image_id}{img.suffix}"
            dst = out / "stimuli" / stim
            if not dst.exists():
                with atomic_path(dst) as tmp:
                    shutil.copyfile(img, tmp)
                written.append(dst)
        etable, emeta = _task_events(rec, stim)
        written.append(_write_tsv(beh / f"{stem}_events.tsv", etable, header=True))
        written.append(_write_json(beh / f"{stem}_events.json", emeta))
    written += _write_dataset_files(out, recordings, sub_of, scans, dataset_name)
    log.info("wrote %d recordings as BIDS (%d files) to %s", len(recordings), len(written), out)
    return written


def _write_dataset_files(
    out: Path,
    recordings: list[Recording],
    sub_of: dict[str | None, str],
    scans: dict[str, list[dict[str, Any]]],
    dataset_name: str,
) -> list[Path]:
    written = [
        _write_json(
            out / "dataset_description.json",
            {
                "Name": dataset_name,
                "BIDSVersion": BIDS_VERSION,
                "DatasetType": "raw",
                "GeneratedBy": [
                    {
                        "Name": "gazekit",
                        "Version": __version__,
                        "Description": "gazekit export --to bids",
                    }
                ],
            },
        ),
    ]
    readme = out / "README.md"
    with atomic_open(readme, "w", encoding="utf-8") as fh:
        fh.write(
            f"# {dataset_name}\n\nEye-tracking recordings of radiologists reading chest "
            "radiographs, written by gazekit as BIDS physiological recordings "
            "(PhysioType eyetrack).\nparticipants.tsv maps subject labels to reader ids, each "
            "subject's scans.tsv maps files to recording ids.\n"
        )
    written.append(readme)
    readers = sorted({r.reader_id for r in recordings}, key=lambda v: sub_of[v])
    part = pd.DataFrame(
        {
            "participant_id": [f"sub-{sub_of[r]}" for r in readers],
            "reader_id": readers,
        }
    )
    written.append(_write_tsv(out / "participants.tsv", part, header=True))
    written.append(
        _write_json(
            out / "participants.json",
            {
                "participant_id": {"Description": "Subject label."},
                "reader_id": {
                    "Description": "The reader's id in the source corpus (n/a: unknown)."
                },
            },
        )
    )
    scans_meta = {
        "filename": {"Description": "Eye-tracking file, relative to the subject folder."},
        "recording_id": {"Description": "gazekit recording id (one viewing of one radiograph)."},
        "image_id": {"Description": "Radiograph identifier in its corpus."},
        "corpus": {"Description": "Corpus the recording comes from."},
        "source_format": {"Description": "File format the recording was read from."},
        "source_file": {"Description": "File the recording was read from."},
    }
    for sub, rows in scans.items():
        base = out / f"sub-{sub}" / f"sub-{sub}_scans"
        written.append(_write_tsv(base.with_suffix(".tsv"), pd.DataFrame(rows), header=True))
        written.append(_write_json(base.with_suffix(".json"), scans_meta))
    return written
