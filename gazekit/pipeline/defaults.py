"""The default stage chain: convert → events → anatomy/heatmaps → intent.

Each stage wraps the public function of its library module, imported when the
stage runs (so ``import gazekit.pipeline`` stays light). A stage is offered by
:func:`default_stage_names` only when its module is installed. The stage interface
(:mod:`gazekit.pipeline.stages`) knows nothing of this chain; :func:`build_plan`
fills in the chain's defaults.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit.io.layout import id_filename
from gazekit.pipeline.sources import read_unit
from gazekit.pipeline.stages import (
    ARRAYS,
    CONVERT_TABLES,
    STAGES,
    Plan,
    SourceStage,
    Stage,
    StageInput,
    resolve_plan,
)

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


def build_plan(
    stages: Sequence[str | Stage] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    convert: SourceStage | None = None,
) -> Plan:
    """A :class:`~gazekit.pipeline.stages.Plan` with this chain's defaults filled in.

    Parameters
    ----------
    stages : sequence of str or Stage, optional
        Recording stages in order (default: :func:`default_stage_names`).
    params : mapping, optional
        ``{stage name: {parameter: value}}``, overriding each stage's defaults.
    convert : SourceStage, optional
        Source stage (default: :func:`convert_stage`).

    Returns
    -------
    Plan
    """
    return resolve_plan(
        convert or convert_stage(),
        default_stage_names() if stages is None else stages,
        params,
    )


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
    """Fixation rows of one source, method and eye (:func:`gazekit.io.selection.select_events`)."""
    events = _concat([tables.get("events"), tables.get("tracker_events")])
    if events is not None:
        events = events.drop_duplicates(subset=["source", "method", "event", "onset_ms"])
    if events is None or not len(events):
        return pd.DataFrame(
            {"x_px": [], "y_px": [], "onset_ms": [], "offset_ms": [], "duration_ms": []},
            dtype=float,
        )
    from gazekit.io.selection import select_events

    return select_events(events, which)[0]


@lru_cache(maxsize=64)
def _atlas(path: str, mtime_ns: int, image_id: str, cache_dir: str | None) -> Any:
    """Atlas of an image, memory-mapped and cached per worker.

    An ``.npz`` atlas is converted once into the mapped form (uncompressed code map)
    under the dataset's ``_cache/atlas/`` and memory-mapped from there, so all the
    workers of a machine share one copy through the page cache and no worker pays
    the decompression again. The region statistics use the code map at full
    resolution, so they are exactly those of the ``.npz`` atlas.
    """
    from gazekit import anatomy
    from gazekit.anatomy.atlas import MAPPED_SUFFIX
    from gazekit.io.layout import digest

    if path.endswith(MAPPED_SUFFIX) or cache_dir is None:
        return anatomy.Atlas.load(path, image_id=image_id)
    mapped = Path(cache_dir) / "atlas" / f"{digest(path, mtime_ns)}{MAPPED_SUFFIX}"
    if not mapped.is_file():
        anatomy.Atlas.load(path, image_id=image_id).save_mapped(mapped)
    return anatomy.Atlas.load(mapped, image_id=image_id)


def find_atlas(
    image_id: str, source: Path, atlas_dir: str | None
) -> tuple[Path | None, list[Path]]:
    """The atlas file of an image, and the places searched.

    In ``atlas_dir`` when given; otherwise in ``anatomy/`` of the source's folder or
    of up to two folders above it (``gazekit simulate`` writes ``anatomy/`` beside its
    tracker files; a REFLACX reading lies two levels below its corpus root). The mapped
    form ``<image_id>.codes.npy`` is preferred to ``<image_id>.npz``.
    """
    from gazekit.anatomy.atlas import MAPPED_SUFFIX

    folders = (
        [Path(atlas_dir)]
        if atlas_dir
        else [d / "anatomy" for d in (source, *list(source.parents)[:2])]
    )
    searched = []
    for folder in folders:
        stem = id_filename(image_id, "image_id")
        for name in (f"{stem}{MAPPED_SUFFIX}", f"{stem}.npz"):
            cand = folder / name
            searched.append(cand)
            if cand.is_file():
                return cand, searched
    return None, searched


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

    The atlas is ``<image_id>.codes.npy`` or ``<image_id>.npz`` in ``atlas_dir``
    (default: ``anatomy/`` beside the source, see :func:`find_atlas`). Atlases are
    static inputs: after replacing them, change ``atlas_tag`` to recompute.
    ``missing_atlas="skip"`` writes an empty ``region_stats`` table for a recording
    without one (and the run summary reports how many), ``"fail"`` fails it. Dwell,
    counts, visits, first fixation, coverage and areas are computed on the atlas at
    full resolution; only ``heat_share`` uses the heatmap grid. With
    ``save_heatmaps``, the duration-weighted heatmap (σ = ``sigma_deg``, on a grid
    ``downsample`` times coarser than the image) and its per-region stack go to
    ``heatmaps/.../<recording_id>.npz``.
    """
    del atlas_tag  # only part of the cache key
    from gazekit import heatmaps, schemas
    from gazekit.errors import InputError

    rec = inputs.recording
    path, searched = (
        find_atlas(str(rec.image_id), inputs.source, atlas_dir)
        if rec.image_id is not None
        else (None, [])
    )
    if path is None:
        where = ", ".join(str(p.parent) for p in searched[::2]) or "(no image id)"
        if missing_atlas == "fail":
            raise InputError(f"no anatomy atlas for image {rec.image_id!r} in {where}")
        log.info("%s: no atlas for %s in %s; empty region statistics", rec.recording_id,
                 rec.image_id, where)  # fmt: skip
        empty = schemas.get("region_stats").empty().to_pandas()
        empty.attrs["gazekit_note"] = f"no atlas for image {rec.image_id!r} in {where}"
        return {"region_stats": empty}
    cache = str(inputs.cache_dir) if inputs.cache_dir is not None else None
    atlas = _atlas(str(path), path.stat().st_mtime_ns, str(rec.image_id), cache)
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
