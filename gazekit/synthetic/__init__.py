"""Synthetic chest X-ray reading sessions with complete ground truth.

A phantom radiograph with anatomy masks and findings (:mod:`.phantom`,
:mod:`.findings`), a reader who scans it under the seq/explore/hybrid strategies
(:mod:`.reader`), eye movements with main-sequence saccades, PSO, drift, tremor
and blinks (:mod:`.oculomotor`), a 60 Hz Gazepoint-like or 1000 Hz EyeLink-like
tracker (:mod:`.tracker`), timed dictation (:mod:`.transcript`), and the
session/corpus API and file export (:mod:`.session`, :mod:`.export`).

Examples
--------
>>> from gazekit.synthetic import simulate_session
>>> s = simulate_session(seed=1, tracker="eyelink", strategy="hybrid", image_size=256)
>>> s.recording.sampling_rate_hz
1000.0
>>> sorted(s.truth["phase"].unique())[:2]
['review', 'scan']
"""

from __future__ import annotations

from gazekit.synthetic.oculomotor import LABELS, EyeTrace, OculomotorParams
from gazekit.synthetic.reader import CHECKLIST, STRATEGIES, ReaderStyle
from gazekit.synthetic.session import (
    Session,
    SyntheticImage,
    display_geometry,
    simulate_corpus,
    simulate_image,
    simulate_session,
)
from gazekit.synthetic.tracker import TRACKERS, TrackerProfile

__all__ = [
    "CHECKLIST",
    "LABELS",
    "STRATEGIES",
    "TRACKERS",
    "EyeTrace",
    "OculomotorParams",
    "ReaderStyle",
    "Session",
    "SyntheticImage",
    "TrackerProfile",
    "display_geometry",
    "simulate_corpus",
    "simulate_image",
    "simulate_session",
]
