"""REFLACX (EyeLink 1000 Plus, 1000 Hz): per-reading gaze, fixations, transcripts, ellipses.

Layout as PhysioNet's reflacx-xray-localization 1.0.0 releases it::

    main_data/metadata_phase_{1,2,3}.csv     id, split, ..., dicom_id, subject_id, image_size_x, image_size_y, labels
    main_data/<id>/fixations.csv             timestamp_start_fixation, timestamp_end_fixation, x_position, ...
    main_data/<id>/timestamps_transcription.csv   word, timestamp_start_word, timestamp_end_word
    main_data/<id>/anomaly_location_ellipses.csv  xmin, ymin, xmax, ymax, certainty, <one bool column per label>
    main_data/<id>/chest_bounding_box.csv    xmin, ymin, xmax, ymax
    gaze_data/<id>/gaze.csv                  timestamp_sample, x_position, y_position, ...

Conventions of this reader:

* one recording per reading id; ``reader_id`` = the reading id's radiologist prefix
  (``P102R108387`` → ``P102``), ``image_id`` = ``dicom_id`` from the metadata;
* gaze is already in original-image pixels (frame ``image``); ``t_ms`` from the first
  gaze sample, and the fixations, words and times on the same clock;
* REFLACX publishes no screen size or viewing distance but the angular resolution per
  sample: the geometry is an *effective* one — the shown image rectangle of the first
  sample placed on a screen of that extent, 0.25 mm per screen pixel, and the viewing
  distance that reproduces the median angular resolution (exact at the screen centre);
* findings from ``anomaly_location_ellipses.csv`` (``shape="ellipse"``, REFLACX labels,
  one row per true label column); the chest box goes to ``recording.extra``.

A reading folder without ``gaze_data`` uses its fixations only (no samples is an error).
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit import schemas
from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.io._csv import check_time, read_delimited
from gazekit.io.base import READERS, WRITERS, checked_rate, events_table
from gazekit.io.layout import safe_child
from gazekit.io.parquet import atomic_open
from gazekit.recording import Recording
from gazekit.vocab import REFLACX_LABELS

log = logging.getLogger(__name__)

POS = (
    "x_position", "y_position", "pupil_area_normalized", "angular_resolution_x_pixels_per_degree",
    "angular_resolution_y_pixels_per_degree", "window_width", "window_level",
    "xmin_shown_from_image", "ymin_shown_from_image", "xmax_shown_from_image", "ymax_shown_from_image",
    "xmin_in_screen_coordinates", "ymin_in_screen_coordinates", "xmax_in_screen_coordinates",
    "ymax_in_screen_coordinates",
)  # fmt: skip
GAZE_COLUMNS = ("timestamp_sample", *POS)
FIX_COLUMNS = ("timestamp_start_fixation", "timestamp_end_fixation", *POS)
MM_PER_PX = 0.25


def _reading_dirs(path: Path) -> list[Path]:
    if (path / "fixations.csv").is_file() and (path / "anomaly_location_ellipses.csv").is_file():
        return [path]
    main = path / "main_data" if (path / "main_data").is_dir() else path
    return (
        sorted(p for p in main.iterdir() if p.is_dir() and (p / "fixations.csv").is_file())
        if main.is_dir()
        else []
    )


def _metadata(root: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for f in sorted(root.glob("metadata_phase_*.csv")):
        df = read_delimited(
            f, required=("id", "dicom_id"), numeric=("image_size_x", "image_size_y")
        )
        for r in df.to_dict("records"):
            out[str(r["id"])] = r
    return out


class REFLACXReader:
    """Reader of REFLACX folders (the corpus root, ``main_data`` or one reading)."""

    name = "reflacx"

    def sniff(self, path: Path) -> bool:
        """A REFLACX root/main_data/reading folder."""
        return path.is_dir() and bool(_reading_dirs(path))

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Read every reading found under ``path``."""
        dirs = _reading_dirs(path)
        if not dirs:
            raise InputError("not a REFLACX folder (no main_data/<id>/fixations.csv)", path=path)
        meta = _metadata(dirs[0].parent)
        return [
            _read_one(d, meta.get(d.name, {}), options)
            for d in dirs
            if not _discarded(meta.get(d.name))
        ]


def _discarded(row: dict[str, Any] | None) -> bool:
    return bool(row) and str(row.get("eye_tracking_data_discarded", "False")).lower() == "true"


def _gaze_path(d: Path) -> Path | None:
    for cand in (d.parent.parent / "gaze_data" / d.name / "gaze.csv", d / "gaze.csv"):
        if cand.is_file():
            return cand
    return None


def _geometry(first: pd.Series, ppd: float, meta: dict[str, Any]) -> Geometry:
    sx0, sy0 = (
        float(first["xmin_in_screen_coordinates"]),
        float(first["ymin_in_screen_coordinates"]),
    )
    sx1, sy1 = (
        float(first["xmax_in_screen_coordinates"]),
        float(first["ymax_in_screen_coordinates"]),
    )
    ix0, iy0 = float(first["xmin_shown_from_image"]), float(first["ymin_shown_from_image"])
    ix1, iy1 = float(first["xmax_shown_from_image"]), float(first["ymax_shown_from_image"])
    w = float(meta.get("image_size_x") or ix1)
    h = float(meta.get("image_size_y") or iy1)
    scale = (sx1 - sx0) / max(ix1 - ix0, 1e-9)  # screen px per image px
    screen_w, screen_h = sx1 + sx0, sy1 + sy0
    dist = ppd * scale * MM_PER_PX / math.tan(math.radians(1.0)) if ppd > 0 else None
    return Geometry(
        frame="image", screen_w_px=screen_w, screen_h_px=screen_h,
        screen_w_mm=screen_w * MM_PER_PX, screen_h_mm=screen_h * MM_PER_PX, viewing_distance_mm=dist,
        image_w_px=w, image_h_px=h, image_left_px=sx0 - ix0 * scale, image_top_px=sy0 - iy0 * scale,
        image_disp_w_px=w * scale, image_disp_h_px=h * scale,
    )  # fmt: skip


def _read_one(d: Path, meta: dict[str, Any], options: dict[str, Any]) -> Recording:
    rid = d.name
    fix = read_delimited(d / "fixations.csv", required=FIX_COLUMNS[:4], numeric=FIX_COLUMNS)
    gpath = _gaze_path(d)
    if gpath is None:
        raise InputError("no gaze.csv for this reading (gaze_data/<id>/gaze.csv)", path=d)
    gaze = read_delimited(gpath, required=GAZE_COLUMNS[:3], numeric=GAZE_COLUMNS)
    if gaze.empty:
        raise InputError("no gaze samples (header only)", path=gpath, line=2)
    t = gaze["timestamp_sample"].to_numpy(np.float64)
    check_time(t, gpath, "timestamp_sample")
    t0 = float(t[0])
    ppd_col = gaze.get("angular_resolution_x_pixels_per_degree")
    ppd = (
        float(np.nanmedian(ppd_col)) if ppd_col is not None and np.isfinite(ppd_col).any() else 0.0
    )
    geom = (
        _geometry(gaze.iloc[0], ppd, meta)
        if "xmin_in_screen_coordinates" in gaze
        else Geometry(frame="image")
    )
    x, y = gaze["x_position"].to_numpy(np.float64), gaze["y_position"].to_numpy(np.float64)
    valid = np.isfinite(x) & np.isfinite(y)
    pupil = (
        gaze["pupil_area_normalized"].to_numpy(np.float64)
        if "pupil_area_normalized" in gaze
        else np.nan
    )
    samples = pd.DataFrame(
        {"t_ms": (t - t0) * 1000.0, "x_px": x, "y_px": y, "pupil": pupil, "valid": valid}
    )
    s = fix["timestamp_start_fixation"].to_numpy(np.float64)
    e = fix["timestamp_end_fixation"].to_numpy(np.float64)
    fx, fy = fix["x_position"].to_numpy(np.float64), fix["y_position"].to_numpy(np.float64)
    events = events_table({
        "recording_id": rid, "event": "fixation", "source": "tracker", "method": "eyelink",
        "eye": "both", "onset_ms": (s - t0) * 1000.0, "offset_ms": (e - t0) * 1000.0,
        "duration_ms": (e - s) * 1000.0, "x_px": fx, "y_px": fy,
    }) if len(fix) else None  # fmt: skip
    transcript = None
    tpath = d / "timestamps_transcription.csv"
    if tpath.is_file():
        w = read_delimited(
            tpath,
            required=("word", "timestamp_start_word", "timestamp_end_word"),
            numeric=("timestamp_start_word", "timestamp_end_word"),
        )
        if len(w):
            transcript = schemas.get("transcripts").conform(pd.DataFrame({
                "recording_id": rid, "level": "word", "text": w["word"].fillna("").astype(str),
                "start_ms": (w["timestamp_start_word"].to_numpy(np.float64) - t0) * 1000.0,
                "end_ms": (w["timestamp_end_word"].to_numpy(np.float64) - t0) * 1000.0,
            })).to_pandas()  # fmt: skip
    findings = _findings(d / "anomaly_location_ellipses.csv", rid)
    extra: dict[str, Any] = {"pupil_unit": "normalised area"}
    cb = d / "chest_bounding_box.csv"
    if cb.is_file():
        box = read_delimited(
            cb, required=("xmin", "ymin", "xmax", "ymax"), numeric=("xmin", "ymin", "xmax", "ymax")
        )
        if len(box):
            extra["chest_box"] = [float(box[c].iloc[0]) for c in ("xmin", "ymin", "xmax", "ymax")]
    return Recording(
        recording_id=rid, samples=samples, geometry=geom,
        corpus="reflacx", source_file=str(gpath), source_format="reflacx",
        sampling_rate_hz=checked_rate((t - t0) * 1000.0, 1000.0, source=gpath),
        image_id=str(meta.get("dicom_id") or options.get("image_id") or rid),
        reader_id=options.get("reader_id") or _reader_of(rid),
        events=events, transcript=transcript, findings=findings, t0=t0 * 1000.0, extra=extra,
    )  # fmt: skip


def _reader_of(rid: str) -> str | None:
    """``P102R108387`` → ``P102``; ``<image>-R2`` (ids gazekit writes) → ``R2``."""
    m = re.fullmatch(r"(P\d+)R\d+", rid) or re.search(r"-(R\d+)$", rid)
    return m.group(1) if m else None


def _findings(path: Path, rid: str) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    df = read_delimited(
        path,
        required=("xmin", "ymin", "xmax", "ymax", "certainty"),
        numeric=("xmin", "ymin", "xmax", "ymax", "certainty"),
    )
    labels = [c for c in df.columns if c not in ("xmin", "ymin", "xmax", "ymax", "certainty")]
    rows = []
    for i, r in enumerate(df.to_dict("records")):
        for lab in labels:
            if str(r[lab]).strip().lower() in ("true", "1"):
                rows.append({"recording_id": rid, "finding_id": i, "label": lab, "shape": "ellipse",
                             "xmin": r["xmin"], "ymin": r["ymin"], "xmax": r["xmax"], "ymax": r["ymax"],
                             "certainty": r["certainty"]})  # fmt: skip
    return schemas.get("findings").conform(pd.DataFrame(rows)).to_pandas() if rows else None


# ---------------------------------------------------------------------------- writer

_TO_REFLACX = {}
for _lab, _gi in __import__("gazekit.vocab", fromlist=["x"]).REFLACX_TO_GAZEINTENT.items():
    if _gi is not None:
        _TO_REFLACX.setdefault(_gi, _lab)


def _f3(v: np.ndarray) -> list[str]:
    return [("" if not np.isfinite(a) else f"{a:.3f}") for a in np.asarray(v, dtype=np.float64)]


def _shown(rec: Recording, n: int) -> dict[str, Any]:
    g = rec.geometry
    w, h = float(g.image_w_px or 0), float(g.image_h_px or 0)
    scale = (g.image_disp_w_px or w) / w if w else 1.0
    ppd = g.px_per_deg() if g.has_degrees else float("nan")  # image px per degree
    left, top = float(g.image_left_px or 0), float(g.image_top_px or 0)
    return {
        "angular_resolution_x_pixels_per_degree": np.full(n, ppd),
        "angular_resolution_y_pixels_per_degree": np.full(n, ppd),
        "window_width": np.full(n, 4096.0), "window_level": np.full(n, 2048.0),
        "xmin_shown_from_image": np.zeros(n), "ymin_shown_from_image": np.zeros(n),
        "xmax_shown_from_image": np.full(n, w), "ymax_shown_from_image": np.full(n, h),
        "xmin_in_screen_coordinates": np.full(n, left), "ymin_in_screen_coordinates": np.full(n, top),
        "xmax_in_screen_coordinates": np.full(n, left + w * scale),
        "ymax_in_screen_coordinates": np.full(n, top + h * scale),
    }  # fmt: skip


def _csv(path: Path, cols: dict[str, Any]) -> None:
    df = pd.DataFrame(cols)
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, index=False, float_format="%.3f", lineterminator="\n")


def write(recordings: list[Recording], outdir: Path, **options: Any) -> list[Path]:
    """Write recordings in the REFLACX layout (``main_data``, ``gaze_data``; see the module).

    Gaze must be in the image frame. Finding labels are written as REFLACX label
    columns (GazeIntent names mapped back; unmapped ones as ``Other``).
    """
    del options
    root = Path(outdir)
    written: list[Path] = []
    meta_rows = []
    for rec in recordings:
        if rec.geometry.frame != "image":
            raise InputError(
                f"REFLACX stores gaze in image pixels; {rec.recording_id} has no image placement"
            )
        rid, s = rec.recording_id, rec.samples
        t0 = 1.0  # seconds from the start of the audio recording
        t = s["t_ms"].to_numpy(np.float64) / 1000.0 + t0
        valid = s["valid"].to_numpy(bool)
        gaze = {"timestamp_sample": t, "x_position": np.where(valid, s["x_px"], np.nan),
                "y_position": np.where(valid, s["y_px"], np.nan),
                "pupil_area_normalized": s["pupil"].to_numpy(np.float64) / 10.0 if "pupil" in s else np.nan,
                **_shown(rec, len(s))}  # fmt: skip
        gdir = safe_child(root, "gaze_data", rid, what="recording_id")
        mdir = safe_child(root, "main_data", rid, what="recording_id")
        _csv(gdir / "gaze.csv", gaze)
        written.append(gdir / "gaze.csv")
        ev = rec.events
        fx = ev[ev["event"] == "fixation"] if ev is not None and len(ev) else None
        n = 0 if fx is None else len(fx)
        fix = {"timestamp_start_fixation": (fx["onset_ms"].to_numpy(np.float64) / 1000.0 + t0) if n else [],
               "timestamp_end_fixation": (fx["offset_ms"].to_numpy(np.float64) / 1000.0 + t0) if n else [],
               "x_position": fx["x_px"].to_numpy(np.float64) if n else [],
               "y_position": fx["y_px"].to_numpy(np.float64) if n else [],
               "pupil_area_normalized": np.full(n, np.nan), **_shown(rec, n)}  # fmt: skip
        _csv(mdir / "fixations.csv", fix)
        words = []
        tr = rec.transcript
        for r in tr.itertuples() if tr is not None else []:
            toks = str(r.text).replace(".", " .").replace(",", " ,").split()
            edges = np.linspace(float(r.start_ms), float(r.end_ms), len(toks) + 1) / 1000.0 + t0
            words += [(tok, edges[i], edges[i + 1]) for i, tok in enumerate(toks)]
        _csv(mdir / "timestamps_transcription.csv", {
            "word": [w[0] for w in words], "timestamp_start_word": [w[1] for w in words],
            "timestamp_end_word": [w[2] for w in words]})  # fmt: skip
        with atomic_open(mdir / "transcription.txt", "w", encoding="utf-8") as fh:
            fh.write(" ".join(str(x) for x in (tr["text"] if tr is not None else [])))
        fd = rec.findings
        ell: dict[str, Any] = {
            c: [] for c in ("xmin", "ymin", "xmax", "ymax", "certainty", *REFLACX_LABELS)
        }
        for r in fd.itertuples() if fd is not None else []:
            lab = r.label if r.label in REFLACX_LABELS else _TO_REFLACX.get(r.label, "Other")
            for c in ("xmin", "ymin", "xmax", "ymax", "certainty"):
                ell[c].append(float(getattr(r, c)))
            for c in REFLACX_LABELS:
                ell[c].append(c == lab)
        _csv(mdir / "anomaly_location_ellipses.csv", ell)
        box = rec.extra.get("chest_box") if rec.extra else None
        if box:
            _csv(
                mdir / "chest_bounding_box.csv",
                dict(zip(("xmin", "ymin", "xmax", "ymax"), ([v] for v in box), strict=True)),
            )
        written += [mdir / "fixations.csv", mdir / "anomaly_location_ellipses.csv"]
        meta_rows.append({"id": rid, "split": "test", "eye_tracking_data_discarded": False,
                          "image": f"files/{rec.image_id}.dcm", "dicom_id": rec.image_id, "subject_id": "",
                          "image_size_x": int(rec.geometry.image_w_px or 0),
                          "image_size_y": int(rec.geometry.image_h_px or 0)})  # fmt: skip
    meta = root / "main_data" / "metadata_phase_3.csv"
    with atomic_open(meta, "w", encoding="utf-8", newline="") as fh:
        pd.DataFrame(meta_rows).to_csv(fh, index=False, lineterminator="\n")
    return [*written, meta]


READERS.add("reflacx", REFLACXReader())
WRITERS.add("reflacx", write)
