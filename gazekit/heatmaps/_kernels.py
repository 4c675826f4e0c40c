"""Numba kernels of :mod:`gazekit.heatmaps` (references: ``tests/reference/heatmaps.py``)."""

from __future__ import annotations

import math

import numpy as np

from gazekit._numba import njit


@njit
def coverage_counts(
    x: np.ndarray, y: np.ndarray, radius: np.ndarray, codes: np.ndarray, n_regions: int
) -> np.ndarray:
    """Pixels of each region within each point's radius, each pixel counted once.

    Parameters
    ----------
    x, y : (N,) ndarray of float64, px
        Points (image column, row); non-finite points are skipped.
    radius : (N,) ndarray of float64, px
        Radius around each point (a viewer that zooms gives each fixation its own);
        non-finite or negative radii count as 0.
    codes : (H, W) ndarray of uint64
        Bit ``r`` set where region ``r`` covers the pixel (``Atlas.code_map()``).
    n_regions : int

    Returns
    -------
    (n_regions,) ndarray of int64
    """
    h, w = codes.shape
    seen = np.zeros((h, w), dtype=np.uint8)
    hit = np.zeros(n_regions, dtype=np.int64)
    for i in range(x.size):
        cx, cy, rad = x[i], y[i], radius[i]
        if not (math.isfinite(cx) and math.isfinite(cy)):
            continue
        if not (math.isfinite(rad) and rad > 0.0):
            rad = 0.0
        r2 = rad * rad
        r0 = max(math.ceil(cy - rad) - 1, 0)  # one spare row/column each side:
        r1 = min(math.floor(cy + rad) + 2, h)  # the distance test decides
        c0 = max(math.ceil(cx - rad) - 1, 0)
        c1 = min(math.floor(cx + rad) + 2, w)
        for row in range(r0, r1):
            dy = row - cy
            for col in range(c0, c1):
                dx = col - cx
                if seen[row, col] == 0 and dx * dx + dy * dy <= r2:
                    seen[row, col] = 1
                    c = codes[row, col]
                    k = 0
                    while c != 0 and k < n_regions:
                        if c & np.uint64(1):
                            hit[k] += 1
                        c = c >> np.uint64(1)
                        k += 1
    return hit
