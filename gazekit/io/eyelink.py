"""SR Research EyeLink ASC files (``edf2asc`` output): reader and writer.

What is read:

* sample lines (``time x y pupil [x y pupil] flags``, tab-separated, ``.`` for missing,
  optional velocity/resolution columns announced by the ``SAMPLES`` line) — parsed in
  one vectorised pass (NumPy byte masks + :func:`pyarrow.csv.read_csv`), never line by line;
* ``EFIX``/``ESACC``/``EBLINK`` events (``source="tracker"``, ``method="eyelink"``);
* sampling rate and eyes from ``SAMPLES``/``RECCFG`` lines, screen size from
  ``DISPLAY_COORDS`` (or ``GAZE_COORDS``);
* the displayed image's placement from Data Viewer's ``!V IMGLOAD TOP_LEFT|CENTER file x
  y [w h]`` message, and ``!V TRIAL_VAR`` messages ``image_id``, ``reader_id``,
  ``recording_id``, ``image_w_px``, ``image_h_px``, ``screen_w_mm``, ``screen_h_mm``,
  ``viewing_distance_mm`` (gazekit's writer emits these; reader options override them).

One file is one recording (several ``START``/``END`` blocks are concatenated; the time
between them is data loss). Times are ``t_ms`` from the first sample. With two eyes the
gaze is the mean of the valid eyes, and per-eye columns are kept.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from gazekit import schemas
from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.io._csv import check_time, read_bytes
from gazekit.io.base import (
    READERS,
    WRITERS,
    events_table,
    head_text,
    mean_of_eyes,
)
from gazekit.io.layout import safe_child
from gazekit.io.parquet import atomic_open
from gazekit.rate import checked_rate
from gazekit.recording import Recording

log = logging.getLogger(__name__)

#: Highest sampling rate accepted (Hz): EyeLink 1000 Plus / Portable Duo record at most
#: 2000 Hz; 10 kHz leaves room for any tracker and refuses corrupt RATE fields.
MAX_RATE_HZ = 10_000.0

_EVENT_KINDS = {"EFIX": "fixation", "ESACC": "saccade", "EBLINK": "blink"}
_TRIAL_VARS = (
    "image_id", "reader_id", "recording_id", "image_w_px", "image_h_px", "screen_w_mm",
    "screen_h_mm", "viewing_distance_mm",
)  # fmt: skip


def _line_index(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive, without the newline) of every line of a byte array."""
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [arr.size]))
    keep = starts < arr.size
    return starts[keep], ends[keep]


def _split(data: bytes) -> tuple[np.ndarray, list[tuple[int, str]], int]:
    """Split ASC bytes into the sample block and the other lines.

    Returns
    -------
    samples : ndarray of uint8
        Every sample line (spaces and CRs removed), newline-separated.
    others : list of (line number, text)
        The non-sample lines (headers, messages, events), 1-based line numbers.
    first_sample_line : int
        Line number of the first sample line (0 when none).
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    starts, ends = _line_index(arr)
    first = arr[np.minimum(starts, arr.size - 1)] if arr.size else np.zeros(0, np.uint8)
    is_sample = (first >= 48) & (first <= 57) & (ends > starts)
    other_idx = np.flatnonzero(~is_sample & (ends > starts))
    others = [
        (int(i) + 1, data[starts[i] : ends[i]].decode("utf-8", "replace").rstrip("\r"))
        for i in other_idx
    ]
    # copy the runs of consecutive sample lines (a loop over runs, i.e. over the few
    # event/message lines between them), then drop blanks and carriage returns
    idx = np.flatnonzero(is_sample)
    if not idx.size:
        return np.zeros(0, np.uint8), others, 0
    cut = np.flatnonzero(np.diff(idx) != 1)
    first_line, last_line = idx[np.r_[0, cut + 1]], idx[np.r_[cut, idx.size - 1]]
    # filter blanks chunk by chunk into one preallocated buffer (bounded temporaries)
    out = np.empty(
        int(np.sum(np.minimum(ends[last_line] + 1, arr.size) - starts[first_line])) + 1, np.uint8
    )
    pos = 0
    chunk = 1 << 23
    for a, b in zip(first_line, last_line, strict=True):
        lo, hi = int(starts[a]), int(min(ends[b] + 1, arr.size))
        for c in range(lo, hi, chunk):
            piece = arr[c : min(c + chunk, hi)]
            kept = piece[(piece != 32) & (piece != 13)]
            out[pos : pos + kept.size] = kept
            pos += kept.size
    if pos and out[pos - 1] != 10:
        out[pos] = 10
        pos += 1
    block = out[:pos]
    return block, others, int(idx[0]) + 1 if idx.size else 0


def _header(others: list[tuple[int, str]], path: Path) -> dict[str, Any]:
    """Rate, eyes, sample columns, screen, placement and trial variables."""
    h: dict[str, Any] = {"eyes": None, "rate": None, "vel": False, "res": False, "input": False}
    for line, text in others:
        parts = text.split()
        if not parts:
            continue
        key = parts[0]
        if key == "SAMPLES" and "RATE" in parts:
            try:
                h["rate"] = float(parts[parts.index("RATE") + 1])
            except (IndexError, ValueError):
                raise InputError("unreadable RATE in SAMPLES line", path=path, line=line) from None
            h["eyes"] = [e for e in ("LEFT", "RIGHT") if e in parts]
            h["vel"], h["res"], h["input"] = "VEL" in parts, "RES" in parts, "INPUT" in parts
        elif key == "MSG" and len(parts) >= 3:
            body = parts[2:]
            if body[0] in ("DISPLAY_COORDS", "GAZE_COORDS") and len(body) >= 5:
                try:
                    x0, y0, x1, y1 = (float(v) for v in body[1:5])
                except ValueError:
                    raise InputError(f"unreadable {body[0]}", path=path, line=line) from None
                h.setdefault("screen", (x1 - x0 + 1, y1 - y0 + 1))
            elif body[0] == "RECCFG" and len(body) >= 5 and h["rate"] is None:
                try:
                    h["rate"] = float(body[2])
                except ValueError:
                    raise InputError("unreadable RECCFG rate", path=path, line=line) from None
                h["eyes"] = [{"L": "LEFT", "R": "RIGHT"}[c] for c in body[4] if c in "LR"]
            elif body[:2] == ["!V", "IMGLOAD"] and len(body) >= 6:
                try:
                    anchor, x, y = body[2], float(body[4]), float(body[5])
                    w, hh = (float(body[6]), float(body[7])) if len(body) >= 8 else (None, None)
                except ValueError:
                    raise InputError(
                        "unreadable !V IMGLOAD message", path=path, line=line
                    ) from None
                h["imgload"] = (anchor.upper(), x, y, w, hh)
            elif body[:2] == ["!V", "TRIAL_VAR"] and len(body) >= 4 and body[2] in _TRIAL_VARS:
                h.setdefault("vars", {})[body[2]] = " ".join(body[3:])
            elif body[:2] == ["!CAL", "CALIBRATION"] or body[:2] == ["!CAL", "VALIDATION"]:
                _calibration(h, body)
    rate = h["rate"]
    if rate is not None and not (math.isfinite(rate) and 1.0 <= rate <= MAX_RATE_HZ):
        raise InputError(
            f"sampling rate {rate:g} Hz is impossible (EyeLink records at 250-2000 Hz; "
            f"at most {MAX_RATE_HZ:g} accepted)",
            path=path,
        )
    if not h["eyes"] or h["rate"] is None:
        raise InputError(
            "no SAMPLES or RECCFG line: sampling rate and recorded eyes unknown", path=path
        )
    return h


def _calibration(h: dict[str, Any], body: list[str]) -> None:
    """Per eye: the last calibration's type, how many there were, the last validation's errors.

    ``!CAL CALIBRATION HV5 L LEFT GOOD`` and ``!CAL VALIDATION HV5 L LEFT GOOD ERROR 0.29
    avg. 0.65 max OFFSET ...`` (errors in degrees), as the EyeLink host logs them.
    """
    if len(body) < 5 or body[4] not in ("LEFT", "RIGHT"):
        return
    cal = h.setdefault("calibration", {}).setdefault(body[4].lower(), {"count": 0})
    if body[1] == "CALIBRATION":
        cal["type"] = body[2]
        cal["count"] += 1
    elif "ERROR" in body:
        i = body.index("ERROR")
        try:
            cal["avg_error_deg"], cal["max_error_deg"] = float(body[i + 1]), float(body[i + 3])
        except (IndexError, ValueError):
            return


def _geometry(h: dict[str, Any], options: dict[str, Any]) -> Geometry:
    v = {**h.get("vars", {}), **{k: options[k] for k in _TRIAL_VARS if options.get(k) is not None}}

    def num(k: str) -> float | None:
        return float(v[k]) if v.get(k) is not None else None

    sw, sh = h.get("screen", (None, None))
    sw = options.get("screen_w_px") or sw
    sh = options.get("screen_h_px") or sh
    mm = {"screen_w_mm": num("screen_w_mm"), "screen_h_mm": num("screen_h_mm"),
          "viewing_distance_mm": num("viewing_distance_mm")}  # fmt: skip
    load = h.get("imgload")
    if load and load[3] and load[4]:
        anchor, x, y, w, hh = load
        left, top = (x - w / 2, y - hh / 2) if anchor == "CENTER" else (x, y)
        return Geometry(
            frame="image", screen_w_px=sw, screen_h_px=sh, **mm,
            image_w_px=num("image_w_px") or w, image_h_px=num("image_h_px") or hh,
            image_left_px=left, image_top_px=top, image_disp_w_px=w, image_disp_h_px=hh,
        )  # fmt: skip
    return Geometry(frame="screen", screen_w_px=sw, screen_h_px=sh, **mm)


def _sample_table(block: np.ndarray, h: dict[str, Any], path: Path, first_line: int) -> pa.Table:
    n_eye = len(h["eyes"])
    names = ["t"]
    for e in h["eyes"]:
        names += [f"x_{e}", f"y_{e}", f"p_{e}"]
    if h["vel"]:
        names += [f"{a}v_{e}" for e in h["eyes"] for a in ("x", "y")]
    if h["res"]:
        names += ["xres", "yres"]
    if h["input"]:
        names += ["input"]
    nl = np.flatnonzero(block[: 1 << 16] == 10)
    first = block[: nl[0] if nl.size else block.size]
    n_fields = int(np.count_nonzero(first == 9)) + 1
    if n_fields == len(names) + 1:
        names.append("flags")
    elif n_fields != len(names):
        raise InputError(
            f"sample line has {n_fields} fields, the SAMPLES line announces {len(names)} "
            f"({n_eye} eye(s))",
            path=path,
            line=first_line,
        )
    numeric = {n: pa.float64() for n in names if n not in ("flags", "input")}
    try:
        return pacsv.read_csv(
            pa.py_buffer(block),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter="\t"),
            convert_options=pacsv.ConvertOptions(
                column_types={**numeric, "flags": pa.string(), "input": pa.string()},
                null_values=["."],
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _locate_bad_sample(path, names) from None


def _locate_bad_sample(path: Path, names: list[str]) -> InputError:
    """Slow path after a failed parse: the first malformed sample line."""
    n_fields = len(names)
    text = read_bytes(path).decode("utf-8", "replace")
    for i, line in enumerate(text.split("\n"), start=1):
        if not line[:1].isdigit():
            continue
        fields = line.replace(" ", "").rstrip("\r").split("\t")
        if len(fields) != n_fields:
            return InputError(
                f"sample line has {len(fields)} fields, expected {n_fields} (truncated?)",
                path=path,
                line=i,
            )
        for j, f in enumerate(fields[: n_fields - 1]):
            if f == "." or j >= n_fields - 1:
                continue
            try:
                float(f)
            except ValueError:
                return InputError(
                    f"non-numeric value {f[:20]!r}", path=path, line=i, column=names[j]
                )
    return InputError("malformed sample lines", path=path)


def _f(v: str) -> float:
    return float("nan") if v == "." else float(v)


def _events(others: list[tuple[int, str]], path: Path, t0: float, dt: float) -> pd.DataFrame:
    rows = []
    for line, text in others:
        parts = text.split()
        kind = _EVENT_KINDS.get(parts[0]) if parts else None
        if kind is None:
            continue
        try:
            eye = {"L": "left", "R": "right"}[parts[1]]
            s, e = float(parts[2]), float(parts[3])
            row: dict[str, Any] = {
                "event": kind,
                "eye": eye,
                "onset_ms": s - t0,
                "offset_ms": e - t0 + dt,
            }
            if kind == "fixation":
                row.update(x_px=_f(parts[5]), y_px=_f(parts[6]))
            elif kind == "saccade":
                sx, sy, ex, ey = (_f(p) for p in parts[5:9])
                row.update(start_x_px=sx, start_y_px=sy, end_x_px=ex, end_y_px=ey,
                           x_px=(sx + ex) / 2, y_px=(sy + ey) / 2,
                           amplitude_deg=_f(parts[9]), peak_velocity_deg_s=_f(parts[10]))  # fmt: skip
        except (IndexError, ValueError, KeyError):
            raise InputError(f"malformed {parts[0]} event line", path=path, line=line) from None
        rows.append(row)
    cols = schemas.get("events").names
    ev = pd.DataFrame(
        rows,
        columns=[c for c in cols if c not in ("recording_id", "source", "method", "duration_ms")],
    )
    ev["duration_ms"] = ev["offset_ms"] - ev["onset_ms"]
    return ev


class ASCReader:
    """Reader of EyeLink ``.asc`` files (see the module docstring)."""

    name = "asc"

    def sniff(self, path: Path) -> bool:
        """An ASC file: ``** CONVERTED FROM`` header or EyeLink keywords near the top."""
        if path.is_dir():
            return False
        head = head_text(path, 4096)
        return head.startswith("** CONVERTED FROM") or bool(
            re.search(r"^(MSG|START|SAMPLES|EVENTS)\t", head, re.MULTILINE)
        )

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Read one ASC file into one recording."""
        data = read_bytes(path)
        block, others, first_line = _split(data)
        del data  # the sample block is a copy: let the file's bytes go
        if not block.size:
            raise InputError("no sample lines (empty or truncated ASC file)", path=path)
        h = _header(others, path)
        table = _sample_table(block, h, path, first_line)
        del block
        return [build_recording(path, h, table, others, first_line, "asc", options)]


def build_recording(
    path: Path,
    h: dict[str, Any],
    table: pa.Table,
    others: list[tuple[int, str]],
    first_line: int,
    source_format: str,
    options: dict[str, Any],
) -> Recording:
    """One recording from a parsed EyeLink header, sample table and event/message lines.

    Shared by the ASC reader and the EDF reader (:mod:`gazekit.io.edf`), which turns the
    EDF's messages and events into the lines ``edf2asc`` prints, so both give the same
    recording.

    Parameters
    ----------
    path : Path
        The source file.
    h : dict
        :func:`_header` of ``others``.
    table : pyarrow.Table
        Columns ``t`` (tracker ms) and ``x_<EYE>``, ``y_<EYE>``, ``p_<EYE>`` per eye in
        ``h["eyes"]`` (``LEFT``/``RIGHT``), screen pixels, NaN for missing.
    others : list of (int, str)
        Message and event lines with their line numbers.
    first_line : int
        Line (or sample index + 1) of the first sample, for error messages.
    source_format : str
    options : dict
        Reader options (geometry and id overrides).

    Returns
    -------
    Recording
    """
    t_src = table.column("t").to_numpy()
    check_time(t_src, path, "time", first_line=first_line)
    t0 = float(t_src[0])
    geom = _geometry(h, options)
    rate = checked_rate(t_src - t0, float(h["rate"]), source=path)
    dt = 1000.0 / rate
    cols: dict[str, np.ndarray] = {"t_ms": t_src - t0}
    del t_src
    eyes = []
    for e in h["eyes"]:
        x = np.asarray(table.column(f"x_{e}").to_numpy(zero_copy_only=False), dtype=np.float64)
        y = np.asarray(table.column(f"y_{e}").to_numpy(zero_copy_only=False), dtype=np.float64)
        p = np.asarray(table.column(f"p_{e}").to_numpy(zero_copy_only=False), dtype=np.float64)
        ok = np.isfinite(x) & np.isfinite(y)
        p = np.where(ok & (p > 0), p, np.nan)
        if geom.frame == "image":
            x, y = geom.screen_to_image(x, y)
        eyes.append((x, y, p, ok))
        if len(h["eyes"]) == 2:
            side = e.lower()
            cols[f"x_{side}_px"], cols[f"y_{side}_px"], cols[f"pupil_{side}"] = x, y, p
    del table
    if len(eyes) == 1:
        x, y, p, ok = eyes[0]
        cols["x_px"], cols["y_px"], cols["pupil"], cols["valid"] = x, y, p, ok
    else:
        (xl, yl, pl, okl), (xr, yr, pr, okr) = eyes
        cols["x_px"], cols["y_px"] = mean_of_eyes(xl, xr), mean_of_eyes(yl, yr)
        cols["pupil"] = mean_of_eyes(pl, pr)
        cols["valid"] = okl | okr
    # columns already have the schema's dtypes; write_table validates on write
    samples = pd.DataFrame(cols, copy=False)
    samples = samples[[c for c in schemas.get("samples").names if c in samples]]
    v = {
        **h.get("vars", {}),
        **{k: options[k] for k in ("image_id", "reader_id", "recording_id") if options.get(k)},
    }
    rid = v.get("recording_id") or path.name.split(".")[0]
    ev = _events(others, path, t0, dt)
    if geom.frame == "image" and len(ev):
        for a, b in (("x_px", "y_px"), ("start_x_px", "start_y_px"), ("end_x_px", "end_y_px")):
            ev[a], ev[b] = geom.screen_to_image(
                ev[a].to_numpy(np.float64), ev[b].to_numpy(np.float64)
            )
    ev.insert(0, "recording_id", rid)
    ev["source"], ev["method"] = "tracker", "eyelink"
    events = events_table(ev) if len(ev) else None
    return Recording(
        recording_id=rid,
        samples=samples,
        geometry=geom,
        corpus=options.get("corpus", "eyelink"),
        source_file=str(path),
        source_format=source_format,
        sampling_rate_hz=rate,
        image_id=v.get("image_id"),
        reader_id=v.get("reader_id"),
        events=events,
        t0=t0,
        extra={
            "eyes": [e.lower() for e in h["eyes"]],
            "pupil_unit": "arbitrary",
            **({"calibration": h["calibration"]} if h.get("calibration") else {}),
        },
    )


READERS.add("asc", ASCReader())


# ---------------------------------------------------------------------------- writer


def _num(v: np.ndarray, width: int, decimals: int) -> np.ndarray:
    """Right-aligned numbers as edf2asc prints them, ``.`` for missing."""
    v = np.asarray(v, dtype=np.float64)
    out = np.char.mod(f"%{width}.{decimals}f", np.nan_to_num(v))
    return np.where(np.isfinite(v), out, " " * (width - 1) + ".")


def _time_text(t: np.ndarray) -> np.ndarray:
    if np.allclose(t, np.round(t)):
        return np.round(t).astype(np.int64).astype(str)
    return np.char.mod("%.1f", np.round(t * 2) / 2)


def _asc_text(rec: Recording, binocular: bool, t_start: int) -> str:
    g = rec.geometry
    s = rec.samples
    x, y = s["x_px"].to_numpy(np.float64), s["y_px"].to_numpy(np.float64)
    if g.frame == "image":
        x, y = g.image_to_screen(x, y)
    valid = s["valid"].to_numpy(bool) & np.isfinite(x) & np.isfinite(y)
    x, y = np.where(valid, x, np.nan), np.where(valid, y, np.nan)
    pupil = s["pupil"].to_numpy(np.float64) if "pupil" in s else np.full(len(s), np.nan)
    pupil = np.where(valid & np.isfinite(pupil), pupil, 0.0)
    rate = float(rec.sampling_rate_hz or 1000.0)
    t = s["t_ms"].to_numpy(np.float64) + t_start
    tt = _time_text(t)
    eyes = "LEFT\tRIGHT" if binocular else "RIGHT"
    sw, sh = int(g.screen_w_px or 1920), int(g.screen_h_px or 1080)
    lines = [
        f"** CONVERTED FROM {rec.recording_id}.edf using edfapi 4.2.1 Linux  Jan 01 2026 on Mon Jan 01 00:00:00 2026",
        "** DATE: Mon Jan 01 00:00:00 2026",
        "** TYPE: EDF_FILE BINARY EVENT SAMPLE TAGGED",
        "** VERSION: EYELINK II 1",
        "** SOURCE: EYELINK CL",
        "** EYELINK II CL v6.12 Feb  1 2018 (EyeLink Portable Duo)",
        "** RECORDED BY gazekit",
        "**",
        "",
        f"MSG\t{t_start - 10} DISPLAY_COORDS 0 0 {sw - 1} {sh - 1}",
        f"MSG\t{t_start - 10} RECCFG CR {rate:g} 2 1 {'LR' if binocular else 'R'}",
    ]
    trial = {"recording_id": rec.recording_id, "image_id": rec.image_id, "reader_id": rec.reader_id,
             "screen_w_mm": g.screen_w_mm, "screen_h_mm": g.screen_h_mm,
             "viewing_distance_mm": g.viewing_distance_mm}  # fmt: skip
    if g.frame == "image":
        lines.append(
            f"MSG\t{t_start - 5} !V IMGLOAD TOP_LEFT {rec.image_id}.png {g.image_left_px:g} "
            f"{g.image_top_px:g} {g.image_disp_w_px:g} {g.image_disp_h_px:g}"
        )
        trial.update(image_w_px=g.image_w_px, image_h_px=g.image_h_px)
    lines += [
        f"MSG\t{t_start - 5} !V TRIAL_VAR {k} {v:g}"
        if isinstance(v, float)
        else f"MSG\t{t_start - 5} !V TRIAL_VAR {k} {v}"
        for k, v in trial.items()
        if v is not None
    ]
    lines += [
        f"START\t{tt[0]} \t{eyes}\tSAMPLES\tEVENTS",
        "PRESCALER\t1", "VPRESCALER\t1", "PUPIL\tAREA",
        f"EVENTS\tGAZE\t{eyes}\tRATE\t{rate:7.2f}\tTRACKING\tCR\tFILTER\t2",
        f"SAMPLES\tGAZE\t{eyes}\tRATE\t{rate:7.2f}\tTRACKING\tCR\tFILTER\t2",
    ]  # fmt: skip
    xs, ys, ps = _num(x, 7, 1), _num(y, 7, 1), np.char.mod("%7.1f", pupil)
    if binocular:
        cols = [tt, xs, ys, ps, xs, ys, ps, np.full(len(s), ".....")]
    else:
        cols = [tt, xs, ys, ps, np.full(len(s), "...")]
    sample_lines = ["\t".join(r) for r in zip(*cols, strict=True)]
    # events, placed before the sample at which they end (edf2asc order)
    ev_lines: list[tuple[float, str]] = []
    ev = rec.events if rec.events is not None else None
    if ev is not None and len(ev):
        ev = ev[ev["source"] == "tracker"] if "source" in ev else ev
        exs = [("L", "R")] if binocular else [("R",)]
        for r in ev.itertuples():
            on = round(float(r.onset_ms) + t_start)
            off = round(float(r.offset_ms) + t_start - 1000.0 / rate)
            dur = off - on + 1
            for eye in exs[0]:
                if r.event == "fixation":
                    fx, fy = (
                        g.image_to_screen(np.array([r.x_px]), np.array([r.y_px]))
                        if g.frame == "image"
                        else ([r.x_px], [r.y_px])
                    )
                    text = f"EFIX {eye}   {on}\t{off}\t{dur}\t{_num(fx, 7, 1)[0]}\t{_num(fy, 7, 1)[0]}\t{1000:7d}"
                elif r.event == "saccade":
                    sx, sy = np.array([r.start_x_px]), np.array([r.start_y_px])
                    ex, ey = np.array([r.end_x_px]), np.array([r.end_y_px])
                    if g.frame == "image":
                        sx, sy = g.image_to_screen(sx, sy)
                        ex, ey = g.image_to_screen(ex, ey)
                    amp = r.amplitude_deg if np.isfinite(r.amplitude_deg) else float("nan")
                    pv = (
                        r.peak_velocity_deg_s
                        if np.isfinite(r.peak_velocity_deg_s)
                        else float("nan")
                    )
                    text = (f"ESACC {eye}  {on}\t{off}\t{dur}\t{_num(sx, 7, 1)[0]}\t{_num(sy, 7, 1)[0]}\t"
                            f"{_num(ex, 7, 1)[0]}\t{_num(ey, 7, 1)[0]}\t{_num(np.array([amp]), 6, 2)[0]}\t{_num(np.array([pv]), 7, 0)[0]}")  # fmt: skip
                elif r.event == "blink":
                    text = f"EBLINK {eye} {on}\t{off}\t{dur}"
                else:
                    continue
                start_kw = {"fixation": "SFIX", "saccade": "SSACC", "blink": "SBLINK"}[r.event]
                ev_lines.append((on - 0.5, f"{start_kw} {eye}   {on}"))
                ev_lines.append((off + 0.5, text))
    ev_lines.sort(key=lambda e: e[0])
    pos = np.searchsorted(t, [e[0] for e in ev_lines]) if ev_lines else np.zeros(0, np.int64)
    out: list[str] = []
    k = 0
    for i, line in enumerate(sample_lines):
        while k < len(ev_lines) and pos[k] <= i:
            out.append(ev_lines[k][1])
            k += 1
        out.append(line)
    out += [e[1] for e in ev_lines[k:]]
    end = f"END\t{tt[-1]} \tSAMPLES\tEVENTS\tRES\t  38.54\t  31.12"
    return "\n".join(lines + out + [end]) + "\n"


def write(
    recordings: list[Recording], outdir: Path, *, binocular: bool = False, **options: Any
) -> list[Path]:
    """Write each recording as ``outdir/<recording_id>.asc`` (edf2asc layout).

    Monocular (right eye) by default; ``binocular=True`` writes both eyes (the same
    gaze twice when the recording has no per-eye data). Time starts at 1,000,000 ms, as
    tracker clocks do not start at zero.
    """
    del options
    paths = []
    for rec in recordings:
        if not len(rec.samples):
            raise InputError(f"recording {rec.recording_id!r} has no samples to write")
        p = safe_child(outdir, f"{rec.recording_id}.asc", what="recording_id")
        with atomic_open(p, "w", encoding="ascii", newline="\n") as fh:
            fh.write(_asc_text(rec, binocular, 1_000_000))
        paths.append(p)
    return paths


WRITERS.add("asc", write)
