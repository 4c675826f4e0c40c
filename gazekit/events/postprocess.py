"""Post-processing of per-sample codes shared by the detectors (Olsen 2012).

Order: merge fixations split by a short, clean interruption, then relabel
fixations (and optionally saccades) that are too short as undefined.
"""

from __future__ import annotations

import logging

import numpy as np

from gazekit.events import _kernels
from gazekit.events.base import FIXATION, SACCADE, UNDEFINED, Signal
from gazekit.events.params import PostParams

log = logging.getLogger(__name__)


def nominal_dt(signal: Signal) -> float:
    """Nominal sample period (ms) of ``signal``."""
    return 1000.0 / float(signal.sampling_rate_hz)


def split_gap(signal: Signal) -> float:
    """Largest interval between consecutive samples inside one event (ms).

    The gap-filling limit ``max_gap_ms`` of :func:`~gazekit.events.signal.prepare`
    (but at least 1.5 sample periods): a longer hole in the timestamps splits events,
    like a NaN gap does.
    """
    return max(float(signal.params.get("max_gap_ms", 75.0)), 1.5 * nominal_dt(signal))


def postprocess(signal: Signal, codes: np.ndarray, post: PostParams) -> np.ndarray:
    """Merge nearby fixations and drop too-short ones, in place on ``codes``.

    Parameters
    ----------
    signal : Signal
    codes : (n,) ndarray of int8
        Per-sample codes, modified in place and returned.
    post : PostParams
        ``merge_gap_ms`` (0 disables merging), ``merge_distance_deg`` (px in
        degree-free mode), ``min_fixation_ms`` and ``min_saccade_ms`` (shorter events
        become undefined; 0 disables).

    Returns
    -------
    codes : (n,) ndarray of int8
    """
    dt = nominal_dt(signal)
    gap = split_gap(signal)
    if post.merge_gap_ms > 0:
        merged = _kernels.merge_fixations(
            codes,
            signal.t_ms,
            signal.x_deg,
            signal.y_deg,
            signal.valid,
            float(post.merge_gap_ms),
            float(post.merge_distance_deg),
            dt,
            gap,
        )
        log.debug("merged %d fixation pairs", merged)
    if post.min_fixation_ms > 0:
        n = _kernels.drop_short(
            codes, signal.t_ms, FIXATION, float(post.min_fixation_ms), UNDEFINED, dt, gap
        )
        log.debug("dropped %d fixations under %.0f ms", n, post.min_fixation_ms)
    if post.min_saccade_ms > 0:
        _kernels.drop_short(
            codes, signal.t_ms, SACCADE, float(post.min_saccade_ms), UNDEFINED, dt, gap
        )
    return codes
