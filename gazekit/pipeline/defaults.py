"""The default stage chain: convert → events → anatomy/heatmaps → intent.

Each stage wraps the public function of its library module, imported when the
stage runs (so ``import gazekit.pipeline`` stays light). A stage is offered by
:func:`default_stage_names` only when its module is installed.
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

import pandas as pd

from gazekit.pipeline.sources import read_unit
from gazekit.pipeline.stages import STAGES, SourceStage, Stage, StageInput

log = logging.getLogger(__name__)

#: Default chain in order, with the module each stage needs.
DEFAULT_CHAIN: tuple[tuple[str, str], ...] = (("events", "gazekit.events"),)


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


STAGES.add(
    "events",
    Stage(
        "events",
        events_stage,
        {"events": "events"},
        defaults={"method": "ivt"},
        open_params=True,
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
    for name, module in DEFAULT_CHAIN:
        if name in STAGES and _available(module):
            names.append(name)
        else:
            log.info("default stage %r unavailable (needs %s)", name, module)
    return names
