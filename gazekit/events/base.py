"""Shared contract of the event detectors: per-sample label codes and the registry.

A detector is a :class:`DetectorSpec`: a function ``label(signal, params, post) ->
np.ndarray`` returning one int8 code per sample (:data:`UNDEFINED`, :data:`FIXATION`,
:data:`SACCADE`, :data:`PSO`, :data:`BLINK`, :data:`PURSUIT`), the frozen dataclass of
its parameters and its post-processing defaults. Turning codes into the ``events``
table (onset, offset, properties) is done once, for every detector, by
:mod:`gazekit.events`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gazekit.registry import Registry

UNDEFINED: int = 0
FIXATION: int = 1
SACCADE: int = 2
PSO: int = 3
BLINK: int = 4
PURSUIT: int = 5

#: Event name of each code (index = code); the names match the ``events`` schema.
CODE_NAMES: tuple[str, ...] = ("undefined", "fixation", "saccade", "pso", "blink", "pursuit")


@dataclass
class Signal:
    """The gaze signal a detector works on (all arrays shape (n,), float64 unless noted).

    Attributes
    ----------
    t_ms : ndarray
        Sample times from recording start, strictly increasing (jitter and dropped
        samples allowed).
    x_px, y_px : ndarray
        Gaze in the recording's pixel frame (NaN where lost).
    x_deg, y_deg : ndarray
        Gaze in degrees of visual angle, exact per sample (NaN where lost).
    valid : ndarray of bool
        Sample has gaze (after gap interpolation).
    blink : ndarray of bool
        Sample belongs to a blink (data loss with pupil signature); never interpolated.
    interpolated : ndarray of bool
        Sample was lost and filled by gap interpolation (``valid`` is true there): the
        detectors treat events touching such samples as part of a blink or loss.
    speed_deg_s : ndarray
        Savitzky–Golay angular speed (deg/s).
    accel_deg_s2 : ndarray or None
        Acceleration magnitude (deg/s²), only from ``prepare(acceleration=True)``.
    sampling_rate_hz : float
        Nominal rate (median of 1/Δt when not given).
    params : dict
        Preprocessing parameters used (stored in event metadata).
    geometry : Geometry or None
        The viewing geometry used for degrees (None in degree-free mode, where the
        ``*_deg`` arrays and speeds are in px and px/s).
    """

    t_ms: np.ndarray
    x_px: np.ndarray
    y_px: np.ndarray
    x_deg: np.ndarray
    y_deg: np.ndarray
    valid: np.ndarray
    blink: np.ndarray
    interpolated: np.ndarray
    speed_deg_s: np.ndarray
    accel_deg_s2: np.ndarray | None
    sampling_rate_hz: float
    params: dict[str, Any] = field(default_factory=dict)
    geometry: Any = None

    def __len__(self) -> int:
        return int(self.t_ms.shape[0])


@dataclass(frozen=True)
class DetectorSpec:
    """A registered event detector.

    Attributes
    ----------
    label : callable
        ``label(signal, params, post) -> codes``: (n,) int8 codes, post-processed.
    params : type
        Frozen dataclass of the detector's own parameters (unit-suffixed fields with a
        ``help`` text in their metadata), validated in ``__post_init__``.
    post : PostParams
        The detector's post-processing defaults.
    """

    label: Callable[..., np.ndarray]
    params: type
    post: Any


#: Detectors by method name (``ivt``, ``idt``, ``adaptive``).
DETECTORS: Registry[DetectorSpec] = Registry("event detector")
