"""BIDS eye-tracking datasets (BIDS 1.11 ``physio`` recordings with ``PhysioType: eyetrack``).

Reading (``gazekit convert BIDS_ROOT``): every ``*_recording-<label>_physio.tsv.gz`` whose
sidecar says ``PhysioType: "eyetrack"``, grouped by the rest of its name (the files of the
two eyes of one run make one recording):

* ``Columns`` name the header-less columns; ``x_coordinate``/``y_coordinate`` must be in
  ``pixel`` units with ``SampleCoordinateSystem: "gaze-on-screen"`` (other systems are
  refused, not guessed); ``timestamp`` (``Units`` ms, s or us; default ms) gives the sample
  times, else the row index and ``SamplingFrequency`` do;
* ``t_ms`` is ``StartTime`` (s, on the ``events.tsv`` timeline) plus the time since the
  first sample; ``t0`` is the tracker time of ``t_ms = 0``;
* two files with ``RecordedEye`` ``left`` and ``right`` give per-eye columns and their mean,
  as the EyeLink reader does; a ``cyclopean`` file is the combined gaze;
* ``physioevents`` rows whose ``trial_type`` is fixation, saccade, pso or blink become events
  (``OnsetSource`` ``timestamp``: onsets on the timestamp clock; ``n/a``: row indices);
  message rows are skipped;
* the screen comes from ``StimulusPresentation`` in the ``events.json`` sidecar (or, as in
  datasets written to the BEP020 drafts, ``ScreenSize``/``ScreenResolution``/
  ``ScreenDistance`` in the physio sidecar); the radiograph's placement from the
  ``events.tsv`` columns gazekit writes, in which case gaze is stored in image pixels;
* ids come back from ``participants.tsv`` (``reader_id``) and ``sub-*_scans.tsv``
  (``recording_id``, ``image_id``, ``corpus``) when present, else from the BIDS labels.

JSON sidecars follow the inheritance principle (a sidecar higher in the tree whose
entities are a subset of the file's applies, deeper ones override). Writing is
:mod:`gazekit.io.bids_export`.
"""

from __future__ import annotations

import gzip
import json
import logging
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
from gazekit.io import bids_export
from gazekit.io._csv import check_time
from gazekit.io.base import READERS, WRITERS, events_table, mean_of_eyes
from gazekit.io.bids_common import (
    CALIBRATION_FIELDS,
    EVENT_NUMERIC,
    EVENT_POSITIONS,
    PLACEMENT_COLUMNS,
    TRIAL_TYPES,
    bids_labels,
    check_id,
)
from gazekit.recording import Recording

log = logging.getLogger(__name__)

__all__ = ["BIDSReader", "bids_labels", "check_id", "write"]

_ENTITY = re.compile(r"([a-zA-Z]+)-([a-zA-Z0-9+]+)")
_TIME_UNITS = {"ms": 1.0, "s": 1000.0, "us": 1e-3, "µs": 1e-3}
_STRING_EVENT_COLS = ("trial_type", "message", "source", "method", "eye")
_GEOMETRY_OPTIONS = (
    "screen_w_px",
    "screen_h_px",
    "screen_w_mm",
    "screen_h_mm",
    "viewing_distance_mm",
)


def _split_name(name: str) -> tuple[dict[str, str], str]:
    """Entities and suffix of a BIDS file name (extension removed)."""
    stem = name.split(".", 1)[0]
    parts = stem.split("_")
    ents = {}
    for p in parts[:-1]:
        m = _ENTITY.fullmatch(p)
        if m:
            ents[m.group(1)] = m.group(2)
    return ents, parts[-1]


def _load_json(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            obj = json.load(fh)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", path=path, line=exc.lineno) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc})", path=path) from None
    if not isinstance(obj, dict):
        raise InputError("a JSON sidecar must hold an object", path=path)
    return obj


def sidecar(root: Path, data_file: Path, suffix: str) -> dict[str, Any]:
    """Merged JSON metadata of ``data_file`` under the BIDS inheritance principle.

    Parameters
    ----------
    root : Path
        Dataset root.
    data_file : Path
        A data file (``.tsv``, ``.tsv.gz``) inside ``root``.
    suffix : str
        Suffix of the sidecars to consider (``physio``, ``physioevents``, ``events``).

    Returns
    -------
    dict
        Sidecars from the root down to the file's folder, the deeper overriding.
    """
    ents, _ = _split_name(data_file.name)
    folders = [data_file.parent, *data_file.parent.parents]
    folders = folders[: folders.index(root) + 1] if root in folders else [data_file.parent]
    found: list[tuple[int, int, Path]] = []
    for depth, folder in enumerate(reversed(folders)):
        for j in folder.glob(f"*_{suffix}.json"):
            e, s = _split_name(j.name)
            if s == suffix and all(ents.get(k) == v for k, v in e.items()):
                found.append((depth, len(e), j))
    meta: dict[str, Any] = {}
    for _, _, j in sorted(found):
        meta.update(_load_json(j))
    return meta


def _read_headerless(path: Path, columns: list[str], strings: tuple[str, ...] = ()) -> pd.DataFrame:
    """A header-less BIDS TSV(.gz), ``n/a`` as missing; errors name line and column."""
    types = {c: (pa.string() if c in strings else pa.float64()) for c in columns}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=columns, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter="\t", quote_char='"'),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=["n/a", ""], strings_can_be_null=True
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, EOFError) as exc:
        raise _locate_bad_row(path, columns, strings, exc) from None
    return table.to_pandas()


def _locate_bad_row(
    path: Path, columns: list[str], strings: tuple[str, ...], exc: Exception
) -> InputError:
    """Slow path after a failed parse: the first malformed line."""
    try:
        with (
            gzip.open(path, "rt", encoding="utf-8")
            if path.name.endswith(".gz")
            else open(path, encoding="utf-8") as fh
        ):
            for i, line in enumerate(fh, start=1):
                fields = line.rstrip("\r\n").split("\t")
                if len(fields) != len(columns):
                    return InputError(
                        f"{len(fields)} fields, the sidecar's Columns name {len(columns)}",
                        path=path,
                        line=i,
                    )
                for name, value in zip(columns, fields, strict=True):
                    if name in strings or value in ("n/a", ""):
                        continue
                    try:
                        float(value)
                    except ValueError:
                        return InputError(
                            f"non-numeric value {value[:20]!r}", path=path, line=i, column=name
                        )
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as err:
        return InputError(f"cannot read file ({err})", path=path)
    if "Empty CSV" in str(exc):
        return InputError("no rows (empty file)", path=path)
    return InputError(f"unreadable table ({exc})", path=path)


def _read_tsv(path: Path) -> pd.DataFrame:
    """A small BIDS TSV with a header row, every value as text (``n/a`` kept as is)."""
    try:
        return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"unreadable TSV ({str(exc).strip()})", path=path) from None
    except OSError as exc:
        raise InputError(f"cannot read file ({exc})", path=path) from None


def _unit(meta: dict[str, Any], column: str, default: str | None) -> str | None:
    """``Units`` of a column described in a sidecar."""
    desc = meta.get(column)
    return desc.get("Units", default) if isinstance(desc, dict) else default


def _subject_ids(root: Path) -> dict[str, str]:
    """participant label → reader id, from ``participants.tsv`` when it has ``reader_id``."""
    f = root / "participants.tsv"
    if not f.is_file():
        return {}
    df = _read_tsv(f)
    if "participant_id" not in df or "reader_id" not in df:
        return {}
    return {
        p.removeprefix("sub-"): (r if r != "n/a" else None)
        for p, r in zip(df["participant_id"], df["reader_id"], strict=True)
    }


def _scans(sub_dir: Path) -> dict[str, dict[str, str]]:
    """filename (relative to the subject folder) → row of ``sub-*_scans.tsv``."""
    out: dict[str, dict[str, str]] = {}
    for f in sub_dir.glob("sub-*_scans.tsv"):
        df = _read_tsv(f)
        if "filename" not in df:
            raise InputError("scans file without a 'filename' column", path=f, line=1)
        for row in df.to_dict("records"):
            out[row["filename"]] = {k: v for k, v in row.items() if v != "n/a"}
    return out


def _screen(sp: dict[str, Any], side: dict[str, Any]) -> dict[str, float]:
    """Geometry fields from StimulusPresentation (or a BEP020-draft physio sidecar)."""
    out: dict[str, float] = {}

    def pair(key: str) -> list[float] | None:
        v = sp.get(key, side.get(key))
        return [float(a) for a in v] if isinstance(v, list) and len(v) == 2 else None

    if (res := pair("ScreenResolution")) is not None:
        out["screen_w_px"], out["screen_h_px"] = res
    if (size := pair("ScreenSize")) is not None:
        out["screen_w_mm"], out["screen_h_mm"] = (round(v * 1000.0, 9) for v in size)
    dist = sp.get("ScreenDistance", side.get("ScreenDistance"))
    if isinstance(dist, (int, float)):
        out["viewing_distance_mm"] = round(float(dist) * 1000.0, 9)
    return out


class _Group:
    """The files of one run: per-eye physio (+ physioevents) and the task events."""

    def __init__(self, root: Path, key: str, physio: list[Path]) -> None:
        self.root, self.key, self.physio = root, key, sorted(physio)
        self.metas = [sidecar(root, p, "physio") for p in self.physio]

    def eye(self, i: int) -> str:
        eye = self.metas[i].get("RecordedEye")
        if eye not in ("left", "right", "cyclopean"):
            raise InputError(
                f"RecordedEye must be left, right or cyclopean, got {eye!r}",
                path=self._json(self.physio[i]),
                column="RecordedEye",
            )
        return str(eye)

    def _json(self, f: Path) -> Path:
        return f.with_name(f.name.split(".", 1)[0] + ".json")


def _samples_of(
    g: _Group, i: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, str | None]:
    """Times (ms, tracker clock), x, y (screen px), pupil and its unit of file ``i``."""
    f, meta = g.physio[i], g.metas[i]
    where = g._json(f)
    cols = meta.get("Columns")
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
        raise InputError("the sidecar has no Columns list", path=where, column="Columns")
    for c in ("x_coordinate", "y_coordinate"):
        if c not in cols:
            raise InputError(f"Columns has no {c!r}", path=where, column="Columns")
        unit = _unit(meta, c, "pixel")
        if unit not in ("pixel", "px"):
            raise InputError(
                f"{c} in {unit!r}: gazekit reads gaze in pixel units only",
                path=where,
                column=f"{c}.Units",
            )
    system = meta.get("SampleCoordinateSystem", "gaze-on-screen")
    if system != "gaze-on-screen":
        raise InputError(
            f"SampleCoordinateSystem {system!r}: gazekit reads gaze-on-screen recordings only",
            path=where,
            column="SampleCoordinateSystem",
        )
    rate = meta.get("SamplingFrequency")
    if not isinstance(rate, (int, float)) or not rate > 0:
        raise InputError(
            "SamplingFrequency must be a positive number", path=where, column="SamplingFrequency"
        )
    df = _read_headerless(f, cols)
    if not len(df):
        raise InputError("no rows (empty file)", path=f)
    if "timestamp" in df:
        unit = _unit(meta, "timestamp", "ms")
        if unit not in _TIME_UNITS:
            raise InputError(
                f"timestamp Units {unit!r} (known: ms, s, us)", path=where, column="timestamp.Units"
            )
        t = df["timestamp"].to_numpy(np.float64) * _TIME_UNITS[unit]
        check_time(t, f, "timestamp", first_line=1)
    else:
        t = np.arange(len(df), dtype=np.float64) * (1000.0 / float(rate))
    pupil = df["pupil_size"].to_numpy(np.float64) if "pupil_size" in df else None
    p_unit = _unit(meta, "pupil_size", None) if pupil is not None else None
    return (
        t,
        df["x_coordinate"].to_numpy(np.float64),
        df["y_coordinate"].to_numpy(np.float64),
        pupil,
        p_unit,
    )


def _task_events(g: _Group) -> tuple[dict[str, Any], dict[str, Any]]:
    """The run's ``events.tsv`` stimulus row and merged ``events.json`` (empty when absent)."""
    f = g.physio[0].parent / f"{g.key}_events.tsv"
    if not f.is_file():
        return {}, {}
    meta = sidecar(g.root, f, "events")
    df = _read_tsv(f)
    for c in ("onset", "duration"):
        if c not in df:
            raise InputError(f"events file without the required {c!r} column", path=f, line=1)
    rows = df.to_dict("records")
    stim = next((r for r in rows if r.get("trial_type") == "radiograph"), rows[0] if rows else {})
    return {k: v for k, v in stim.items() if v != "n/a"}, meta


def _geometry(
    row: dict[str, Any],
    emeta: dict[str, Any],
    pmeta: dict[str, Any],
    options: dict[str, Any],
    where: Path,
) -> Geometry:
    sp = emeta.get("StimulusPresentation") or {}
    screen = _screen(sp if isinstance(sp, dict) else {}, pmeta)
    screen.update({k: float(options[k]) for k in _GEOMETRY_OPTIONS if options.get(k) is not None})
    if all(c in row for c in PLACEMENT_COLUMNS):
        place = {}
        for c, field in PLACEMENT_COLUMNS.items():
            try:
                place[field] = float(row[c])
            except ValueError:
                raise InputError(
                    f"non-numeric {c} {row[c]!r}", path=where, line=2, column=c
                ) from None
        return Geometry(frame="image", **screen, **place)
    return Geometry(frame="screen", **screen)


def _events(
    g: _Group, i: int, t_clock0: float, t_ms: np.ndarray, rate: float, geom: Geometry, rid: str
) -> pd.DataFrame | None:
    """Events of ``physioevents`` file ``i`` (or None when there is none)."""
    f = g.physio[i].with_name(g.physio[i].name.replace("_physio.tsv", "_physioevents.tsv"))
    if not f.is_file():
        return None
    meta = sidecar(g.root, f, "physioevents")
    cols = meta.get("Columns")
    where = g._json(f)
    if not isinstance(cols, list) or "onset" not in cols:
        raise InputError(
            "the sidecar has no Columns list with 'onset'", path=where, column="Columns"
        )
    df = _read_headerless(f, cols, strings=tuple(c for c in cols if c in _STRING_EVENT_COLS))
    if "trial_type" not in df:
        return None
    keep = df["trial_type"].isin(list(TRIAL_TYPES)).to_numpy(bool)
    lines = np.flatnonzero(keep) + 1
    df = df[keep].reset_index(drop=True)
    if not len(df):
        return None
    source = meta.get(
        "OnsetSource", "timestamp" if "timestamp" in g.metas[i].get("Columns", []) else "n/a"
    )
    onset = df["onset"].to_numpy(np.float64)
    if source == "timestamp":
        unit = _unit(g.metas[i], "timestamp", "ms")
        onset_ms = onset * _TIME_UNITS.get(unit or "ms", 1.0) - t_clock0
    elif source == "n/a":
        idx = np.clip(np.round(onset).astype(np.int64), 0, len(t_ms) - 1)
        onset_ms = np.where(
            (onset >= 0) & (onset < len(t_ms)), t_ms[idx], t_ms[0] + onset * 1000.0 / rate
        )
    else:
        raise InputError(
            f"OnsetSource {source!r}: only 'timestamp' and 'n/a' are understood",
            path=where,
            column="OnsetSource",
        )
    if "duration" not in df:
        raise InputError(
            "fixation/saccade rows need a 'duration' column", path=where, column="Columns"
        )
    dur = df["duration"].to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(dur) | (dur < 0) | ~np.isfinite(onset))
    if bad.size:
        col = "onset" if not np.isfinite(onset[bad[0]]) else "duration"
        raise InputError(
            f"missing or negative {col} of a {df['trial_type'][bad[0]]} event",
            path=f,
            line=int(lines[bad[0]]),
            column=col,
        )
    eye = g.eye(i)
    default_eye = eye if eye in ("left", "right") else None
    ev: dict[str, Any] = {
        "recording_id": rid,
        "event": df["trial_type"].astype(object),
        "source": df["source"] if "source" in df else "tracker",
        "method": df["method"] if "method" in df else None,
        "eye": df["eye"] if "eye" in df else default_eye,
        "onset_ms": onset_ms,
        "offset_ms": onset_ms + dur * 1000.0,
        "duration_ms": dur * 1000.0,
    }
    for prefix, (cx, cy) in EVENT_POSITIONS.items():
        x = df.get(f"{prefix}x_coordinate")
        y = df.get(f"{prefix}y_coordinate")
        if x is None or y is None:
            continue
        x, y = x.to_numpy(np.float64), y.to_numpy(np.float64)
        ev[cx], ev[cy] = geom.screen_to_image(x, y) if geom.frame == "image" else (x, y)
    for name in EVENT_NUMERIC:
        if name in df:
            ev[name] = df[name].to_numpy(np.float64)
    return pd.DataFrame(ev)


def _read_group(g: _Group, subjects: dict[str, str], options: dict[str, Any]) -> Recording:
    eyes = [g.eye(i) for i in range(len(g.physio))]
    if len(set(eyes)) != len(eyes):
        raise InputError(f"two files record the same eye ({eyes})", path=g.physio[0].parent)
    rates = {float(m.get("SamplingFrequency", 0)) for m in g.metas}
    sig = [_samples_of(g, i) for i in range(len(g.physio))]
    if len(rates) != 1:
        raise InputError(
            f"the eyes of one run have different SamplingFrequency {sorted(rates)}",
            path=g._json(g.physio[1]),
            column="SamplingFrequency",
        )
    rate = rates.pop()
    t_clock = sig[0][0]
    for i, s in enumerate(sig[1:], start=1):
        if len(s[0]) != len(t_clock) or not np.array_equal(s[0], t_clock):
            raise InputError(
                "the eyes of one run have different timestamps",
                path=g.physio[i],
                column="timestamp",
            )
    start_s = g.metas[0].get("StartTime", 0.0)
    if not isinstance(start_s, (int, float)):
        raise InputError(
            f"StartTime must be a number of seconds, got {start_s!r}",
            path=g._json(g.physio[0]),
            column="StartTime",
        )
    start = float(start_s) * 1000.0
    t_ms = start + (t_clock - t_clock[0])
    t0 = float(t_clock[0]) - start
    row, emeta = _task_events(g)
    geom = _geometry(row, emeta, g.metas[0], options, g.physio[0].parent / f"{g.key}_events.tsv")

    def frame(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return geom.screen_to_image(x, y) if geom.frame == "image" else (x, y)

    by_eye = {e: s for e, s in zip(eyes, sig, strict=True)}
    cols: dict[str, Any] = {"t_ms": t_ms}
    pupil_unit = next((s[4] for s in sig if s[4]), None)
    nan = np.full(len(t_ms), np.nan)
    if "left" in by_eye and "right" in by_eye:
        per = {}
        for e in ("left", "right"):
            x, y = frame(by_eye[e][1], by_eye[e][2])
            p = by_eye[e][3] if by_eye[e][3] is not None else nan
            cols[f"x_{e}_px"], cols[f"y_{e}_px"], cols[f"pupil_{e}"] = x, y, p
            per[e] = (x, y, p)
        if "cyclopean" in by_eye:
            x, y = frame(by_eye["cyclopean"][1], by_eye["cyclopean"][2])
            p = by_eye["cyclopean"][3] if by_eye["cyclopean"][3] is not None else nan
        else:
            x = mean_of_eyes(per["left"][0], per["right"][0])
            y = mean_of_eyes(per["left"][1], per["right"][1])
            p = mean_of_eyes(per["left"][2], per["right"][2])
        recorded = ["left", "right"]
    else:
        e = "cyclopean" if "cyclopean" in by_eye else eyes[0]
        x, y = frame(by_eye[e][1], by_eye[e][2])
        p = by_eye[e][3] if by_eye[e][3] is not None else nan
        recorded = [e] if e in ("left", "right") else []
    cols["x_px"], cols["y_px"], cols["pupil"] = x, y, p
    cols["valid"] = np.isfinite(x) & np.isfinite(y)
    samples = pd.DataFrame(cols)
    samples = samples[[c for c in schemas.get("samples").names if c in samples]]
    # ids: the scans/participants tables gazekit writes, else the BIDS labels
    sub_dir = next(p for p in g.physio[0].parents if p.name.startswith("sub-"))
    rel = g.physio[0].relative_to(sub_dir).as_posix()
    scan = _scans(sub_dir).get(rel, {})
    sub = sub_dir.name.removeprefix("sub-")
    rid = check_id(scan.get("recording_id") or g.key, "recording id")
    image_id = scan.get("image_id") or row.get("image_id")
    if image_id is None and row.get("stim_file"):
        image_id = Path(row["stim_file"]).stem
    events = [
        e
        for i in range(len(g.physio))
        if (e := _events(g, i, t0, t_ms, rate, geom, rid)) is not None
    ]
    ev = None
    if events:
        ev = events_table(pd.concat(events, ignore_index=True))
        ev = ev.sort_values("onset_ms", kind="stable").reset_index(drop=True)
    extra: dict[str, Any] = {"bids_run": g.key}
    cal = {
        e: {k: m[f] for k, f in CALIBRATION_FIELDS.items() if f in m}
        for e, m in zip(eyes, g.metas, strict=True)
        if e in ("left", "right") and any(f in m for f in CALIBRATION_FIELDS.values())
    }
    if cal:
        extra["calibration"] = cal
    if recorded:
        extra["eyes"] = recorded
    if pupil_unit:
        extra["pupil_unit"] = pupil_unit
    return Recording(
        recording_id=rid,
        samples=samples,
        geometry=geom,
        corpus=options.get("corpus") or scan.get("corpus") or "bids",
        source_file=str(g.physio[0]),
        source_format="bids",
        sampling_rate_hz=rate,
        image_id=image_id,
        reader_id=subjects[sub] if sub in subjects else sub,
        events=ev,
        t0=t0,
        extra=extra,
    )


def _eyetrack_files(root: Path) -> dict[tuple[Path, str], list[Path]]:
    """``(folder, run key)`` → the run's eye-tracking ``_physio.tsv.gz`` files."""
    groups: dict[tuple[Path, str], list[Path]] = {}
    for f in sorted(root.glob("sub-*/**/*_physio.tsv.gz")):
        meta = sidecar(root, f, "physio")
        if meta.get("PhysioType") != "eyetrack":
            continue
        key = re.sub(r"_recording-[a-zA-Z0-9]+", "", f.name.removesuffix("_physio.tsv.gz"))
        groups.setdefault((f.parent, key), []).append(f)
    return groups


class BIDSReader:
    """Reader of BIDS eye-tracking datasets (see the module docstring)."""

    name = "bids"

    def sniff(self, path: Path) -> bool:
        """A folder with ``dataset_description.json`` and eye-tracking ``_physio`` files."""
        if not path.is_dir() or not (path / "dataset_description.json").is_file():
            return False
        return any(
            True
            for pattern in (
                "sub-*/*/*_physio.json",
                "sub-*/ses-*/*/*_physio.json",
                "sub-*/*/*_physio.tsv.gz",
                "sub-*/ses-*/*/*_physio.tsv.gz",
            )
            for _ in path.glob(pattern)
        )

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Read every eye-tracking run of the dataset rooted at ``path``."""
        root = Path(path)
        groups = _eyetrack_files(root)
        if not groups:
            raise InputError("no eye-tracking physio files (PhysioType 'eyetrack')", path=root)
        subjects = _subject_ids(root)
        recs = [
            _read_group(_Group(root, key, files), subjects, options)
            for (_, key), files in groups.items()
        ]
        ids = [r.recording_id for r in recs]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise InputError(f"recording id(s) {dup} appear in more than one run", path=root)
        return recs


write = bids_export.write

READERS.add("bids", BIDSReader())
WRITERS.add("bids", write)
