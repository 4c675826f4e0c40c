"""SR Research EyeLink ``.edf`` files, read directly (no ``edf2asc``).

An optional extra (``pip install 'gazekit-cxr[edf]'``): the file is parsed by SR Research's
EDF access library as the ``eyelinkio`` package ships it (``libedfapi`` and its ctypes
bindings), walking the file's samples, events and messages in order. ``eyelinkio``'s own
``read_edf`` is not used because it renumbers the samples ``0, 1/rate, 2/rate, ...``,
which drops the tracker clock and the gaps between recording blocks that the ASC reader keeps.

What the EDF gives is turned into what ``edf2asc`` prints, and the rest is the ASC reader's
code (:func:`gazekit.io.eyelink.build_recording`), so both readers give the same recording
for the same file:

* samples: tracker time (ms, +0.5 when the sample flags say so), gaze and pupil of each
  recorded eye, rounded to 0.1 as ``edf2asc`` prints them (EyeLink stores gaze in 0.1 px
  steps; ``1e8`` marks missing gaze, 0 a missing pupil);
* ``SAMPLES`` lines from each recording block's rate and eyes;
* ``EFIX``/``ESACC``/``EBLINK`` lines from the end-of-event records, the saccade amplitude
  computed as ``edf2asc`` does from the gaze resolution at the saccade's start and end
  (``supd``/``eupd``, px per degree): ``sqrt((dx / mean_x_res)^2 + (dy / mean_y_res)^2)``;
* messages as ``MSG`` lines (``DISPLAY_COORDS``, ``RECCFG``, ``!V IMGLOAD``,
  ``!V TRIAL_VAR`` are read as in ASC files).

Errors name the file and, for samples, the sample index ("line" ``k`` is the k-th sample).
"""

from __future__ import annotations

import ctypes
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from gazekit.errors import InputError
from gazekit.io.base import READERS
from gazekit.io.eyelink import _header, build_recording
from gazekit.recording import Recording

log = logging.getLogger(__name__)

_MISSING_GAZE = 1e8 - 1  # EDF float data: MISSING_DATA is 1e8
_EYES = {0: ["LEFT"], 1: ["RIGHT"], 2: ["LEFT", "RIGHT"]}
_EYE_LETTER = {0: "L", 1: "R"}


def _api() -> tuple[Any, Any]:
    """The ctypes bindings and constants of the EDF access library (from ``eyelinkio``)."""
    try:
        from eyelinkio.edf import _defines, _edf2py
    except ModuleNotFoundError:
        raise InputError(
            "reading .edf files needs the 'eyelinkio' package: pip install 'gazekit-cxr[edf]' "
            "(or convert with SR Research's edf2asc and read the .asc file)"
        ) from None
    return _edf2py, _defines


def _num(v: float, fmt: str) -> str:
    return "." if not np.isfinite(v) or abs(v) >= _MISSING_GAZE else fmt % v


def _event_line(kind: str, fe: Any) -> str | None:
    """The line ``edf2asc`` prints for an end-of-event record."""
    eye = _EYE_LETTER.get(int(fe.eye))
    if eye is None:
        return None
    st, en = int(fe.sttime), int(fe.entime)
    dur = en - st + 1
    if kind == "ENDFIX":
        return (
            f"EFIX {eye}   {st}\t{en}\t{dur}\t{_num(fe.gavx, '%.1f')}\t"
            f"{_num(fe.gavy, '%.1f')}\t{_num(fe.ava, '%.0f')}"
        )
    if kind == "ENDSACC":
        sx, sy, ex, ey = fe.gstx, fe.gsty, fe.genx, fe.geny
        rx, ry = (fe.supd_x + fe.eupd_x) / 2.0, (fe.supd_y + fe.eupd_y) / 2.0
        ok = all(abs(v) < _MISSING_GAZE for v in (sx, sy, ex, ey)) and rx > 0 and ry > 0
        ampl = float(np.hypot((ex - sx) / rx, (ey - sy) / ry)) if ok else float("nan")
        return (
            f"ESACC {eye}  {st}\t{en}\t{dur}\t{_num(sx, '%.1f')}\t{_num(sy, '%.1f')}\t"
            f"{_num(ex, '%.1f')}\t{_num(ey, '%.1f')}\t{_num(ampl, '%.2f')}\t"
            f"{_num(fe.pvel, '%.0f')}"
        )
    if kind == "ENDBLINK":
        return f"EBLINK {eye} {st}\t{en}\t{dur}"
    return None


def _check_preamble(path: Path) -> None:
    """Refuse a file whose text preamble is cut short (the EDF library crashes on it)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(1 << 16)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc})", path=path) from None
    if not head.startswith(b"SR_RESEARCH"):
        raise InputError("not an EDF file (no SR_RESEARCH preamble)", path=path, line=1)
    end = head.find(b"\nENDP:")
    if end < 0 or len(head) <= end + len(b"\nENDP:\n"):
        raise InputError("truncated EDF file: the preamble has no end (ENDP:)", path=path)


def _walk(path: Path) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """Samples (per column), ``SAMPLES`` header lines and event/message lines of an EDF."""
    _check_preamble(path)
    edf2py, defines = _api()
    names = {v: k for k, v in defines.event_constants.items()}
    err = ctypes.c_int(0)
    fid = edf2py.edf_open_file(os.fsencode(path.resolve()), 2, 1, 1, ctypes.byref(err))
    if not fid or err.value != 0:
        raise InputError(f"not a readable EDF file (EDF API error {err.value})", path=path)
    header: list[str] = []
    lines: list[str] = []
    eyes: list[str] | None = None
    add_offset = False
    size = ctypes.sizeof(edf2py.FSAMPLE)
    raw_samples: list[bytes] = []  # each sample record copied whole, decoded at the end
    try:
        while True:
            kind = names.get(edf2py.edf_get_next_data(fid))
            if kind == "SAMPLE_TYPE":
                raw_samples.append(ctypes.string_at(edf2py.edf_get_float_data(fid), size))
            elif kind == "NO_PENDING_ITEMS" or kind is None:
                break
            elif kind == "RECORDING_INFO":
                rec = edf2py.edf_get_float_data(fid).contents.rec
                if rec.state == 0:
                    continue
                block_eyes = _EYES.get(int(rec.eye) - 1)  # 1 left, 2 right, 3 binocular
                if block_eyes is None:
                    raise InputError(f"unknown recorded eye code {rec.eye}", path=path)
                if eyes is not None and block_eyes != eyes:
                    raise InputError("recording blocks record different eyes", path=path)
                eyes = block_eyes
                add_offset = bool(rec.sflags & defines.SAMPLE_ADD_OFFSET)
                header.append(
                    "SAMPLES\tGAZE\t" + "\t".join(eyes) + f"\tRATE\t{rec.sample_rate:.2f}"
                )
            elif kind == "MESSAGEEVENT":
                fe = edf2py.edf_get_float_data(fid).contents.fe
                n = fe.message.contents.len
                raw = ctypes.string_at(ctypes.byref(fe.message[0]), n + 1)[2:]
                text = raw.split(b"\x00", 1)[0].decode("utf-8", "replace").replace("\n", " ")
                lines.append(f"MSG\t{int(fe.sttime)} {text.strip()}")
            elif kind in ("ENDFIX", "ENDSACC", "ENDBLINK"):
                line = _event_line(kind, edf2py.edf_get_float_data(fid).contents.fe)
                if line is not None:
                    lines.append(line)
    finally:
        edf2py.edf_close_file(fid)
    rec_dtype = np.dtype(edf2py.FSAMPLE)
    arr = np.frombuffer(b"".join(raw_samples), dtype=rec_dtype)
    del raw_samples
    cols: dict[str, np.ndarray] = {
        "t": arr["time"].astype(np.float64) + (0.5 if add_offset else 0.0)
    }
    for e in eyes or []:
        i = 0 if e == "LEFT" else 1
        cols[f"x_{e}"], cols[f"y_{e}"], cols[f"p_{e}"] = (
            arr["gx"][:, i],
            arr["gy"][:, i],
            arr["pa"][:, i],
        )
    return cols, header, lines


def _table(cols: dict[str, np.ndarray]) -> pa.Table:
    out: dict[str, np.ndarray] = {"t": np.asarray(cols["t"], dtype=np.float64)}
    for name, values in cols.items():
        if name == "t":
            continue
        v = np.asarray(values, dtype=np.float32).astype(np.float64)
        if name.startswith("p_"):
            v = np.where(v > 0, np.round(v, 1), 0.0)
        else:
            v = np.where(np.abs(v) < _MISSING_GAZE, np.round(v, 1), np.nan)
        out[name] = v
    return pa.table(out)


class EDFReader:
    """Reader of EyeLink ``.edf`` files (see the module docstring)."""

    name = "edf"

    def sniff(self, path: Path) -> bool:
        """An EDF file: the ``SR_RESEARCH`` preamble at the top."""
        if path.is_dir():
            return False
        try:
            with open(path, "rb") as fh:
                head = fh.read(64)
        except OSError:
            return False
        return head.startswith(b"SR_RESEARCH")

    def read(self, path: Path, **options: Any) -> list[Recording]:
        """Read one EDF file into one recording (as the ASC reader reads its ``edf2asc`` output)."""
        path = Path(path)
        cols, header, lines = _walk(path)
        if not len(cols["t"]):
            raise InputError("no samples in the EDF file (recorded events only?)", path=path)
        others = [(i + 1, text) for i, text in enumerate(header + lines)]
        h = _header(others, path)
        table = _table(cols)
        rec = build_recording(path, h, table, others, 1, "edf", options)
        log.info("%s: %d samples, %d event/message lines", path.name, table.num_rows, len(lines))
        return [rec]


READERS.add("edf", EDFReader())
