"""A :class:`~gazekit.recording.Recording` as an MNE ``Raw`` with eye-tracking channels.

The channels are named and typed as :func:`mne.io.read_raw_eyelink` makes them:
``xpos_<eye>``/``ypos_<eye>`` (type ``eyegaze``, unit px, screen pixels with the origin at the
upper-left corner) and ``pupil_<eye>`` (type ``pupil``, arbitrary units), set with
:func:`mne.preprocessing.eyetracking.set_channel_types_eyetrack`. A gaze signal that combines
both eyes (MNE knows only left and right) becomes ``xpos``/``ypos``/``pupil`` of the same
types. Samples the tracker lost are NaN, and events are annotations (``fixation``,
``saccade``, ``pso``, and ``BAD_blink`` as MNE's EyeLink reader names blinks).

MNE needs a regular sampling grid. Recordings whose timestamps sit on the grid of their
sampling rate (EyeLink) are placed sample by sample, with NaN in gaps; recordings with a
jittered clock (Gazepoint) are linearly interpolated onto the grid, and a sample is lost
where either neighbour was.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from gazekit.errors import InputError
from gazekit.recording import Recording

log = logging.getLogger(__name__)

_DESCRIPTION = {"fixation": "fixation", "saccade": "saccade", "pso": "pso", "blink": "BAD_blink"}


def _require() -> Any:
    try:
        import mne
    except ModuleNotFoundError:
        raise InputError(
            "the MNE adapter needs 'mne': pip install 'gazekit-cxr[interop]'"
        ) from None
    return mne


def regular_grid(t_ms: np.ndarray, values: np.ndarray, rate_hz: float) -> tuple[np.ndarray, bool]:
    """Values on the regular grid ``t_ms[0] + k / rate_hz``.

    Parameters
    ----------
    t_ms : (N,) ndarray of float64, ms
        Increasing sample times.
    values : (C, N) ndarray of float64
        Channels, NaN where invalid.
    rate_hz : float
        Sampling rate of the grid.

    Returns
    -------
    grid : (C, K) ndarray of float64
        ``K = round((t_ms[-1] - t_ms[0]) * rate / 1000) + 1`` samples.
    exact : bool
        Whether every sample fell on the grid (within 1 % of a sample) and was copied
        unchanged; otherwise the values were linearly interpolated.
    """
    dt = 1000.0 / rate_hz
    pos = (t_ms - t_ms[0]) / dt
    k = np.rint(pos).astype(np.int64)
    n = int(k[-1]) + 1 if len(k) else 0
    grid = np.full((values.shape[0], n), np.nan)
    if len(k) and np.all(np.abs(pos - k) < 0.01) and np.all(np.diff(k) > 0):
        grid[:, k] = values
        return grid, True
    tg = t_ms[0] + np.arange(n) * dt
    for c in range(values.shape[0]):
        v = values[c]
        ok = np.isfinite(v)
        if ok.sum() < 2:
            continue
        out = np.interp(tg, t_ms[ok], v[ok])
        # lost where either neighbouring sample was lost
        right = np.clip(np.searchsorted(t_ms, tg), 0, len(t_ms) - 1)
        left = np.clip(right - 1, 0, len(t_ms) - 1)
        on_sample = np.isclose(t_ms[right], tg)
        good = ok[right] & (ok[left] | on_sample)
        grid[c] = np.where(good, out, np.nan)
    return grid, False


def to_mne(recording: Recording) -> Any:
    """An ``mne.io.RawArray`` of the recording's gaze and pupil.

    Parameters
    ----------
    recording : Recording
        With a sampling rate.

    Returns
    -------
    mne.io.RawArray
        Channels ``xpos_<eye>``, ``ypos_<eye>``, ``pupil_<eye>`` per recorded eye (or
        ``xpos``, ``ypos``, ``pupil`` for a combined gaze), events as annotations.

    Raises
    ------
    InputError
        When MNE is not installed or the sampling rate is unknown.
    """
    mne = _require()
    from mne.preprocessing.eyetracking import set_channel_types_eyetrack

    rec, g = recording, recording.geometry
    if not rec.sampling_rate_hz:
        raise InputError(f"recording {rec.recording_id!r}: MNE needs the sampling rate")
    s = rec.samples
    eyes = [e for e in rec.extra.get("eyes", []) if e in ("left", "right")]
    per_eye = "x_left_px" in s and "x_right_px" in s
    names: list[str] = []
    data: list[np.ndarray] = []
    mapping: dict[str, tuple[str, ...]] = {}

    def add(
        suffix: str, xc: str, yc: str, pc: str, eye: str | None, mask: np.ndarray | None
    ) -> None:
        x, y = s[xc].to_numpy(np.float64), s[yc].to_numpy(np.float64)
        p = s[pc].to_numpy(np.float64) if pc in s else np.full(len(s), np.nan)
        if mask is not None:
            x, y, p = (np.where(mask, v, np.nan) for v in (x, y, p))
        if g.frame == "image":
            x, y = g.image_to_screen(x, y)
        for kind, v in (("xpos", x), ("ypos", y), ("pupil", p)):
            name = f"{kind}{suffix}"
            names.append(name)
            data.append(v)
            if eye is not None:
                mapping[name] = (
                    ("pupil", "au", eye) if kind == "pupil" else ("eyegaze", "px", eye, kind[0])
                )

    valid = s["valid"].to_numpy(bool)
    if per_eye:
        for e in ("left", "right"):
            add(f"_{e}", f"x_{e}_px", f"y_{e}_px", f"pupil_{e}", e, None)
    elif len(eyes) == 1:
        add(f"_{eyes[0]}", "x_px", "y_px", "pupil", eyes[0], valid)
    else:
        add("", "x_px", "y_px", "pupil", None, valid)
    t = s["t_ms"].to_numpy(np.float64)
    grid, exact = regular_grid(t, np.vstack(data), float(rec.sampling_rate_hz))
    if not exact:
        log.info(
            "%s: timestamps are off the %g Hz grid; gaze and pupil interpolated onto it",
            rec.recording_id,
            rec.sampling_rate_hz,
        )
    info = mne.create_info(names, float(rec.sampling_rate_hz), "misc")
    raw = mne.io.RawArray(grid, info, first_samp=0, verbose=False)
    if mapping:
        set_channel_types_eyetrack(raw, mapping)
    else:
        _combined_channels(raw)
    _annotate(mne, raw, rec, float(t[0]), names)
    return raw


def _combined_channels(raw: Any) -> None:
    """Eye-tracking channel kind, coil and unit for a gaze that combines both eyes.

    :func:`mne.preprocessing.eyetracking.set_channel_types_eyetrack` sets these too but
    insists on a left or right eye; here the eye (``loc[3]``) stays NaN.
    """
    from mne.io.constants import FIFF

    for ch in raw.info["chs"]:
        gaze = ch["ch_name"] in ("xpos", "ypos")
        ch["kind"] = FIFF.FIFFV_EYETRACK_CH
        ch["coil_type"] = FIFF.FIFFV_COIL_EYETRACK_POS if gaze else FIFF.FIFFV_COIL_EYETRACK_PUPIL
        ch["unit"] = FIFF.FIFF_UNIT_PX if gaze else FIFF.FIFF_UNIT_NONE
        loc = np.full(12, np.nan)
        if gaze:
            loc[4] = -1.0 if ch["ch_name"] == "xpos" else 1.0
        ch["loc"] = loc


def _annotate(mne: Any, raw: Any, rec: Recording, t_first: float, names: list[str]) -> None:
    ev = rec.events
    if ev is None or not len(ev):
        return
    ev = ev[ev["event"].isin(list(_DESCRIPTION))]
    onset = (ev["onset_ms"].to_numpy(np.float64) - t_first) / 1000.0
    duration = ev["duration_ms"].to_numpy(np.float64) / 1000.0
    desc = [_DESCRIPTION[e] for e in ev["event"]]
    ch: list[tuple[str, ...]] = []
    for e in ev["eye"].astype(object):
        own = tuple(n for n in names if isinstance(e, str) and n.endswith(f"_{e}"))
        ch.append(own)
    raw.set_annotations(
        mne.Annotations(onset=onset, duration=duration, description=desc, ch_names=ch)
    )
