"""The project's one Numba policy.

Every kernel uses :data:`njit` (serial) or :data:`pnjit` (``parallel=True``, for
``prange`` across recordings). fastmath is limited to flags that keep NaN and inf
semantics: gaze has NaNs for blinks and track loss, so ``nnan``/``ninf`` are never
set. Kernels are cached on disk (``cache=True``) so the first call in a fresh
process loads machine code instead of compiling; set ``GAZEKIT_NUMBA_CACHE=0`` to
disable caching (e.g. on read-only installs).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numba

FASTMATH = frozenset({"contract", "arcp", "reassoc", "nsz", "afn"})
CACHE = os.environ.get("GAZEKIT_NUMBA_CACHE", "1") != "0"

_F = Callable[..., Any]


def njit(func: _F | None = None, **kwargs: Any) -> Any:
    """Serial ``numba.njit`` with the project's flags."""
    opts: dict[str, Any] = {"cache": CACHE, "fastmath": set(FASTMATH), "nogil": True}
    opts.update(kwargs)
    if func is None:
        return lambda f: numba.njit(**opts)(f)
    return numba.njit(**opts)(func)


def pnjit(func: _F | None = None, **kwargs: Any) -> Any:
    """Parallel ``numba.njit`` (use ``numba.prange`` across independent items)."""
    return njit(func, parallel=True, **kwargs)


prange = numba.prange
