"""The in-memory recording: samples plus everything known about how they were taken."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gazekit.geometry import Geometry


@dataclass
class Recording:
    """One eye-tracking recording of one reader viewing one image.

    Attributes
    ----------
    recording_id : str
    samples : pandas.DataFrame
        Columns of the ``samples`` schema (``t_ms`` from recording start, ``x_px``,
        ``y_px`` in ``geometry.frame``, ``pupil``, ``valid``, optional per-eye columns).
    geometry : Geometry
    corpus, source_file, source_format : str
    sampling_rate_hz : float or None
    image_id, reader_id : str or None
    events : pandas.DataFrame or None
        Tracker-reported events (``events`` schema, ``source="tracker"``).
    transcript : pandas.DataFrame or None
        ``transcripts`` schema.
    findings : pandas.DataFrame or None
        ``findings`` schema.
    t0 : float
        Source clock time (ms) of ``t_ms == 0``, kept for traceability.
    target : str or None
        Search target of a visual-search recording (a finding of :mod:`gazekit.vocab`).
    split : str or None
        Data split assigned by the source (``train``, ``valid``, ``test``).
    fixation_only : bool
        The source holds fixations only (``events``, ``source="tracker"``) and no
        samples; stages that need samples refuse the recording.
    extra : dict
        Further provenance (stored in Parquet metadata).
    pupil_unit : str or None
        Unit of the ``pupil`` columns as the source reports them (``mm`` diameter,
        ``arbitrary`` EyeLink area/diameter units, ``normalised area``, ...); ``unknown``
        when the source does not say; None when the recording has no pupil values.
        Readers fill it (an ``extra["pupil_unit"]`` entry is moved here); it goes into
        the ``recordings`` table, so datasets in different units are not pooled.
    """

    recording_id: str
    samples: pd.DataFrame
    geometry: Geometry
    corpus: str
    source_file: str
    source_format: str
    sampling_rate_hz: float | None = None
    image_id: str | None = None
    reader_id: str | None = None
    events: pd.DataFrame | None = None
    transcript: pd.DataFrame | None = None
    findings: pd.DataFrame | None = None
    t0: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    pupil_unit: str | None = None
    target: str | None = None
    split: str | None = None
    fixation_only: bool = False

    def __post_init__(self) -> None:
        unit = self.extra.get("pupil_unit")
        if unit is not None:
            self.extra = {k: v for k, v in self.extra.items() if k != "pupil_unit"}
            if self.pupil_unit is None:
                self.pupil_unit = str(unit)
        if self.extra.get("fixation_only"):  # readers that mark it in their provenance
            self.extra = {k: v for k, v in self.extra.items() if k != "fixation_only"}
            self.fixation_only = True

    def metadata(self) -> dict[str, Any]:
        """One row of the ``recordings`` table, as a dict."""
        t = self.samples["t_ms"].to_numpy() if len(self.samples) else np.zeros(0)
        row: dict[str, Any] = {
            "recording_id": self.recording_id,
            "corpus": self.corpus,
            "image_id": self.image_id,
            "reader_id": self.reader_id,
            "source_file": self.source_file,
            "source_format": self.source_format,
            "sampling_rate_hz": self.sampling_rate_hz,
            "n_samples": len(self.samples),
            "duration_ms": float(t[-1] - t[0]) if len(t) else self._fixation_span_ms(),
            "pupil_unit": self.pupil_unit,
            "session_id": None
            if self.extra.get("session_id") is None
            else str(self.extra["session_id"]),
            "fixation_only": self.fixation_only,
            "target": self.target,
            "split": self.split,
        }
        row.update(self.geometry.to_dict())
        return row

    def _fixation_span_ms(self) -> float:
        """First fixation onset to last offset (ms), for a fixation-only recording."""
        ev = self.events
        if not self.fixation_only or ev is None or not len(ev):
            return 0.0
        return float(ev["offset_ms"].max() - ev["onset_ms"].min())

    def provenance(self) -> dict[str, Any]:
        """Metadata stored with the samples Parquet file.

        Besides the ``recordings`` row: ``t0_source_ms``, ``extra`` and
        ``measured_rate_hz`` (the rate the timestamps show, beside the
        ``sampling_rate_hz`` used), so a reader can see what the rate choice rested on.
        """
        from gazekit.rate import measured_rate_hz

        t = self.samples["t_ms"].to_numpy() if len(self.samples) else np.zeros(0)
        return {
            **self.metadata(),
            "measured_rate_hz": measured_rate_hz(t),
            "t0_source_ms": self.t0,
            "extra": self.extra,
        }

    @classmethod
    def from_provenance(cls, samples: pd.DataFrame, meta: dict[str, Any]) -> Recording:
        """Rebuild a recording from a samples table and its stored provenance."""
        return cls(
            recording_id=meta["recording_id"],
            samples=samples,
            geometry=Geometry.from_dict(meta),
            corpus=meta["corpus"],
            source_file=meta["source_file"],
            source_format=meta["source_format"],
            sampling_rate_hz=meta.get("sampling_rate_hz"),
            image_id=meta.get("image_id"),
            reader_id=meta.get("reader_id"),
            t0=meta.get("t0_source_ms", 0.0),
            extra=meta.get("extra") or {},
            pupil_unit=meta.get("pupil_unit"),
            target=meta.get("target"),
            split=meta.get("split"),
            fixation_only=bool(meta.get("fixation_only", False)),
        )
