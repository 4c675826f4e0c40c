"""REFLACX (EyeLink 1000 Plus, 1000 Hz): per-reading gaze, fixations, transcripts, ellipses.

Layout as PhysioNet's reflacx-xray-localization 1.0.0 releases it::

    main_data/metadata_phase_{1,2,3}.csv     id, split, ..., dicom_id, subject_id, image_size_x, image_size_y, labels
    main_data/<id>/fixations.csv             timestamp_start_fixation, timestamp_end_fixation, x_position, ...
    main_data/<id>/timestamps_transcription.csv   word, timestamp_start_word, timestamp_end_word
    main_data/<id>/anomaly_location_ellipses.csv  xmin, ymin, xmax, ymax, certainty, <one bool column per label>
    main_data/<id>/chest_bounding_box.csv    xmin, ymin, xmax, ymax
    gaze_data/<id>/gaze.csv                  timestamp_sample, x_position, y_position, ...

The corpus's own code writes every CSV with CRLF line ends, positions, angular
resolutions and rectangles rounded to integers, ``pupil_area_normalized`` (pupil area
over a per-reader normalisation constant, ≈ 0.5–2.2) to 3 decimals, window level and
width normalised to the image's range (0–2) to 5 decimals, times in seconds from the
start of the audio recording to the millisecond, and empty cells for missing values.

Conventions of this reader:

* **reader identity**: reading ids are ``P{phase}{trial:02}R{random}`` (``P300R{random}``
  in phase 3) and do not name the radiologist, and the metadata tables do not either.
  ``reader_id`` comes from, in order: the ``reader_id`` option (one reader for all), a
  ``reader_map`` option or a ``main_data/readers.csv`` file (columns ``id, reader_id``;
  what gazekit's writer produces), a ``reader_id`` column of the metadata; otherwise it
  is unknown (null) and ``extra["reader_id_source"] == "unknown"``: reader-based splits
  and per-reader statistics must not be used on such recordings;
* gaze is already in original-image pixels (frame ``image``, off-image positions
  kept); ``t_ms`` from the first gaze sample, fixations and words on the same clock;
* **zoom and pan**: radiologists zoomed and panned, so the image-px-per-degree mapping
  (``angular_resolution_*``) and the shown rectangle change within a reading. They are
  kept per sample and per fixation as ``px_per_deg_x``/``px_per_deg_y``; the recording's
  :class:`~gazekit.geometry.Geometry` is the most-used view (its rectangle on an
  effective screen of 0.25 mm pixels at the distance that reproduces that view's
  angular resolution) and ``extra["geometry_mode"]`` says ``fixed`` or ``time-varying``;
* findings from ``anomaly_location_ellipses.csv`` (``shape="ellipse"``, REFLACX labels of
  phase 1 or phases 2–3, one row per true label column); certainty is the corpus's 1–5
  scale (1 unlikely … 5 consistent with; 1/3/5/7/9 is only the interface's display
  code); other values are refused. The chest box goes to ``recording.extra``;
* a reading without ``gaze_data`` (a separate download) becomes a fixation-only
  recording from ``fixations.csv``: no samples, ``Recording.fixation_only`` true.
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
from gazekit.geometry import Geometry, distance_for_px_per_deg, is_time_varying
from gazekit.io._csv import check_time, read_delimited
from gazekit.io.base import READERS, WRITERS, events_table
from gazekit.rate import checked_rate
from gazekit.recording import Recording
from gazekit.vocab import REFLACX_PHASE1_LABELS

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
RECT = POS[7:]
PPD = ("angular_resolution_x_pixels_per_degree", "angular_resolution_y_pixels_per_degree")
MM_PER_PX = 0.25
RATE_HZ = 1000.0
CERTAINTY = (1, 5)  #: REFLACX ellipse certainty scale (0 = not selected, metadata only)
READER_FILE = "readers.csv"


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
        phase = re.search(r"metadata_phase_(\d+)", f.name)
        for r in df.to_dict("records"):
            r["_phase"] = int(phase.group(1)) if phase else None
            out[str(r["id"])] = r
    return out


def _reader_map(root: Path, options: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Reading id → reader id from the ``reader_map`` option or ``main_data/readers.csv``."""
    given = options.get("reader_map")
    if isinstance(given, dict):
        return {str(k): str(v) for k, v in given.items()}, "reader map"
    path = Path(given) if given else root / READER_FILE
    if not path.is_file():
        if given:
            raise InputError("reader map file not found", path=path)
        return {}, ""
    df = read_delimited(path, required=("id", "reader_id"))
    ok = df["reader_id"].notna()
    return dict(zip(df["id"][ok].astype(str), df["reader_id"][ok].astype(str), strict=True)), str(
        path.name
    )


def reader_identity(
    rid: str, meta: dict[str, Any], readers: dict[str, str], map_source: str,
    options: dict[str, Any],
) -> tuple[str | None, str]:  # fmt: skip
    """A reading's reader id and where it came from; never derived from the reading id.

    Returns
    -------
    reader_id : str or None
        ``None`` when the corpus and the options do not say.
    source : str
        ``"option"``, the reader map's name, ``"metadata"`` or ``"unknown"``.
    """
    if options.get("reader_id"):
        return str(options["reader_id"]), "option"
    if rid in readers:
        return readers[rid], map_source
    value = meta.get("reader_id")
    if value is not None and not (isinstance(value, float) and math.isnan(value)):
        return str(value), "metadata"
    return None, "unknown"


class REFLACXReader:
    """Reader of REFLACX folders (the corpus root, ``main_data`` or one reading)."""

    name = "reflacx"

    def sniff(self, path: Path) -> bool:
        """A REFLACX root/main_data/reading folder."""
        return path.is_dir() and bool(_reading_dirs(path))

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Read every reading found under ``path``; see the module docstring."""
        dirs = _reading_dirs(path)
        if not dirs:
            raise InputError("not a REFLACX folder (no main_data/<id>/fixations.csv)", path=path)
        root = dirs[0].parent
        meta = _metadata(root)
        readers, map_source = _reader_map(root, options)
        recs = [
            _read_one(d, meta.get(d.name, {}), readers, map_source, options)
            for d in dirs
            if not _discarded(meta.get(d.name))
        ]
        unknown = sum(r.reader_id is None for r in recs)
        if unknown:
            log.warning(
                "%d of %d REFLACX readings have no reader identity (the corpus does not publish "
                "it; pass --reader-map FILE with columns id,reader_id): reader_id is null",
                unknown, len(recs),
            )  # fmt: skip
        return recs


def _discarded(row: dict[str, Any] | None) -> bool:
    return bool(row) and str(row.get("eye_tracking_data_discarded", "False")).lower() == "true"


def _gaze_path(d: Path) -> Path | None:
    for cand in (d.parent.parent / "gaze_data" / d.name / "gaze.csv", d / "gaze.csv"):
        if cand.is_file():
            return cand
    return None


def _dominant_view(table: pd.DataFrame) -> pd.Series | None:
    """The row of the view (shown rectangle + angular resolution) in force most often."""
    cols = [c for c in (*RECT, *PPD) if c in table]
    if len(cols) < len(RECT) + len(PPD):
        return None
    a = table[cols].to_numpy(np.float64)
    rows = np.flatnonzero(np.isfinite(a).all(axis=1))
    if not rows.size:
        return None
    _, first, counts = np.unique(a[rows], axis=0, return_index=True, return_counts=True)
    return table.iloc[int(rows[first[np.argmax(counts)]])]


def _geometry(view: pd.Series, meta: dict[str, Any]) -> Geometry:
    """Effective geometry of one view (see the module docstring)."""
    sx0, sy0 = float(view["xmin_in_screen_coordinates"]), float(view["ymin_in_screen_coordinates"])
    sx1, sy1 = float(view["xmax_in_screen_coordinates"]), float(view["ymax_in_screen_coordinates"])
    ix0, iy0 = float(view["xmin_shown_from_image"]), float(view["ymin_shown_from_image"])
    ix1, iy1 = float(view["xmax_shown_from_image"]), float(view["ymax_shown_from_image"])
    w = float(meta.get("image_size_x") or ix1)
    h = float(meta.get("image_size_y") or iy1)
    sx = (sx1 - sx0) / max(ix1 - ix0, 1e-9)  # screen px per image px
    sy = (sy1 - sy0) / max(iy1 - iy0, 1e-9)
    screen_w, screen_h = sx1 + sx0, sy1 + sy0
    ppd = float(view[PPD[0]])
    # one image px is sx screen px of MM_PER_PX mm each
    dist = distance_for_px_per_deg(ppd, sx * MM_PER_PX) if np.isfinite(ppd) and ppd > 0 else None
    return Geometry(
        frame="image", screen_w_px=screen_w, screen_h_px=screen_h,
        screen_w_mm=screen_w * MM_PER_PX, screen_h_mm=screen_h * MM_PER_PX, viewing_distance_mm=dist,
        image_w_px=w, image_h_px=h, image_left_px=sx0 - ix0 * sx, image_top_px=sy0 - iy0 * sy,
        image_disp_w_px=w * sx, image_disp_h_px=h * sy,
    )  # fmt: skip


def _ppd_columns(table: pd.DataFrame) -> dict[str, np.ndarray]:
    n = len(table)
    return {
        "px_per_deg_x": table[PPD[0]].to_numpy(np.float64) if PPD[0] in table else np.full(n, np.nan),
        "px_per_deg_y": table[PPD[1]].to_numpy(np.float64) if PPD[1] in table else np.full(n, np.nan),
    }  # fmt: skip


def _phase(rid: str, meta: dict[str, Any]) -> int | None:
    if meta.get("_phase"):
        return int(meta["_phase"])
    m = re.fullmatch(r"P(\d)\d\dR\d+", rid)  # the id's phase digit (not its reader)
    return int(m.group(1)) if m else None


def _read_one(
    d: Path, meta: dict[str, Any], readers: dict[str, str], map_source: str,
    options: dict[str, Any],
) -> Recording:  # fmt: skip
    rid = d.name
    fpath = d / "fixations.csv"
    fix = read_delimited(fpath, required=FIX_COLUMNS[:4], numeric=FIX_COLUMNS)
    gpath = _gaze_path(d)
    extra: dict[str, Any] = {"pupil_unit": "normalised area"}
    if gpath is not None:
        gaze = read_delimited(gpath, required=GAZE_COLUMNS[:3], numeric=GAZE_COLUMNS)
        if gaze.empty:
            raise InputError("no gaze samples (header only)", path=gpath, line=2)
        t = gaze["timestamp_sample"].to_numpy(np.float64)
        check_time(t, gpath, "timestamp_sample")
        t0 = float(t[0])
        x, y = gaze["x_position"].to_numpy(np.float64), gaze["y_position"].to_numpy(np.float64)
        pupil = (
            gaze["pupil_area_normalized"].to_numpy(np.float64)
            if "pupil_area_normalized" in gaze
            else np.full(len(gaze), np.nan)
        )
        samples = pd.DataFrame({
            "t_ms": (t - t0) * 1000.0, "x_px": x, "y_px": y, "pupil": pupil,
            "valid": np.isfinite(x) & np.isfinite(y), **_ppd_columns(gaze),
        })  # fmt: skip
        views = gaze
    else:
        if fix.empty:
            raise InputError("no gaze_data and no fixations for this reading", path=fpath, line=2)
        log.info("%s: no gaze_data/%s/gaze.csv; fixation-only recording", d, rid)
        t0 = float(np.nanmin(fix["timestamp_start_fixation"].to_numpy(np.float64)))
        samples = _no_samples()
        extra["fixation_only"] = True
        views = fix
    view = _dominant_view(views)
    geom = _geometry(view, meta) if view is not None else Geometry(frame="image")
    extra["geometry_mode"] = "time-varying" if is_time_varying(_ppd_frame(views)) else "fixed"
    events = _fixation_events(fix, rid, t0) if len(fix) else None
    transcript = _transcript(d / "timestamps_transcription.csv", rid, t0)
    findings = _findings(d / "anomaly_location_ellipses.csv", rid)
    reader, source = reader_identity(rid, meta, readers, map_source, options)
    extra["reader_id_source"] = source
    phase = _phase(rid, meta)
    if phase is not None:
        extra["phase"] = phase
    labels = set(findings["label"]) if findings is not None else set()
    extra["label_set"] = (
        "REFLACX phase 1" if phase == 1 or labels & set(REFLACX_PHASE1_LABELS) else "REFLACX"
    )
    cb = d / "chest_bounding_box.csv"
    if cb.is_file():
        box = read_delimited(
            cb, required=("xmin", "ymin", "xmax", "ymax"), numeric=("xmin", "ymin", "xmax", "ymax")
        )
        if len(box):
            extra["chest_box"] = [float(box[c].iloc[0]) for c in ("xmin", "ymin", "xmax", "ymax")]
    return Recording(
        recording_id=rid, samples=samples, geometry=geom, corpus="reflacx",
        source_file=str(gpath or fpath), source_format="reflacx",
        sampling_rate_hz=(
            checked_rate(samples["t_ms"].to_numpy(), RATE_HZ, source=gpath)
            if gpath is not None else None
        ),
        image_id=str(meta.get("dicom_id") or options.get("image_id") or rid), reader_id=reader,
        events=events, transcript=transcript, findings=findings, t0=t0 * 1000.0, extra=extra,
    )  # fmt: skip


def _no_samples() -> pd.DataFrame:
    e = np.zeros(0)
    return pd.DataFrame({"t_ms": e, "x_px": e, "y_px": e, "pupil": e, "valid": e.astype(bool)})


def _ppd_frame(table: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(_ppd_columns(table))


def _fixation_events(fix: pd.DataFrame, rid: str, t0: float) -> pd.DataFrame:
    s = fix["timestamp_start_fixation"].to_numpy(np.float64)
    e = fix["timestamp_end_fixation"].to_numpy(np.float64)
    fx, fy = fix["x_position"].to_numpy(np.float64), fix["y_position"].to_numpy(np.float64)
    return events_table({
        "recording_id": rid, "event": "fixation", "source": "tracker", "method": "eyelink",
        "eye": "both", "onset_ms": (s - t0) * 1000.0, "offset_ms": (e - t0) * 1000.0,
        "duration_ms": (e - s) * 1000.0, "x_px": fx, "y_px": fy, **_ppd_columns(fix),
    })  # fmt: skip


def _transcript(tpath: Path, rid: str, t0: float) -> pd.DataFrame | None:
    if not tpath.is_file():
        return None
    w = read_delimited(
        tpath,
        required=("word", "timestamp_start_word", "timestamp_end_word"),
        numeric=("timestamp_start_word", "timestamp_end_word"),
    )
    if not len(w):
        return None
    return schemas.get("transcripts").conform(pd.DataFrame({
        "recording_id": rid, "level": "word", "text": w["word"].fillna("").astype(str),
        "start_ms": (w["timestamp_start_word"].to_numpy(np.float64) - t0) * 1000.0,
        "end_ms": (w["timestamp_end_word"].to_numpy(np.float64) - t0) * 1000.0,
    })).to_pandas()  # fmt: skip


def _findings(path: Path, rid: str) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    df = read_delimited(
        path,
        required=("xmin", "ymin", "xmax", "ymax", "certainty"),
        numeric=("xmin", "ymin", "xmax", "ymax", "certainty"),
    )
    c = df["certainty"].to_numpy(np.float64)
    bad = np.isfinite(c) & ((c < CERTAINTY[0]) | (c > CERTAINTY[1]) | (c != np.round(c)))
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(
            f"certainty {c[i]:g} is not on REFLACX's 1-5 scale (1 unlikely ... 5 consistent "
            "with; 1/3/5/7/9 is only the annotation interface's display code)",
            path=path, line=i + 2, column="certainty",
        )  # fmt: skip
    labels = [c for c in df.columns if c not in ("xmin", "ymin", "xmax", "ymax", "certainty")]
    rows = []
    for i, r in enumerate(df.to_dict("records")):
        for lab in labels:
            if str(r[lab]).strip().lower() in ("true", "1"):
                rows.append({"recording_id": rid, "finding_id": i, "label": lab, "shape": "ellipse",
                             "xmin": r["xmin"], "ymin": r["ymin"], "xmax": r["xmax"], "ymax": r["ymax"],
                             "certainty": r["certainty"]})  # fmt: skip
    return schemas.get("findings").conform(pd.DataFrame(rows)).to_pandas() if rows else None


READERS.add("reflacx", REFLACXReader())


def _write(recordings: list[Recording], outdir: Path, **options: Any) -> list[Path]:
    from gazekit.io.reflacx_write import write

    return write(recordings, outdir, **options)


WRITERS.add("reflacx", _write)
