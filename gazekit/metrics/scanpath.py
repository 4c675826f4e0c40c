"""Scanpath similarity metrics: MultiMatch, ScanMatch, SED, sequence score, SemSS, STDE.

Input convention
----------------
A scanpath is either an ``(N, 3)`` array of ``x_px, y_px, duration_ms`` (one row per
fixation) or a DataFrame with columns ``x_px, y_px, duration_ms``: one duration unit,
milliseconds, named wherever a duration is passed (``duration_threshold_ms``,
``durations_ms_a``). Symbol-based metrics (:func:`sequence_score`, :func:`semss`,
:func:`sed_labels`) take a sequence of labels (e.g. the anatomy region per fixation).

Frame
-----
Every metric that normalises by or bins over the stimulus takes the frame as the
required keyword ``frame_size=(width_px, height_px)``: the size of the image (or screen)
whose pixels ``x_px, y_px`` are in. There is no default, because no default is right
for more than one dataset (a 1024 px radiograph scored on a 320×240 grid puts every
fixation in the last cell). Fixations outside the frame raise a
:class:`~gazekit.errors.GazekitWarning` naming how many, which nearly always means the
wrong frame was passed.

SED grid
--------
:func:`sed` and the grid metrics cut the frame into ``bins`` equal cells,
``floor(x / width · Xbin)``, so every point inside the frame falls in a cell of the
grid. GazeSearch's published SED uses FixaTons' string conversion with integer cell
sizes (``width // n``): on its 224 px frame with ``n = 5`` the cells are 44 px, and a
fixation at ``x ≥ 220`` gets column 5, which the row-major index turns into the first
cell of the *next* row (at ``y ≥ 220``, a cell past the grid). To reproduce its
figures, scale to that frame and label with ``(x // 44) + (y // 44) * 5``; gazekit's own
grid is the correct one and gives slightly different values on such points.

MultiMatch variant
------------------
gazekit reports the full five dimensions of multimatch-gaze 0.1.3 (vector, direction,
length, position, duration), without padding short scanpaths: a scanpath with fewer
than 3 fixations gives NaN on every dimension. Simplification (multimatch-gaze's
``grouping``) is off by default and ported rule for rule when thresholds are given.

All metrics are registered in :data:`METRICS` (``METRICS.get("scanmatch")(p, q)``).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import GazekitWarning, InputError
from gazekit.metrics._scanpath_kernels import levenshtein, min_cost_path, nw_score
from gazekit.registry import Registry

METRICS: Registry[Any] = Registry("scanpath metric")

MULTIMATCH_DIMENSIONS = ("vector", "direction", "length", "position", "duration")


def as_scanpath(
    scanpath: Any, name: str = "scanpath", frame_size: tuple[float, float] | None = None
) -> np.ndarray:
    """Convert a scanpath to a float64 ``(N, 3)`` array of ``x_px, y_px, duration_ms``.

    Parameters
    ----------
    scanpath : ndarray (N, 3) or DataFrame
        Array rows ``x_px, y_px, duration_ms``; or a DataFrame with ``x_px, y_px,
        duration_ms``.
    name : str
        Used in error and warning messages.
    frame_size : (width_px, height_px), optional
        When given, fixations outside ``[0, width] × [0, height]`` raise a
        :class:`~gazekit.errors.GazekitWarning`.

    Returns
    -------
    (N, 3) ndarray of float64
        ``x_px, y_px, duration_ms``.

    Raises
    ------
    InputError
        Wrong shape, missing columns, non-finite values, negative durations, or a
        frame size that is not two positive numbers.
    """
    if isinstance(scanpath, pd.DataFrame):
        missing = [c for c in ("x_px", "y_px", "duration_ms") if c not in scanpath.columns]
        if missing:
            raise InputError(f"{name}: DataFrame lacks columns {missing}", column=missing[0])
        arr = np.column_stack(
            [
                scanpath["x_px"].to_numpy(dtype=np.float64),
                scanpath["y_px"].to_numpy(dtype=np.float64),
                scanpath["duration_ms"].to_numpy(dtype=np.float64),
            ]
        )
    else:
        arr = np.asarray(scanpath, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 3:
            raise InputError(
                f"{name}: expected shape (N, 3) [x_px, y_px, duration_ms], got {arr.shape}"
            )
    if not np.all(np.isfinite(arr)):
        row = int(np.nonzero(~np.all(np.isfinite(arr), axis=1))[0][0])
        raise InputError(f"{name}: non-finite value in fixation {row}", line=row)
    if np.any(arr[:, 2] < 0):
        raise InputError(f"{name}: negative fixation duration", column="duration_ms")
    if frame_size is not None:
        _check_frame(arr, frame_size, name)
    return arr


def _frame(frame_size: tuple[float, float]) -> tuple[float, float]:
    try:
        w, h = (float(v) for v in frame_size)
    except (TypeError, ValueError):
        raise InputError(f"frame_size must be (width_px, height_px), got {frame_size!r}") from None
    if not (w > 0 and h > 0 and math.isfinite(w) and math.isfinite(h)):
        raise InputError(f"frame_size must be two positive sizes in px, got {frame_size!r}")
    return w, h


def _check_frame(arr: np.ndarray, frame_size: tuple[float, float], name: str) -> None:
    """Warn when fixations fall outside the frame (usually: the wrong frame_size)."""
    w, h = _frame(frame_size)
    out = (arr[:, 0] < 0) | (arr[:, 0] > w) | (arr[:, 1] < 0) | (arr[:, 1] > h)
    if out.any():
        warnings.warn(
            f"{name}: {int(out.sum())} of {len(arr)} fixations lie outside the "
            f"{w:g}×{h:g} px frame (max x {arr[:, 0].max():.0f}, max y {arr[:, 1].max():.0f}); "
            "is frame_size the size of the image the coordinates are in?",
            GazekitWarning,
            stacklevel=3,
        )


def _symbols(a: Sequence[Any], b: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, int]:
    """Map two label sequences onto shared int64 codes."""
    codes: dict[Any, int] = {}
    out = []
    for seq in (a, b):
        out.append(np.array([codes.setdefault(s, len(codes)) for s in seq], dtype=np.int64))
    return out[0], out[1], max(len(codes), 1)


def _repeat_by_duration(
    labels: np.ndarray, durations_ms: np.ndarray, bin_ms: float, mode: str
) -> np.ndarray:
    """Repeat each label ``round`` (half away from zero, as MATLAB) or ``int`` of ``duration / bin`` times.

    A 1e-9 tolerance keeps e.g. 150 ms / 50 ms at 3 despite binary rounding.
    """
    ratio = np.asarray(durations_ms, dtype=np.float64) / bin_ms
    reps = np.floor(ratio + 0.5 + 1e-9) if mode == "round" else np.floor(ratio + 1e-9)
    return np.repeat(labels, reps.astype(np.int64))


# --------------------------------------------------------------------- MultiMatch
def _angle_deg(x1: float, y1: float, x2: float, y2: float) -> float:
    n = math.hypot(x1, y1) * math.hypot(x2, y2)
    if n == 0:
        return math.inf
    return math.degrees(math.acos(min(1.0, max(-1.0, (x1 * x2 + y1 * y2) / n))))


def _simdir(
    sac: list[list[float]], dur: list[float], tdir: float, tdur: float
) -> tuple[list, list]:
    """One direction-based pass (multimatch-gaze ``simdir``); sac rows are [x, y, lx, ly]."""
    out_s: list[list[float]] = []
    out_d: list[float] = []
    i, n = 0, len(sac)
    while i < n:
        angle = (
            _angle_deg(sac[i][2], sac[i][3], sac[i + 1][2], sac[i + 1][3])
            if i < n - 1
            else math.inf
        )
        if angle < tdir and i < n - 1 and dur[i + 1] < tdur:
            out_s.append(
                [sac[i][0], sac[i][1], sac[i][2] + sac[i + 1][2], sac[i][3] + sac[i + 1][3]]
            )
            out_d.append(dur[i])
            i += 2
        else:
            out_s.append(list(sac[i]))
            out_d.append(dur[i])
            i += 1
    out_d.append(dur[-1])
    return out_s, out_d


def _simlen(
    sac: list[list[float]], dur: list[float], tamp: float, tdur: float
) -> tuple[list, list]:
    """One amplitude-based pass (multimatch-gaze ``simlen``, including its last-saccade rule)."""
    out_s: list[list[float]] = []
    out_d: list[float] = []
    i, n = 0, len(sac)
    while i < n:
        rho = math.hypot(sac[i][2], sac[i][3])
        if i == n - 1:
            if rho < tamp and (dur[-1] < tdur or dur[-2] < tdur) and out_s:
                # the last saccade merges into the previous output saccade
                out_s[-1][2] = sac[-2][2] + sac[-1][2]
                out_s[-1][3] = sac[-2][3] + sac[-1][3]
                out_d.insert(len(out_s), dur[i - 1])
                i += 1
                continue
        elif rho < tamp and (dur[i + 1] < tdur or dur[i] < tdur):
            out_s.append(
                [sac[i][0], sac[i][1], sac[i][2] + sac[i + 1][2], sac[i][3] + sac[i + 1][3]]
            )
            out_d.append(dur[i])
            i += 2
            continue
        out_s.append(list(sac[i]))
        out_d.insert(len(out_s) - 1, dur[i])
        i += 1
    out_d.append(dur[-1])
    return out_s, out_d


def _vectors(
    a: np.ndarray, simplify: tuple[float, float, float] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Saccade table (x, y, lx, ly) and fixation durations, optionally simplified."""
    sac = np.column_stack([a[:-1, 0], a[:-1, 1], np.diff(a[:, 0]), np.diff(a[:, 1])])
    dur = a[:, 2]
    if simplify is None:
        return sac, dur
    tamp, tdir, tdur = simplify
    s_l, d_l = sac.tolist(), dur.tolist()
    prev = len(d_l)
    while True:
        s_l, d_l = _simdir(s_l, d_l, tdir, tdur)
        s_l, d_l = _simlen(s_l, d_l, tamp, tdur)
        if len(d_l) == prev:
            return np.asarray(s_l, dtype=np.float64).reshape(-1, 4), np.asarray(
                d_l, dtype=np.float64
            )
        prev = len(d_l)


@METRICS.register("multimatch")
def multimatch(
    p: Any,
    q: Any,
    *,
    frame_size: tuple[float, float],
    amplitude_threshold_px: float | None = None,
    direction_threshold_deg: float | None = None,
    duration_threshold_ms: float | None = None,
) -> dict[str, float]:
    """MultiMatch similarity (Jarodzka et al. 2010; Dewhurst et al. 2012).

    Saccades are the vectors between consecutive fixations; they are aligned by the
    cheapest monotone path through the matrix of vector-difference norms (Dijkstra on
    the alignment DAG, computed as a dynamic programme). Each dimension is the median
    over aligned pairs, normalised as in multimatch-gaze 0.1.3.

    Parameters
    ----------
    p, q : scanpath
        See :func:`as_scanpath`; at least 3 fixations each, else all NaN.
    frame_size : (width_px, height_px)
        The frame of the coordinates (multimatch-gaze's ``screensize``); normalises
        vector (by 2·diagonal), length and position (by diagonal).
    amplitude_threshold_px, direction_threshold_deg, duration_threshold_ms : float, optional
        Scanpath simplification (multimatch-gaze ``grouping``; its documented example
        is 150 px, 45°, 50 ms). Off (None) by default; all three are needed to turn it on.

    Returns
    -------
    dict
        ``vector, direction, length, position, duration`` in [0, 1] (1 = identical).
    """
    a = as_scanpath(p, "p", frame_size)
    b = as_scanpath(q, "q", frame_size)
    if len(a) < 3 or len(b) < 3:
        return dict.fromkeys(MULTIMATCH_DIMENSIONS, math.nan)
    thr = (amplitude_threshold_px, direction_threshold_deg, duration_threshold_ms)
    if any(t is not None for t in thr) and any(t is None for t in thr):
        raise InputError("multimatch: give all three simplification thresholds or none")
    simplify = None if thr[0] is None else (float(thr[0]), float(thr[1]), float(thr[2]))  # type: ignore[arg-type]
    sa, da_all = _vectors(a, simplify)
    sb, db_all = _vectors(b, simplify)
    diag = math.hypot(*_frame(frame_size))
    va, vb = sa[:, 2:], sb[:, 2:]
    cost = np.hypot(va[:, None, 0] - vb[None, :, 0], va[:, None, 1] - vb[None, :, 1])
    path = min_cost_path(cost)
    i, j = path[:, 0], path[:, 1]
    vec = cost[i, j]
    ta = np.mod(np.arctan2(va[:, 1], va[:, 0]), 2 * np.pi)[i]
    tb = np.mod(np.arctan2(vb[:, 1], vb[:, 0]), 2 * np.pi)[j]
    dth = np.abs(ta - tb)
    dth = np.where(dth > np.pi, 2 * np.pi - dth, dth)
    dlen = np.abs(np.hypot(va[i, 0], va[i, 1]) - np.hypot(vb[j, 0], vb[j, 1]))
    dpos = np.hypot(sa[i, 0] - sb[j, 0], sa[i, 1] - sb[j, 1])
    da, db = da_all[i], db_all[j]
    dmax = np.maximum(np.abs(da), np.abs(db))
    ddur = np.divide(np.abs(da - db), dmax, out=np.zeros_like(dmax), where=dmax > 0)
    return {
        "vector": float(1 - np.median(vec) / (2 * diag)),
        "direction": float(1 - np.median(dth) / np.pi),
        "length": float(1 - np.median(dlen) / diag),
        "position": float(1 - np.median(dpos) / diag),
        "duration": float(1 - np.median(ddur)),
    }


# ---------------------------------------------------------------------- ScanMatch
def grid_labels(
    scanpath: Any, *, frame_size: tuple[float, float], bins: tuple[int, int]
) -> np.ndarray:
    """Grid cell index (row-major, ``row * Xbin + col``) of each fixation.

    Parameters
    ----------
    scanpath : scanpath
        See :func:`as_scanpath`.
    frame_size : (width_px, height_px)
        Stimulus size; points outside warn and are clipped to the border cells.
    bins : (Xbin, Ybin)
        Number of columns and rows.

    Returns
    -------
    (N,) ndarray of int64
    """
    return _grid(as_scanpath(scanpath, frame_size=frame_size), frame_size, bins)


def _grid(a: np.ndarray, frame_size: tuple[float, float], bins: tuple[int, int]) -> np.ndarray:
    w, h = _frame(frame_size)
    xb, yb = int(bins[0]), int(bins[1])
    col = np.clip(np.floor(a[:, 0] / w * xb), 0, xb - 1).astype(np.int64)
    row = np.clip(np.floor(a[:, 1] / h * yb), 0, yb - 1).astype(np.int64)
    return row * xb + col


@functools.lru_cache(maxsize=32)
def _substitution(xb: int, yb: int, threshold: float) -> np.ndarray:
    cols = np.tile(np.arange(xb), yb)
    rows = np.repeat(np.arange(yb), xb)
    sub = threshold - np.hypot(cols[:, None] - cols[None, :], rows[:, None] - rows[None, :])
    sub.flags.writeable = False
    return sub


def scanmatch_substitution(bins: tuple[int, int], threshold: float) -> np.ndarray:
    """ScanMatch substitution matrix: ``threshold − Euclidean grid distance``.

    Parameters
    ----------
    bins : (Xbin, Ybin)
        Number of grid columns and rows.
    threshold : float, grid cells
        Distance at which a substitution scores 0 (closer cells score positive).

    Returns
    -------
    (Xbin·Ybin, Xbin·Ybin) ndarray of float64
        Entry ``[i, j]`` for cells ``i`` and ``j`` (row-major, ``row * Xbin + col``), with
        the distance between the cells' grid positions in cells; a writable copy.

    Examples
    --------
    >>> scanmatch_substitution((2, 1), 3.5)
    array([[3.5, 2.5],
           [2.5, 3.5]])
    """
    return _substitution(int(bins[0]), int(bins[1]), float(threshold)).copy()


@METRICS.register("scanmatch")
def scanmatch(
    p: Any,
    q: Any,
    *,
    frame_size: tuple[float, float],
    bins: tuple[int, int] = (16, 12),
    threshold: float = 3.5,
    temporal_bin_ms: float | None = 50.0,
    gap: float = 0.0,
) -> float:
    """ScanMatch score (Cristino et al. 2010) in [0, 1] for non-negative alignments.

    Parameters
    ----------
    p, q : scanpath
        See :func:`as_scanpath` (coordinates in the ``frame_size`` frame).
    frame_size : (width_px, height_px)
        The frame of the coordinates, cut into ``bins`` cells.
    bins : (Xbin, Ybin), default (16, 12)
    threshold : float, default 3.5
        Substitution = threshold − grid distance.
    temporal_bin_ms : float or None, default 50
        Each label repeats ``round(duration_ms / temporal_bin_ms)`` times; None = once.
    gap : float, default 0

    Returns
    -------
    float
        ``max(F) / (max(Sub) · max(len))``; NaN when both sequences are empty.

    Raises
    ------
    InputError
        A scanpath is malformed (see :func:`as_scanpath`) or ``frame_size`` is not
        two positive numbers.

    Examples
    --------
    Three fixations (``x_px, y_px, duration_ms``) on an 800×600 px frame; the second
    scanpath ends elsewhere:

    >>> p = np.array([[100., 100., 250.], [500., 300., 300.], [700., 500., 200.]])
    >>> q = np.array([[110., 95., 250.], [480., 320., 300.], [200., 600., 200.]])
    >>> scanmatch(p, p, frame_size=(800, 600))
    1.0
    >>> round(scanmatch(p, q, frame_size=(800, 600)), 3)
    0.524
    """
    a = as_scanpath(p, "p", frame_size)
    b = as_scanpath(q, "q", frame_size)
    la = _grid(a, frame_size, bins)
    lb = _grid(b, frame_size, bins)
    if temporal_bin_ms is not None:
        la = _repeat_by_duration(la, a[:, 2], temporal_bin_ms, "round")
        lb = _repeat_by_duration(lb, b[:, 2], temporal_bin_ms, "round")
    n = max(len(la), len(lb))
    if n == 0:
        return math.nan
    sub = _substitution(int(bins[0]), int(bins[1]), float(threshold))
    return float(nw_score(la, lb, sub, float(gap)) / (sub.max() * n))


# ---------------------------------------------------------------------------- SED
@METRICS.register("sed")
def sed(p: Any, q: Any, *, frame_size: tuple[float, float], bins: tuple[int, int] = (5, 5)) -> int:
    """String-edit (Levenshtein) distance between grid-cell strings, not normalised.

    Parameters
    ----------
    p, q : scanpath
        See :func:`as_scanpath`.
    frame_size : (width_px, height_px)
        The frame of the coordinates (see "SED grid" in the module docstring for
        GazeSearch's 44 px cells on a 224 px frame).
    bins : (Xbin, Ybin), default (5, 5)

    Returns
    -------
    int
    """
    a = as_scanpath(p, "p", frame_size)
    b = as_scanpath(q, "q", frame_size)
    return int(levenshtein(_grid(a, frame_size, bins), _grid(b, frame_size, bins)))


def sed_labels(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Levenshtein distance between two label sequences (e.g. anatomy regions per fixation).

    Parameters
    ----------
    a, b : sequence
        Labels (any hashable values), one per fixation, in order.

    Returns
    -------
    int
        Fewest insertions, deletions and substitutions turning ``a`` into ``b``.

    Examples
    --------
    >>> sed_labels(["right_lung", "heart", "left_lung"], ["right_lung", "left_lung"])
    1
    """
    x, y, _ = _symbols(a, b)
    return int(levenshtein(x, y))


# ----------------------------------------------------------- sequence score, SemSS
def sequence_score(
    a: Sequence[Any],
    b: Sequence[Any],
    *,
    durations_ms_a: Any = None,
    durations_ms_b: Any = None,
    bin_ms: float = 50.0,
) -> float:
    """Sequence score: Needleman–Wunsch (match 1, mismatch 0, gap 0) / longer length.

    Parameters
    ----------
    a, b : sequence of hashable
        Symbol per fixation (cluster id, anatomy region, grid cell...).
    durations_ms_a, durations_ms_b : array of float (ms), optional
        When both given, the duration-aware variant: each symbol repeats
        ``int(t / bin_ms)`` times.
    bin_ms : float, default 50

    Returns
    -------
    float in [0, 1]; NaN when both (expanded) sequences are empty.
    """
    x, y, k = _symbols(a, b)
    if durations_ms_a is not None and durations_ms_b is not None:
        da = np.asarray(durations_ms_a, dtype=np.float64)
        db = np.asarray(durations_ms_b, dtype=np.float64)
        if da.shape != x.shape or db.shape != y.shape:
            raise InputError("sequence_score: durations must match the symbol sequences in length")
        x = _repeat_by_duration(x, da, bin_ms, "int")
        y = _repeat_by_duration(y, db, bin_ms, "int")
    n = max(len(x), len(y))
    if n == 0:
        return math.nan
    return float(nw_score(x, y, np.eye(k), 0.0) / n)


@METRICS.register("semss")
def semss(
    labels_p: Sequence[Any],
    labels_q: Sequence[Any],
    *,
    durations_ms_p: Any = None,
    durations_ms_q: Any = None,
    bin_ms: float = 50.0,
) -> float:
    """Semantic sequence score: :func:`sequence_score` on semantic labels (anatomy regions).

    Parameters
    ----------
    labels_p, labels_q : sequence of hashable
        Semantic label per fixation.
    durations_ms_p, durations_ms_q : array of float (ms), optional
        Fixation durations for the duration-aware variant.
    bin_ms : float, default 50

    Returns
    -------
    float in [0, 1]
    """
    return sequence_score(
        labels_p, labels_q, durations_ms_a=durations_ms_p, durations_ms_b=durations_ms_q,
        bin_ms=bin_ms,
    )  # fmt: skip


@METRICS.register("sequence_score")
def sequence_score_grid(
    p: Any,
    q: Any,
    *,
    frame_size: tuple[float, float],
    bins: tuple[int, int] = (5, 5),
    duration_aware: bool = False,
    bin_ms: float = 50.0,
) -> float:
    """Sequence score on grid-cell symbols of two coordinate scanpaths (see :func:`sequence_score`).

    Parameters
    ----------
    p, q : scanpath
        See :func:`as_scanpath`.
    frame_size : (width_px, height_px)
        The frame of the coordinates.
    bins : (Xbin, Ybin), default (5, 5)
    duration_aware : bool
        Repeat each cell ``int(duration_ms / bin_ms)`` times.
    bin_ms : float, default 50

    Returns
    -------
    float in [0, 1]
    """
    a = as_scanpath(p, "p", frame_size)
    b = as_scanpath(q, "q", frame_size)
    la = _grid(a, frame_size, bins)
    lb = _grid(b, frame_size, bins)
    if duration_aware:
        return sequence_score(la, lb, durations_ms_a=a[:, 2], durations_ms_b=b[:, 2], bin_ms=bin_ms)
    return sequence_score(la, lb)


# --------------------------------------------------------------------------- STDE
#: Window distances of :func:`tde`: ``sum`` of the per-fixation Euclidean distances
#: (the published definition) or their ``l2`` norm.
TDE_WINDOWS: tuple[str, ...] = ("sum", "l2")


def tde(reference: np.ndarray, candidate: np.ndarray, k: int, window: str = "sum") -> float:
    """Time-delay-embedding distance for window length ``k``.

    For each length-``k`` window of ``candidate``, the smallest distance to any window
    of ``reference``, divided by ``k``; the mean of these minima. The distance between
    two windows is, with ``window="sum"``, the sum of the ``k`` per-fixation Euclidean
    distances — what GazeSearch's published STDE computes (its
    ``visual_attention_metrics.euclidean_distance`` returns ``dist.sum()``) — or, with
    ``window="l2"``, their Euclidean (L2) norm, as copies of FixaTons that return the
    per-fixation distances and take ``np.linalg.norm`` of them do. For ``k = 1`` the two
    agree; for ``k > 1`` the sum is larger (up to √k times), so STDE values computed
    under different definitions are not comparable.

    Parameters
    ----------
    reference, candidate : (N, 2) ndarray of float
        Normalised coordinates.
    k : int
        Window length (fixations).
    window : {"sum", "l2"}

    Returns
    -------
    float
    """
    if window not in TDE_WINDOWS:
        raise InputError(f"window must be one of {TDE_WINDOWS}, got {window!r}")
    wr = np.lib.stride_tricks.sliding_window_view(reference, (k, 2))[:, 0]
    wc = np.lib.stride_tricks.sliding_window_view(candidate, (k, 2))[:, 0]
    per = np.sqrt(((wc[:, None] - wr[None, :]) ** 2).sum(-1))  # (nc, nr, k)
    d = per.sum(-1) if window == "sum" else np.sqrt((per**2).sum(-1))
    return float((d / k).min(axis=1).mean())


@METRICS.register("stde")
def stde(
    reference: Any,
    candidate: Any,
    *,
    frame_size: tuple[float, float],
    k_max: int = 5,
    window: str = "sum",
) -> float:
    """Scaled time-delay embedding similarity: mean over k = 1..K of exp(−TDE_k).

    Parameters
    ----------
    reference, candidate : scanpath
        See :func:`as_scanpath`; only coordinates are used.
    frame_size : (width_px, height_px)
        The frame of the coordinates; they are divided by its larger side.
    k_max : int, default 5
        Largest window; clipped to the shorter scanpath length.
    window : {"sum", "l2"}, default "sum"
        Window distance (see :func:`tde`): the published, summed definition by
        default; ``"l2"`` for figures computed with the L2 norm.

    Returns
    -------
    float in (0, 1]; 1 for identical scanpaths, NaN if either is empty.
    """
    scale = max(_frame(frame_size))
    a = as_scanpath(reference, "reference", frame_size)[:, :2] / scale
    b = as_scanpath(candidate, "candidate", frame_size)[:, :2] / scale
    kk = min(int(k_max), len(a), len(b))
    if kk < 1:
        return math.nan
    return float(np.mean([math.exp(-tde(a, b, k, window)) for k in range(1, kk + 1)]))
