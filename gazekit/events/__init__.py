"""Event detection: fixations, saccades, PSO and blinks from gaze samples.

Examples
--------
>>> from gazekit.synthetic import simulate_session
>>> from gazekit.events import detect
>>> rec = simulate_session(seed=1, tracker="eyelink", image_size=256).recording
>>> ev = detect(rec, method="ivt")
>>> sorted(set(ev["event"]))
['blink', 'fixation', 'saccade']
>>> ev.attrs["gazekit_events"]["method"]
'ivt'

Pipeline: :func:`resolve` checks and types the parameters (:mod:`gazekit.events.params`)
→ :func:`~gazekit.events.signal.prepare` (degrees, gaps, blinks, Savitzky–Golay
velocity) → a registered detector (:data:`DETECTORS`: ``ivt``, ``idt``, ``adaptive``)
returns one code per sample → :func:`events_from_labels` turns the codes into the
``events`` table.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError
from gazekit.events import _kernels, adaptive, idt, ivt  # noqa: F401  (register the detectors)
from gazekit.events.adaptive import AdaptiveParams
from gazekit.events.base import (
    BLINK,
    CODE_NAMES,
    DETECTORS,
    FIXATION,
    PSO,
    PURSUIT,
    SACCADE,
    UNDEFINED,
    DetectorSpec,
    Signal,
)
from gazekit.events.idt import IDTParams
from gazekit.events.ivt import IVTParams
from gazekit.events.params import (
    EventParams,
    PostParams,
    SignalParams,
    accepted_names,
    resolve,
    validate_stage_params,
)
from gazekit.events.postprocess import nominal_dt, postprocess, split_gap
from gazekit.events.signal import DEFAULTS as SIGNAL_DEFAULTS
from gazekit.events.signal import prepare, savgol_speed
from gazekit.geometry import Geometry
from gazekit.recording import Recording

log = logging.getLogger(__name__)

__all__ = [
    "BLINK",
    "CODE_NAMES",
    "DETECTORS",
    "FIXATION",
    "PSO",
    "PURSUIT",
    "SACCADE",
    "SIGNAL_DEFAULTS",
    "UNDEFINED",
    "AdaptiveParams",
    "DetectorSpec",
    "EventParams",
    "IDTParams",
    "IVTParams",
    "PostParams",
    "Signal",
    "SignalParams",
    "accepted_names",
    "detect",
    "detect_many",
    "detector_parameters",
    "event_arrays",
    "events_from_labels",
    "events_table",
    "label_samples",
    "postprocess",
    "prepare",
    "resolve",
    "savgol_speed",
    "validate_stage_params",
]

#: Key of the metadata dict in ``DataFrame.attrs`` and in ``events.parquet`` metadata.
ATTRS_KEY = "gazekit_events"


def detector_parameters(method: str, **params: Any) -> dict[str, Any]:
    """The full, validated parameter set of ``method`` (defaults updated by ``params``).

    Parameters
    ----------
    method : str
        A registered detector (``ivt``, ``idt``, ``adaptive``).
    **params
        Any field of :class:`SignalParams`, :class:`PostParams` or the detector's
        parameter class, in the units their names carry (``min_fixation_ms``, ...).

    Returns
    -------
    dict
        Flat ``{name: value}``, as stored in the events metadata.

    Raises
    ------
    GazekitError
        Unknown method or parameter (the message lists the accepted ones), bad value.
    """
    return resolve(method, **params).as_dict()


def _signal_of(
    recording: Recording | pd.DataFrame | Signal, geometry: Geometry | None, p: EventParams
) -> Signal:
    if isinstance(recording, Signal):
        return recording
    return prepare(recording, geometry, **dataclasses.asdict(p.signal))


def _codes(sig: Signal, p: EventParams) -> np.ndarray:
    spec = DETECTORS.get(p.method)
    return np.asarray(spec.label(sig, p.detector, p.post), dtype=np.int8)


def label_samples(
    recording: Recording | pd.DataFrame | Signal,
    method: str = "ivt",
    *,
    geometry: Geometry | None = None,
    **params: Any,
) -> np.ndarray:
    """Per-sample event codes (:data:`CODE_NAMES` indices) of ``recording`` by ``method``.

    Parameters
    ----------
    recording : Recording, pandas.DataFrame or Signal
    method : str
    geometry : Geometry, optional
    **params
        As for :func:`detect`.

    Returns
    -------
    codes : (n,) ndarray of int8
        One code per input row (no resampling).
    """
    p = resolve(method, **params)
    return _codes(_signal_of(recording, geometry, p), p)


def event_arrays(signal: Signal, codes: np.ndarray) -> dict[str, np.ndarray]:
    """Events of one recording as plain arrays (``code`` plus the numeric columns).

    The NumPy half of :func:`events_from_labels`; batches build one table at the end
    (:func:`events_table`).

    Parameters
    ----------
    signal : Signal
        The prepared signal (:func:`prepare`) the codes were computed on.
    codes : (n,) array_like of int8
        One :data:`CODE_NAMES` index per sample of ``signal``.

    Returns
    -------
    dict of str -> (E,) ndarray
        ``code`` (int8) and, as float64, ``onset_ms``, ``offset_ms``, ``duration_ms`` (ms);
        ``x_px``, ``y_px``, ``start_x_px``, ``start_y_px``, ``end_x_px``, ``end_y_px``,
        ``dispersion_px``, ``amplitude_px`` (px); ``dispersion_deg``, ``amplitude_deg``
        (deg) and ``peak_velocity_deg_s``, ``mean_velocity_deg_s`` (deg/s), NaN without a
        geometry (degree-free mode).

    Raises
    ------
    InputError
        ``codes`` does not have one entry per sample.
    """
    codes = np.ascontiguousarray(codes, dtype=np.int8)
    if codes.shape != signal.t_ms.shape:
        raise InputError(f"{len(codes)} codes for {len(signal)} samples")
    dt = nominal_dt(signal)
    gap = split_gap(signal)
    starts, ends, kinds = _kernels.label_runs(codes, signal.t_ms, gap)
    props = _kernels.event_properties(
        starts,
        ends,
        signal.t_ms,
        signal.x_px,
        signal.y_px,
        signal.x_deg,
        signal.y_deg,
        signal.speed_deg_s,
        signal.valid,
        dt,
        gap,
    )
    cols = dict(zip(_kernels.PROPERTY_COLUMNS, props.T, strict=True))
    sx, sy, ex, ey = cols["start_x_px"], cols["start_y_px"], cols["end_x_px"], cols["end_y_px"]
    nan = np.full(len(starts), np.nan)
    geom = signal.geometry
    if signal.params.get("per_sample_scale"):
        amp_deg = np.hypot(
            cols["end_x_deg"] - cols["start_x_deg"], cols["end_y_deg"] - cols["start_y_deg"]
        )
    elif geom is not None:
        amp_deg = geom.angular_distance(sx, sy, ex, ey)
    else:
        amp_deg = nan
    return {
        "code": kinds,
        "onset_ms": cols["onset_ms"],
        "offset_ms": cols["offset_ms"],
        "duration_ms": cols["offset_ms"] - cols["onset_ms"],
        "x_px": cols["x_px"],
        "y_px": cols["y_px"],
        "start_x_px": sx,
        "start_y_px": sy,
        "end_x_px": ex,
        "end_y_px": ey,
        "dispersion_px": cols["dispersion_px"],
        "dispersion_deg": cols["dispersion_deg"] if geom is not None else nan,
        "amplitude_px": np.hypot(ex - sx, ey - sy),
        "amplitude_deg": amp_deg,
        "peak_velocity_deg_s": cols["peak_velocity_deg_s"] if geom is not None else nan,
        "mean_velocity_deg_s": cols["mean_velocity_deg_s"] if geom is not None else nan,
    }


def events_table(
    parts: Sequence[tuple[str, dict[str, np.ndarray]]], method: str, eye: str | None = "both"
) -> pd.DataFrame:
    """One ``events`` DataFrame from ``(recording_id, event_arrays)`` pairs, in order.

    Parameters
    ----------
    parts : sequence of (str, dict of str -> ndarray)
        Recording id and the output of :func:`event_arrays` for that recording.
    method : str
        Detector name, written to the ``method`` column.
    eye : str or None
        Written to the ``eye`` column (``"both"`` by default).

    Returns
    -------
    pandas.DataFrame
        ``events`` schema columns with ``source="detected"``; the numeric columns in the
        units of :func:`event_arrays`. Empty (with all columns) when ``parts`` is empty.
    """
    counts = [len(arr["code"]) for _, arr in parts]
    total = int(sum(counts))
    ids = np.repeat(np.array([rid for rid, _ in parts] or [""], dtype=object), counts or [0])
    kinds = np.concatenate([arr["code"] for _, arr in parts]) if parts else np.zeros(0, np.int8)
    cols: dict[str, Any] = {
        "recording_id": pd.Series(ids, dtype="string"),
        "event": pd.Series(np.asarray(CODE_NAMES, dtype=object)[kinds], dtype="string"),
        "source": pd.Series(np.full(total, "detected", dtype=object), dtype="string"),
        "method": pd.Series(np.full(total, method, dtype=object), dtype="string"),
        "eye": pd.Series(np.full(total, eye, dtype=object), dtype="string"),
    }
    for name in _NUMERIC:
        cols[name] = (
            np.concatenate([arr[name] for _, arr in parts]) if parts else np.zeros(0, np.float64)
        )
    return pd.DataFrame(cols)


_NUMERIC = (
    "onset_ms",
    "offset_ms",
    "duration_ms",
    "x_px",
    "y_px",
    "start_x_px",
    "start_y_px",
    "end_x_px",
    "end_y_px",
    "dispersion_px",
    "dispersion_deg",
    "amplitude_px",
    "amplitude_deg",
    "peak_velocity_deg_s",
    "mean_velocity_deg_s",
)


def events_from_labels(
    signal: Signal,
    codes: np.ndarray,
    method: str,
    *,
    recording_id: str = "",
    eye: str | None = "both",
) -> pd.DataFrame:
    """Build the ``events`` table from per-sample codes.

    An event is a run of equal codes (undefined samples are no event), split where
    consecutive samples are more than the gap limit apart. ``offset_ms`` is the next
    sample's time when it follows without a gap, else the last sample's time plus one
    period, so ``duration_ms`` counts whole sample periods and ``onset < offset``.
    Positions, dispersion and velocities are over the event's valid samples; degree
    properties are NaN in degree-free mode.

    Parameters
    ----------
    signal : Signal
        The prepared signal (:func:`prepare`).
    codes : (n,) array_like of int8
        One :data:`CODE_NAMES` index per sample.
    method : str
        Detector name, written to the ``method`` column.
    recording_id : str
        Written to the ``recording_id`` column.
    eye : str or None
        Written to the ``eye`` column.

    Returns
    -------
    pandas.DataFrame
        ``events`` schema columns, ``source="detected"``, ``method=method``; sorted by
        onset and non-overlapping.

    Raises
    ------
    InputError
        ``codes`` does not have one entry per sample.
    """
    return events_table([(recording_id, event_arrays(signal, codes))], method, eye)


def _recording_id(recording: Recording | pd.DataFrame) -> str:
    return recording.recording_id if isinstance(recording, Recording) else ""


def _detect_arrays(
    recording: Recording | pd.DataFrame, geometry: Geometry | None, p: EventParams
) -> tuple[dict[str, np.ndarray], Signal]:
    sig = _signal_of(recording, geometry, p)
    return event_arrays(sig, _codes(sig, p)), sig


def detect(
    recording: Recording | pd.DataFrame,
    method: str = "ivt",
    *,
    geometry: Geometry | None = None,
    recording_id: str | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Detect oculomotor events in one recording.

    Parameters
    ----------
    recording : Recording or pandas.DataFrame
        A recording, or a ``samples`` table (then pass ``geometry``, or
        ``degree_free=True``).
    method : str
        A registered detector: ``ivt``, ``idt`` (and ``adaptive`` when installed).
    geometry : Geometry, optional
        Overrides the recording's geometry.
    recording_id : str, optional
        Overrides the recording's id in the output.
    **params
        Any field of :class:`SignalParams` (``sg_window_ms``, ``max_gap_ms``,
        ``degree_free``, ...), :class:`PostParams` (``min_fixation_ms``, ...) or the
        method's own class (:class:`IVTParams`, :class:`IDTParams`,
        :class:`AdaptiveParams`), in the units their names carry; checked by
        :func:`resolve` before any work.

    Returns
    -------
    pandas.DataFrame
        ``events`` schema rows (``source="detected"``, ``method=method``).
        ``df.attrs["gazekit_events"]`` holds ``{"method", "parameters"}`` (every
        parameter used, defaults included), as stored in ``events.parquet`` metadata.

    Raises
    ------
    GazekitError
        Unknown method or parameter, or a bad parameter value.
    InputError
        Too few samples, all-NaN gaze, non-finite or non-increasing time.
    GeometryError
        No screen geometry and not ``degree_free``.
    """
    p = resolve(method, **params)
    full = p.as_dict()
    arrays, sig = _detect_arrays(recording, geometry, p)
    rid = recording_id if recording_id is not None else _recording_id(recording)
    df = events_table([(rid, arrays)], method)
    full["sampling_rate_hz"] = sig.params["sampling_rate_hz"]
    df.attrs[ATTRS_KEY] = {"method": method, "parameters": full}
    return df


def detect_many(
    recordings: Iterable[Recording],
    method: str = "ivt",
    *,
    jobs: int | None = None,
    **params: Any,
) -> pd.DataFrame:
    """Detect events in many recordings, in parallel across recordings.

    The kernels release the GIL (``nogil``), so a thread pool of ``jobs`` workers
    (default: the CPU count) runs recordings concurrently without copying samples;
    the events table is built once for the whole batch.

    Parameters
    ----------
    recordings : iterable of Recording
        Each with its own geometry (or pass ``degree_free=True``).
    method : str
        A registered detector: ``ivt``, ``idt`` (and ``adaptive`` when installed).
    jobs : int, optional
        Worker threads; 1 runs serially.
    **params
        As for :func:`detect`; checked once before any work.

    Returns
    -------
    pandas.DataFrame
        All recordings' events, in input order; ``attrs`` as for :func:`detect`
        (without ``sampling_rate_hz``, which may differ between recordings).

    Raises
    ------
    GazekitError
        Unknown method or parameter, or a bad parameter value.
    InputError
        A recording has too few samples, all-NaN gaze or a bad time column.
    GeometryError
        A recording has no screen geometry and ``degree_free`` is not set.
    """
    recs: Sequence[Recording] = list(recordings)
    p = resolve(method, **params)
    full = p.as_dict()
    jobs = jobs or os.cpu_count() or 1

    def one(rec: Recording) -> tuple[str, dict[str, np.ndarray]]:
        return rec.recording_id, _detect_arrays(rec, None, p)[0]

    if jobs <= 1 or len(recs) <= 1:
        parts = [one(r) for r in recs]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(one, recs))
    out = events_table(parts, method)
    out.attrs[ATTRS_KEY] = {"method": method, "parameters": full}
    return out
