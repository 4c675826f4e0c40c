"""The default stage chain: convert → events → anatomy/heatmaps → intent.

Each stage wraps the public function of its library module, imported when the
stage runs (so ``import gazekit.pipeline`` stays light). A stage is offered by
:func:`default_stage_names` only when its module is installed.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit.pipeline.sources import read_unit
from gazekit.pipeline.stages import ARRAYS, CONVERT_TABLES, STAGES, SourceStage, Stage, StageInput

log = logging.getLogger(__name__)

#: Default chain in order, with the module each stage needs.
DEFAULT_CHAIN: tuple[tuple[str, str], ...] = (
    ("events", "gazekit.events"),
    ("anatomy", "gazekit.heatmaps"),
    ("intent", "gazekit.intent"),
)


def _concat(frames: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return None
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def events_stage(
    inputs: StageInput, *, method: str = "ivt", **params: Any
) -> dict[str, pd.DataFrame]:
    """Detect events with :func:`gazekit.events.detect`.

    The ``events`` table holds the tracker-reported events followed by the detected
    ones (``source="detected"``), like ``events.parquet`` of a flat dataset.
    """
    from gazekit import events

    detected = events.detect(inputs.recording, method=method, **params)
    table = _concat([inputs.tables.get("tracker_events"), detected])
    if table is None:
        table = detected
    return {"events": table}


def _check_events(params: Mapping[str, Any]) -> None:
    """``-p events.*`` against the detector's parameter classes, before any work."""
    from gazekit.events import validate_stage_params

    validate_stage_params(params)


STAGES.add(
    "events",
    Stage(
        "events",
        events_stage,
        {"events": "events"},
        defaults={"method": "ivt"},
        version="2",
        open_params=True,
        check=_check_events,
    ),
)


def convert_stage() -> SourceStage:
    """The default source stage: flat-dataset recordings or :func:`gazekit.io.read`."""
    return SourceStage(func=read_unit)


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def default_stage_names() -> list[str]:
    """Names of the default chain's stages whose library module is available."""
    names = []
    tables = set(CONVERT_TABLES)
    for name, module in DEFAULT_CHAIN:
        if name not in STAGES or not _available(module):
            log.info("default stage %r unavailable (needs %s)", name, module)
            continue
        stage = STAGES.get(name)
        missing = [t for t in stage.needs if t not in tables]
        if missing:
            log.info("default stage %r skipped: no earlier stage makes %s", name, missing)
            continue
        names.append(name)
        tables |= set(stage.produces)
    return names


def _fixations(tables: Mapping[str, pd.DataFrame], which: str) -> pd.DataFrame:
    """Fixation rows of ``which`` source (``auto``: detected if any, else tracker)."""
    events = _concat([tables.get("events"), tables.get("tracker_events")])
    if events is not None:
        events = events.drop_duplicates(subset=["source", "method", "event", "onset_ms"])
    if events is None or not len(events):
        return pd.DataFrame(
            {"x_px": [], "y_px": [], "onset_ms": [], "offset_ms": [], "duration_ms": []},
            dtype=float,
        )
    fix = events[events["event"] == "fixation"]
    if which == "auto":
        which = "detected" if (fix["source"] == "detected").any() else "tracker"
    return fix[fix["source"] == which]


@lru_cache(maxsize=8)
def _atlas(path: str, mtime_ns: int, image_id: str) -> Any:
    """Atlas of an image, cached per worker (an image is read by several readers)."""
    del mtime_ns  # part of the cache key only
    from gazekit.anatomy import Atlas

    return Atlas.load(path, image_id=image_id)


def anatomy_stage(
    inputs: StageInput,
    *,
    fixations: str = "auto",
    atlas_dir: str | None = None,
    missing_atlas: str = "skip",
    coverage_radius: float = 1.0,
    coverage_unit: str = "deg",
    sigma_deg: float = 1.0,
    downsample: int = 4,
    save_heatmaps: bool = False,
    atlas_tag: str = "",
) -> dict[str, Any]:
    """Assign fixations to anatomy and compute per-region statistics and heatmaps.

    The atlas is ``<atlas_dir>/<image_id>.npz`` (default: ``anatomy/`` next to the
    source, as ``gazekit simulate`` writes it). Atlases are static inputs: after
    replacing them, change ``atlas_tag`` to recompute. ``missing_atlas="skip"`` writes
    an empty ``region_stats`` table for a recording without one, ``"fail"`` fails it.
    With ``save_heatmaps``, the duration-weighted heatmap (σ = ``sigma_deg``, on a grid
    ``downsample`` times coarser than the image) and its per-region stack go to
    ``heatmaps/.../<recording_id>.npz``.
    """
    del atlas_tag  # only part of the cache key
    from gazekit import heatmaps, schemas
    from gazekit.errors import InputError

    rec = inputs.recording
    folder = Path(atlas_dir) if atlas_dir else inputs.source / "anatomy"
    path = folder / f"{rec.image_id}.npz"
    if rec.image_id is None or not path.is_file():
        if missing_atlas == "fail":
            raise InputError(f"no anatomy atlas for image {rec.image_id!r}", path=path)
        log.info("%s: no atlas at %s; empty region statistics", rec.recording_id, path)
        return {"region_stats": schemas.get("region_stats").empty()}
    atlas = _atlas(str(path), path.stat().st_mtime_ns, str(rec.image_id))
    fix = _fixations(inputs.tables, fixations)
    heat = heatmaps.compute(
        fix, atlas.shape, sigma=sigma_deg, unit="deg", geometry=rec.geometry,
        normalize="probability", downsample=downsample,
    )  # fmt: skip
    stats = heatmaps.region_stats(
        fix, atlas, recording_id=rec.recording_id, image_id=rec.image_id,
        reader_id=rec.reader_id, geometry=rec.geometry, coverage_radius=coverage_radius,
        coverage_unit=coverage_unit, heat=heat,
    )  # fmt: skip
    out: dict[str, Any] = {"region_stats": stats}
    if save_heatmaps:
        out["heatmaps"] = {
            "heatmap": heat.astype(np.float32),
            "per_region": heatmaps.stacked(heat, atlas).astype(np.float32),
            "names": np.array(atlas.names, dtype=str),
        }
    return out


STAGES.add(
    "anatomy",
    Stage(
        "anatomy",
        anatomy_stage,
        {"region_stats": "region_stats", "heatmaps": ARRAYS},
        uses=("events",),
        defaults={
            "fixations": "auto",
            "atlas_dir": None,
            "missing_atlas": "skip",
            "coverage_radius": 1.0,
            "coverage_unit": "deg",
            "sigma_deg": 1.0,
            "downsample": 4,
            "save_heatmaps": False,
            "atlas_tag": "",
        },
    ),
)


def intent_stage(
    inputs: StageInput,
    *,
    regime: str = "radhybrid",
    fixations: str = "auto",
    margin_deg: float | None = None,
) -> dict[str, pd.DataFrame]:
    """Label the recording's fixations with diagnostic intention.

    Uses the detected fixations when an events stage ran (the tracker's otherwise),
    the recording's transcript and findings, and :func:`gazekit.intent.label_fixations`
    in ``regime`` (``radseq``, ``radexplore`` or ``radhybrid``).
    """
    import warnings

    from gazekit import intent

    rec = inputs.recording
    fix = _fixations(inputs.tables, fixations)
    transcript = inputs.tables.get("transcripts", rec.transcript)
    findings = inputs.tables.get("findings", rec.findings)
    params = (
        intent.IntentParams() if margin_deg is None else intent.IntentParams(margin_deg=margin_deg)
    )
    with warnings.catch_warnings():
        # A recording without a transcript gets no RadSeq labels: expected in a corpus.
        warnings.simplefilter("ignore", intent.IntentWarning)
        labels = intent.label_fixations(
            fix, transcript, findings, regime, geometry=rec.geometry, params=params,
            recording_id=rec.recording_id, corpus=rec.corpus if rec.corpus in ("egd", "reflacx") else None,
        )  # fmt: skip
    return {"intent_labels": labels}


STAGES.add(
    "intent",
    Stage(
        "intent",
        intent_stage,
        {"intent_labels": "intent_labels"},
        uses=("events",),
        defaults={"regime": "radhybrid", "fixations": "auto", "margin_deg": None},
    ),
)
