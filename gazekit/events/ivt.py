"""I-VT: velocity-threshold identification (Salvucci & Goldberg 2000; Olsen 2012).

Defaults follow the Tobii I-VT fixation filter (Olsen 2012), the most widely used,
documented parameter set: Savitzky–Golay velocity over a 20 ms window, a 30 deg/s
threshold (saccade peak velocities exceed it by an order of magnitude, fixational
drift and 60 Hz noise stay well below it), gaps up to 75 ms interpolated, fixations
closer than 75 ms and 0.5° merged, fixations under 60 ms discarded.
"""

from __future__ import annotations

import numpy as np

from gazekit.errors import InputError
from gazekit.events import _kernels
from gazekit.events.base import DETECTORS, Signal
from gazekit.events.postprocess import postprocess


def ivt(
    signal: Signal,
    *,
    velocity_threshold: float = 30.0,
    merge_gap_ms: float = 75.0,
    merge_distance_deg: float = 0.5,
    min_fixation_ms: float = 60.0,
    min_saccade_ms: float = 0.0,
) -> np.ndarray:
    """Label samples by I-VT.

    Parameters
    ----------
    signal : Signal
    velocity_threshold : float, deg/s
        Samples at or above are saccade, below fixation (px/s in degree-free mode).
    merge_gap_ms, merge_distance_deg, min_fixation_ms, min_saccade_ms : float
        Post-processing, see :func:`gazekit.events.postprocess.postprocess`.

    Returns
    -------
    codes : (n,) ndarray of int8
        Per-sample codes of :mod:`gazekit.events.base` (blinks from the signal).
    """
    if not velocity_threshold > 0:
        raise InputError(f"velocity_threshold must be > 0, got {velocity_threshold}")
    codes = np.empty(len(signal), dtype=np.int8)
    _kernels.ivt_labels(
        signal.speed_deg_s, signal.valid, signal.blink, float(velocity_threshold), codes
    )
    return postprocess(
        signal,
        codes,
        merge_gap_ms=merge_gap_ms,
        merge_distance_deg=merge_distance_deg,
        min_fixation_ms=min_fixation_ms,
        min_saccade_ms=min_saccade_ms,
    )


ivt.uses_acceleration = False  # type: ignore[attr-defined]
DETECTORS.add("ivt", ivt, overwrite=True)
