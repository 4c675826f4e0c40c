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
    "rate",
    "recording",
    "registry",
    "schemas",
    "synthetic",
    "vocab",
}

__all__ = ["GazekitError", "InputError", "__version__", "load", *sorted(_SUBMODULES)]


def load(path: Any) -> Any:
    """Open a gazekit dataset directory: the front door for notebooks and scripts.

    Parameters
    ----------
    path : path-like
        A directory written by ``gazekit convert``, ``gazekit simulate`` or
        ``gazekit pipeline``.

    Returns
    -------
    gazekit.dataset.Dataset
        ``.recording_ids``, ``.recording(id)`` → :class:`~gazekit.recording.Recording`,
        ``.recordings()``, ``.samples()``, ``.events(source=, method=)``, ``.fixations(...)``.
    """
    from gazekit.dataset import open_dataset

    return open_dataset(path)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"gazekit.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'gazekit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
