"""EGD-CXR (Gazepoint GP3, ~60 Hz): ``eye_gaze.csv``, ``fixations.csv``, transcripts.

Layout of a corpus folder (as PhysioNet's egd-cxr 1.0.0 releases it)::

    eye_gaze.csv            raw samples of every session and image (37 columns)
    fixations.csv           Gazepoint fixations, one row stamped at each fixation's end
    master_sheet.csv        dicom_id, path, ..., image_top/bottom/left/right_pad, ...
    audio_segmentation_transcripts/<dicom_id>/transcript.json

Conventions of this reader:

* one recording per (``SESSION_ID``, ``DICOM_ID``); ``recording_id = "<dicom_id>-<reader_id>"``
  (``-S<session>`` appended if an image recurs in another session). EGD-CXR was read by
  one radiologist over ~37 sessions, so every recording gets that one ``reader_id``
  (:data:`READER`; source ``corpus``), and the session is its own column (``session_id``
  of the recordings table). A ``reader_id`` option, or a ``readers.csv`` (``SESSION_ID,
  reader_id``; what :func:`write` produces for several simulated readers), overrides it;
* calibration images: about every twentieth image shown was a calibration target,
  stored under a ``DICOM_ID`` that is not in ``master_sheet.csv`` (a truncated id) with
  ``X/Y_ORIGINAL`` in screen pixels. The corpus's own validation code treats such ids as
  calibration; they are skipped (``calibration="skip"``, the default, counted in
  ``extra["calibration_images_skipped"]``) or read as screen-frame recordings marked
  ``extra["calibration"] = True`` (``calibration="export"``). Without a master sheet no
  image can be told apart and none is skipped;
* samples from ``BPOGX/BPOGY`` (best point of gaze, fraction of the 1920×1080 screen),
  valid where ``BPOGV == 1``; pupil = mean of the valid ``LPMM/RPMM`` (mm; 2.9–4.9 mm in
  the corpus);
* the displayed image's placement comes from the ``master_sheet.csv`` paddings, and its
  pixel size from the corpus's own ``X_ORIGINAL`` mapping (least squares over the
  on-image rows), so gaze is stored in DICOM pixels (frame ``image``); without
  paddings the frame is ``screen``;
* screen: a Dell S2719DGF, 27-inch 16:9, active area 596.7 × 335.7 mm, run at
  1920 × 1080, viewed from "about 28 inches" (711 mm); override with the
  ``screen_w_mm``, ``screen_h_mm``, ``viewing_distance_mm`` options;
* ``sampling_rate_hz`` is measured (median sample interval of the recording; the
  GP3 delivers ~61.8 Hz although it is sold as 60 Hz);
* transcript phrase times (s) are relative to the image's first sample.

A folder whose sub-folders are EGD corpus folders (what :func:`write` produces for several
readers) is read as their union.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit import schemas
from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.io._csv import check_time, read_delimited
from gazekit.io.base import (
    READERS,
    WRITERS,
    events_table,
    head_text,
    mean_of_eyes,
)
from gazekit.io.layout import safe_child
from gazekit.io.parquet import atomic_open
from gazekit.rate import measured_rate_hz
from gazekit.recording import Recording

log = logging.getLogger(__name__)

COLUMNS: tuple[str, ...] = (
    "SESSION_ID", "MEDIA_ID", "DICOM_ID", "CNT", "Time (in secs)", "TIMETICK(f=10000000)",
    "FPOGX", "FPOGY", "FPOGS", "FPOGD", "FPOGID", "FPOGV", "BPOGX", "BPOGY", "BPOGV",
    "LPCX", "LPCY", "LPD", "LPS", "LPV", "RPCX", "RPCY", "RPD", "RPS", "RPV",
    "BKID", "BKDUR", "BKPMIN", "LPMM", "LPMMV", "RPMM", "RPMMV", "SACCADE_MAG", "SACCADE_DIR",
    "VID_FRAME", "X_ORIGINAL", "Y_ORIGINAL",
)  # fmt: skip
NUMERIC = tuple(c for c in COLUMNS if c not in ("SESSION_ID", "MEDIA_ID", "DICOM_ID"))
REQUIRED = ("DICOM_ID", "Time (in secs)", "BPOGX", "BPOGY", "BPOGV")
PADS = ("image_top_pad", "image_bottom_pad", "image_left_pad", "image_right_pad")
SCREEN = (1920.0, 1080.0)
#: Dell S2719DGF active area (27-inch 16:9) and the corpus's "about 28 inches" distance.
DEFAULT_MM = {"screen_w_mm": 596.7, "screen_h_mm": 335.7, "viewing_distance_mm": 711.0}
NOMINAL_HZ = 60.0  #: Gazepoint GP3's nominal rate (used only when a recording is too short)
READER = "EGD-R1"  #: the one radiologist who read all of EGD-CXR
READER_FILE = "readers.csv"
CALIBRATION = ("skip", "export")
#: Gazepoint's pupil diameter in camera px per mm (LPD/LPMM ≈ 18.3/3.5 in the corpus).
PUPIL_PX_PER_MM = 5.2
TIME = "Time (in secs)"


def _corpus_dirs(path: Path) -> list[Path]:
    if path.is_file():
        return [path.parent]
    if (path / "eye_gaze.csv").is_file() or (path / "eye_gaze.csv.gz").is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and (p / "eye_gaze.csv").is_file())


def _gaze_file(folder: Path) -> Path:
    for name in ("eye_gaze.csv", "eye_gaze.csv.gz"):
        if (folder / name).is_file():
            return folder / name
    raise InputError("no eye_gaze.csv in the EGD folder", path=folder)


class EGDReader:
    """Reader of EGD-CXR corpus folders (or their ``eye_gaze.csv``)."""

    name = "egd"

    def sniff(self, path: Path) -> bool:
        """An EGD folder, or a CSV whose header is the EGD/Gazepoint header."""
        if path.is_dir():
            return bool(_corpus_dirs(path))
        head = head_text(path, 2048).split("\n", 1)[0]
        return "FPOGX" in head and "DICOM_ID" in head

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Read every recording of the folder(s); see the module docstring."""
        dirs = _corpus_dirs(path)
        if not dirs:
            raise InputError("not an EGD-CXR folder (no eye_gaze.csv)", path=path)
        recs: list[Recording] = []
        for folder in dirs:
            recs.extend(read_egd(folder, **options))
        return recs


def _master(folder: Path) -> tuple[set[str] | None, dict[str, dict[str, float]]]:
    """The master sheet's dicom ids (``None`` without a sheet) and paddings by dicom id."""
    for cand in (folder / "master_sheet.csv", folder.parent / "master_sheet.csv"):
        if cand.is_file():
            df = read_delimited(cand, required=("dicom_id",), numeric=PADS)
            ids = set(df["dicom_id"].astype(str))
            if not set(PADS) <= set(df.columns):
                log.info("%s has no padding columns: gaze kept in the screen frame", cand)
                return ids, {}
            pads = {str(r["dicom_id"]): {k: float(r[k]) for k in PADS} for _, r in df.iterrows()}
            return ids, pads
    return None, {}


def _image_size(
    sx: np.ndarray, sy: np.ndarray, xo: np.ndarray, yo: np.ndarray, pad: dict[str, float]
) -> tuple[float, float] | None:
    """Image (w, h) in px from the X_ORIGINAL/Y_ORIGINAL mapping (least squares).

    Only rows whose gaze lies strictly inside the displayed image are used, as the
    corpus's code maps only those (off the image it writes ``int(-k)``, which is 0, not
    negative, for images smaller than their display).
    """
    disp_w = SCREEN[0] - pad["image_left_pad"] - pad["image_right_pad"]
    disp_h = SCREEN[1] - pad["image_top_pad"] - pad["image_bottom_pad"]
    u = sx - pad["image_left_pad"]
    v = sy - pad["image_top_pad"]
    with np.errstate(invalid="ignore"):
        ok = (u > 0) & (u < disp_w) & (v > 0) & (v < disp_h) & np.isfinite(xo) & np.isfinite(yo)
    u, v = u[ok], v[ok]
    if ok.sum() < 2 or float(u @ u) == 0 or float(v @ v) == 0:
        return None
    kx, ky = _scale(u, xo[ok]), _scale(v, yo[ok])
    return float(np.round(kx * disp_w)), float(np.round(ky * disp_h))


def _scale(u: np.ndarray, o: np.ndarray) -> float:
    """Scale ``k`` with ``o = floor(k u)`` (or ``round``): the middle of the feasible interval.

    Falls back to least squares when neither truncation nor rounding is consistent
    with every row (noisy or resampled coordinates).
    """
    pos = u > 1.0
    u, o = u[pos], o[pos]
    for lo_off, hi_off in ((0.0, 1.0), (-0.5, 0.5)):
        lo = float(np.max((o + lo_off) / u))
        hi = float(np.min((o + hi_off) / u))
        if lo <= hi:
            return (lo + hi) / 2
    if u.size < 2 or np.ptp(u) == 0:  # one gaze position: the ratio is all there is
        return float(np.mean(o) / np.mean(u)) if u.size else float("nan")
    return float(np.polyfit(u, o, 1)[0])


def _transcript(folder: Path, dicom_id: str, rid: str) -> pd.DataFrame | None:
    path = safe_child(
        folder, "audio_segmentation_transcripts", dicom_id, "transcript.json", what="DICOM_ID"
    )
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
        rows = [
            {"recording_id": rid, "level": "phrase", "text": str(p["phrase"]),
             "start_ms": float(p["begin_time"]) * 1000.0, "end_ms": float(p["end_time"]) * 1000.0}
            for p in doc["time_stamped_text"]
        ]  # fmt: skip
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON ({exc.msg})", path=path, line=exc.lineno) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            f"transcript needs time_stamped_text[{{phrase, begin_time, end_time}}] ({exc})",
            path=path,
        ) from None
    return schemas.get("transcripts").conform(pd.DataFrame(rows)).to_pandas() if rows else None


def _session_text(value: Any) -> str:
    s = str(value)
    return s[:-2] if re.fullmatch(r"\d+\.0", s) else s


def _readers(folder: Path, options: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Session → reader id, and the source of that identity."""
    if options.get("reader_id"):
        return {}, "option"
    path = folder / READER_FILE
    if path.is_file():
        df = read_delimited(path, required=("SESSION_ID", "reader_id"))
        return {
            _session_text(k): str(v) for k, v in zip(df["SESSION_ID"], df["reader_id"], strict=True)
        }, READER_FILE
    return {}, "corpus"


def read_fixations(folder: Path) -> pd.DataFrame | None:
    """The folder's ``fixations.csv`` (``None`` when absent).

    Parameters
    ----------
    folder : Path
        An EGD-CXR corpus folder.

    Returns
    -------
    pandas.DataFrame or None
        The file's rows, numeric columns parsed.
    """
    fix_path = folder / "fixations.csv"
    if not fix_path.is_file():
        return None
    return read_delimited(fix_path, required=(*REQUIRED, "FPOGS", "FPOGD"), numeric=NUMERIC)


def read_egd(
    folder: str | Path,
    *,
    only: tuple[str, str] | None = None,
    gaze_rows: tuple[bytes, np.ndarray] | None = None,
    fixations: pd.DataFrame | None = None,
    **options: Any,
) -> list[Recording]:
    """Read the recordings of one EGD corpus folder, or only one of them.

    Parameters
    ----------
    folder : path-like
        The corpus folder (with ``eye_gaze.csv``).
    only : (session, dicom_id), optional
        Build only this recording (``session`` as written in ``SESSION_ID``, ``"1"``
        without that column).
    gaze_rows : (bytes, (N,) ndarray of int), optional
        ``eye_gaze.csv``'s header line followed by a selection of its rows, and the
        file line of each row; read instead of the whole file (so one recording of a
        large corpus costs its own rows only).
    fixations : DataFrame, optional
        The folder's ``fixations.csv`` as :func:`read_fixations` returns it, when the
        caller already holds it.
    **options
        Reader options (see the module docstring).

    Returns
    -------
    list of Recording
    """
    folder = Path(folder)
    gaze_path = _gaze_file(folder)
    if gaze_rows is None:
        df = read_delimited(gaze_path, required=REQUIRED, numeric=NUMERIC)
        lines = np.arange(2, len(df) + 2)
    else:
        data, lines = gaze_rows
        df = read_delimited(
            gaze_path, required=REQUIRED, numeric=NUMERIC, data=data, line_numbers=lines
        )
    if df.empty:
        raise InputError("no samples (header only)", path=gaze_path, line=2)
    calibration = options.get("calibration") or "skip"
    if calibration not in CALIBRATION:
        raise InputError(f"calibration must be one of {CALIBRATION}, got {calibration!r}")
    df["_line"] = lines
    fix = read_fixations(folder) if fixations is None else fixations
    ids, master = _master(folder)
    mm = {k: float(options.get(k) or v) for k, v in DEFAULT_MM.items()}
    session = df["SESSION_ID"] if "SESSION_ID" in df else pd.Series("1", index=df.index)
    df["_session"] = session.fillna("1").map(_session_text)
    readers, source = _readers(folder, options)
    groups = list(df.groupby(["_session", "DICOM_ID"], sort=False))
    is_cal = [ids is not None and str(dicom) not in ids for (_, dicom), _ in groups]
    n_cal = int(sum(is_cal))
    if n_cal:
        log.info(
            "%s: %d calibration image(s) (DICOM_ID not in master_sheet.csv) %s",
            gaze_path, n_cal, "skipped" if calibration == "skip" else "read as calibration recordings",
        )  # fmt: skip
    recs = []
    want = None if only is None else (_session_text(only[0]), str(only[1]))
    for ((sess, dicom), g), cal in zip(groups, is_cal, strict=True):
        if cal and calibration == "skip":
            continue
        if want is not None and (str(sess), str(dicom)) != want:
            continue
        reader = str(options.get("reader_id") or readers.get(str(sess), READER))
        rec = _recording(
            folder, gaze_path, g, str(sess), str(dicom), fix, {} if cal else master, mm, reader
        )
        known = source != READER_FILE or str(sess) in readers
        rec.extra["reader_id_source"] = source if known else "corpus"
        rec.extra["calibration_images_skipped"] = n_cal if calibration == "skip" else 0
        if cal:
            rec.extra["calibration"] = True
        recs.append(rec)
    dup = pd.Series([r.recording_id for r in recs]).duplicated(keep=False).to_numpy()
    for r, d in zip(recs, dup, strict=True):
        if d:  # the same image in two sessions
            r.recording_id = f"{r.recording_id}-S{r.extra['session_id']}"
            for t in (r.events, r.transcript):
                if t is not None:
                    t["recording_id"] = r.recording_id
    return recs


def _measured_rate(t_s: np.ndarray) -> float:
    """Sampling rate (Hz) measured from the timestamps (s); the nominal rate when too short."""
    hz = measured_rate_hz(np.asarray(t_s, dtype=np.float64) * 1000.0)
    return round(hz, 2) if hz is not None else NOMINAL_HZ


def _recording(
    folder: Path, gaze_path: Path, g: pd.DataFrame, session: str, dicom: str,
    fix: pd.DataFrame | None, master: dict[str, dict[str, float]], mm: dict[str, float],
    reader: str,
) -> Recording:  # fmt: skip
    t_s = g[TIME].to_numpy(np.float64)
    check_time(t_s, gaze_path, TIME, first_line=int(g["_line"].iloc[0]))
    bad = np.flatnonzero(np.diff(g["_line"].to_numpy()) != 1)
    if bad.size:
        log.info("%s: recording %s is interleaved with others", gaze_path, dicom)
    t0 = float(t_s[0])
    sx = g["BPOGX"].to_numpy(np.float64) * SCREEN[0]
    sy = g["BPOGY"].to_numpy(np.float64) * SCREEN[1]
    valid = (g["BPOGV"].to_numpy(np.float64) == 1) & np.isfinite(sx) & np.isfinite(sy)
    pad = master.get(dicom)
    size = None
    if pad is not None and {"X_ORIGINAL", "Y_ORIGINAL", "FPOGX", "FPOGY"} <= set(g.columns):
        size = _image_size(
            g["FPOGX"].to_numpy(np.float64) * SCREEN[0], g["FPOGY"].to_numpy(np.float64) * SCREEN[1],
            g["X_ORIGINAL"].to_numpy(np.float64), g["Y_ORIGINAL"].to_numpy(np.float64), pad,
        )  # fmt: skip
    if pad is not None and size is not None:
        geom = Geometry(
            frame="image", screen_w_px=SCREEN[0], screen_h_px=SCREEN[1], **mm,
            image_w_px=size[0], image_h_px=size[1], image_left_px=pad["image_left_pad"],
            image_top_px=pad["image_top_pad"],
            image_disp_w_px=SCREEN[0] - pad["image_left_pad"] - pad["image_right_pad"],
            image_disp_h_px=SCREEN[1] - pad["image_top_pad"] - pad["image_bottom_pad"],
        )  # fmt: skip
    else:
        geom = Geometry(frame="screen", screen_w_px=SCREEN[0], screen_h_px=SCREEN[1], **mm)
    x, y = geom.screen_to_image(sx, sy) if geom.frame == "image" else (sx, sy)
    pupil = mean_of_eyes(*(
        np.where(g[c + "V"].to_numpy(np.float64) == 1, g[c].to_numpy(np.float64), np.nan)
        if c in g and c + "V" in g else np.full(len(g), np.nan)
        for c in ("LPMM", "RPMM")
    ))  # fmt: skip
    rid = f"{dicom}-{reader}"
    samples = pd.DataFrame(
        {"t_ms": (t_s - t0) * 1000.0, "x_px": np.where(valid, x, np.nan),
         "y_px": np.where(valid, y, np.nan), "pupil": pupil, "valid": valid}
    )  # fmt: skip
    events = None
    if fix is not None:
        f = fix[(fix["DICOM_ID"].astype(str) == dicom)]
        if "SESSION_ID" in f:
            f = f[f["SESSION_ID"].fillna("1").astype(str) == session]
        if len(f):
            events = _fixation_events(f, geom, rid, t0)
    return Recording(
        recording_id=rid, samples=samples, geometry=geom,
        corpus="egd", source_file=str(gaze_path), source_format="egd",
        sampling_rate_hz=_measured_rate(t_s), image_id=dicom, reader_id=reader, events=events,
        transcript=_transcript(folder, dicom, rid), findings=None, t0=t0 * 1000.0,
        extra={"session_id": session, "pupil_unit": "mm"},
    )  # fmt: skip


def _fixation_events(f: pd.DataFrame, geom: Geometry, rid: str, t0: float) -> pd.DataFrame:
    sx = f["FPOGX"].to_numpy(np.float64) * SCREEN[0]
    sy = f["FPOGY"].to_numpy(np.float64) * SCREEN[1]
    x, y = geom.screen_to_image(sx, sy) if geom.frame == "image" else (sx, sy)
    onset = (f["FPOGS"].to_numpy(np.float64) - t0) * 1000.0
    dur = f["FPOGD"].to_numpy(np.float64) * 1000.0
    ev = pd.DataFrame(
        {"recording_id": rid, "event": "fixation", "source": "tracker", "method": "gazepoint",
         "eye": "both", "onset_ms": onset, "offset_ms": onset + dur, "duration_ms": dur,
         "x_px": x, "y_px": y, "start_x_px": x, "start_y_px": y, "end_x_px": x, "end_y_px": y}
    )  # fmt: skip
    return events_table(ev.sort_values("onset_ms", kind="stable").reset_index(drop=True))


READERS.add("egd", EGDReader())


# ---------------------------------------------------------------------------- writer


def _fmt(v: np.ndarray, decimals: int) -> np.ndarray:
    """Values rounded to ``decimals``, in pandas' float notation (``repr``: ``0.5``, ``0.0``)."""
    return np.round(np.asarray(v, dtype=np.float64), decimals).astype(str)  # shortest repr


def _session_number(reader_id: str | None, fallback: int) -> int:
    m = re.search(r"(\d+)$", reader_id or "")
    return int(m.group(1)) if m else fallback


def _gaze_rows(
    rec: Recording, session: int, media: int, cnt0: int, t_start: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The eye_gaze.csv and fixations.csv rows of one recording (as strings)."""
    g = rec.geometry
    s = rec.samples
    n = len(s)
    t = s["t_ms"].to_numpy(np.float64) / 1000.0 + t_start
    x = s["x_px"].to_numpy(np.float64)
    y = s["y_px"].to_numpy(np.float64)
    sx, sy = g.image_to_screen(x, y) if g.frame == "image" else (x, y)
    valid = s["valid"].to_numpy(bool) & np.isfinite(sx) & np.isfinite(sy)
    bx = np.where(valid, sx / SCREEN[0], 0.0)
    by = np.where(valid, sy / SCREEN[1], 0.0)
    # FPOG: the running Gazepoint fixation (its centroid, start and elapsed duration)
    fx, fy, fs, fd = bx.copy(), by.copy(), t.copy(), np.zeros(n)
    fid = np.zeros(n, dtype=np.int64)
    fv = np.zeros(n, dtype=np.int64)
    ev = rec.events
    fixations = (
        ev[ev["event"] == "fixation"].sort_values("onset_ms")
        if ev is not None and len(ev)
        else None
    )
    rows_fix = []
    if fixations is not None:
        cx, cy = fixations["x_px"].to_numpy(np.float64), fixations["y_px"].to_numpy(np.float64)
        csx, csy = g.image_to_screen(cx, cy) if g.frame == "image" else (cx, cy)
        on = fixations["onset_ms"].to_numpy(np.float64) / 1000.0 + t_start
        off = fixations["offset_ms"].to_numpy(np.float64) / 1000.0 + t_start
        k = np.searchsorted(on, t, side="right") - 1
        inside = (k >= 0) & (t <= off[np.clip(k, 0, None)])
        kk = k[inside]
        fx[inside], fy[inside] = csx[kk] / SCREEN[0], csy[kk] / SCREEN[1]
        fs[inside], fd[inside] = on[kk], t[inside] - on[kk]
        fid[inside], fv[inside] = kk + 1, 1
        rows_fix = list(range(len(fixations)))
    pupil = s["pupil"].to_numpy(np.float64) if "pupil" in s else np.full(n, np.nan)
    pv = (valid & np.isfinite(pupil)).astype(np.int64)
    pmm = np.where(pv == 1, pupil, 0.0)
    if g.frame == "image":
        xo, yo = g.screen_to_image(fx * SCREEN[0], fy * SCREEN[1])
        on_img = (xo >= 0) & (yo >= 0) & (xo < (g.image_w_px or 0)) & (yo < (g.image_h_px or 0))
        # the corpus's mapping: int(k * (screen - pad)) on the image, int(k * -1) off it, with
        # k = image size (made even) / displayed size
        kx = (g.image_w_px or 0) / (g.image_disp_w_px or 1)
        ky = (g.image_h_px or 0) / (g.image_disp_h_px or 1)
        xo_s = (
            np.where(on_img, np.floor(np.nan_to_num(xo)), np.trunc(-kx))
            .astype(np.int64)
            .astype(str)
        )
        yo_s = (
            np.where(on_img, np.floor(np.nan_to_num(yo)), np.trunc(-ky))
            .astype(np.int64)
            .astype(str)
        )
    else:
        xo_s, yo_s = (
            np.floor(np.nan_to_num(v)).astype(np.int64).astype(str)
            for v in (fx * SCREEN[0], fy * SCREEN[1])
        )
    zeros = np.full(n, "0")
    cols = {
        "SESSION_ID": np.full(n, str(session)), "MEDIA_ID": np.full(n, str(media)),
        "DICOM_ID": np.full(n, str(rec.image_id)), "CNT": (np.arange(n) + cnt0).astype(str),
        TIME: _fmt(t, 5), "TIMETICK(f=10000000)": _fmt(np.round(t * 1e7), 0),
        "FPOGX": _fmt(fx, 5), "FPOGY": _fmt(fy, 5), "FPOGS": _fmt(fs, 5), "FPOGD": _fmt(fd, 5),
        "FPOGID": fid.astype(str), "FPOGV": fv.astype(str), "BPOGX": _fmt(bx, 5),
        "BPOGY": _fmt(by, 5), "BPOGV": valid.astype(np.int64).astype(str),
        "LPCX": _fmt(np.where(valid, 0.4, 0.0), 5), "LPCY": _fmt(np.where(valid, 0.5, 0.0), 5),
        "LPD": _fmt(pmm * PUPIL_PX_PER_MM, 5), "LPS": _fmt(np.where(valid, 1.0, 0.0), 5), "LPV": pv.astype(str),
        "RPCX": _fmt(np.where(valid, 0.6, 0.0), 5), "RPCY": _fmt(np.where(valid, 0.5, 0.0), 5),
        "RPD": _fmt(pmm * PUPIL_PX_PER_MM, 5), "RPS": _fmt(np.where(valid, 1.0, 0.0), 5), "RPV": pv.astype(str),
        "BKID": zeros, "BKDUR": _fmt(np.zeros(n), 5), "BKPMIN": np.full(n, "20"),
        "LPMM": _fmt(pmm, 5), "LPMMV": pv.astype(str), "RPMM": _fmt(pmm, 5), "RPMMV": pv.astype(str),
        "SACCADE_MAG": _fmt(np.zeros(n), 5), "SACCADE_DIR": _fmt(np.zeros(n), 5),
        "VID_FRAME": _fmt(np.zeros(n), 1), "X_ORIGINAL": xo_s, "Y_ORIGINAL": yo_s,
    }  # fmt: skip
    gaze = pd.DataFrame(cols, columns=list(COLUMNS))
    # fixations.csv: the sample row at which each fixation ends, stamped FPOGS + FPOGD
    if rows_fix:
        last = np.array(
            [np.flatnonzero(fid == i + 1)[-1] if (fid == i + 1).any() else -1 for i in rows_fix]
        )
        keep = last >= 0
        fixrows = gaze.iloc[last[keep]].copy()
        d = (fixations["duration_ms"].to_numpy(np.float64) / 1000.0)[keep]
        s0 = (fixations["onset_ms"].to_numpy(np.float64) / 1000.0 + t_start)[keep]
        fixrows["FPOGS"], fixrows["FPOGD"] = _fmt(s0, 5), _fmt(d, 5)
        fixrows[TIME] = _fmt(s0 + d, 5)
        fixrows["TIMETICK(f=10000000)"] = _fmt(np.round((s0 + d) * 1e7), 0)
    else:
        fixrows = gaze.iloc[:0]
    return gaze, fixrows


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(COLUMNS) + "\n")
        if len(df):
            fh.write("\n".join(",".join(r) for r in df.to_numpy(dtype=str).tolist()) + "\n")


def _write_folder(recs: list[Recording], folder: Path, session: int) -> list[Path]:
    gaze, fixes, master, written = [], [], [], []
    cnt, t = 0, 0.0
    for media, rec in enumerate(recs):
        g, f = _gaze_rows(rec, session, media, cnt, t)
        gaze.append(g)
        fixes.append(f)
        cnt += len(g)
        dur = float(rec.samples["t_ms"].iloc[-1]) / 1000.0 if len(rec.samples) else 0.0
        t += dur + 2.0  # the next image appears two seconds later
        geo = rec.geometry
        if geo.frame == "image":
            left, top = float(geo.image_left_px or 0), float(geo.image_top_px or 0)
            master.append({
                "dicom_id": rec.image_id, "path": f"files/{rec.image_id}.dcm", "study_id": "", "patient_id": "",
                "image_top_pad": round(top), "image_bottom_pad": round(SCREEN[1] - top - (geo.image_disp_h_px or 0)),
                "image_left_pad": round(left), "image_right_pad": round(SCREEN[0] - left - (geo.image_disp_w_px or 0)),
            })  # fmt: skip
        if rec.transcript is not None and len(rec.transcript):
            tr = rec.transcript
            doc = {
                "full_text": " ".join(tr["text"].astype(str)),
                "time_stamped_text": [
                    {"phrase": str(r.text), "begin_time": round(float(r.start_ms) / 1000.0, 3),
                     "end_time": round(float(r.end_ms) / 1000.0, 3)}
                    for r in tr.itertuples()
                ],
            }  # fmt: skip
            p = folder / "audio_segmentation_transcripts" / str(rec.image_id) / "transcript.json"
            with atomic_open(p, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=4)
            written.append(p)
    _write_csv(pd.concat(gaze, ignore_index=True), folder / "eye_gaze.csv")
    _write_csv(pd.concat(fixes, ignore_index=True), folder / "fixations.csv")
    written += [folder / "eye_gaze.csv", folder / "fixations.csv"]
    if master:
        m = pd.DataFrame(master).drop_duplicates("dicom_id")
        with atomic_open(folder / "master_sheet.csv", "w", encoding="utf-8", newline="") as fh:
            m.to_csv(fh, index=False)
        written.append(folder / "master_sheet.csv")
    return written


def write(recordings: list[Recording], outdir: Path, **options: Any) -> list[Path]:
    """Write recordings as EGD-CXR files (see the module docstring for the layout).

    Recordings of one reader go to ``outdir`` itself; with several readers each gets a
    sub-folder ``outdir/<reader_id>/`` (EGD has one transcript per image), read back as
    one corpus by :class:`EGDReader`.
    """
    by_reader: dict[str, list[Recording]] = {}
    for rec in recordings:
        by_reader.setdefault(rec.reader_id or "R1", []).append(rec)
    written: list[Path] = []
    for i, (reader, recs) in enumerate(by_reader.items()):
        folder = outdir if len(by_reader) == 1 else outdir / reader
        session = _session_number(reader, i + 1)
        written += _write_folder(recs, folder, session)
        path = folder / READER_FILE
        with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(f"SESSION_ID,reader_id\n{session},{reader}\n")
        written.append(path)
    return written


WRITERS.add("egd", write)
