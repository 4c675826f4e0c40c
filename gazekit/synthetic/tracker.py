"""Tracker models: what a 60 Hz Gazepoint-like or 1000 Hz EyeLink-like tracker records.

A tracker samples the true 1 kHz eye trace (:class:`~gazekit.synthetic.oculomotor.EyeTrace`)
at its own clock, adds a per-session accuracy offset and per-sample noise, loses
data during blinks (with margins, as pupil occlusion starts before and ends after
the lid movement) and in random loss bursts (head movement, reflections), and at
60 Hz also jitters timestamps and drops samples. It reports its own events
(EyeLink: fixations, saccades including the PSO, blinks; Gazepoint: fixations
including the PSO).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazekit import schemas
from gazekit.geometry import Geometry
from gazekit.synthetic.oculomotor import BLINK, LABELS, EyeTrace


@dataclass(frozen=True)
class TrackerProfile:
    """Noise, loss and timing of one tracker model.

    Attributes
    ----------
    name : str
    rate_hz : float
        Nominal sampling rate.
    noise_deg : float
        RMS per-axis white noise (precision).
    offset_deg : float
        Typical magnitude of the session's systematic accuracy error.
    jitter_ms : float
        SD of timestamp jitter around the nominal grid.
    integer_ms : bool
        Timestamps are whole milliseconds (EyeLink).
    drop_prob : float
        Probability that a sample row is missing from the file.
    loss_per_min : float
        Rate of random loss bursts.
    loss_median_ms : float
        Median loss-burst duration (lognormal).
    blink_pre_ms, blink_post_ms : float
        Loss before/after each blink.
    pupil_mean, pupil_sd : float
        Pupil size in the tracker's units (Gazepoint: diameter mm, as EGD-CXR's LPMM/RPMM;
        EyeLink: area).
    blink_artefact_ms, blink_artefact_deg : float
        Duration and size of the apparent downward gaze shift next to each blink's loss.
    """

    name: str
    rate_hz: float
    noise_deg: float
    offset_deg: float
    jitter_ms: float
    integer_ms: bool
    drop_prob: float
    loss_per_min: float
    loss_median_ms: float
    blink_pre_ms: float
    blink_post_ms: float
    pupil_mean: float
    pupil_sd: float
    blink_artefact_ms: float = 0.0
    blink_artefact_deg: float = 0.0


TRACKERS: dict[str, TrackerProfile] = {
    "gazepoint": TrackerProfile(
        name="gazepoint",
        rate_hz=60.0,
        noise_deg=0.12,
        offset_deg=0.5,
        jitter_ms=1.2,
        integer_ms=False,
        drop_prob=0.01,
        loss_per_min=4.0,
        loss_median_ms=150.0,
        blink_pre_ms=30.0,
        blink_post_ms=50.0,
        pupil_mean=3.8,  # mm (LPMM/RPMM): EGD-CXR's pupils span 2.9-4.9 mm
        pupil_sd=0.2,
        blink_artefact_ms=35.0,
        blink_artefact_deg=1.0,
    ),
    "eyelink": TrackerProfile(
        name="eyelink",
        rate_hz=1000.0,
        noise_deg=0.015,
        offset_deg=0.3,
        jitter_ms=0.0,
        integer_ms=True,
        drop_prob=0.0,
        loss_per_min=0.5,
        loss_median_ms=60.0,
        blink_pre_ms=10.0,
        blink_post_ms=20.0,
        pupil_mean=1200.0,
        pupil_sd=120.0,
        blink_artefact_ms=25.0,
        blink_artefact_deg=2.0,
    ),
}


def get_profile(tracker: str | TrackerProfile) -> TrackerProfile:
    """Look up a tracker profile by name."""
    if isinstance(tracker, TrackerProfile):
        return tracker
    if tracker not in TRACKERS:
        raise ValueError(f"tracker must be one of {sorted(TRACKERS)}, got {tracker!r}")
    return TRACKERS[tracker]


def _intervals_mask(t: np.ndarray, on: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Whether each sorted time ``t`` falls in any of the intervals ``[on, off)``."""
    if len(on) == 0:
        return np.zeros(len(t), bool)
    order = np.argsort(on)
    on, off = on[order], off[order]
    off = np.maximum.accumulate(off)
    i = np.searchsorted(on, t, side="right") - 1
    return (i >= 0) & (t < off[np.clip(i, 0, None)])


def measure(
    eye: EyeTrace, tracker: str | TrackerProfile, rng: np.random.Generator, geometry: Geometry
) -> pd.DataFrame:
    """Sample ``eye`` the way ``tracker`` would.

    Returns
    -------
    pandas.DataFrame
        ``samples`` schema columns ``t_ms, x_px, y_px, pupil, valid, label`` (gaze in
        image px; NaN and ``valid=False`` where the tracker lost the eye; ``label``
        is the true event of the sample: fixation/saccade/pso/blink).
    """
    tp = get_profile(tracker)
    ppd = geometry.px_per_deg()
    total = len(eye.t_ms)
    period = 1000.0 / tp.rate_hz
    n = int(np.floor((total - 1) / period)) + 1
    t = np.arange(n) * period
    if tp.jitter_ms > 0:
        t = t + np.clip(rng.normal(0, tp.jitter_ms, n), -0.4 * period, 0.4 * period)
        t = np.clip(t, 0, total - 1)
        t[0] = 0.0
    if tp.integer_ms:
        t = np.round(t)
    # true position at the sample times (linear interpolation of the 1 kHz trace)
    if period == 1.0 and tp.jitter_ms == 0:
        idx = t.astype(np.int64)
        x, y = eye.x[idx].copy(), eye.y[idx].copy()
    else:
        x = np.interp(t, eye.t_ms, eye.x)
        y = np.interp(t, eye.t_ms, eye.y)
    label_code = eye.label[np.clip(np.floor(t).astype(np.int64), 0, total - 1)]
    # accuracy offset (constant per session) and precision noise
    ang = rng.uniform(0, 2 * np.pi)
    mag = abs(rng.normal(tp.offset_deg, tp.offset_deg / 3)) * ppd
    x = x + mag * np.cos(ang) + rng.normal(0, tp.noise_deg * ppd, n)
    y = y + mag * np.sin(ang) + rng.normal(0, tp.noise_deg * ppd, n)
    # data loss: blinks with margins, and random bursts
    b_on = eye.blinks["onset_ms"].to_numpy() - tp.blink_pre_ms
    b_off = eye.blinks["offset_ms"].to_numpy() + tp.blink_post_ms
    # lid artefact: the closing lid covers the pupil from above, so gaze seems to drop just
    # before the loss and to come back from below after it; labelled blink with the loss
    art = tp.blink_artefact_ms
    if len(b_on) and art > 0:
        i = np.searchsorted(b_on - art, t, side="right") - 1
        ic = np.clip(i, 0, None)
        pre = (i >= 0) & (t < b_on[ic])
        j = np.searchsorted(b_off, t, side="right") - 1
        jc = np.clip(j, 0, None)
        post = (j >= 0) & (t < b_off[jc] + art)
        frac = np.where(pre, (t - (b_on[ic] - art)) / art, 0.0)
        frac = np.where(post, np.maximum(frac, 1 - (t - b_off[jc]) / art), frac)
        y = y + tp.blink_artefact_deg * ppd * np.clip(frac, 0, 1) ** 2
        label_code = np.where(pre | post, BLINK, label_code).astype(np.int8)
    in_blink = _intervals_mask(t, b_on, b_off)
    label_code = np.where(in_blink, BLINK, label_code).astype(np.int8)
    n_loss = rng.poisson(tp.loss_per_min * total / 60000.0)
    l_on = rng.uniform(0, total, n_loss)
    l_off = l_on + tp.loss_median_ms * np.exp(rng.normal(0, 0.6, n_loss))
    lost = _intervals_mask(t, np.concatenate([b_on, l_on]), np.concatenate([b_off, l_off]))
    lost |= np.isnan(x) | np.isnan(y)
    # pupil: slow fluctuation around the session mean (noise knots every 250 ms, interpolated)
    knots = np.arange(0.0, total + 250.0, 250.0)
    slow = np.interp(t, knots, rng.standard_normal(len(knots)))
    pupil = tp.pupil_mean * np.exp(rng.normal(0, 0.08)) + tp.pupil_sd * slow
    x[lost] = np.nan
    y[lost] = np.nan
    pupil = np.where(lost, np.nan, pupil)
    df = pd.DataFrame(
        {
            "t_ms": t,
            "x_px": x,
            "y_px": y,
            "pupil": pupil,
            "valid": ~lost,
            "label": np.array(LABELS, dtype=object)[label_code],
        }
    )
    if tp.drop_prob > 0:
        keep = rng.random(n) >= tp.drop_prob
        keep[0] = True
        df = df.loc[keep].reset_index(drop=True)
    df["label"] = df["label"].astype("string")
    return df


def _reduce(
    ufunc: np.ufunc, arr: np.ndarray, a: np.ndarray, b: np.ndarray, fill: float
) -> np.ndarray:
    """``ufunc.reduce(arr[a[k]:b[k]])`` for every k (non-empty intervals), vectorised."""
    if len(a) == 0:
        return np.zeros(0)
    padded = np.append(arr, fill)  # b may equal len(arr)
    pairs = np.column_stack([a, b]).ravel()
    return ufunc.reduceat(padded, pairs)[::2]


def _span(arr: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _reduce(np.maximum, arr, a, b, -np.inf) - _reduce(np.minimum, arr, a, b, np.inf)


def _summaries(
    samples: pd.DataFrame, on: np.ndarray, off: np.ndarray, geometry: Geometry
) -> dict[str, np.ndarray]:
    """Per-interval position/velocity summaries of the measured samples (vectorised)."""
    t = samples["t_ms"].to_numpy()
    x = samples["x_px"].to_numpy()
    y = samples["y_px"].to_numpy()
    ok = np.isfinite(x) & np.isfinite(y)
    i0 = np.searchsorted(t, on, side="left")
    i1 = np.searchsorted(t, off, side="left")
    m = len(on)
    out = {k: np.full(m, np.nan) for k in ("x", "y", "sx", "sy", "ex", "ey", "disp", "pv")}
    if len(t) == 0 or m == 0:
        return out
    xd, yd = geometry.to_degrees(np.where(ok, x, 0.0), np.where(ok, y, 0.0))
    dt = np.diff(t, prepend=np.nan) / 1000.0
    vel = np.hypot(np.diff(xd, prepend=np.nan), np.diff(yd, prepend=np.nan)) / dt
    vok = ok & np.concatenate([[False], ok[:-1]])
    vel = np.where(vok, vel, -np.inf)
    nonempty = i1 > i0
    cs_ok = np.concatenate([[0], np.cumsum(ok)])
    cs_x = np.concatenate([[0.0], np.cumsum(np.where(ok, x, 0.0))])
    cs_y = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    cnt = cs_ok[i1] - cs_ok[i0]
    has = nonempty & (cnt > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["x"] = np.where(has, (cs_x[i1] - cs_x[i0]) / cnt, np.nan)
        out["y"] = np.where(has, (cs_y[i1] - cs_y[i0]) / cnt, np.nan)
    # min/max/first/last over the valid samples of each interval, without a Python loop:
    # work on the valid samples only and reduce over [a, b) with reduceat on (a, b) pairs
    idx = np.flatnonzero(ok)
    a = np.searchsorted(idx, i0)[has]
    b = np.searchsorted(idx, i1)[has]
    xv, yv = x[idx], y[idx]
    out["sx"][has], out["sy"][has] = xv[a], yv[a]
    out["ex"][has], out["ey"][has] = xv[b - 1], yv[b - 1]
    out["disp"][has] = _span(xv, a, b) + _span(yv, a, b)
    pv = _reduce(np.maximum, vel, i0[has], i1[has], -np.inf)
    out["pv"][has] = np.where(np.isfinite(pv), pv, np.nan)
    return out


def tracker_events(
    eye: EyeTrace,
    samples: pd.DataFrame,
    tracker: str | TrackerProfile,
    geometry: Geometry,
    recording_id: str,
) -> pd.DataFrame:
    """Events the tracker itself would report, summarised from its samples.

    EyeLink-like: fixations, saccades (their end includes the PSO, as a velocity
    parser does) and blinks. Gazepoint-like: fixations only (from the end of the
    saccade, PSO included).
    """
    tp = get_profile(tracker)
    fx = eye.fixations
    sc = eye.saccades
    # fixations start where the (PSO-extended) saccade ended
    fon = fx["onset_ms"].to_numpy().copy()
    if len(sc):
        fon[1:] = sc["pso_offset_ms"].to_numpy()
    foff = fx["offset_ms"].to_numpy()
    kinds = [("fixation", fon, foff)]
    if tp.name == "eyelink":
        kinds.append(("saccade", sc["onset_ms"].to_numpy(), sc["pso_offset_ms"].to_numpy()))
        kinds.append(
            (
                "blink",
                eye.blinks["onset_ms"].to_numpy() - tp.blink_pre_ms,
                eye.blinks["offset_ms"].to_numpy() + tp.blink_post_ms,
            )
        )
    frames = []
    for kind, on, off in kinds:
        s = _summaries(samples, on, off, geometry)
        amp_px = np.hypot(s["ex"] - s["sx"], s["ey"] - s["sy"])
        ok = np.isfinite(s["sx"])
        amp_deg = np.full(len(on), np.nan)
        if ok.any():
            amp_deg[ok] = geometry.angular_distance(
                s["sx"][ok], s["sy"][ok], s["ex"][ok], s["ey"][ok]
            )
        ppd = geometry.px_per_deg()
        dur = off - on
        frames.append(
            pd.DataFrame(
                {
                    "recording_id": recording_id,
                    "event": kind,
                    "source": "tracker",
                    "method": tp.name,
                    "eye": "both",
                    "onset_ms": on.astype(float),
                    "offset_ms": off.astype(float),
                    "duration_ms": dur.astype(float),
                    "x_px": s["x"] if kind != "blink" else np.nan,
                    "y_px": s["y"] if kind != "blink" else np.nan,
                    "start_x_px": s["sx"],
                    "start_y_px": s["sy"],
                    "end_x_px": s["ex"],
                    "end_y_px": s["ey"],
                    "dispersion_px": s["disp"],
                    "dispersion_deg": s["disp"] / ppd,
                    "amplitude_px": amp_px,
                    "amplitude_deg": amp_deg,
                    "peak_velocity_deg_s": s["pv"],
                    "mean_velocity_deg_s": np.where(dur > 0, amp_deg / (dur / 1000.0), np.nan),
                }
            )
        )
    ev = pd.concat(frames, ignore_index=True).sort_values(["onset_ms", "event"], kind="stable")
    ev = ev.reset_index(drop=True)
    return schemas.conform(ev, "events").to_pandas()
