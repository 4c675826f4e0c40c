"""I-VT: velocity-threshold identification (Salvucci & Goldberg 2000; Olsen 2012).

Defaults follow the Tobii I-VT fixation filter (Olsen 2012), the most widely used,
documented parameter set: Savitzky–Golay velocity over a 20 ms window, a 30 deg/s
threshold (saccade peak velocities exceed it by an order of magnitude, fixational
drift and 60 Hz noise stay well below it), gaps up to 75 ms interpolated, fixations
closer than 75 ms and 0.5° merged, fixations under 60 ms discarded.
"""

from __future__ import annotations

import numpy as np

from gazekit.events import _kernels
from gazekit.events.base import DETECTORS, DetectorSpec, Signal
from gazekit.events.params import IVTParams, PostParams
from gazekit.events.postprocess import postprocess


def ivt(signal: Signal, params: IVTParams | None = None, post: PostParams | None = None) -> np.ndarray:
    """Label samples by I-VT.

    Parameters
    ----------
    signal : Signal
    params : IVTParams
    post : PostParams, optional
        Post-processing (default: I-VT's, see :data:`IVT_POST`).

    Returns
    -------
    codes : (n,) ndarray of int8
        Per-sample codes of :mod:`gazekit.events.base` (blinks from the signal).
    """
    params = params or IVTParams()
    codes = np.empty(len(signal), dtype=np.int8)
    _kernels.ivt_labels(
        signal.speed_deg_s, signal.valid, signal.blink, float(params.velocity_threshold_deg_s),
        codes,
    )  # fmt: skip
    return postprocess(signal, codes, post or IVT_POST)


#: I-VT's post-processing (Olsen 2012): merge within 75 ms and 0.5°, drop fixations < 60 ms.
IVT_POST = PostParams(merge_gap_ms=75.0, merge_distance_deg=0.5, min_fixation_ms=60.0)
DETECTORS.add("ivt", DetectorSpec(ivt, IVTParams, IVT_POST))
