"""I-DT: dispersion-threshold identification (Salvucci & Goldberg 2000).

Defaults: a 1.0° dispersion threshold (``(max x - min x) + (max y - min y)``, the
classic measure) over a 100 ms minimum window, the values recommended by Salvucci &
Goldberg and Blignaut (2009) for the ~1° foveal extent; 100 ms is also the shortest
fixation the window admits. The sliding-window dispersion is linear-time (monotonic
deques), so long fixations cost no more than short ones. Merging is off by default
(the dispersion criterion already joins jittery fixations).
"""

from __future__ import annotations

import numpy as np

from gazekit.errors import InputError
from gazekit.events import _kernels
from gazekit.events.base import DETECTORS, Signal
from gazekit.events.postprocess import nominal_dt, postprocess


def idt(
    signal: Signal,
    *,
    dispersion: float = 1.0,
    window_ms: float = 100.0,
    merge_gap_ms: float = 0.0,
    merge_distance_deg: float = 0.5,
    min_fixation_ms: float = 0.0,
    min_saccade_ms: float = 0.0,
) -> np.ndarray:
    """Label samples by I-DT.

    Parameters
    ----------
    signal : Signal
    dispersion : float, deg
        Largest ``(max x - min x) + (max y - min y)`` of a fixation (px in degree-free
        mode).
    window_ms : float, ms
        Minimum fixation duration (initial window).
    merge_gap_ms, merge_distance_deg, min_fixation_ms, min_saccade_ms : float
        Post-processing, see :func:`gazekit.events.postprocess.postprocess`.

    Returns
    -------
    codes : (n,) ndarray of int8
    """
    if not dispersion > 0:
        raise InputError(f"dispersion must be > 0, got {dispersion}")
    if not window_ms > 0:
        raise InputError(f"window_ms must be > 0, got {window_ms}")
    codes = np.empty(len(signal), dtype=np.int8)
    _kernels.idt_labels(
        signal.t_ms,
        signal.x_deg,
        signal.y_deg,
        signal.valid,
        signal.blink,
        float(dispersion),
        float(window_ms),
        nominal_dt(signal),
        codes,
    )
    return postprocess(
        signal,
        codes,
        merge_gap_ms=merge_gap_ms,
        merge_distance_deg=merge_distance_deg,
        min_fixation_ms=min_fixation_ms,
        min_saccade_ms=min_saccade_ms,
    )


idt.uses_acceleration = False  # type: ignore[attr-defined]
DETECTORS.add("idt", idt, overwrite=True)
