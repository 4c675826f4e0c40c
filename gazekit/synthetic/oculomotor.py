"""Eye movements from a scanpath: saccades, post-saccadic oscillations, drift, tremor, blinks.

The eye's true position is generated on a 1 kHz grid (one sample per ms), fully
vectorised: the reading is a sequence of segments ``[saccade, PSO, fixation,
blink]`` per fixation, each sample knows its segment and its time within it, and
the position is computed for all samples at once.

* **Saccades** follow the main sequence: duration ``D = slope·A + intercept`` (ms,
  A in degrees, Carpenter's 2.2 ms/° + 21 ms by default) with lognormal scatter,
  a minimum-jerk position profile (peak velocity ``1.875·A/D``, so peak velocity
  grows with amplitude and saturates), a small curvature, and a gain below one
  (saccades undershoot their target slightly, with landing scatter).
* **PSO**: after most saccades, a damped oscillation along the saccade direction
  lasting 12–32 ms, amplitude growing with saccade amplitude.
* **Fixations**: the eye drifts as a random walk from the landing point, plus
  ~85 Hz tremor.
* **Blinks**: Poisson in time (default 15/min), lognormal durations (median 150
  ms), placed at the end of a fixation; gaze is NaN during the blink.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gazekit.geometry import Geometry

#: Sample label codes of :class:`EyeTrace` and their names (the samples' ``label`` column).
LABELS: tuple[str, ...] = ("fixation", "saccade", "pso", "blink")
FIXATION, SACCADE, PSO, BLINK = range(4)


@dataclass(frozen=True)
class OculomotorParams:
    """Parameters of the eye-movement model (degrees, ms)."""

    ms_slope_ms_per_deg: float = 2.2
    ms_intercept_ms: float = 21.0
    duration_cv: float = 0.07
    gain_mean: float = 0.96
    gain_sd: float = 0.04
    landing_sd_deg: float = 0.12
    curvature_sd: float = 0.03
    pso_prob: float = 0.8
    pso_min_ms: int = 12
    pso_max_ms: int = 32
    pso_base_deg: float = 0.08
    pso_gain: float = 0.02
    drift_deg_per_sqrt_ms: float = 0.0035
    tremor_deg: float = 0.004
    tremor_hz: float = 85.0
    blink_rate_per_min: float = 15.0
    blink_median_ms: float = 150.0
    blink_log_sd: float = 0.3


@dataclass
class EyeTrace:
    """The true eye position at 1 kHz and the events that produced it.

    Attributes
    ----------
    t_ms : (T,) ndarray of float64, ms
        ``0, 1, 2, ...``.
    x, y : (T,) ndarray of float64, image px
        NaN during blinks.
    label : (T,) ndarray of int8
        Codes into :data:`LABELS`.
    fixations : pandas.DataFrame
        ``onset_ms, offset_ms, x_px, y_px`` (mean true position), one row per scanpath fixation.
    saccades : pandas.DataFrame
        ``onset_ms, offset_ms, amplitude_deg, peak_velocity_deg_s, start_x_px, start_y_px,
        end_x_px, end_y_px, pso_offset_ms``; one row per fixation after the first.
    blinks : pandas.DataFrame
        ``onset_ms, offset_ms``.
    """

    t_ms: np.ndarray
    x: np.ndarray
    y: np.ndarray
    label: np.ndarray
    fixations: pd.DataFrame
    saccades: pd.DataFrame
    blinks: pd.DataFrame

    @property
    def duration_ms(self) -> float:
        return float(len(self.t_ms))

    def head(self, n: int) -> EyeTrace:
        """The trace up to the end of fixation ``n - 1`` (the first ``n`` fixations).

        Because :func:`generate` draws every random quantity from its own stream,
        this equals the trace generated from the first ``n`` fixations alone.
        """
        end = int(self.fixations["offset_ms"].iloc[n - 1])
        bl = self.blinks[self.blinks["onset_ms"] < end].reset_index(drop=True)
        return EyeTrace(
            self.t_ms[:end],
            self.x[:end],
            self.y[:end],
            self.label[:end],
            self.fixations.iloc[:n].reset_index(drop=True),
            self.saccades.iloc[: max(n - 1, 0)].reset_index(drop=True),
            bl,
        )


def main_sequence_duration(amplitude_deg: np.ndarray, params: OculomotorParams) -> np.ndarray:
    """Expected saccade duration (ms) for amplitudes in degrees (no scatter)."""
    return params.ms_slope_ms_per_deg * np.asarray(amplitude_deg) + params.ms_intercept_ms


def _min_jerk(tau: np.ndarray) -> np.ndarray:
    return tau**3 * (10 - 15 * tau + 6 * tau**2)


def generate(
    x: np.ndarray,
    y: np.ndarray,
    duration_ms: np.ndarray,
    geometry: Geometry,
    rng: np.random.Generator,
    params: OculomotorParams | None = None,
) -> EyeTrace:
    """Turn intended fixation targets into a 1 kHz eye trace.

    Parameters
    ----------
    x, y : (N,) ndarray of float64, image px
        Intended targets in reading order.
    duration_ms : (N,) ndarray of float64
        Fixation durations (rounded to whole ms).
    geometry : Geometry
        Image-frame geometry with degrees (for exact saccade amplitudes).
    rng : numpy.random.Generator
    params : OculomotorParams, optional

    Returns
    -------
    EyeTrace
    """
    p = params or OculomotorParams()
    # one stream per random quantity: the first k fixations come out the same whatever n is,
    # so appending fixations to a scanpath leaves the trace before them unchanged
    r = rng.spawn(11)
    n = len(x)
    if n == 0:
        raise ValueError("a scanpath needs at least one fixation")
    ppd = geometry.px_per_deg()
    fix_d = np.maximum(np.round(np.asarray(duration_ms, float)).astype(np.int64), 1)

    # ---- fixational drift per fixation (random walk restarting at each landing)
    n_fix_samples = int(fix_d.sum())
    inc = r[0].normal(0.0, p.drift_deg_per_sqrt_ms * ppd, size=(n_fix_samples, 2))
    cs = np.cumsum(inc, axis=0)
    fstart = np.cumsum(fix_d) - fix_d
    base = cs[fstart] - inc[fstart]
    drift = cs - np.repeat(base, fix_d, axis=0)
    drift_end = drift[fstart + fix_d - 1]
    drift_mean = np.add.reduceat(drift, fstart, axis=0) / fix_d[:, None]

    # ---- landing points (undershooting saccades with scatter; a short recurrence)
    gain = r[1].normal(p.gain_mean, p.gain_sd, n)
    scatter = r[2].normal(0.0, p.landing_sd_deg * ppd, size=(n, 2))
    land = np.empty((n, 2))
    land[0] = (x[0], y[0])
    tx, ty = np.asarray(x, float), np.asarray(y, float)
    for i in range(1, n):
        sx = land[i - 1, 0] + drift_end[i - 1, 0]
        sy = land[i - 1, 1] + drift_end[i - 1, 1]
        land[i, 0] = sx + gain[i] * (tx[i] - sx) + scatter[i, 0]
        land[i, 1] = sy + gain[i] * (ty[i] - sy) + scatter[i, 1]
    start = land[:-1] + drift_end[:-1]  # saccade i+1 starts where fixation i ended
    end = land[1:]
    amp = geometry.angular_distance(start[:, 0], start[:, 1], end[:, 0], end[:, 1])
    sac_d = np.zeros(n, np.int64)
    sac_d[1:] = np.maximum(
        np.round(main_sequence_duration(amp, p) * np.exp(r[3].normal(0, p.duration_cv, n - 1))), 6
    ).astype(np.int64)
    pso_d = np.zeros(n, np.int64)
    has_pso = r[4].random(n - 1) < p.pso_prob
    pso_d[1:] = np.where(has_pso, r[5].integers(p.pso_min_ms, p.pso_max_ms + 1, n - 1), 0)
    blink_p = 1.0 - np.exp(-p.blink_rate_per_min * fix_d / 60000.0)
    has_blink = r[6].random(n) < blink_p
    has_blink[-1] = False
    blink_d = np.where(
        has_blink,
        np.clip(np.round(p.blink_median_ms * np.exp(r[7].normal(0, p.blink_log_sd, n))), 60, 500),
        0,
    ).astype(np.int64)

    # ---- segments [saccade, pso, fixation, blink] per fixation, flattened
    seg_d = np.column_stack([sac_d, pso_d, fix_d, blink_d]).ravel()
    seg_start = np.cumsum(seg_d) - seg_d
    total = int(seg_d.sum())
    seg = np.repeat(np.arange(4 * n), seg_d)
    fi = seg // 4
    slot = seg % 4
    local = np.arange(total) - seg_start[seg]
    label = np.array([SACCADE, PSO, FIXATION, BLINK], np.int8)[slot]
    pos = np.zeros((total, 2))  # blink rows get NaN at the end; zeros keep the tremor sum finite

    # fixations
    is_fix = slot == 2
    pos[is_fix] = land[fi[is_fix]] + drift
    # saccades: minimum-jerk along the chord plus a sinusoidal curvature
    is_sac = slot == 0
    k = fi[is_sac] - 1  # saccade index (into start/end)
    tau = (local[is_sac] + 1.0) / sac_d[fi[is_sac]]
    vec = end - start
    perp = np.column_stack([-vec[:, 1], vec[:, 0]])
    curv = r[8].normal(0, p.curvature_sd, max(n - 1, 0))
    s = _min_jerk(tau)[:, None]
    pos[is_sac] = start[k] + vec[k] * s + perp[k] * (curv[k] * np.sin(np.pi * tau))[:, None]
    # PSO: damped oscillation along the saccade direction, back to the landing point
    is_pso = slot == 1
    kp = fi[is_pso] - 1
    norm = np.maximum(np.hypot(vec[:, 0], vec[:, 1]), 1e-9)
    unit = vec / norm[:, None]
    pso_amp = (p.pso_base_deg + p.pso_gain * amp) * ppd * r[9].uniform(0.5, 1.5, max(n - 1, 0))
    dur = pso_d[fi[is_pso]].astype(float)
    tp = local[is_pso] + 1.0
    osc = pso_amp[kp] * np.exp(-3.0 * tp / dur) * np.sin(2 * np.pi * tp / dur)
    pos[is_pso] = land[fi[is_pso]] + unit[kp] * osc[:, None]
    # tremor on every non-blink sample; blinks are NaN
    t = np.arange(total, dtype=np.float64)
    phase = r[10].uniform(0, 2 * np.pi, 2)
    trem = p.tremor_deg * ppd
    pos[:, 0] += trem * np.sin(2 * np.pi * p.tremor_hz * t / 1000.0 + phase[0])
    pos[:, 1] += trem * np.sin(2 * np.pi * (p.tremor_hz * 0.93) * t / 1000.0 + phase[1])
    pos[slot == 3] = np.nan

    fix_on = seg_start[2::4]
    sac_on = seg_start[0::4][1:]
    sac_off = sac_on + sac_d[1:]
    blink_on = seg_start[3::4][has_blink]
    fixations = pd.DataFrame(
        {
            "onset_ms": fix_on.astype(float),
            "offset_ms": (fix_on + fix_d).astype(float),
            "x_px": land[:, 0] + drift_mean[:, 0],
            "y_px": land[:, 1] + drift_mean[:, 1],
        }
    )
    saccades = pd.DataFrame(
        {
            "onset_ms": sac_on.astype(float),
            "offset_ms": sac_off.astype(float),
            "amplitude_deg": amp,
            "peak_velocity_deg_s": 1.875 * amp / (sac_d[1:] / 1000.0),
            "start_x_px": start[:, 0],
            "start_y_px": start[:, 1],
            "end_x_px": end[:, 0],
            "end_y_px": end[:, 1],
            "pso_offset_ms": (sac_off + pso_d[1:]).astype(float),
        }
    )
    blinks = pd.DataFrame(
        {
            "onset_ms": blink_on.astype(float),
            "offset_ms": (blink_on + blink_d[has_blink]).astype(float),
        }
    )
    return EyeTrace(t, pos[:, 0].copy(), pos[:, 1].copy(), label, fixations, saccades, blinks)
