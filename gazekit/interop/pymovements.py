"""A :class:`~gazekit.recording.Recording` to and from a :class:`pymovements.Gaze`.

pymovements keeps gaze as list columns: ``pixel`` (screen pixels, origin at the upper-left
corner; 2 components for one eye, 4 for left+right, 6 for left+right+cyclopean),
``position`` (degrees of visual angle) and ``velocity`` (deg/s), with the screen and the
sampling rate in its :class:`pymovements.Experiment`, and events as ``name``/``onset``/
``offset`` rows whose offset is the time of the event's last sample.

:func:`to_pymovements` writes screen pixels (gazekit's image-frame gaze is mapped back to the
screen with :meth:`~gazekit.geometry.Geometry.image_to_screen`), positions from
:meth:`~gazekit.geometry.Geometry.to_degrees` (gazekit's one px→deg conversion) and
velocities from pymovements' own ``pos2vel`` (its default five-point differentiation).
:func:`from_pymovements` is its inverse: a round trip gives back the same samples and events.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError
from gazekit.geometry import Geometry
from gazekit.io.base import events_table, mean_of_eyes
from gazekit.recording import Recording

log = logging.getLogger(__name__)

_KINDS = ("fixation", "saccade", "pso", "blink")


def _require() -> Any:
    try:
        import polars
        import pymovements
    except ModuleNotFoundError as exc:
        raise InputError(
            f"the pymovements adapter needs {exc.name!r}: pip install 'gazekit-cxr[interop]'"
        ) from None
    return pymovements, polars


def _screen_columns(rec: Recording) -> tuple[list[str], dict[str, np.ndarray]]:
    """pymovements' pixel components (screen px, NaN where invalid) in its order."""
    s, g = rec.samples, rec.geometry
    valid = s["valid"].to_numpy(bool)

    def screen(xc: str, yc: str, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        x, y = s[xc].to_numpy(np.float64), s[yc].to_numpy(np.float64)
        if mask is not None:
            x, y = np.where(mask, x, np.nan), np.where(mask, y, np.nan)
        return g.image_to_screen(x, y) if g.frame == "image" else (x, y)

    cols: dict[str, np.ndarray] = {}
    names: list[str] = []
    if "x_left_px" in s and "x_right_px" in s:
        for eye in ("left", "right"):
            cols[f"x_{eye}_pix"], cols[f"y_{eye}_pix"] = screen(f"x_{eye}_px", f"y_{eye}_px", None)
            names += [f"x_{eye}_pix", f"y_{eye}_pix"]
    cols["x_pix"], cols["y_pix"] = screen("x_px", "y_px", valid)
    names += ["x_pix", "y_pix"]
    return names, cols


def to_pymovements(recording: Recording, *, events: bool = True) -> Any:
    """A :class:`pymovements.Gaze` of the recording.

    Parameters
    ----------
    recording : Recording
    events : bool
        Attach the recording's events (``fixation``/``saccade``/``pso``/``blink`` names,
        with ``source``/``method``/``eye`` columns).

    Returns
    -------
    pymovements.Gaze
        ``time`` (ms, from the recording start), ``pixel`` (screen px), ``pupil``, and,
        when the viewing geometry is known, ``position`` (deg) and ``velocity`` (deg/s).

    Raises
    ------
    InputError
        When pymovements is not installed.
    """
    pm, pl = _require()
    rec, g = recording, recording.geometry
    names, cols = _screen_columns(rec)
    frame = {"time": rec.samples["t_ms"].to_numpy(np.float64), **cols}
    if "pupil" in rec.samples:
        frame["pupil"] = rec.samples["pupil"].to_numpy(np.float64)
    experiment = None
    if g.screen_w_px is not None and g.screen_h_px is not None:
        cm = {
            "screen_width_cm": g.screen_w_mm / 10.0 if g.screen_w_mm is not None else None,
            "screen_height_cm": g.screen_h_mm / 10.0 if g.screen_h_mm is not None else None,
            "distance_cm": g.viewing_distance_mm / 10.0 if g.viewing_distance_mm else None,
        }
        experiment = pm.Experiment(
            screen_width_px=int(g.screen_w_px),
            screen_height_px=int(g.screen_h_px),
            origin="upper left",
            sampling_rate=rec.sampling_rate_hz,
            **cm,
        )
    position: list[str] | None = None
    if g.has_degrees:
        screen = Geometry.from_dict({**g.to_dict(), "frame": "screen"})
        position = []
        for xc, yc in zip(names[::2], names[1::2], strict=True):
            px, py = xc.replace("_pix", "_pos"), yc.replace("_pix", "_pos")
            frame[px], frame[py] = screen.to_degrees(frame[xc], frame[yc])
            position += [px, py]
    pm_events = None
    if events and rec.events is not None and len(rec.events):
        pm_events = _to_pm_events(pm, pl, rec)
    gaze = pm.Gaze(
        pl.DataFrame(
            {
                k: (v if k == "time" else np.where(np.isfinite(v), v, np.nan))
                for k, v in frame.items()
            }
        ).fill_nan(None),
        experiment=experiment,
        events=pm_events,
        time_column="time",
        time_unit="ms",
        pixel_columns=names,
        position_columns=position,
    )
    if position is not None and rec.sampling_rate_hz:
        gaze.pos2vel()
    return gaze


def _to_pm_events(pm: Any, pl: Any, rec: Recording) -> Any:
    ev = rec.events
    ev = ev[ev["event"].isin(_KINDS)]
    dt = 1000.0 / float(rec.sampling_rate_hz or 1000.0)
    data = pl.DataFrame(
        {
            "name": ev["event"].astype(str).to_numpy(),
            "onset": ev["onset_ms"].to_numpy(np.float64),
            "offset": ev["offset_ms"].to_numpy(np.float64) - dt,
            "source": ev["source"].astype(object).to_numpy(),
            "method": ev["method"].astype(object).where(ev["method"].notna(), None).to_numpy(),
            "eye": ev["eye"].astype(object).where(ev["eye"].notna(), None).to_numpy(),
        }
    )
    return pm.Events(data=data)


def from_pymovements(
    gaze: Any,
    *,
    recording_id: str,
    corpus: str = "pymovements",
    image_id: str | None = None,
    reader_id: str | None = None,
    geometry: Geometry | None = None,
    event_source: str = "detected",
    event_method: str | None = "pymovements",
) -> Recording:
    """A :class:`~gazekit.recording.Recording` from a :class:`pymovements.Gaze`.

    Parameters
    ----------
    gaze : pymovements.Gaze
        With a ``time`` column in ms and a ``pixel`` column (2, 4 or 6 components) whose
        origin is the screen's upper-left corner or its centre.
    recording_id, corpus, image_id, reader_id : str
    geometry : Geometry, optional
        Viewing geometry in which to store the gaze (e.g. ``frame="image"`` with the
        radiograph's placement); defaults to the screen described by ``gaze.experiment``.
    event_source, event_method : str
        ``source`` and ``method`` of events whose frame has no such columns (pymovements'
        detectors name their events ``fixation``, ``saccade``... without the method; a
        ``<kind>.<method>`` name gives the method).

    Returns
    -------
    Recording
        Samples (per-eye columns for 4- or 6-component gaze) and events.

    Raises
    ------
    InputError
        A gaze without time or pixel columns, in another time unit, or with an origin
        gazekit does not know.
    """
    _require()
    df = gaze.samples
    if "time" not in df.columns or "pixel" not in df.columns:
        raise InputError(f"a Gaze needs 'time' and 'pixel' columns, has {df.columns}")
    exp = gaze.experiment
    screen = exp.screen if exp is not None else None
    geom = geometry or Geometry(
        frame="screen",
        screen_w_px=getattr(screen, "width_px", None),
        screen_h_px=getattr(screen, "height_px", None),
        screen_w_mm=_cm_to_mm(getattr(screen, "width_cm", None)),
        screen_h_mm=_cm_to_mm(getattr(screen, "height_cm", None)),
        viewing_distance_mm=_cm_to_mm(getattr(screen, "distance_cm", None)),
    )
    origin = getattr(screen, "origin", None) or "upper left"
    if origin not in ("upper left", "center"):
        raise InputError(f"pixel origin {origin!r}: gazekit reads 'upper left' or 'center'")
    pix = np.asarray(df["pixel"].to_list(), dtype=np.float64)
    if pix.ndim != 2 or pix.shape[1] not in (2, 4, 6):
        raise InputError(f"pixel column with {pix.shape[1:]} components (expected 2, 4 or 6)")
    if origin == "center":
        pix = pix + np.tile([geom.screen_w_px / 2.0, geom.screen_h_px / 2.0], pix.shape[1] // 2)

    def stored(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return geom.screen_to_image(x, y) if geom.frame == "image" else (x, y)

    cols: dict[str, Any] = {"t_ms": df["time"].to_numpy().astype(np.float64)}
    if pix.shape[1] >= 4:
        cols["x_left_px"], cols["y_left_px"] = stored(pix[:, 0], pix[:, 1])
        cols["x_right_px"], cols["y_right_px"] = stored(pix[:, 2], pix[:, 3])
    if pix.shape[1] == 4:
        x = mean_of_eyes(cols["x_left_px"], cols["x_right_px"])
        y = mean_of_eyes(cols["y_left_px"], cols["y_right_px"])
    else:
        x, y = stored(pix[:, -2], pix[:, -1])
    cols["x_px"], cols["y_px"] = x, y
    n = len(x)
    cols["pupil"] = (
        df["pupil"].to_numpy().astype(np.float64) if "pupil" in df.columns else np.full(n, np.nan)
    )
    cols["valid"] = np.isfinite(x) & np.isfinite(y)
    rate = float(exp.sampling_rate) if exp is not None and exp.sampling_rate else None
    samples = pd.DataFrame(cols)
    order = [
        "t_ms",
        "x_px",
        "y_px",
        "pupil",
        "valid",
        "x_left_px",
        "y_left_px",
        "x_right_px",
        "y_right_px",
    ]
    samples = samples[[c for c in order if c in samples]]
    events = _from_pm_events(gaze, recording_id, rate, event_source, event_method)
    return Recording(
        recording_id=recording_id,
        samples=samples,
        geometry=geom,
        corpus=corpus,
        source_file="pymovements.Gaze",
        source_format="pymovements",
        sampling_rate_hz=rate,
        image_id=image_id,
        reader_id=reader_id,
        events=events,
        extra={"eyes": ["left", "right"]} if pix.shape[1] >= 4 else {},
    )


def _cm_to_mm(v: float | None) -> float | None:
    return None if v is None else round(float(v) * 10.0, 9)


def _from_pm_events(
    gaze: Any, rid: str, rate: float | None, source: str, method: str | None
) -> pd.DataFrame | None:
    ev = gaze.events.frame if gaze.events is not None else None
    if ev is None or ev.height == 0:
        return None
    names = [str(n).split(".")[0] for n in ev["name"].to_list()]
    keep = np.array([n in _KINDS for n in names])
    if not keep.any():
        return None
    dt = 1000.0 / rate if rate else 0.0
    onset = ev["onset"].to_numpy().astype(np.float64)[keep]
    offset = ev["offset"].to_numpy().astype(np.float64)[keep] + dt

    def col(name: str, default: Any) -> Any:
        return ev[name].to_numpy()[keep] if name in ev.columns else default

    # pymovements names detected events "<kind>.<method>" (e.g. "fixation.ivt")
    suffix = [str(n).split(".", 1)[1] if "." in str(n) else method for n in ev["name"].to_list()]
    method_default = np.array(suffix, dtype=object)[keep]
    rows = pd.DataFrame(
        {
            "recording_id": rid,
            "event": np.array(names, dtype=object)[keep],
            "source": col("source", source),
            "method": col("method", method_default),
            "eye": col("eye", None),
            "onset_ms": onset,
            "offset_ms": offset,
            "duration_ms": offset - onset,
        }
    )
    return events_table(rows)
