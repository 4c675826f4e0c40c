"""Matplotlib figures (Agg; nothing is ever shown): heatmap overlays, per-anatomy
small multiples, region dwell bars and scanpaths. Functions return figures/axes.

Submodules load lazily, so ``import gazekit.plotting`` does not import matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "plot_heatmap": "gazekit.plotting.heatmap",
    "plot_per_region": "gazekit.plotting.heatmap",
    "plot_region_dwell": "gazekit.plotting.heatmap",
    "save_figure": "gazekit.plotting.heatmap",
    "plot_scanpath": "gazekit.plotting.scanpath",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'gazekit.plotting' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
