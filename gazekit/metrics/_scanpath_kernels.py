"""Numba dynamic-programming kernels for scanpath metrics.

Each kernel has a plain-Python reference in ``tests/test_metrics_scanpath.py``.
"""

from __future__ import annotations

import numpy as np

from gazekit._numba import njit


@njit
def nw_score(a: np.ndarray, b: np.ndarray, sub: np.ndarray, gap: float) -> float:
    """Needleman–Wunsch global alignment score (maximised).

    Parameters
    ----------
    a, b : ndarray of int64, shapes (n,), (m,)
        Symbol indices into ``sub``.
    sub : ndarray of float64, shape (S, S)
        Substitution score for aligning symbol ``a[i]`` with ``b[j]``.
    gap : float
        Score of a gap (0 in ScanMatch and the sequence score).

    Returns
    -------
    float
        ``F[n, m]``; with ``gap >= 0`` and non-negative ``sub`` this is ``max(F)``.
    """
    n = a.shape[0]
    m = b.shape[0]
    prev = np.empty(m + 1)
    cur = np.empty(m + 1)
    for j in range(m + 1):
        prev[j] = gap * j
    for i in range(1, n + 1):
        cur[0] = gap * i
        ai = a[i - 1]
        for j in range(1, m + 1):
            best = prev[j - 1] + sub[ai, b[j - 1]]
            up = prev[j] + gap
            if up > best:
                best = up
            left = cur[j - 1] + gap
            if left > best:
                best = left
            cur[j] = best
        for j in range(m + 1):
            prev[j] = cur[j]
    return prev[m]


@njit
def levenshtein(a: np.ndarray, b: np.ndarray) -> int:
    """Levenshtein distance between two int64 symbol arrays (unit costs)."""
    n = a.shape[0]
    m = b.shape[0]
    prev = np.arange(m + 1)
    cur = np.empty(m + 1, dtype=np.int64)
    for i in range(1, n + 1):
        cur[0] = i
        for j in range(1, m + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            best = prev[j - 1] + cost
            if prev[j] + 1 < best:
                best = prev[j] + 1
            if cur[j - 1] + 1 < best:
                best = cur[j - 1] + 1
            cur[j] = best
        for j in range(m + 1):
            prev[j] = cur[j]
    return prev[m]


@njit
def min_cost_path(cost: np.ndarray) -> np.ndarray:
    """Shortest path through the MultiMatch alignment DAG.

    Nodes are cells ``(i, j)`` of ``cost`` (shape (n, m)); edges go right, down and
    diagonally, entering a node costs ``cost[i, j]``. On this DAG Dijkstra's shortest
    path from ``(0, 0)`` to ``(n-1, m-1)`` equals this dynamic programme.

    Returns
    -------
    ndarray of int64, shape (L, 2)
        Aligned index pairs from ``(0, 0)`` to ``(n-1, m-1)``.
    """
    n, m = cost.shape
    acc = np.empty((n, m))
    move = np.zeros((n, m), dtype=np.int8)  # 0 diag, 1 up (i-1), 2 left (j-1)
    acc[0, 0] = 0.0
    for j in range(1, m):
        acc[0, j] = acc[0, j - 1] + cost[0, j]
        move[0, j] = 2
    for i in range(1, n):
        acc[i, 0] = acc[i - 1, 0] + cost[i, 0]
        move[i, 0] = 1
        for j in range(1, m):
            best = acc[i - 1, j - 1]
            mv = 0
            if acc[i - 1, j] < best:
                best = acc[i - 1, j]
                mv = 1
            if acc[i, j - 1] < best:
                best = acc[i, j - 1]
                mv = 2
            acc[i, j] = best + cost[i, j]
            move[i, j] = mv
    out = np.empty((n + m, 2), dtype=np.int64)
    k = 0
    i = n - 1
    j = m - 1
    while True:
        out[k, 0] = i
        out[k, 1] = j
        k += 1
        if i == 0 and j == 0:
            break
        mv = move[i, j]
        if mv == 0:
            i -= 1
            j -= 1
        elif mv == 1:
            i -= 1
        else:
            j -= 1
    return out[:k][::-1].copy()
