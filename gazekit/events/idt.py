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

from gazekit.events import _kernels
from gazekit.events.base import DETECTORS, DetectorSpec, Signal
from gazekit.events.params import IDTParams, PostParams
from gazekit.events.postprocess import nominal_dt, postprocess


def idt(signal: Signal, params: IDTParams | None = None, post: PostParams | None = None) -> np.ndarray:
    """Label samples by I-DT.

    Parameters
    ----------
    signal : Signal
    params : IDTParams
    post : PostParams, optional
        Post-processing (default: none, the dispersion criterion already joins jitter).

    Returns
    -------
    codes : (n,) ndarray of int8
    """
    params = params or IDTParams()
    codes = np.empty(len(signal), dtype=np.int8)
    _kernels.idt_labels(
        signal.t_ms,
        signal.x_deg,
        signal.y_deg,
        signal.valid,
        signal.blink,
        float(params.dispersion_deg),
        float(params.window_ms),
        nominal_dt(signal),
        codes,
    )
    return postprocess(signal, codes, post or IDT_POST)


IDT_POST = PostParams()
DETECTORS.add("idt", DetectorSpec(idt, IDTParams, IDT_POST))
