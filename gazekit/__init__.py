"""gazekit: radiologists' eye-tracking data on chest X-rays.

Readers for tracker and corpus formats, event detection, anatomy-aware heatmaps,
diagnostic-intention labels, scanpath/intent models and evaluation metrics.

Importing ``gazekit`` is light: subpackages load on first attribute access, and
torch, matplotlib and dask are imported only by the modules that need them.
"""

from __future__ import annotations

import importlib
from typing import Any

from gazekit._version import __version__
from gazekit.errors import GazekitError, InputError

_SUBMODULES = {
    "anatomy",
    "dataset",
    "events",
    "geometry",
    "heatmaps",
    "intent",
    "io",
    "metrics",
    "models",
    "pipeline",
    "plotting",
    "recording",
    "registry",
    "schemas",
    "synthetic",
    "vocab",
}

__all__ = ["GazekitError", "InputError", "__version__", *sorted(_SUBMODULES)]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"gazekit.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'gazekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
