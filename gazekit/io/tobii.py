"""Tobii Pro Lab data export (TSV) and generic CSV/TSV with a column map.

Tobii Pro Lab writes one tab-separated file per export with a header row; the columns
gazekit uses (names as Pro Lab writes them, with or without a ``[unit]`` suffix):
``Recording timestamp`` (μs), ``Gaze point X``/``Gaze point Y`` (px on the recording's
screen), ``Pupil diameter left``/``right`` (mm), ``Validity left``/``right``
(``Valid``/``Invalid``), ``Sensor`` (rows of other sensors are dropped),
``Recording resolution width``/``height``, ``Participant name``, ``Recording name``,
``Presented Media name``, and the tracker's fixation filter output
``Eye movement type`` + ``Eye movement type index`` + ``Gaze event duration`` +
``Fixation point X``/``Y`` (kept as tracker fixations). Numbers may use a decimal comma
(locale setting of the export); one recording per ``Recording name`` (and participant).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.io._csv import check_time, read_bytes, read_delimited
from gazekit.io.base import READERS, events_table, head_text, mean_of_eyes
from gazekit.rate import checked_rate
from gazekit.recording import Recording

_TOBII = {
    "t": "Recording timestamp", "x": "Gaze point X", "y": "Gaze point Y",
    "pl": "Pupil diameter left", "pr": "Pupil diameter right", "vl": "Validity left",
    "vr": "Validity right", "type": "Eye movement type", "type_idx": "Eye movement type index",
    "dur": "Gaze event duration", "fx": "Fixation point X", "fy": "Fixation point Y",
    "w": "Recording resolution width", "h": "Recording resolution height",
    "participant": "Participant name", "recording": "Recording name",
    "media": "Presented Media name", "sensor": "Sensor",
}  # fmt: skip
_UNIT = re.compile(r"\s*\[[^\]]*\]\s*$")
_TIME_SCALE = {"s": 1000.0, "ms": 1.0, "us": 1e-3, "ns": 1e-6}


def _canonical(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """Strip ``[unit]`` suffixes from column names; return the units found."""
    units = {}
    names = []
    for c in df.columns:
        m = _UNIT.search(c)
        base = _UNIT.sub("", c)
        if m:
            units[base] = m.group(0).strip()[1:-1]
        names.append(base)
    df.columns = names
    return df, units


class TobiiReader:
    """Reader of Tobii Pro Lab TSV exports."""

    name = "tobii"

    def sniff(self, path: Path) -> bool:
        """A tab-separated header with ``Recording timestamp`` and ``Gaze point X``."""
        if path.is_dir():
            return False
        head = head_text(path, 4096).split("\n", 1)[0]
        return "\t" in head and "Recording timestamp" in head and "Gaze point X" in head

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Read the export; one recording per participant and recording name."""
        raw_header = read_bytes(path).split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
        names = [_UNIT.sub("", c) for c in raw_header.split("\t")]
        for key in ("t", "x", "y"):
            if _TOBII[key] not in names:
                raise InputError(
                    f"missing column {_TOBII[key]!r}; found {names}", path=path, line=1
                )
        raw_names = raw_header.split("\t")
        numeric = [
            raw_names[names.index(_TOBII[k])]
            for k in ("t", "x", "y", "pl", "pr", "dur", "fx", "fy", "w", "h")
            if _TOBII[k] in names
        ]
        decimal_comma = bool(re.search(rb"\t-?\d+,\d+(\t|\r?\n)", read_bytes(path)[:65536]))
        df = read_delimited(path, delimiter="\t", numeric=numeric, decimal_comma=decimal_comma)
        df, units = _canonical(df)
        df["_line"] = np.arange(2, len(df) + 2)
        if _TOBII["sensor"] in df:
            df = df[df[_TOBII["sensor"]].fillna("Eye Tracker") == "Eye Tracker"]
        if df.empty:
            raise InputError("no eye-tracker rows", path=path, line=2)
        unit = units.get(_TOBII["t"], "μs").replace("μ", "u").replace("µ", "u")
        scale = _TIME_SCALE.get(unit, 1e-3)
        keys = [c for c in (_TOBII["participant"], _TOBII["recording"]) if c in df]
        groups = df.groupby(keys, sort=False, dropna=False) if keys else [((), df)]
        recs = []
        for key, g in groups:
            parts = [
                str(k)
                for k in (key if isinstance(key, tuple) else (key,))
                if str(k) not in ("", "nan")
            ]
            rid = "-".join(parts) or path.stem
            recs.append(self._recording(path, g, rid, scale, options))
        return recs

    def _recording(
        self, path: Path, g: pd.DataFrame, rid: str, scale: float, options: dict[str, Any]
    ) -> Recording:
        t_raw = g[_TOBII["t"]].to_numpy(np.float64)
        check_time(t_raw, path, _TOBII["t"], first_line=int(g["_line"].iloc[0]))
        t = (t_raw - t_raw[0]) * scale
        x = g[_TOBII["x"]].to_numpy(np.float64)
        y = g[_TOBII["y"]].to_numpy(np.float64)
        valid = np.isfinite(x) & np.isfinite(y)
        if _TOBII["vl"] in g and _TOBII["vr"] in g:
            either = (g[_TOBII["vl"]] == "Valid").to_numpy() | (
                g[_TOBII["vr"]] == "Valid"
            ).to_numpy()
            valid &= either
        pupil = mean_of_eyes(*(
            g[_TOBII[k]].to_numpy(np.float64) if _TOBII[k] in g else np.full(len(g), np.nan)
            for k in ("pl", "pr")
        ))  # fmt: skip
        w = options.get("screen_w_px") or (
            float(g[_TOBII["w"]].iloc[0]) if _TOBII["w"] in g else None
        )
        h = options.get("screen_h_px") or (
            float(g[_TOBII["h"]].iloc[0]) if _TOBII["h"] in g else None
        )
        geom = Geometry(
            frame="screen", screen_w_px=w, screen_h_px=h, screen_w_mm=options.get("screen_w_mm"),
            screen_h_mm=options.get("screen_h_mm"), viewing_distance_mm=options.get("viewing_distance_mm"),
        )  # fmt: skip
        samples = pd.DataFrame(
            {"t_ms": t, "x_px": np.where(valid, x, np.nan), "y_px": np.where(valid, y, np.nan), "pupil": pupil, "valid": valid}
        )  # fmt: skip
        media = g[_TOBII["media"]].dropna() if _TOBII["media"] in g else pd.Series(dtype=str)
        events = _tobii_fixations(g, t, rid) if _TOBII["type"] in g else None
        reader = str(g[_TOBII["participant"]].iloc[0]) if _TOBII["participant"] in g else None
        return Recording(
            recording_id=rid, samples=samples, geometry=geom,
            corpus=options.get("corpus", "tobii"), source_file=str(path), source_format="tobii",
            sampling_rate_hz=checked_rate(t, options.get("sampling_rate_hz"), source=path), image_id=str(media.iloc[0]) if len(media) else None,
            reader_id=reader, events=events, t0=float(t_raw[0]) * scale, extra={"pupil_unit": "mm"},
        )  # fmt: skip


def _tobii_fixations(g: pd.DataFrame, t: np.ndarray, rid: str) -> pd.DataFrame | None:
    is_fix = (g[_TOBII["type"]] == "Fixation").to_numpy()
    if not is_fix.any() or _TOBII["type_idx"] not in g:
        return None
    idx = g[_TOBII["type_idx"]].to_numpy()
    rows = []
    for k in pd.unique(idx[is_fix]):
        sel = np.flatnonzero(is_fix & (idx == k))
        on, off = float(t[sel[0]]), float(t[sel[-1]])
        fx = float(g[_TOBII["fx"]].iloc[sel[0]]) if _TOBII["fx"] in g else np.nan
        fy = float(g[_TOBII["fy"]].iloc[sel[0]]) if _TOBII["fy"] in g else np.nan
        dur = float(g[_TOBII["dur"]].iloc[sel[0]]) if _TOBII["dur"] in g else off - on
        rows.append({"recording_id": rid, "event": "fixation", "source": "tracker", "method": "tobii-ivt",
                     "eye": "both", "onset_ms": on, "offset_ms": on + dur, "duration_ms": dur,
                     "x_px": fx, "y_px": fy})  # fmt: skip
    return events_table(rows)


class GenericReader:
    """Any CSV/TSV with a column map (never auto-detected).

    Options: ``column_map`` (``{"t": col, "x": col, "y": col, "pupil": col, "valid": col,
    "recording": col, "image": col, "reader": col}``; the image and reader columns give
    each recording's ``image_id``/``reader_id``), ``time_unit`` (``s``, ``ms`` (default), ``us``, ``ns``),
    ``frame`` (``screen`` default, or ``image`` with ``image_w_px``/``image_h_px``),
    screen geometry (``screen_w_px``, ``screen_h_px``, ``screen_w_mm``, ``screen_h_mm``,
    ``viewing_distance_mm``), ``delimiter``, ``recording_id``, ``pupil_unit`` (unit of
    the pupil column, ``unknown`` when not given), ``sampling_rate_hz`` (declared rate,
    checked against the timestamps).
    """

    name = "generic"

    def sniff(self, path: Path) -> bool:
        """Never claims a file: the column map must be given."""
        return False

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Read one file; one recording per value of the ``recording`` column if mapped."""
        cmap = options.get("column_map")
        if not cmap or not {"t", "x", "y"} <= set(cmap):
            raise InputError("generic format needs --map t=COL,x=COL,y=COL", path=path)
        unit = options.get("time_unit") or "ms"
        if unit not in _TIME_SCALE:
            raise InputError(f"unknown time unit {unit!r} (s, ms, us, ns)", path=path)
        numeric = [cmap[k] for k in ("t", "x", "y", "pupil") if k in cmap]
        df = read_delimited(
            path, delimiter=options.get("delimiter"), required=list(cmap.values()), numeric=numeric
        )
        df["_line"] = np.arange(2, len(df) + 2)
        if df.empty:
            raise InputError("no data rows (header only)", path=path, line=2)
        groups = (
            df.groupby(cmap["recording"], sort=False)
            if "recording" in cmap
            else [(options.get("recording_id") or path.stem, df)]
        )
        geom = Geometry(
            frame=options.get("frame", "screen"),
            **{k: options.get(k) for k in ("screen_w_px", "screen_h_px", "screen_w_mm", "screen_h_mm", "viewing_distance_mm", "image_w_px", "image_h_px")},
        )  # fmt: skip
        recs = []
        for rid, g in groups:
            t_raw = g[cmap["t"]].to_numpy(np.float64)
            check_time(t_raw, path, cmap["t"], first_line=int(g["_line"].iloc[0]))
            x, y = g[cmap["x"]].to_numpy(np.float64), g[cmap["y"]].to_numpy(np.float64)
            valid = np.isfinite(x) & np.isfinite(y)
            if "valid" in cmap:
                valid &= (
                    g[cmap["valid"]]
                    .astype(str)
                    .str.lower()
                    .isin(["1", "true", "valid", "1.0"])
                    .to_numpy()
                )
            t = (t_raw - t_raw[0]) * _TIME_SCALE[unit]
            samples = pd.DataFrame({
                "t_ms": t, "x_px": np.where(valid, x, np.nan), "y_px": np.where(valid, y, np.nan),
                "pupil": g[cmap["pupil"]].to_numpy(np.float64) if "pupil" in cmap else np.nan, "valid": valid,
            })  # fmt: skip
            recs.append(Recording(
                recording_id=str(rid), samples=samples, geometry=geom,
                corpus=options.get("corpus", "generic"), source_file=str(path), source_format="generic",
                pupil_unit=options.get("pupil_unit") or ("unknown" if "pupil" in cmap else None),
                image_id=str(g[cmap["image"]].iloc[0]) if "image" in cmap else None,
                reader_id=str(g[cmap["reader"]].iloc[0]) if "reader" in cmap else None,
                sampling_rate_hz=checked_rate(t, options.get("sampling_rate_hz"), source=path), t0=float(t_raw[0]) * _TIME_SCALE[unit],
            ))  # fmt: skip
        return recs


READERS.add("tobii", TobiiReader())
READERS.add("generic", GenericReader())
