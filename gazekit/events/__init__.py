"""Event detection: fixations, saccades, PSO and blinks from gaze samples.

>>> from gazekit.synthetic import simulate_session
>>> from gazekit.events import detect
>>> rec = simulate_session(seed=1, tracker="eyelink", image_size=256).recording
>>> ev = detect(rec, method="ivt")
>>> sorted(set(ev["event"]))
['blink', 'fixation', 'saccade']
>>> ev.attrs["gazekit_events"]["method"]
'ivt'

Pipeline: :func:`~gazekit.events.signal.prepare` (degrees, gaps, blinks,
Savitzky–Golay velocity) → a registered detector (:data:`DETECTORS`: ``ivt``,
``idt``, and ``adaptive`` when installed) returns one code per sample →
:func:`events_from_labels` turns the codes into the ``events`` table.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import GazekitError, InputError
from gazekit.events import _kernels, idt, ivt  # noqa: F401  (register the detectors)
from gazekit.events.base import (
    BLINK,
    CODE_NAMES,
    DETECTORS,
    FIXATION,
    PSO,
    SACCADE,
    UNDEFINED,
    Signal,
)
from gazekit.events.postprocess import nominal_dt, postprocess, split_gap
from gazekit.events.signal import DEFAULTS as SIGNAL_DEFAULTS
from gazekit.events.signal import prepare, savgol_speed
from gazekit.geometry import Geometry
from gazekit.recording import Recording

try:  # the adaptive detector is optional (another module registers "adaptive")
    import gazekit.events.adaptive  # noqa: F401
except ImportError:  # pragma: no cover - depends on the installation
    pass

log = logging.getLogger(__name__)

__all__ = [
    "BLINK",
    "CODE_NAMES",
    "DETECTORS",
    "FIXATION",
    "PSO",
    "SACCADE",
    "UNDEFINED",
    "Signal",
    "detect",
    "detect_many",
    "detector_parameters",
    "event_arrays",
    "events_from_labels",
    "events_table",
    "label_samples",
    "postprocess",
    "prepare",
    "savgol_speed",
]

#: Key of the metadata dict in ``DataFrame.attrs`` and in ``events.parquet`` metadata.
ATTRS_KEY = "gazekit_events"

_PREP_KEYS = (*SIGNAL_DEFAULTS, "sampling_rate_hz")


def detector_parameters(method: str, **params: Any) -> dict[str, Any]:
    """The full parameter set of ``method`` (defaults updated by ``params``).

    Raises
    ------
    GazekitError
        Unknown method or parameter (the message lists the accepted ones).
    """
    func = DETECTORS.get(method)
    sig = inspect.signature(func)
    accepted = {
        k: p.default for k, p in sig.parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
    }
    unknown = sorted(set(params) - set(accepted) - set(_PREP_KEYS))
    if unknown:
        raise GazekitError(
            f"unknown parameter(s) {unknown} for method {method!r}; accepted: "
            f"{sorted(accepted) + sorted(SIGNAL_DEFAULTS)}"
        )
    out = {**SIGNAL_DEFAULTS, **accepted}
    out.update(params)
    for name, value in params.items():
        check_parameter(name, value)
    return out


#: Longest time parameter accepted (ms). Fixations last up to a few seconds, blinks
#: under 0.5 s, and smoothing or gap-filling windows are tens of ms (Holmqvist et al.
#: 2011, *Eye Tracking*, ch. 5); a window of 10 s or more cannot be meant.
MAX_TIME_PARAM_MS = 10_000.0
#: Longest Savitzky–Golay window (ms): saccades last 20–100 ms, so a window over 200 ms
#: smooths every saccade away (Nyström & Holmqvist 2010 use 20 ms).
MAX_SG_WINDOW_MS = 200.0
#: Parameters that must be strictly positive (a zero threshold or window is meaningless).
_STRICTLY_POSITIVE = frozenset({"velocity_threshold", "dispersion", "window_ms", "sg_window_ms",
                                "pt_start"})  # fmt: skip


def check_parameter(name: str, value: Any) -> None:
    """Refuse an impossible detector/signal parameter value (NaN, inf, negative, absurd).

    Parameters
    ----------
    name : str
        Parameter name (units in the suffix: ``_ms``, ``_deg``).
    value : Any
        The value given.

    Raises
    ------
    GazekitError
        NaN or infinite, negative, zero where a positive value is needed, or a time
        over :data:`MAX_TIME_PARAM_MS` (:data:`MAX_SG_WINDOW_MS` for ``sg_window_ms``).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return
    v = float(value)
    if not np.isfinite(v):
        raise GazekitError(f"parameter {name} must be a finite number, got {value!r}")
    if v < 0 or (v == 0 and name in _STRICTLY_POSITIVE):
        need = "positive" if name in _STRICTLY_POSITIVE else "zero or more"
        raise GazekitError(f"parameter {name} must be {need}, got {v:g}")
    limit = MAX_SG_WINDOW_MS if name == "sg_window_ms" else MAX_TIME_PARAM_MS
    if name.endswith("_ms") and v > limit:
        raise GazekitError(f"parameter {name} = {v:g} ms is implausible (at most {limit:g} ms)")


def uses_acceleration(detector: Any) -> bool:
    """Whether ``detector`` reads ``Signal.accel_deg_s2``.

    A detector that does not sets the attribute ``uses_acceleration = False`` (I-VT,
    I-DT); the acceleration estimate is then skipped. Default: it does.
    """
    return bool(getattr(detector, "uses_acceleration", True))


def _split(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    prep = {k: v for k, v in params.items() if k in _PREP_KEYS}
    det = {k: v for k, v in params.items() if k not in _PREP_KEYS}
    return prep, det


def label_samples(
    recording: Recording | pd.DataFrame | Signal,
    method: str = "ivt",
    *,
    geometry: Geometry | None = None,
    **params: Any,
) -> np.ndarray:
    """Per-sample event codes (:data:`CODE_NAMES` indices) of ``recording`` by ``method``.

    Returns
    -------
    codes : (n,) ndarray of int8
        One code per input row (no resampling).
    """
    detector_parameters(method, **params)
    prep, det = _split(params)
    func = DETECTORS.get(method)
    if isinstance(recording, Signal):
        sig = recording
    else:
        sig = prepare(recording, geometry, acceleration=uses_acceleration(func), **prep)
    return np.asarray(func(sig, **det), dtype=np.int8)


def event_arrays(signal: Signal, codes: np.ndarray) -> dict[str, np.ndarray]:
    """Events of one recording as plain arrays (``code`` plus the numeric columns).

    The NumPy half of :func:`events_from_labels`; batches build one table at the end.
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
        "amplitude_deg": geom.angular_distance(sx, sy, ex, ey) if geom is not None else nan,
        "peak_velocity_deg_s": cols["peak_velocity_deg_s"] if geom is not None else nan,
        "mean_velocity_deg_s": cols["mean_velocity_deg_s"] if geom is not None else nan,
    }


def events_table(
    parts: Sequence[tuple[str, dict[str, np.ndarray]]], method: str, eye: str | None = "both"
) -> pd.DataFrame:
    """One ``events`` DataFrame from ``(recording_id, event_arrays)`` pairs, in order."""
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

    Returns
    -------
    pandas.DataFrame
        ``events`` schema columns, ``source="detected"``, ``method=method``; sorted by
        onset and non-overlapping.
    """
    return events_table([(recording_id, event_arrays(signal, codes))], method, eye)


def _recording_id(recording: Recording | pd.DataFrame) -> str:
    return recording.recording_id if isinstance(recording, Recording) else ""


def _detect_arrays(
    recording: Recording | pd.DataFrame,
    method: str,
    geometry: Geometry | None,
    params: dict[str, Any],
) -> tuple[dict[str, np.ndarray], Signal]:
    prep, det = _split(params)
    func = DETECTORS.get(method)
    sig = prepare(recording, geometry, acceleration=uses_acceleration(func), **prep)
    codes = np.asarray(func(sig, **det), dtype=np.int8)
    return event_arrays(sig, codes), sig


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
        Preprocessing parameters of :func:`~gazekit.events.signal.prepare`
        (``sg_window_ms``, ``max_gap_ms``, ``degree_free``, ...) and the detector's
        own (e.g. ``velocity_threshold`` for I-VT), in physical units.

    Returns
    -------
    pandas.DataFrame
        ``events`` schema rows (``source="detected"``, ``method=method``).
        ``df.attrs["gazekit_events"]`` holds ``{"method", "parameters"}`` (every
        parameter used, defaults included), as stored in ``events.parquet`` metadata.

    Raises
    ------
    InputError
        Too few samples, all-NaN gaze, non-finite or non-increasing time.
    GeometryError
        No screen geometry and not ``degree_free``.
    """
    full = detector_parameters(method, **params)
    arrays, sig = _detect_arrays(recording, method, geometry, params)
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

    Returns
    -------
    pandas.DataFrame
        All recordings' events, in input order; ``attrs`` as for :func:`detect`
        (without ``sampling_rate_hz``, which may differ between recordings).
    """
    recs: Sequence[Recording] = list(recordings)
    full = detector_parameters(method, **params)
    jobs = jobs or os.cpu_count() or 1

    def one(rec: Recording) -> tuple[str, dict[str, np.ndarray]]:
        return rec.recording_id, _detect_arrays(rec, method, None, params)[0]

    if jobs <= 1 or len(recs) <= 1:
        parts = [one(r) for r in recs]
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            parts = list(pool.map(one, recs))
    out = events_table(parts, method)
    out.attrs[ATTRS_KEY] = {"method": method, "parameters": full}
    return out
