"""Reader of scanpath lists: GazeSearch JSON and COCO-Search18-shaped visual-search sets.

A scanpath list is a JSON array of records, one per (image, target, subject) search:

* ``name`` — image file name (becomes ``image_id`` without its extension);
* ``task`` — the search target (GazeSearch: one of 13 findings, with spaces);
* ``X``, ``Y`` — fixation positions in the declared frame (px, origin top-left);
* ``T`` — fixation durations (GazeSearch: seconds; COCO-Search18: milliseconds);
* ``subject``, ``split`` and optional ``condition`` (``present``/``absent``); other
  keys (``length``, ``fixOnTarget``, ``correct``, ``bbox``) are kept in ``extra``.

Each record becomes a *fixation-only* :class:`~gazekit.recording.Recording`: no gaze
samples, its fixations as tracker events (``source="tracker"``,
``method="scanpath_list"``), ``fixation_only=True``, the target and split as
first-class fields. The lists carry no timestamps, so **onsets are cumulative
durations**: fixation ``i`` starts at the sum of the durations before it and the
saccades between fixations take no time (the only reconstruction the data allow;
``onset_ms`` orders fixations and spaces them by dwell time, not wall-clock time).

Frame: the list does not state its coordinate frame. GazeSearch resizes every
image (padded to a square) to 224 × 224 (Pham et al., WACV 2025), so ``frame_px``
defaults to (224, 224); COCO-Search18 uses its 1680 × 1050 display (Chen et al.,
Sci. Rep. 2021): pass ``frame_px=(1680, 1050)`` (``--frame-px 1680x1050``). A position
outside the frame is an error naming the record, never clipped.

Durations: ``duration_unit="auto"`` reads seconds when the median duration is below
10 and milliseconds when it is above 20 (human fixations last ~50–2,000 ms, so a
median between the two is neither and is refused: pass the unit).

Targets are mapped to :data:`gazekit.vocab.GAZEINTENT_FINDINGS` (``"lung opacity"`` →
``lung_opacity``; spaces, hyphens and case ignored; REFLACX/EGD-CXR label spellings
through :func:`gazekit.vocab.to_gazeintent`); a target with no finding counterpart
(COCO-Search18's ``bottle``) is kept in its normalised form.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.io.base import READERS, events_table, head_text
from gazekit.recording import Recording
from gazekit.vocab import GAZEINTENT_FINDINGS, to_gazeintent

log = logging.getLogger(__name__)

#: Keys every record must have.
REQUIRED_KEYS: tuple[str, ...] = ("name", "task", "X", "Y", "T")
#: GazeSearch's frame: images padded to a square and resized to 224 px (Pham et al. 2025).
GAZESEARCH_FRAME_PX: tuple[float, float] = (224.0, 224.0)
_SNIFF = re.compile(r'^\s*\[\s*\{[^\]]*?"(name|task|X|Y|T)"\s*:', re.S)


def target_name(task: str) -> str:
    """The project-vocabulary name of a search target.

    Parameters
    ----------
    task : str
        Target as written in the source (``"pleural effusion"``, ``"Pleural Effusion"``,
        ``"pleural_effusion"``, a REFLACX label such as ``"Enlarged cardiac silhouette"``).

    Returns
    -------
    str
        A :data:`~gazekit.vocab.GAZEINTENT_FINDINGS` name, or the lower-case,
        underscore-joined form of ``task`` when it is no finding.

    Examples
    --------
    >>> target_name("lung opacity"), target_name("Enlarged cardiac silhouette")
    ('lung_opacity', 'cardiomegaly')
    >>> target_name("potted plant")
    'potted_plant'
    """
    norm = re.sub(r"[\s\-]+", "_", str(task).strip().lower())
    if norm in GAZEINTENT_FINDINGS:
        return norm
    for corpus in ("reflacx", "egd"):
        try:
            mapped = to_gazeintent(str(task).strip(), corpus)
        except KeyError:
            continue
        if mapped is not None:
            return mapped
    return norm


def _duration_scale(durations: np.ndarray, unit: str, path: Path) -> float:
    """Factor that turns the list's durations into ms."""
    if unit == "s":
        return 1000.0
    if unit == "ms":
        return 1.0
    if unit != "auto":
        raise InputError(f"duration_unit must be 's', 'ms' or 'auto', got {unit!r}")
    med = float(np.median(durations)) if len(durations) else 0.0
    if med < 10.0:
        return 1000.0
    if med > 20.0:
        return 1.0
    raise InputError(
        f"cannot tell whether durations are in s or ms (median {med:g}); pass "
        "--duration-unit s or ms",
        path=path,
        column="T",
    )


def _record_error(path: Path, i: int, msg: str, column: str | None = None) -> InputError:
    return InputError(f"record {i}: {msg}", path=path, column=column)


def _numbers(rec: dict[str, Any], key: str, path: Path, i: int) -> np.ndarray:
    val = rec.get(key)
    if not isinstance(val, list):
        raise _record_error(path, i, f"{key!r} must be a list of numbers", key)
    try:
        arr = np.asarray(val, dtype=np.float64)
    except (TypeError, ValueError):
        raise _record_error(path, i, f"{key!r} holds a non-numeric value", key) from None
    if arr.ndim != 1 or not np.all(np.isfinite(arr)):
        raise _record_error(path, i, f"{key!r} holds a non-finite or nested value", key)
    return arr


def _load(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", path=path, line=exc.lineno) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", path=path) from None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise InputError("expected a JSON list of scanpath records (objects)", path=path)
    if not data:
        raise InputError("the scanpath list is empty", path=path)
    return data


def _recording_id(rec: dict[str, Any], image_id: str, target: str) -> str:
    parts = [image_id, target, f"s{rec.get('subject', 1)}"]
    cond = rec.get("condition")
    if cond not in (None, "present"):
        parts.append(str(cond))
    return re.sub(r"[^\w.\-]+", "-", "_".join(parts))


def read_scanpath_list(
    path: str | Path,
    *,
    frame_px: tuple[float, float] | None = None,
    duration_unit: str = "auto",
    corpus: str = "gazesearch",
) -> list[Recording]:
    """Read a GazeSearch/COCO-Search18-shaped JSON scanpath list.

    Parameters
    ----------
    path : path-like
        The JSON file.
    frame_px : (width, height), px, optional
        Frame of ``X``/``Y``; default :data:`GAZESEARCH_FRAME_PX` (224 × 224).
    duration_unit : {"auto", "s", "ms"}
        Unit of ``T`` (see the module docstring for ``auto``).
    corpus : str
        Value of the ``corpus`` column.

    Returns
    -------
    list of Recording
        One fixation-only recording per record, in file order.

    Raises
    ------
    InputError
        Invalid JSON, a record without ``name``/``task``/``X``/``Y``/``T``, lists of
        different lengths, a position outside the frame, a negative duration, or two
        records with the same (image, target, subject, condition).
    """
    path = Path(path)
    w, h = (float(v) for v in (frame_px or GAZESEARCH_FRAME_PX))
    if not (w > 0 and h > 0):
        raise InputError(f"frame must be positive, got {w:g} x {h:g}", column="frame")
    records = _load(path)
    all_t = np.concatenate(
        [np.asarray(r["T"], dtype=np.float64) for r in records if isinstance(r.get("T"), list)]
        or [np.zeros(0)]
    )
    to_ms = _duration_scale(all_t[np.isfinite(all_t)], duration_unit, path)
    geometry = Geometry(frame="image", image_w_px=w, image_h_px=h)
    out: list[Recording] = []
    seen: dict[str, int] = {}
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("recording_id", "onset_ms", "duration_ms", "x_px", "y_px")
    }
    empty = _empty_samples()
    unmapped: set[str] = set()
    for i, rec in enumerate(records):
        missing = [k for k in REQUIRED_KEYS if k not in rec]
        if missing:
            raise _record_error(path, i, f"lacks key(s) {missing}", missing[0])
        x, y, t = (_numbers(rec, k, path, i) for k in ("X", "Y", "T"))
        if not len(x) == len(y) == len(t):
            raise _record_error(path, i, f"X, Y, T differ in length ({len(x)}, {len(y)}, {len(t)})")
        if len(x) == 0:
            raise _record_error(path, i, "empty scanpath", "X")
        for key, v, lim in (("X", x, w), ("Y", y, h)):
            bad = (v < 0) | (v > lim)
            if bad.any():
                k = int(np.argmax(bad))
                raise _record_error(
                    path, i, f"fixation {k} at {key}={v[k]:g} lies outside the {w:g} x {h:g} "
                    "frame (pass the list's frame with --frame-px WxH)", key,
                )  # fmt: skip
        if (t < 0).any():
            raise _record_error(path, i, "negative fixation duration", "T")
        image_id = Path(str(rec["name"])).stem
        target = target_name(str(rec["task"]))
        if target not in GAZEINTENT_FINDINGS:
            unmapped.add(target)
        rid = _recording_id(rec, image_id, target)
        if rid in seen:
            raise _record_error(
                path, i, f"same image, target, subject and condition as record {seen[rid]}"
            )
        seen[rid] = i
        dur = t * to_ms
        onset = np.concatenate([[0.0], np.cumsum(dur)[:-1]])
        cols["recording_id"].append(np.full(len(x), rid, dtype=object))
        for key, v in (("onset_ms", onset), ("duration_ms", dur), ("x_px", x), ("y_px", y)):
            cols[key].append(v)
        extra = {k: v for k, v in rec.items() if k not in (*REQUIRED_KEYS, "subject", "split")}
        extra["source_task"] = str(rec["task"])
        extra["record_index"] = i
        extra["onsets"] = "cumulative durations (no timestamps in the source)"
        split = rec.get("split")
        out.append(Recording(
            recording_id=rid, samples=empty, geometry=geometry, corpus=corpus,
            source_file=str(path), source_format="gazesearch", sampling_rate_hz=None,
            image_id=image_id, reader_id=str(rec.get("subject", 1)), extra=extra, target=target,
            split=None if split is None else str(split), fixation_only=True,
        ))  # fmt: skip
    flat = {k: np.concatenate(v) for k, v in cols.items()}
    events = events_table({
        **flat, "event": "fixation", "source": "tracker", "method": "scanpath_list", "eye": None,
        "offset_ms": flat["onset_ms"] + flat["duration_ms"],
    })  # fmt: skip
    starts = np.concatenate([[0], np.cumsum([len(v) for v in cols["x_px"]])])
    for k, r in enumerate(out):  # one table built once, sliced per recording
        r.events = events.iloc[starts[k] : starts[k + 1]].reset_index(drop=True)
    if unmapped:
        log.info("targets with no finding of gazekit.vocab (kept as written): %s", sorted(unmapped))
    return out


def _empty_samples() -> Any:
    """The zero-row ``samples`` table every fixation-only recording carries."""
    from gazekit import schemas

    return schemas.get("samples").empty().to_pandas()


class ScanpathListReader:
    """Reader of GazeSearch / COCO-Search18-shaped JSON scanpath lists."""

    name = "gazesearch"

    def sniff(self, path: Path) -> bool:
        """A ``.json`` file that opens with a list of records holding scanpath keys."""
        if not (path.is_file() and path.suffix.lower() == ".json"):
            return False
        return bool(_SNIFF.match(head_text(path, 4096)))

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Parse ``path`` (options: ``frame_px``, ``duration_unit``, ``corpus``)."""
        known = {"frame_px", "duration_unit", "corpus"}
        opts = {k: v for k, v in options.items() if k in known and v is not None}
        return read_scanpath_list(path, **opts)


READERS.add("gazesearch", ScanpathListReader())
