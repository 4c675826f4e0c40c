"""Which events a statistic is computed from: one source, one method, one eye.

An ``events`` table may hold the fixations reported by the tracker (``source="tracker"``)
beside those gazekit detected (``source="detected"``), detected fixations of several
methods (``ivt`` and ``idt`` run into the same dataset), and, for binocular EyeLink
files, one fixation per eye. Each of these is a complete description of the same
viewing time, so a sum over the whole table counts that time two or three times (a
15 s reading with 23 s of dwell). Every reader of events in gazekit (heatmaps, region
statistics, intent labels, model corpora, the pipeline) therefore goes through
:func:`select_events`, which keeps exactly one ``(source, method, eye)``:

* ``source``: ``"detected"`` or ``"tracker"`` chosen explicitly, or ``"auto"`` — the
  documented default — which takes gazekit's detected events when the table has any
  and the tracker's otherwise. Detected events come first because their algorithm and
  parameters are recorded with them and are the same for every input format, so
  corpora recorded on different trackers stay comparable;
* ``method``: required when the chosen source holds more than one method; otherwise
  the one present;
* ``eye``: required when the chosen source and method hold more than one eye (a
  binocular EyeLink file reports each fixation once per eye).

An ambiguous choice is an :class:`~gazekit.errors.InputError` that lists what the
table holds and the option to pass; nothing is pooled silently. The chosen triple is
returned as a :class:`Selection`, which the callers write into their outputs'
metadata.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from gazekit.errors import GazekitWarning, InputError

log = logging.getLogger(__name__)

#: Accepted values of ``source``; ``auto`` is detected-if-any-else-tracker.
SOURCES: tuple[str, ...] = ("auto", "detected", "tracker")


@dataclass(frozen=True)
class Selection:
    """The events a result was computed from.

    Attributes
    ----------
    source : str or None
        ``detected`` or ``tracker``; None when the table has no such column (a plain
        fixation list) or no events of the requested type.
    method : str or None
        Detector or tracker name.
    eye : str or None
        ``left``, ``right`` or ``both``.
    """

    source: str | None = None
    method: str | None = None
    eye: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """``{"source": ..., "method": ..., "eye": ...}`` for output metadata."""
        return asdict(self)

    def describe(self) -> str:
        """Short text, e.g. ``detected/ivt (both eyes)``."""
        if self.source is None:
            return "all rows (no source column)"
        text = f"{self.source}/{self.method}"
        return f"{text} ({self.eye} eye{'s' if self.eye == 'both' else ''})" if self.eye else text


def _distinct(col: pd.Series) -> list[str]:
    return sorted(str(v) for v in col.dropna().unique())


def _choose(values: list[str], given: str | None, what: str, option: str, where: str) -> str | None:
    where = f"{where} " if where else ""
    if given is not None:
        if given not in values:
            raise InputError(
                f"no {where}events with {what} {given!r} (present: {', '.join(values) or 'none'})"
            )
        return given
    if len(values) > 1:
        raise InputError(
            f"the {where}events hold several {what}s ({', '.join(values)}); pooling them "
            f"would count the same viewing time more than once: choose one with {option}"
        )
    return values[0] if values else None


def select_events(
    events: pd.DataFrame,
    source: str = "auto",
    method: str | None = None,
    eye: str | None = None,
    *,
    event: str | None = "fixation",
    require: bool = False,
) -> tuple[pd.DataFrame, Selection]:
    """Rows of exactly one source, method and eye (see the module docstring).

    Parameters
    ----------
    events : DataFrame
        ``events`` table (many recordings allowed). A table without ``source``/``method``
        columns (a plain fixation list) is taken as one selection.
    source : {"auto", "detected", "tracker"}
        ``auto``: detected events if the table has any, else the tracker's.
    method : str, optional
        Detector or tracker name; needed when the chosen source holds several.
    eye : str, optional
        ``left``, ``right`` or ``both``; needed when several are present.
    event : str or None
        Keep only this event type (``fixation``); None keeps every type.
    require : bool
        Raise when no event of type ``event`` is present at all (instead of returning
        an empty table), telling the user to run ``gazekit events``.

    Returns
    -------
    rows : DataFrame
        The selected rows, index reset.
    selection : Selection

    Raises
    ------
    InputError
        Unknown source, a requested source/method/eye that is absent, an ambiguous
        choice, or (with ``require``) no events.
    """
    if source not in SOURCES:
        raise InputError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    rows = events
    if event is not None and "event" in rows.columns:
        rows = rows[rows["event"] == event]
    if not len(rows):
        if require:
            raise InputError(
                f"no {event or 'event'}s in the events table: run `gazekit events` first "
                "(or pass a dataset whose tracker reported them)"
            )
        return rows.reset_index(drop=True), Selection()
    if "source" not in rows.columns:
        if source != "auto" or method is not None:
            raise InputError(
                "the events table has no 'source' column, so source/method cannot be chosen"
            )
        return rows.reset_index(drop=True), Selection()
    sources = _distinct(rows["source"])
    if source == "auto":
        pool = rows if method is None else rows[rows["method"] == method]
        having = _distinct(pool["source"])
        if not having:
            methods = ", ".join(_distinct(rows["method"]))
            raise InputError(f"no events with method {method!r} (present: {methods})")
        chosen = "detected" if "detected" in having else having[0]
    else:
        chosen = _choose(sources, source, "source", "source=", "")
    rows = rows[rows["source"] == chosen]
    where = f"{chosen}"
    m = _choose(_distinct(rows["method"]), method, "method", "method= (--method)", where)
    if m is not None:
        rows = rows[rows["method"] == m]
    e = None
    if "eye" in rows.columns:
        e = _choose(_distinct(rows["eye"]), eye, "eye", "eye= (--eye)", f"{where}/{m}")
        if e is not None:
            rows = rows[rows["eye"] == e]
    sel = Selection(chosen, m, e)
    _warn_uncovered(events, rows, sel, event)
    log.info("events selected: %s (%d rows)", sel.describe(), len(rows))
    return rows.reset_index(drop=True), sel


def _warn_uncovered(
    events: pd.DataFrame, rows: pd.DataFrame, sel: Selection, event: str | None
) -> None:
    """Warn about recordings that have events, but none of the selected kind."""
    if "recording_id" not in events.columns:
        return
    ev = events if event is None or "event" not in events else events[events["event"] == event]
    missing = sorted(set(ev["recording_id"].astype(str)) - set(rows["recording_id"].astype(str)))
    if missing:
        warnings.warn(
            f"{len(missing)} recording(s) have {event or 'event'}s but none from "
            f"{sel.describe()} (e.g. {missing[0]!r}); they count as having none. "
            "Run the same detector on every recording, or choose another source.",
            GazekitWarning,
            stacklevel=3,
        )


def check_single_selection(events: pd.DataFrame, what: str = "fixation table") -> None:
    """Refuse a table whose fixations mix sources, methods or eyes.

    Library functions that take a fixation table (heatmaps, region statistics) call
    this, so a table passed straight from ``events.parquet`` is not pooled.

    Parameters
    ----------
    events : DataFrame
        Rows to check; tables without ``source``/``method``/``eye`` columns pass.
    what : str
        Named in the message.

    Raises
    ------
    InputError
        Naming the distinct values and :func:`select_events` as the way out.
    """
    rows = events[events["event"] == "fixation"] if "event" in events.columns else events
    for col in ("source", "method", "eye"):
        if col in rows.columns and rows[col].nunique(dropna=True) > 1:
            raise InputError(
                f"the {what} mixes several {col}s ({', '.join(_distinct(rows[col]))}); pick "
                "one with gazekit.io.selection.select_events (CLI: --source/--method/--eye)",
                column=col,
            )
