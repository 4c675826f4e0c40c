"""What the BIDS reader and writer share: label mapping, id checks and column vocabularies."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import PurePosixPath, PureWindowsPath

from gazekit.errors import InputError

#: BIDS version the files follow (eye tracking as ``physio`` with ``PhysioType: eyetrack``).
BIDS_VERSION = "1.11.1"

#: physioevents ``trial_type`` levels: gazekit's event kinds.
TRIAL_TYPES = {
    "fixation": "Fixation.",
    "saccade": "Saccade.",
    "pso": "Post-saccadic oscillation (glissade).",
    "blink": "Blink (the eye closed or the pupil lost).",
}

#: Descriptions of the detection methods gazekit knows.
METHODS = {
    "eyelink": "The EyeLink tracker's online parser (EFIX/ESACC/EBLINK).",
    "gazepoint": "The Gazepoint tracker's fixation filter.",
    "tobii-ivt": "Tobii Pro Lab's I-VT filter.",
    "ivt": "gazekit velocity-threshold identification (I-VT).",
    "idt": "gazekit dispersion-threshold identification (I-DT).",
    "adaptive": "gazekit adaptive velocity threshold with PSO (Nystrom and Holmqvist 2010).",
}

#: physioevents position columns (prefix of ``x_coordinate``/``y_coordinate``) → events columns.
EVENT_POSITIONS = {
    "": ("x_px", "y_px"),
    "start_": ("start_x_px", "start_y_px"),
    "end_": ("end_x_px", "end_y_px"),
}

#: Further events columns written as they are: name → (description, BIDS unit).
EVENT_NUMERIC = {
    "dispersion_px": ("Dispersion (x range + y range) in the {frame}.", "pixel"),
    "dispersion_deg": ("Dispersion in visual angle.", "degree"),
    "amplitude_px": ("Distance from start to end position in the {frame}.", "pixel"),
    "amplitude_deg": ("Amplitude in visual angle.", "degree"),
    "peak_velocity_deg_s": ("Peak angular velocity.", "degree/s"),
    "mean_velocity_deg_s": ("Mean angular velocity.", "degree/s"),
}

#: events.tsv columns of the radiograph's placement → :class:`~gazekit.geometry.Geometry` fields.
PLACEMENT_COLUMNS = {
    "image_width": "image_w_px",
    "image_height": "image_h_px",
    "display_left": "image_left_px",
    "display_top": "image_top_px",
    "display_width": "image_disp_w_px",
    "display_height": "image_disp_h_px",
}


#: ``Recording.extra["calibration"][eye]`` keys (the EyeLink readers fill them) → BIDS fields.
CALIBRATION_FIELDS = {
    "type": "CalibrationType",
    "count": "CalibrationCount",
    "avg_error_deg": "AverageCalibrationError",
    "max_error_deg": "MaximalCalibrationError",
}


def check_id(value: str, what: str = "id") -> str:
    """Refuse an id that could name a path outside the folder it is written into.

    Parameters
    ----------
    value : str
    what : str
        What the id is, for the message.

    Returns
    -------
    str
        ``value`` unchanged.

    Raises
    ------
    InputError
        When ``value`` is empty, contains ``/``, ``\\``, ``..`` or NUL, or is absolute.
    """
    text = str(value)
    bad = [s for s in ("/", "\\", "..", "\x00") if s in text]
    if not text or bad or PurePosixPath(text).is_absolute() or PureWindowsPath(text).is_absolute():
        why = f"contains {bad[0]!r}" if bad else ("is empty" if not text else "is absolute")
        raise InputError(f"{what} {text!r} {why}: refusing a name that can leave the output folder")
    return text


def _hash8(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()[:8]


def bids_labels(ids: Iterable[str | None]) -> dict[str | None, str]:
    """Deterministic BIDS labels (letters and digits) for ids.

    An id keeps its letters and digits (``"R-01"`` → ``"R01"``); when that is empty, or two
    different ids would share a label, the label gets the first 8 hex digits of the id's
    SHA-1. ``None`` (an unknown reader) is ``"unknown"``. The result depends only on the set
    of ids, not their order.

    Parameters
    ----------
    ids : iterable of str or None

    Returns
    -------
    dict
        id → label.

    Examples
    --------
    >>> bids_labels(["R1", "R-2"]) == {"R1": "R1", "R-2": "R2"}
    True
    >>> bids_labels(["a-1", "a_1"])["a-1"] != bids_labels(["a-1", "a_1"])["a_1"]
    True
    """
    unique = sorted(set(ids), key=lambda v: (v is None, v or ""))
    base = {v: re.sub(r"[^A-Za-z0-9]", "", v) if v is not None else "unknown" for v in unique}
    counts = Counter(base.values())
    out: dict[str | None, str] = {}
    for v in unique:
        b = base[v]
        if not b:
            out[v] = "id" + _hash8(v or "")
        elif counts[b] > 1:
            out[v] = b + _hash8(v if v is not None else "\x00unknown")
        else:
            out[v] = b
    if len(set(out.values())) != len(out):
        raise InputError(f"ids {unique} do not map to distinct BIDS labels")
    return out
