"""From raw samples to the :class:`~gazekit.events.base.Signal` every detector reads.

:func:`prepare` runs, in order:

1. **Checks**: at least 3 samples, finite strictly increasing ``t_ms``, some gaze
   (:class:`~gazekit.errors.InputError` otherwise, naming the row and column).
2. **Blinks** from data loss and the pupil signal: a run of samples that are lost
   (``valid`` false or NaN gaze) or whose pupil has collapsed below
   ``pupil_collapse`` × the recording's median pupil is a blink when it lasts
   ``blink_min_ms``–``blink_max_ms`` (50–500 ms: shorter losses are tracker
   glitches, longer ones are the reader looking away), or when it is no longer than
   ``blink_max_ms`` and contains a pupil collapse. Blinks are widened by
   ``blink_pad_ms`` on each side, because the closing lid distorts the pupil image
   (an apparent downward gaze shift) just before and after the loss.
3. **Gap filling**: losses that are not blinks, last at most ``max_gap_ms`` and have
   valid samples on both sides are linearly interpolated (Tobii I-VT's "gap fill-in",
   75 ms). Blinks are never interpolated; longer losses stay NaN and split events.
4. **Degrees**: exact per-sample visual angle of :meth:`Geometry.to_degrees`
   (``atan(offset_mm / distance_mm)`` per axis, computed in one Numba pass), or, when
   the samples carry ``px_per_deg_x``/``px_per_deg_y`` (a zoomed or panned image),
   :func:`gazekit.geometry.scaled_degrees` with that per-sample scale.
5. **Velocity/acceleration** by Savitzky–Golay (``sg_window_ms``, ``sg_order``) on
   the true, possibly irregular, time base: where a window is complete, valid and
   regular (all intervals within 0.1 % of the median Δt, e.g. 1000 Hz integer clocks)
   the classic convolution is used; elsewhere (60 Hz jitter, dropped rows, gap and
   recording edges) the same polynomial is fitted by least squares on the true
   timestamps of the valid samples in the window. No resampling, so labels map 1:1
   onto the input rows.

Without screen geometry, degrees are impossible: :func:`prepare` raises
:class:`~gazekit.errors.GeometryError` asking for screen size and distance, unless
``degree_free=True``, in which case the ``*_deg`` arrays hold pixels and every
threshold of the detectors is read in px (px/s for velocities).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import GeometryError, InputError
from gazekit.events import _kernels
from gazekit.events.base import Signal
from gazekit.events.params import SignalParams
from gazekit.geometry import Geometry, scaled_degrees
from gazekit.rate import checked_rate
from gazekit.recording import Recording

log = logging.getLogger(__name__)

#: Preprocessing defaults (physical units), stored in the events metadata.
DEFAULTS: dict[str, Any] = {
    k: v for k, v in dataclasses.asdict(SignalParams()).items() if k != "sampling_rate_hz"
}

#: Recordings at least this long run the per-sample kernels (degrees, Savitzky–Golay)
#: multi-threaded; shorter ones stay serial (batches parallelise across recordings).
PARALLEL_MIN_SAMPLES = 200_000
#: Samples per block of the multi-threaded Savitzky–Golay kernel.
PARALLEL_BLOCK = 65_536


def _use_parallel(n: int) -> bool:
    """Multi-threaded kernels only for long recordings and only from the main thread.

    Worker threads (:func:`gazekit.events.detect_many`, ``gazekit events -j``) already
    parallelise across recordings, and Numba's ``workqueue`` threading layer must not
    be entered by several threads at once.
    """
    return n >= PARALLEL_MIN_SAMPLES and threading.current_thread() is threading.main_thread()


@lru_cache(maxsize=64)
def sg_coefficients(half: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Savitzky–Golay first- and second-derivative weights on a unit grid.

    Parameters
    ----------
    half : int
        Half window (samples); the window has ``2·half + 1`` samples.
    order : int
        Polynomial order (``1 ≤ order < 2·half + 1``).

    Returns
    -------
    cv, ca : (2·half + 1,) ndarray of float64
        ``Σ cv[k]·x[i-half+k]`` is dx/dt (per sample), ``Σ ca[k]·x[...]`` is d²x/dt²
        (zeros when ``order < 2``).
    """
    u = np.arange(-half, half + 1, dtype=np.float64)
    vander = np.vander(u, order + 1, increasing=True)
    pinv = np.linalg.pinv(vander)
    cv = np.ascontiguousarray(pinv[1])
    ca = np.ascontiguousarray(2.0 * pinv[2] if order >= 2 else np.zeros_like(u))
    cv.flags.writeable = False  # cached: shared between calls
    ca.flags.writeable = False
    return cv, ca


def window_samples(window_ms: float, dt_ms: float, order: int) -> int:
    """Half window (samples) for a window of ``window_ms``: odd, ≥ 3 and > ``order``."""
    w = round(window_ms / dt_ms)
    w = max(w, 3, order + 1)
    if w % 2 == 0:
        w += 1
    if window_ms < 3 * dt_ms:
        log.debug(
            "SG window %.1f ms is under 3 samples at Δt %.2f ms: using %d samples",
            window_ms,
            dt_ms,
            w,
        )
    return w // 2


def savgol_speed(
    t_ms: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    *,
    valid: np.ndarray | None = None,
    window_ms: float = 20.0,
    order: int = 2,
    dt_ms: float | None = None,
    acceleration: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Savitzky–Golay speed and acceleration magnitude on a possibly irregular time base.

    Parameters
    ----------
    t_ms : (n,) ndarray of float64, ms
        Strictly increasing sample times.
    x, y : (n,) ndarray of float64
        Positions (deg for deg/s, px for px/s); NaN where lost.
    valid : (n,) ndarray of bool, optional
        Samples allowed in the fits (default: finite ``x`` and ``y``).
    window_ms : float
        SG window (ms); rounded to an odd number of samples, at least 3.
    order : int
        Polynomial order (1: velocity only; 2 or 3: velocity and acceleration).
    dt_ms : float, optional
        Nominal period (default: median Δt).
    acceleration : bool
        Also estimate acceleration (else ``accel`` is None and the call is faster).

    Returns
    -------
    speed : (n,) ndarray of float64, units/s
    accel : (n,) ndarray of float64 or None
        units/s² (NaN where it cannot be estimated); None unless ``acceleration``.

    Examples
    --------
    >>> t = np.arange(50) * 4.0
    >>> speed, _ = savgol_speed(t, 0.01 * t, np.zeros(50))
    >>> bool(np.allclose(speed, 10.0))
    True
    """
    t = np.ascontiguousarray(t_ms, dtype=np.float64)
    xx = np.ascontiguousarray(x, dtype=np.float64)
    yy = np.ascontiguousarray(y, dtype=np.float64)
    if valid is None:
        ok = np.isfinite(xx) & np.isfinite(yy)
    else:
        ok = np.ascontiguousarray(valid, dtype=np.bool_) & np.isfinite(xx) & np.isfinite(yy)
    order = int(order)
    if order not in (1, 2, 3):
        raise InputError(f"sg_order must be 1, 2 or 3, got {order}")
    if dt_ms is None:
        dt_ms = _median_dt(t)
    half = window_samples(window_ms, dt_ms, order)
    cv, ca = sg_coefficients(half, order)
    speed = np.empty_like(t)
    accel = np.empty_like(t) if acceleration else np.empty(0)
    args = (t, xx, yy, ok, half, order, float(dt_ms), cv, ca, speed, accel, bool(acceleration))
    if _use_parallel(len(t)):
        _kernels.savgol_kinematics_parallel(*args, PARALLEL_BLOCK)
    else:
        _kernels.savgol_kinematics(*args)
    return speed, (accel if acceleration else None)


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a``.

    The signal's position arrays are always read-only, so every kernel is compiled for
    one array type (pandas' copy-on-write views are read-only, our own copies are not;
    mixing them would compile each kernel twice) and detectors cannot modify them.
    """
    v = a.view()
    v.flags.writeable = False
    return v


def _median_dt(t: np.ndarray) -> float:
    """Median sample interval (ms) over the first 20k intervals (cheap on long data)."""
    return float(np.median(np.diff(t[:20_001])))


def mask_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and inclusive end indices of the runs of True in ``mask``.

    Examples
    --------
    >>> mask_runs(np.array([0, 1, 1, 0, 1], bool))
    (array([1, 4]), array([2, 4]))
    """
    m = np.zeros(len(mask) + 2, dtype=np.int8)
    m[1:-1] = mask
    d = np.diff(m)
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1


def _columns(data: Recording | pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
    if isinstance(data, Recording):
        if data.fixation_only and not len(data.samples):
            raise InputError(
                f"recording {data.recording_id!r} is fixation-only (its source, e.g. a "
                "GazeSearch scanpath list, has no gaze samples): event detection needs samples; "
                "its fixations are already the tracker events (events.parquet, source='tracker')",
                path=data.source_file,
            )
        return data.samples, data.source_file
    if isinstance(data, pd.DataFrame):
        return data, None
    raise InputError(f"expected a Recording or a samples DataFrame, got {type(data).__name__}")


def check_time(t: np.ndarray, path: str | None = None) -> None:
    """Raise :class:`InputError` unless ``t`` is finite and strictly increasing."""
    bad = ~np.isfinite(t)
    if bad.any():
        i = int(np.argmax(bad))
        raise InputError(f"time is not finite at row {i} ({t[i]})", path=path, column="t_ms")
    dec = np.diff(t) <= 0
    if dec.any():
        i = int(np.argmax(dec)) + 1
        raise InputError(
            f"time must be strictly increasing: row {i} has t_ms={t[i]:g} after "
            f"{t[i - 1]:g} (sort the samples or drop duplicates)",
            path=path,
            column="t_ms",
        )


def degree_transform(geometry: Geometry) -> tuple[float, float, float, float, float]:
    """Coefficients ``(ax, bx, ay, by, distance_mm)`` with ``offset_mm = a + b·px``.

    :meth:`Geometry.mm_affine` plus the viewing distance, so ``atan2(a + b·x, distance)``
    is exactly :meth:`Geometry.to_degrees`'s angle.
    """
    geometry._require_degrees()
    return (*geometry.mm_affine(), float(geometry.viewing_distance_mm))  # type: ignore[arg-type]


def to_degrees(x: np.ndarray, y: np.ndarray, geometry: Geometry) -> tuple[np.ndarray, np.ndarray]:
    """Exact per-sample visual angle (deg) of ``Geometry.to_degrees``, in one Numba pass."""
    ax, bx, ay, by, dist = degree_transform(geometry)
    xd = np.empty(len(x))
    yd = np.empty(len(y))
    kernel = _kernels.affine_degrees_parallel if _use_parallel(len(x)) else _kernels.affine_degrees
    kernel(
        np.ascontiguousarray(x, np.float64),
        np.ascontiguousarray(y, np.float64),
        ax,
        bx,
        ay,
        by,
        dist,
        xd,
        yd,
    )
    return xd, yd


def detect_blinks(
    t: np.ndarray,
    lost: np.ndarray,
    pupil: np.ndarray | None,
    dt: float,
    *,
    blink_min_ms: float = 50.0,
    blink_max_ms: float = 500.0,
    blink_pad_ms: float = 25.0,
    pupil_collapse: float = 0.5,
) -> np.ndarray:
    """Blink mask from data loss and pupil collapse (see the module notes).

    Parameters
    ----------
    t : (n,) ndarray of float64, ms
    lost : (n,) ndarray of bool
        Samples without gaze.
    pupil : (n,) ndarray of float64 or None
        Pupil size (any unit); NaN where unknown.
    dt : float
        Nominal sample period (ms); a run of k samples lasts ``t[last] - t[first] + dt``.

    Returns
    -------
    blink : (n,) ndarray of bool
    """
    cand = lost
    collapsed = None
    if pupil is not None and pupil_collapse > 0:
        ok = np.isfinite(pupil) & ~lost
        step = max(1, len(pupil) // 100_000)  # median of ≤ 100k evenly spread samples
        some = pupil[::step][ok[::step]]
        if len(some):
            ref = float(np.median(some))
            collapsed = ok & (pupil < pupil_collapse * ref)
            if collapsed.any():
                cand = lost | collapsed
            else:
                collapsed = None
    starts, ends = mask_runs(cand)
    blink = np.zeros(len(t), dtype=bool)
    if len(starts) == 0:
        return blink
    dur = t[ends] - t[starts] + dt
    is_blink = (dur >= blink_min_ms) & (dur <= blink_max_ms)
    if collapsed is not None:
        cum = np.concatenate(([0], np.cumsum(collapsed)))
        has = (cum[ends + 1] - cum[starts]) > 0
        is_blink |= has & (dur <= blink_max_ms)
    lo = np.searchsorted(t, t[starts[is_blink]] - blink_pad_ms, side="left")
    hi = np.searchsorted(t, t[ends[is_blink]] + blink_pad_ms, side="right")
    for a, b in zip(lo, hi, strict=True):
        blink[a:b] = True
    return blink


def fill_gaps(
    t: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    lost: np.ndarray,
    blink: np.ndarray,
    dt: float,
    max_gap_ms: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linearly interpolate losses of at most ``max_gap_ms`` that are not blinks.

    Returns ``(x, y, filled)``; ``x``/``y`` are copies only when something was filled.
    """
    starts, ends = mask_runs(lost & ~blink)
    filled = np.zeros(len(t), dtype=bool)
    if len(starts) == 0 or max_gap_ms <= 0:
        return x, y, filled
    inner = (starts > 0) & (ends < len(t) - 1)
    starts, ends = starts[inner], ends[inner]
    dur = t[ends] - t[starts] + dt
    ok = dur <= max_gap_ms
    # never across a blink: both neighbours must be clean samples
    ok &= ~lost[starts - 1] & ~lost[ends + 1] & ~blink[starts - 1] & ~blink[ends + 1]
    starts, ends = starts[ok], ends[ok]
    if len(starts) == 0:
        return x, y, filled
    x = np.array(x, dtype=np.float64, copy=True)
    y = np.array(y, dtype=np.float64, copy=True)
    for a, b in zip(starts, ends, strict=True):
        t0, t1 = t[a - 1], t[b + 1]
        f = (t[a : b + 1] - t0) / (t1 - t0)
        x[a : b + 1] = x[a - 1] + f * (x[b + 1] - x[a - 1])
        y[a : b + 1] = y[a - 1] + f * (y[b + 1] - y[a - 1])
        filled[a : b + 1] = True
    return x, y, filled


def prepare(
    data: Recording | pd.DataFrame,
    geometry: Geometry | None = None,
    *,
    sampling_rate_hz: float | None = None,
    sg_window_ms: float = DEFAULTS["sg_window_ms"],
    sg_order: int = DEFAULTS["sg_order"],
    max_gap_ms: float = DEFAULTS["max_gap_ms"],
    blink_min_ms: float = DEFAULTS["blink_min_ms"],
    blink_max_ms: float = DEFAULTS["blink_max_ms"],
    blink_pad_ms: float = DEFAULTS["blink_pad_ms"],
    pupil_collapse: float = DEFAULTS["pupil_collapse"],
    degree_free: bool = DEFAULTS["degree_free"],
    acceleration: bool = False,
) -> Signal:
    """Turn a recording's samples into the :class:`Signal` the detectors read.

    Parameters
    ----------
    data : Recording or pandas.DataFrame
        A recording, or a ``samples`` table (then pass ``geometry``).
    geometry : Geometry, optional
        Overrides the recording's geometry.
    sampling_rate_hz : float, optional
        Nominal rate; default the recording's, else 1000 / median Δt. A declared rate
        the timestamps contradict is replaced by the measured one, with a warning
        (:func:`gazekit.io.base.checked_rate`).
    sg_window_ms : float
        Savitzky–Golay window (ms; ≥ 3 samples, odd).
    sg_order : int
        SG polynomial order (1–3; cubic over 20 ms keeps 0.92 of a 40 Hz PSO, see
        :mod:`gazekit.events.adaptive`).
    max_gap_ms : float
        Longest non-blink loss that is interpolated (ms).
    blink_min_ms, blink_max_ms : float
        Duration range of a loss that is a blink (ms).
    blink_pad_ms : float
        Blink widening on each side (ms), for the lid artefact around the loss.
    pupil_collapse : float
        Pupil below this fraction of the median marks a closing lid (0 disables).
    degree_free : bool
        Work in pixels when the geometry lacks screen size/distance.
    acceleration : bool
        Estimate acceleration (default ``False`` leaves ``accel_deg_s2`` None: no
        detector reads it, and the array would cost memory).

    Returns
    -------
    Signal

    Raises
    ------
    InputError
        Too few samples, non-finite or non-increasing time, no gaze at all.
    GeometryError
        Degrees needed but the screen geometry is incomplete.
    """
    SignalParams(
        sg_window_ms=sg_window_ms, sg_order=sg_order, max_gap_ms=max_gap_ms,
        blink_min_ms=blink_min_ms, blink_max_ms=blink_max_ms, blink_pad_ms=blink_pad_ms,
        pupil_collapse=pupil_collapse, degree_free=degree_free, sampling_rate_hz=sampling_rate_hz,
    )  # fmt: skip
    df, path = _columns(data)
    for col in ("t_ms", "x_px", "y_px"):
        if col not in df.columns:
            raise InputError(f"samples table has no {col!r} column", path=path, column=col)
    n = len(df)
    if n < 3:
        raise InputError(f"too few samples for event detection: {n} (need at least 3)", path=path)
    t = np.ascontiguousarray(df["t_ms"].to_numpy(dtype=np.float64))
    check_time(t, path)
    x = np.ascontiguousarray(df["x_px"].to_numpy(dtype=np.float64, na_value=np.nan))
    y = np.ascontiguousarray(df["y_px"].to_numpy(dtype=np.float64, na_value=np.nan))
    lost = ~(np.isfinite(x) & np.isfinite(y))
    if "valid" in df.columns:
        lost |= ~df["valid"].to_numpy(dtype=bool, na_value=False)
    if lost.all():
        raise InputError("no valid gaze sample (all NaN or invalid)", path=path, column="x_px")
    pupil = None
    if "pupil" in df.columns:
        pupil = df["pupil"].to_numpy(dtype=np.float64, na_value=np.nan)
    geom = geometry if geometry is not None else getattr(data, "geometry", None)
    rate = checked_rate(t, sampling_rate_hz or getattr(data, "sampling_rate_hz", None), source=path)
    dt = 1000.0 / rate if rate else math.nan
    if dt <= 0 or not math.isfinite(dt):
        raise InputError(f"cannot infer the sampling period (median Δt {dt})", path=path)
    blink = detect_blinks(
        t,
        lost,
        pupil,
        dt,
        blink_min_ms=blink_min_ms,
        blink_max_ms=blink_max_ms,
        blink_pad_ms=blink_pad_ms,
        pupil_collapse=pupil_collapse,
    )
    x, y, filled = fill_gaps(t, x, y, lost, blink, dt, max_gap_ms)
    t, x, y = _readonly(t), _readonly(x), _readonly(y)
    valid = ~lost
    valid |= filled
    valid &= ~blink
    # a per-sample scale gives degrees, unless the caller asked to work in pixels
    scaled = not degree_free and "px_per_deg_x" in df.columns and "px_per_deg_y" in df.columns
    if scaled:
        ppx = df["px_per_deg_x"].to_numpy(dtype=np.float64, na_value=np.nan)
        ppy = df["px_per_deg_y"].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~((ppx > 0) & (ppy > 0)) & ~lost
        if bad.any():
            i = int(np.argmax(bad))
            raise InputError(
                f"px_per_deg_x/px_per_deg_y must be > 0 where gaze is valid; row {i} has "
                f"{ppx[i]:g}/{ppy[i]:g}",
                path=path,
                column="px_per_deg_x",
            )
        xd, yd = scaled_degrees(x, y, ppx, ppy)
        xd, yd = _readonly(xd), _readonly(yd)
    elif degree_free:
        xd, yd = x, y
    else:
        if geom is None or not geom.has_degrees:
            try:
                (geom or Geometry())._require_degrees()
            except GeometryError as exc:
                raise GeometryError(
                    f"{exc} For event detection in pixels instead, pass degree_free=True "
                    "(thresholds are then read in px and px/s)."
                ) from None
        xd, yd = to_degrees(x, y, geom)  # type: ignore[arg-type]
        xd, yd = _readonly(xd), _readonly(yd)
    speed, accel = savgol_speed(
        t,
        xd,
        yd,
        valid=valid,
        window_ms=sg_window_ms,
        order=sg_order,
        dt_ms=dt,
        acceleration=acceleration,
    )
    params = {
        "sg_window_ms": float(sg_window_ms),
        "sg_order": int(sg_order),
        "max_gap_ms": float(max_gap_ms),
        "blink_min_ms": float(blink_min_ms),
        "blink_max_ms": float(blink_max_ms),
        "blink_pad_ms": float(blink_pad_ms),
        "pupil_collapse": float(pupil_collapse),
        "degree_free": bool(degree_free),
        "sampling_rate_hz": float(rate),
    }
    if scaled:
        params["per_sample_scale"] = True
    log.debug(
        "prepared %d samples at %.1f Hz: %d blink, %d interpolated samples",
        n,
        rate,
        int(blink.sum()),
        int(filled.sum()),
    )
    return Signal(
        t_ms=t,
        x_px=x,
        y_px=y,
        x_deg=xd,
        y_deg=yd,
        valid=valid,
        blink=blink,
        interpolated=_readonly(filled),
        speed_deg_s=speed,
        accel_deg_s2=accel,
        sampling_rate_hz=float(rate),
        params=params,
        geometry=None if (degree_free and not scaled) else geom,
    )
