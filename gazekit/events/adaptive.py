"""Adaptive detection of saccades, post-saccadic oscillations (PSO), fixations and pursuit.

The rules, each with its source (every default below is the source's value):

1. **Velocity** (in :mod:`gazekit.events.signal`): a cubic Savitzky–Golay derivative
   over 20 ms. The quadratic 20 ms filter of Nyström & Holmqvist (2010) is in effect an
   11-sample least-squares slope whose gain at 40 Hz is 0.42, which erases PSOs and
   moves onsets early; the cubic filter keeps 0.92 of a 40 Hz oscillation with less
   noise than a 10 ms quadratic one (Savitzky & Golay 1964; Nyström & Holmqvist's
   maintained code uses 10 ms).
2. **Noise-adaptive thresholds** (Nyström & Holmqvist 2010, robust statistics as in
   REMoDNaV, Dar, Wagner & Hanke 2021): ``PT`` starts at ``peak_start_deg_s`` and is
   iterated to ``centre + peak_k_sd·spread`` of the speeds below it until it moves by
   < 1 °/s; the onset threshold is ``ST = centre + onset_k_sd·spread`` (centre, spread:
   median and 1.4826·MAD). The recording's thresholds start a second iteration in every
   ``context_ms`` (1 s, REMoDNaV's saccade context window) around each half-second
   block, so smooth pursuit or a noisy stretch raises the thresholds only where it is,
   and small saccades in quiet stretches are kept.
3. **Saccade**: a run of at least ``min_peak_samples`` (2; one below
   ``pso_min_rate_hz``, where a saccade spans two to four samples) above the local
   ``PT`` (REMoDNaV's minimum peak). The onset walks back over the samples at or above
   ``ST``. The offset is the first sample after the peak where the movement **reverses
   along the saccade direction**, where the speed has a **local minimum** below ``PT``,
   or where it falls below the local offset threshold ``LT = 0.7·ST + 0.3·(mean +
   3·SD of the 40 ms before the onset)`` (Nyström & Holmqvist 2010): human coders end
   the saccade at the first reversal (Larsson et al. 2013; Friedman et al. 2018,
   median 0 ms from it), and the PSO starts there. Saccades shorter than
   ``min_saccade_ms`` (10 ms, Nyström & Holmqvist 2010) are dropped.
4. **PSO** (Nyström & Holmqvist 2010; Larsson et al. 2013): from the saccade offset,
   every excursion above ``LT`` that starts within ``pso_window_ms`` (40 ms) belongs
   to the PSO, which ends at the last such excursion and lasts at most ``pso_max_ms``
   (80 ms: PSOs last 10–80 ms, Hooge et al. 2015). An excursion above ``PT`` (a
   *high-velocity* PSO) is part of the PSO only if it moves against the saccade; one
   along it is the next saccade. A PSO reaching as far from the landing point as the
   saccade's amplitude is no PSO (REMoDNaV's amplitude check). Below
   ``pso_min_rate_hz`` (200 Hz) no PSO is detected: a 10–40 ms oscillation is
   undersampled there.
5. **Blinks**: a saccade or PSO touching lost, interpolated or blink samples becomes
   part of the blink (the closing and opening lid moves the pupil image; Holmqvist
   et al. 2011, ch. 5; Nyström & Holmqvist 2010 exclude such events).
6. **Fixation**: the rest of the usable samples; fixations shorter than
   ``min_fixation_ms`` (40 ms, Nyström & Holmqvist 2010) become undefined.
7. **Smooth pursuit** (:func:`gazekit.events.pursuit.label_pursuit`): fixation stretches
   that move steadily, see there.
"""

from __future__ import annotations

import dataclasses
import logging
import math

import numpy as np

from gazekit.errors import InputError
from gazekit.events import _adaptive_kernels as AK
from gazekit.events.base import BLINK, DETECTORS, FIXATION, UNDEFINED, DetectorSpec, Signal
from gazekit.events.params import AdaptiveParams, PostParams
from gazekit.events.postprocess import postprocess
from gazekit.events.pursuit import label_pursuit
from gazekit.events.signal import sg_coefficients, window_samples

log = logging.getLogger(__name__)

#: Largest number of speeds the recording-wide threshold iteration reads (evenly spread).
THRESHOLD_SUBSAMPLE = 200_000


def recording_thresholds(
    speed: np.ndarray, usable: np.ndarray, params: AdaptiveParams | None = None
) -> tuple[float, float]:
    """The recording-wide ``(PT, ST)`` in deg/s (step 2), from ≤ 200 000 evenly spread speeds.

    Parameters
    ----------
    speed : (n,) ndarray of float64, deg/s
    usable : (n,) ndarray of bool
    params : AdaptiveParams

    Returns
    -------
    pt, st : float, deg/s

    Raises
    ------
    InputError
        Fewer than 10 usable samples, or too few below ``peak_start_deg_s``.
    """
    params = params or AdaptiveParams()
    ok = usable & np.isfinite(speed)
    step = max(1, int(ok.sum()) // THRESHOLD_SUBSAMPLE)
    v = np.ascontiguousarray(speed[ok][::step], dtype=np.float64)
    if v.size < 10:
        raise InputError(f"adaptive detector: {v.size} usable samples, need at least 10")
    pt, st = AK.noise_thresholds(
        v, v.size, float(params.peak_start_deg_s), params.peak_k_sd, params.onset_k_sd, 1.0
    )
    if not math.isfinite(st):
        raise InputError(
            f"adaptive detector: fewer than 3 usable speeds below peak_start_deg_s "
            f"({params.peak_start_deg_s} deg/s); raise it"
        )
    return float(pt), float(st)


def local_thresholds(
    signal: Signal, usable: np.ndarray, params: AdaptiveParams, pt: float, st: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """Per-block ``(block_ms, PT, ST)`` (step 2); one block when ``context_ms`` is 0."""
    t = signal.t_ms
    span = float(t[-1] - t[0]) + 1.0
    if params.context_ms <= 0:
        return span, np.array([pt]), np.array([st])
    block = params.context_ms / 2.0
    nb = int(span // block) + 1
    bpt = np.empty(nb)
    bst = np.empty(nb)
    dt = 1000.0 / signal.sampling_rate_hz
    min_count = max(10, int(0.25 * params.context_ms / dt))
    AK.block_thresholds(
        t, signal.speed_deg_s, usable, pt, st, block, float(params.context_ms),
        params.peak_k_sd, params.onset_k_sd, 1.0, min_count, bpt, bst,
    )  # fmt: skip
    return block, bpt, bst


def label_core(
    signal: Signal, params: AdaptiveParams | None = None, min_saccade_ms: float = 10.0
) -> np.ndarray:
    """Per-sample codes of steps 2–5 (fixation, saccade, PSO, blink, undefined).

    Parameters
    ----------
    signal : Signal
    params : AdaptiveParams
    min_saccade_ms : float, ms
        Shortest saccade.

    Returns
    -------
    codes : (n,) ndarray of int8
    """
    params = params or AdaptiveParams()
    speed = signal.speed_deg_s
    ok = signal.valid & ~signal.blink & np.isfinite(speed)
    clean = ok & ~signal.interpolated
    pt, st = recording_thresholds(speed, ok, params)
    block, bpt, bst = local_thresholds(signal, ok, params, pt, st)
    codes = np.where(ok, np.int8(FIXATION), np.int8(UNDEFINED)).astype(np.int8)
    codes[signal.blink] = BLINK
    rate = float(signal.sampling_rate_hz)
    dt = 1000.0 / rate
    order = int(signal.params.get("sg_order", 3))
    half = window_samples(float(signal.params.get("sg_window_ms", 20.0)), dt, order)
    cv, _ = sg_coefficients(half, order)
    fast = rate >= params.pso_min_rate_hz
    n_sacc = AK.adaptive_walk(
        signal.t_ms, signal.x_deg, signal.y_deg, speed, ok, clean, half, cv, dt, block, bpt,
        bst, params.min_peak_samples if fast else 1, float(min_saccade_ms),
        float(params.pso_window_ms), float(params.pso_max_ms), fast, codes,
    )  # fmt: skip
    signal.params["adaptive_thresholds"] = {
        "peak_deg_s": pt,
        "onset_deg_s": st,
        "local_peak_deg_s_range": [float(bpt.min()), float(bpt.max())],
    }
    log.debug(
        "adaptive: PT %.1f, ST %.1f deg/s (local PT %.1f-%.1f), %d saccades",
        pt, st, bpt.min(), bpt.max(), n_sacc,
    )  # fmt: skip
    return codes


def adaptive(
    signal: Signal, params: AdaptiveParams | None = None, post: PostParams | None = None
) -> np.ndarray:
    """Label samples with the adaptive detector (see the module docstring).

    Parameters
    ----------
    signal : Signal
    params : AdaptiveParams
    post : PostParams, optional
        Default :data:`ADAPTIVE_POST`: saccades of at least 10 ms, fixations of at
        least 40 ms, no merging (Nyström & Holmqvist 2010).

    Returns
    -------
    codes : (n,) ndarray of int8
    """
    params = params or AdaptiveParams()
    post = post or ADAPTIVE_POST
    codes = label_core(signal, params, post.min_saccade_ms)
    postprocess(signal, codes, dataclasses.replace(post, min_saccade_ms=0.0))
    if params.pursuit_velocity_deg_s > 0:
        ok = signal.valid & ~signal.blink
        n = label_pursuit(
            signal.t_ms, signal.x_deg, signal.y_deg, ok, codes,
            window_ms=params.pursuit_window_ms, velocity_deg_s=params.pursuit_velocity_deg_s,
            min_ms=params.pursuit_min_ms,
        )  # fmt: skip
        log.debug("adaptive: %d pursuit events", n)
    return codes


#: The adaptive detector's post-processing (Nyström & Holmqvist 2010).
ADAPTIVE_POST = PostParams(min_fixation_ms=40.0, min_saccade_ms=10.0)
DETECTORS.add("adaptive", DetectorSpec(adaptive, AdaptiveParams, ADAPTIVE_POST))
