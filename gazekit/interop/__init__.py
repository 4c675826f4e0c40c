"""Adapters to the analysis libraries eye-tracking researchers use: pymovements and MNE.

Optional extras (``pip install 'gazekit-cxr[interop]'``): nothing here is imported by
``import gazekit``, and each adapter imports its library only when called.

Examples
--------
>>> from gazekit.interop import to_pymovements  # doctest: +SKIP
>>> gaze = to_pymovements(recording)  # pymovements.Gaze with pixel/position/velocity  # doctest: +SKIP
>>> raw = to_mne(recording)  # mne.io.RawArray with eyegaze/pupil channels  # doctest: +SKIP
"""

from __future__ import annotations

from gazekit.interop.mne import to_mne
from gazekit.interop.pymovements import from_pymovements, to_pymovements

__all__ = ["from_pymovements", "to_mne", "to_pymovements"]
