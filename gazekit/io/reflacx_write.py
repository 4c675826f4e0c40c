"""Writing recordings in the REFLACX layout, formatted as the corpus's own code writes it.

CRLF line ends; positions, angular resolutions, rectangles and boxes as integers;
times in seconds rounded to the millisecond and ``pupil_area_normalized`` to 3 decimals,
in pandas' float notation; window level/width normalised to the image's range; empty
cells for missing values; ellipse label columns in alphabetical order; certainty on the
1–5 scale; labels outside the phase 2–3 list (phase 1's, GazeIntent names) are written as
the phase 2–3 label of the same GazeIntent finding, else ``Other``. Reader identities, which REFLACX does not publish, go to
``main_data/readers.csv`` (``id, reader_id``), which :mod:`gazekit.io.reflacx` reads back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError
from gazekit.geometry import local_px_per_deg
from gazekit.io.layout import safe_child
from gazekit.io.parquet import atomic_open
from gazekit.io.reflacx import CERTAINTY, READER_FILE
from gazekit.recording import Recording
from gazekit.vocab import GAZEINTENT_FINDINGS, REFLACX_LABELS, REFLACX_TO_GAZEINTENT

#: GazeIntent finding → the first phase 2–3 REFLACX label that maps to it.
TO_REFLACX: dict[str, str] = {}
for _lab in REFLACX_LABELS:
    _gi = REFLACX_TO_GAZEINTENT[_lab]
    if _gi is not None:
        TO_REFLACX.setdefault(_gi, _lab)

#: Full-range display window, normalised to the image's intensity range.
WINDOW_WIDTH, WINDOW_LEVEL = 1.0, 0.5


def _ints(v: Any) -> list[str]:
    """Integers as the corpus writes rounded columns (``''`` for missing)."""
    a = np.asarray(v, dtype=np.float64)
    return ["" if not np.isfinite(x) else str(int(np.rint(x))) for x in a]


def _floats(v: Any, decimals: int) -> np.ndarray:
    """Rounded floats (written in pandas' float notation, NaN as an empty cell)."""
    return np.round(np.asarray(v, dtype=np.float64), decimals)


def _save(path: Path, df: pd.DataFrame) -> Path:
    with atomic_open(path, "w", encoding="utf-8", newline="") as fh:
        df.to_csv(fh, index=False, lineterminator="\r\n")
    return path


def _pupil_ratio(rec: Recording) -> np.ndarray:
    """Pupil as an area ratio to the recording's median (REFLACX's normalised area)."""
    s = rec.samples
    p = s["pupil"].to_numpy(np.float64) if "pupil" in s else np.full(len(s), np.nan)
    unit = str(rec.pupil_unit or "")
    if unit == "normalised area" or not np.isfinite(p).any():
        return p
    ref = float(np.nanmedian(p))
    if ref <= 0:
        return np.full(len(p), np.nan)
    r = p / ref
    return r * r if unit == "mm" else r  # a diameter's area ratio is its square


def _view(rec: Recording, table: pd.DataFrame) -> dict[str, Any]:
    """The per-row display columns: mapping, window and shown rectangle (the full image)."""
    g = rec.geometry
    n = len(table)
    ppx, ppy = local_px_per_deg(table, g)
    w, h = float(g.image_w_px or 0), float(g.image_h_px or 0)
    left, top = float(g.image_left_px or 0), float(g.image_top_px or 0)
    dw, dh = float(g.image_disp_w_px or w), float(g.image_disp_h_px or h)
    cols: dict[str, Any] = {
        "angular_resolution_x_pixels_per_degree": _ints(ppx),
        "angular_resolution_y_pixels_per_degree": _ints(ppy),
        "window_width": np.full(n, WINDOW_WIDTH), "window_level": np.full(n, WINDOW_LEVEL),
        "xmin_shown_from_image": _ints(np.zeros(n)), "ymin_shown_from_image": _ints(np.zeros(n)),
        "xmax_shown_from_image": _ints(np.full(n, w)), "ymax_shown_from_image": _ints(np.full(n, h)),
        "xmin_in_screen_coordinates": _ints(np.full(n, left)),
        "ymin_in_screen_coordinates": _ints(np.full(n, top)),
        "xmax_in_screen_coordinates": _ints(np.full(n, left + dw)),
        "ymax_in_screen_coordinates": _ints(np.full(n, top + dh)),
    }  # fmt: skip
    return cols


def _ellipses(rec: Recording) -> tuple[pd.DataFrame, dict[str, int]]:
    """``anomaly_location_ellipses.csv`` rows and each label's highest certainty."""
    labels = sorted(REFLACX_LABELS)
    rows: dict[int, dict[str, Any]] = {}
    best: dict[str, int] = {}
    fd = rec.findings
    for r in fd.itertuples() if fd is not None else []:
        gi = r.label if r.label in GAZEINTENT_FINDINGS else REFLACX_TO_GAZEINTENT.get(r.label)
        lab = r.label if r.label in REFLACX_LABELS else TO_REFLACX.get(str(gi), "Other")
        c = float(r.certainty)
        if not (np.isfinite(c) and CERTAINTY[0] <= c <= CERTAINTY[1] and c == round(c)):
            raise InputError(
                f"{rec.recording_id}: finding certainty {c:g} is not on REFLACX's 1-5 scale",
                column="certainty",
            )
        key = int(getattr(r, "finding_id", len(rows)))
        row = rows.setdefault(key, {
            "xmin": r.xmin, "ymin": r.ymin, "xmax": r.xmax, "ymax": r.ymax, "certainty": int(c),
            **dict.fromkeys(labels, False),
        })  # fmt: skip
        row[lab] = True
        best[lab] = max(best.get(lab, 0), int(c))
    df = pd.DataFrame(
        list(rows.values()), columns=["xmin", "ymin", "xmax", "ymax", "certainty", *labels]
    )
    for c in ("xmin", "ymin", "xmax", "ymax"):
        df[c] = _ints(df[c]) if len(df) else df[c]
    return df, best


def write(recordings: list[Recording], outdir: Path, **options: Any) -> list[Path]:
    """Write recordings in the REFLACX layout (``main_data``, ``gaze_data``).

    Parameters
    ----------
    recordings : list of Recording
        Gaze in the image frame; findings with certainty on the 1–5 scale (GazeIntent
        names are written as the REFLACX label that maps to them, others as ``Other``).
    outdir : Path
    **options
        ``t0_s`` (float): time of the first sample from the start of the audio, s
        (default 1.0).

    Returns
    -------
    list of Path
    """
    root = Path(outdir)
    t0 = float(options.get("t0_s", 1.0))
    written: list[Path] = []
    meta_rows, reader_rows = [], []
    for rec in recordings:
        if rec.geometry.frame != "image":
            raise InputError(
                f"REFLACX stores gaze in image pixels; {rec.recording_id} has no image placement"
            )
        rid, s = rec.recording_id, rec.samples
        gdir = safe_child(root, "gaze_data", rid, what="recording_id")
        mdir = safe_child(root, "main_data", rid, what="recording_id")
        valid = s["valid"].to_numpy(bool) if "valid" in s else np.ones(len(s), bool)
        if len(s):
            written.append(_save(gdir / "gaze.csv", pd.DataFrame({
                "timestamp_sample": _floats(s["t_ms"].to_numpy(np.float64) / 1000.0 + t0, 3),
                "x_position": _ints(np.where(valid, s["x_px"], np.nan)),
                "y_position": _ints(np.where(valid, s["y_px"], np.nan)),
                "pupil_area_normalized": _floats(np.where(valid, _pupil_ratio(rec), np.nan), 3),
                **_view(rec, s),
            })))  # fmt: skip
        ev = rec.events
        fx = ev[ev["event"] == "fixation"] if ev is not None and len(ev) else ev
        fx = (
            fx
            if fx is not None
            else pd.DataFrame(columns=["onset_ms", "offset_ms", "x_px", "y_px"])
        )
        written.append(_save(mdir / "fixations.csv", pd.DataFrame({
            "timestamp_start_fixation": _floats(fx["onset_ms"].to_numpy(np.float64) / 1000.0 + t0, 3),
            "timestamp_end_fixation": _floats(fx["offset_ms"].to_numpy(np.float64) / 1000.0 + t0, 3),
            "x_position": _ints(fx["x_px"]), "y_position": _ints(fx["y_px"]),
            "pupil_area_normalized": np.full(len(fx), np.nan), **_view(rec, fx),
        })))  # fmt: skip
        words = []
        tr = rec.transcript
        for r in tr.itertuples() if tr is not None else []:
            toks = str(r.text).replace(".", " .").replace(",", " ,").split()
            edges = np.linspace(float(r.start_ms), float(r.end_ms), len(toks) + 1) / 1000.0 + t0
            words += [(tok, edges[i], edges[i + 1]) for i, tok in enumerate(toks)]
        _save(mdir / "timestamps_transcription.csv", pd.DataFrame({
            "word": [w[0] for w in words],
            "timestamp_start_word": _floats([w[1] for w in words], 3),
            "timestamp_end_word": _floats([w[2] for w in words], 3),
        }))  # fmt: skip
        with atomic_open(mdir / "transcription.txt", "w", encoding="utf-8") as fh:
            fh.write(" ".join(str(x) for x in (tr["text"] if tr is not None else [])))
        ell, best = _ellipses(rec)
        written.append(_save(mdir / "anomaly_location_ellipses.csv", ell))
        box = rec.extra.get("chest_box") if rec.extra else None
        if box:
            _save(mdir / "chest_bounding_box.csv",
                  pd.DataFrame({k: _ints([v]) for k, v in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True)}))  # fmt: skip
        g = rec.geometry
        meta_rows.append({
            "id": rid, "split": "test", "eye_tracking_data_discarded": False,
            "image": f"files/{rec.image_id}.dcm", "dicom_id": rec.image_id, "subject_id": "",
            "image_size_x": int(g.image_w_px or 0), "image_size_y": int(g.image_h_px or 0),
            **{lab: best.get(lab, 0) for lab in sorted(REFLACX_LABELS) if lab != "Support devices"},
            "Support devices": "Support devices" in best,
        })  # fmt: skip
        if rec.reader_id is not None:
            reader_rows.append({"id": rid, "reader_id": rec.reader_id})
    if meta_rows:
        meta = pd.DataFrame(meta_rows)
        cols = [*meta.columns[:8], *sorted(meta.columns[8:])]
        written.append(_save(root / "main_data" / "metadata_phase_3.csv", meta[cols]))
    if reader_rows:
        written.append(_save(root / "main_data" / READER_FILE, pd.DataFrame(reader_rows)))
    return written
