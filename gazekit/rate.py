"""Sampling rate from the timestamps, and the check of a declared rate against them.

On the floor of the package (readers, event detection and the recording itself use it):
a rate is never trusted over the data it describes.
"""

from __future__ import annotations

import os
from typing import Any

#: Largest relative difference between a declared sampling rate and the one measured
#: from the timestamps that is accepted without a warning. Commercial trackers' rate
#: settings differ by ≥ 17 % (50/60, 120/150, 250/500/1000/2000 Hz), while clock drift
#: and dropped samples move a measured rate by well under 1 %: 5 % separates a wrong
#: declaration from measurement noise.
RATE_TOLERANCE: float = 0.05


def measured_rate_hz(t_ms: Any) -> float | None:
    """Sampling rate measured from timestamps: 1000 / mean regular step.

    The regular steps are the positive ones up to 1.5 × the median step, which leaves
    out the gaps of track loss; their mean (not their median) recovers the rate of
    timestamps rounded to whole ms (a 60 Hz tracker's 16 and 17 ms steps).

    Parameters
    ----------
    t_ms : (N,) array of float, ms
        Sample times in file order (the first 20,001 are used).

    Returns
    -------
    float or None
        Hz, rounded to 0.1 Hz; None with fewer than two distinct timestamps.
    """
    import numpy as np

    d = np.diff(np.asarray(t_ms, dtype=np.float64)[:20_001])
    d = d[np.isfinite(d) & (d > 0)]
    if not d.size:
        return None
    regular = d[d <= 1.5 * np.median(d)]
    return float(np.round(1000.0 / regular.mean(), 1))


def checked_rate(
    t_ms: Any,
    declared_hz: float | None,
    *,
    source: str | os.PathLike[str] | None = None,
    tolerance: float = RATE_TOLERANCE,
) -> float | None:
    """The sampling rate to use: the declared one unless the timestamps contradict it.

    Parameters
    ----------
    t_ms : (N,) array of float, ms
        Sample times.
    declared_hz : float or None
        Rate from a file header, corpus documentation or the user (Hz).
    source : path-like, optional
        Named in the warning.
    tolerance : float
        Accepted relative difference (:data:`RATE_TOLERANCE`).

    Returns
    -------
    float or None
        ``declared_hz`` when it agrees with the measured rate within ``tolerance`` (or
        nothing can be measured); otherwise the measured rate, with a
        :class:`~gazekit.errors.GazekitWarning`. None when neither is known.
    """
    import warnings

    from gazekit.errors import GazekitWarning

    measured = measured_rate_hz(t_ms)
    if not declared_hz or measured is None:
        return float(declared_hz) if declared_hz else measured
    declared = float(declared_hz)
    if abs(measured - declared) <= tolerance * declared:
        return declared
    where = f"{source}: " if source is not None else ""
    warnings.warn(
        f"{where}declared sampling rate {declared:g} Hz, but the timestamps step "
        f"{1000.0 / measured:.3g} ms ({measured:g} Hz); using {measured:g} Hz",
        GazekitWarning,
        stacklevel=2,
    )
    return measured
