"""Saliency-map metrics with the MIT saliency benchmark's definitions.

Bylinskii, Judd, Oliva, Torralba & Durand (2019), "What do different evaluation
metrics tell us about saliency models?", IEEE TPAMI 41(3). Every function takes a
predicted ``saliency`` map (H, W) and either a fixation map or fixation points:

* ``fixations`` as an (H, W) map: pixels > 0 are fixated (each counted once, as
  the MIT code does), or
* ``fixations`` as a tuple ``(x, y)`` of (N,) pixel coordinates (column, row), rounded
  to the nearest pixel; repeated points count repeatedly (as pysaliency does).

Differences from the MIT MATLAB code, on purpose: no random jitter is added to the
saliency map before the AUCs (ties are handled exactly); the random draws of AUC-Borji
and shuffled AUC come from a seeded :class:`numpy.random.Generator`; the EMD is exact on
maps downsampled to at most ``size × size`` bins (the MIT code uses FastEMD with a
thresholded ground distance on 1/32-scale maps). Where pysaliency differs from the MIT
definitions (SIM without min-max, exact AUC-Borji, uniform IG baseline), gazekit follows
MIT and says so in the docstring.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from gazekit.errors import GazekitWarning, InputError
from gazekit.registry import Registry

EPS = 2.2204e-16  #: MATLAB ``eps`` used by the MIT code for KLD and IG

#: name -> metric function; ``METRICS.get("nss")(saliency, fixations)``.
METRICS = Registry("saliency metric")

Fixations = np.ndarray | tuple[np.ndarray, np.ndarray]


def _map(saliency: np.ndarray, name: str = "saliency") -> np.ndarray:
    s = np.asarray(saliency, dtype=np.float64)
    if s.ndim != 2 or s.size == 0:
        raise InputError(f"{name} map must be a non-empty 2-D array, got shape {s.shape}")
    return s


def _finite(value: float, *maps: np.ndarray) -> float:
    """Return ``value``; if it is not finite because a map has NaN/inf, say so."""
    if not math.isfinite(value):
        for m in maps:
            if not np.isfinite(m).all():
                raise InputError("saliency map contains NaN or inf")
    return value


def fixation_indices(fixations: Fixations, shape: tuple[int, int]) -> np.ndarray:
    """Flat pixel indices of fixations (see the module docstring for the two input forms).

    Parameters
    ----------
    fixations : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Fixation map or points on the map grid (see the module docstring).
    shape : (H, W), px
        Map grid.

    Returns
    -------
    (K,) ndarray of int64
        Row-major indices ``row * W + col``; a fixation map gives each fixated pixel
        once, points give one index per point inside the map (repeats kept).

    Raises
    ------
    InputError
        ``x`` and ``y`` differ in length, or a fixation map's shape is not ``shape``.
    """
    h, w = shape
    if isinstance(fixations, tuple | list):
        x, y = (np.asarray(a, dtype=np.float64).ravel() for a in fixations)
        if x.shape != y.shape:
            raise InputError(f"fixation x and y differ in length ({x.size} vs {y.size})")
        col = np.floor(x + 0.5)
        row = np.floor(y + 0.5)
        # NaN fails every comparison, so non-finite points drop out here too
        ok = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        outside = np.isfinite(col) & np.isfinite(row) & ~ok
        if outside.any():
            warnings.warn(
                f"{int(outside.sum())} of {x.size} fixations lie outside the {w}×{h} px map and "
                "are left out; are the fixations in the map's frame?",
                GazekitWarning,
                stacklevel=3,
            )
        if not ok.all():
            row, col = row[ok], col[ok]
        return (row * w + col).astype(np.int64)
    f = np.asarray(fixations)
    if f.shape != (h, w):
        raise InputError(f"fixation map shape {f.shape} differs from saliency map shape {(h, w)}")
    return np.flatnonzero(f.ravel() > 0)


def fixation_map(fixations: Fixations, shape: tuple[int, int]) -> np.ndarray:
    """Count map of the fixations (binary input stays binary).

    Parameters
    ----------
    fixations : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Fixation map or points on the map grid (see the module docstring).
    shape : (H, W), px
        Map grid.

    Returns
    -------
    (H, W) ndarray of float64
        Number of fixations on each pixel.

    Raises
    ------
    InputError
        As :func:`fixation_indices`.

    Examples
    --------
    >>> fixation_map(([0.2, 2.0, 2.4], [0.0, 1.0, 1.1]), (2, 3))
    array([[1., 0., 0.],
           [0., 0., 2.]])
    """
    idx = fixation_indices(fixations, shape)
    return np.bincount(idx, minlength=shape[0] * shape[1]).reshape(shape).astype(np.float64)


def _need(idx: np.ndarray, metric: str) -> None:
    if idx.size == 0:
        raise InputError(f"{metric} needs at least one fixation inside the map")


def _minmax(s: np.ndarray) -> np.ndarray:
    lo, hi = s.min(), s.max()
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError("saliency map contains NaN or inf")
    return (s - lo) / (hi - lo) if hi > lo else np.zeros_like(s)


# --------------------------------------------------------------- location-based
@METRICS.register("nss")
def nss(saliency: np.ndarray, fixations: Fixations) -> float:
    """Normalized Scanpath Saliency: mean of the standardised map at fixations.

    The map is standardised with its mean and sample standard deviation (``ddof=1``,
    MATLAB's ``std``; pysaliency uses ``ddof=0``, a relative difference of ~1/(2HW)).

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    fixations : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Fixation map or points on the map grid (see the module docstring).

    Returns
    -------
    float
        In standard deviations of the map; 0 is chance, higher is better. With a
        constant map, the mean difference itself (0).

    Raises
    ------
    InputError
        Malformed map or fixations, no fixation inside the map, or NaN/inf in the map.

    Examples
    --------
    A map with one salient pixel, at column 2, row 1:

    >>> s = np.zeros((4, 4)); s[1, 2] = 1.0
    >>> round(nss(s, ([2.0], [1.0])), 3), round(nss(s, ([0.0], [3.0])), 3)
    (3.75, -0.25)
    """
    s = _map(saliency).ravel()
    idx = fixation_indices(fixations, saliency.shape)
    _need(idx, "NSS")
    n = s.size
    mean = float(s.sum()) / n
    var = (float(np.multiply(s, s).sum()) - n * mean * mean) / max(n - 1, 1)
    sd = math.sqrt(max(var, 0.0))
    val = float(s[idx].mean()) - mean
    return _finite(val / sd if sd > 0 else val, s)


def _roc_area(fp: np.ndarray, tp: np.ndarray) -> float:
    return float(np.sum((fp[1:] - fp[:-1]) * (tp[1:] + tp[:-1]) / 2.0))


def _count_ge(values_sorted: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Number of values ≥ each threshold (``values_sorted`` ascending)."""
    return values_sorted.size - np.searchsorted(values_sorted, thresholds, side="left")


@METRICS.register("auc_judd")
def auc_judd(saliency: np.ndarray, fixations: Fixations) -> float:
    """AUC-Judd: every saliency value at a fixation is a threshold.

    True-positive rate ``i / N_fix`` at the i-th highest fixated value; false-positive
    rate (pixels ≥ threshold − i) / (pixels − N_fix); trapezoidal area with (0, 0) and
    (1, 1) added. The map is min-max normalised first (no jitter; see module docs).

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    fixations : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Fixation map or points on the map grid (see the module docstring).

    Returns
    -------
    float
        Area under the ROC curve, in [0, 1]; 0.5 is chance.

    Raises
    ------
    InputError
        Malformed map or fixations, no fixation inside the map, or NaN/inf in the map.
    """
    s = _minmax(_map(saliency)).ravel()
    idx = fixation_indices(fixations, saliency.shape)
    _need(idx, "AUC-Judd")
    th = np.sort(s[idx])[::-1]
    n_fix, n_pix = th.size, s.size
    if n_fix <= 64:
        above = (s[None, :] >= th[:, None]).sum(axis=1)
    else:
        above = _count_ge(np.sort(s), th)
    i = np.arange(1, n_fix + 1)
    tp = np.concatenate([[0.0], i / n_fix, [1.0]])
    fp = np.concatenate([[0.0], (above - i) / max(n_pix - n_fix, 1), [1.0]])
    return _roc_area(fp, tp)


@METRICS.register("auc_rank")
def auc_rank(saliency: np.ndarray, fixations: Fixations) -> float:
    """Exact rank AUC of fixated values against all pixels (pysaliency's ``AUC``).

    ``mean over fixations of P(s < s_fix) + ½ P(s = s_fix)`` over all pixels. Not an
    MIT metric; AUC-Judd's trapezoids over only ``N_fix`` thresholds exceed it by about
    ``1 / (2 N_fix)`` on continuous maps.

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    fixations : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Fixation map or points on the map grid (see the module docstring).

    Returns
    -------
    float
        In [0, 1]; 0.5 is chance.

    Raises
    ------
    InputError
        Malformed map or fixations, no fixation inside the map, or NaN/inf in the map.
    """
    s = _map(saliency).ravel()
    idx = fixation_indices(fixations, saliency.shape)
    _need(idx, "rank AUC")
    pos = s[idx]
    if pos.size <= 32:  # a few fixations: direct comparisons beat sorting the map
        lo = (s[None, :] < pos[:, None]).sum(axis=1)
        hi = lo + (s[None, :] == pos[:, None]).sum(axis=1)
    else:
        srt = np.sort(s)
        lo = np.searchsorted(srt, pos, side="left")
        hi = np.searchsorted(srt, pos, side="right")
    return _finite(float(np.mean(lo + 0.5 * (hi - lo)) / s.size), s)


def _auc_split_thresholds(pos: np.ndarray, neg: np.ndarray, step: float) -> float:
    """Mean AUC over the columns of ``neg`` (N_neg, splits), MIT style.

    The MIT code uses thresholds ``0:step:max(pos ∪ split)``; a threshold above that
    maximum gives the ROC point (0, 0), a zero-area segment, so one common grid
    ``0:step:max(all)`` gives the same AUC for every split, vectorised.
    """
    top = max(float(pos.max()), float(neg.max()))
    th = np.arange(0.0, top + step * 1e-9, step)[::-1]
    tp = (pos[None, :] >= th[:, None]).sum(axis=1) / pos.size  # (T,)
    fp = (neg[None, :, :] >= th[:, None, None]).sum(axis=1) / neg.shape[0]  # (T, splits)
    n_split = neg.shape[1]
    tp = np.concatenate([[0.0], tp, [1.0]])[:, None]
    fp = np.concatenate([np.zeros((1, n_split)), fp, np.ones((1, n_split))])
    aucs = np.sum((fp[1:] - fp[:-1]) * (tp[1:] + tp[:-1]) / 2.0, axis=0)
    return float(aucs.mean())


@METRICS.register("auc_borji")
def auc_borji(
    saliency: np.ndarray,
    fixations: Fixations,
    *,
    n_splits: int = 100,
    step: float = 0.1,
    seed: int = 0,
) -> float:
    """AUC-Borji: fixated values against uniformly random pixels (MIT definition).

    For each of ``n_splits`` splits, ``N_fix`` pixels are drawn uniformly (with
    replacement) as negatives; thresholds run from the maximum down to 0 in steps of
    ``step`` on the min-max-normalised map; the AUCs are averaged. pysaliency instead
    computes the exact rank AUC against all pixels.

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    fixations : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Fixation map or points on the map grid (see the module docstring).
    n_splits : int
        Random negative sets (100, as the MIT code).
    step : float
        Threshold step on the min-max-normalised map (0.1, as the MIT code).
    seed : int
        Seed of the :class:`numpy.random.Generator` drawing the negatives.

    Returns
    -------
    float
        Mean AUC over the splits, in [0, 1]; 0.5 is chance.

    Raises
    ------
    InputError
        Malformed map or fixations, no fixation inside the map, or NaN/inf in the map.
    """
    s = _minmax(_map(saliency)).ravel()
    idx = fixation_indices(fixations, saliency.shape)
    _need(idx, "AUC-Borji")
    rng = np.random.default_rng(seed)
    neg = s[rng.integers(0, s.size, size=(idx.size, n_splits))]
    return _auc_split_thresholds(s[idx], neg, step)


@METRICS.register("auc_shuffled")
def auc_shuffled(
    saliency: np.ndarray,
    fixations: Fixations,
    other_fixations: Fixations,
    *,
    n_splits: int = 100,
    step: float = 0.1,
    seed: int = 0,
) -> float:
    """Shuffled AUC: negatives are fixations of *other* images (centre-bias corrected).

    Each split draws ``min(N_fix, N_other)`` of the other fixations without
    replacement; thresholds as in :func:`auc_borji`.

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    fixations : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Fixation map or points on the map grid (see the module docstring).
    other_fixations : (H, W) ndarray, or tuple of two (N,) array_like of float, px
        Other images' fixations, rescaled to this map's grid, in either form of
        ``fixations``.
    n_splits : int
        Random negative sets.
    step : float
        Threshold step on the min-max-normalised map.
    seed : int
        Seed of the :class:`numpy.random.Generator` drawing the negatives.

    Returns
    -------
    float
        Mean AUC over the splits, in [0, 1]; 0.5 is no better than a centre bias.

    Raises
    ------
    InputError
        Malformed map or fixations, no fixation inside the map, or NaN/inf in the map.
        Also when ``other_fixations`` has none inside the map.
    """
    s = _minmax(_map(saliency)).ravel()
    idx = fixation_indices(fixations, saliency.shape)
    other = fixation_indices(other_fixations, saliency.shape)
    _need(idx, "shuffled AUC")
    if other.size == 0:
        raise InputError("shuffled AUC needs other images' fixations")
    rng = np.random.default_rng(seed)
    k = min(idx.size, other.size)
    # k of the other fixations without replacement, independently per split
    pick = np.argsort(rng.random((n_splits, other.size)), axis=1)[:, :k]
    neg = s[other[pick]].T
    return _auc_split_thresholds(s[idx], neg, step)


@METRICS.register("info_gain")
def info_gain(saliency: np.ndarray, fixations: Fixations, baseline: np.ndarray) -> float:
    """Information gain over a baseline map, bits per fixation.

    Both maps are min-max normalised, then sum-normalised (MIT); IG is the mean over
    fixations of ``log2(eps + p) − log2(eps + b)``. The baseline is required: the MIT
    benchmark uses a centre-bias map (:func:`center_bias`), pysaliency a uniform one
    (:func:`uniform`).

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    fixations : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Fixation map or points on the map grid (see the module docstring).
    baseline : (H, W) array_like of float
        Baseline map on the same grid.

    Returns
    -------
    float, bit/fixation
        Positive when the map predicts fixations better than the baseline.

    Raises
    ------
    InputError
        Malformed map or fixations, no fixation inside the map, or NaN/inf in the map.
    """
    s = _map(saliency)
    b = _map(baseline, "baseline")
    if b.shape != s.shape:
        raise InputError(f"baseline shape {b.shape} differs from saliency shape {s.shape}")
    idx = fixation_indices(fixations, s.shape)
    _need(idx, "information gain")
    p, q = _minmax(s), _minmax(b)
    p = p / p.sum() if p.sum() > 0 else np.full_like(p, 1.0 / p.size)
    q = q / q.sum() if q.sum() > 0 else np.full_like(q, 1.0 / q.size)
    return float(np.mean(np.log2(EPS + p.ravel()[idx]) - np.log2(EPS + q.ravel()[idx])))


# ------------------------------------------------------------ distribution-based
def _as_map(other: np.ndarray | Fixations, shape: tuple[int, int]) -> np.ndarray:
    if isinstance(other, tuple | list):
        return fixation_map(other, shape)
    return _map(other, "comparison")


@METRICS.register("cc")
def cc(saliency: np.ndarray, other: np.ndarray | Fixations) -> float:
    """Pearson correlation between the map and another map (or a fixation map).

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    other : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Comparison map, or fixation points (as their :func:`fixation_map`).

    Returns
    -------
    float
        In [-1, 1]; NaN when either map is constant.

    Raises
    ------
    InputError
        A map is not 2-D, the shapes differ, or a map holds NaN or inf.
    """
    s = _map(saliency)
    o = _as_map(other, s.shape)
    if o.shape != s.shape:
        raise InputError(f"map shapes differ: {s.shape} vs {o.shape}")
    a, b = s.ravel(), o.ravel()
    n = a.size
    sa, sb = float(a.sum()), float(b.sum())
    # element-wise products, not BLAS dot: no thread start-up cost for one small map
    cov = float(np.multiply(a, b).sum()) - sa * sb / n
    va = float(np.multiply(a, a).sum()) - sa * sa / n
    vb = float(np.multiply(b, b).sum()) - sb * sb / n
    if not (va > 0 and vb > 0):
        _finite(va + vb, a, b)
        return float("nan")
    return _finite(cov / math.sqrt(va * vb), a, b)


@METRICS.register("kld")
def kld(saliency: np.ndarray, other: np.ndarray | Fixations) -> float:
    """KL divergence of the ground-truth density ``other`` from the prediction.

    ``sum(Q · log(eps + Q / (P + eps)))`` with both maps sum-normalised and
    ``eps = 2.2204e-16`` (MIT).

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted map ``P`` (non-negative).
    other : (H, W) ndarray, or tuple of two (N,) array_like of float, px
        Ground truth ``Q`` (a density map), or ``(x, y)`` fixation points turned into a
        count map (:func:`fixation_map`).

    Returns
    -------
    float, nat
        Lower is better; 0 for identical maps.

    Raises
    ------
    InputError
        A map is not 2-D, the shapes differ, or a map holds NaN or inf.
    """
    p = _map(saliency)
    q = _as_map(other, p.shape)
    if q.shape != p.shape:
        raise InputError(f"map shapes differ: {p.shape} vs {q.shape}")
    ps, qs = float(p.sum()), float(q.sum())
    p = p.ravel() / ps if ps > 0 else p.ravel()
    q = q.ravel() / qs if qs > 0 else q.ravel()
    nz = np.flatnonzero(q)  # Q = 0 terms contribute 0 · log(eps) = 0
    if nz.size < q.size // 2:
        p, q = p[nz], q[nz]
    t = p + EPS  # one scratch buffer: q · log(eps + q / (p + eps))
    np.divide(q, t, out=t)
    t += EPS
    np.log(t, out=t)
    return _finite(float(np.multiply(t, q, out=t).sum()), p, q)


@METRICS.register("sim")
def sim(saliency: np.ndarray, other: np.ndarray | Fixations) -> float:
    """Similarity (histogram intersection): sum of the pixel-wise minimum.

    Both maps are min-max normalised, then sum-normalised (MIT; pysaliency skips the
    min-max step).

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    other : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Comparison map, or fixation points (as their :func:`fixation_map`).

    Returns
    -------
    float
        In [0, 1]: 1 for identical distributions, 0 for disjoint ones; NaN when either
        map is constant.

    Raises
    ------
    InputError
        A map is not 2-D, the shapes differ, or a map holds NaN or inf.
    """
    p = _map(saliency)
    q = _as_map(other, p.shape)
    if q.shape != p.shape:
        raise InputError(f"map shapes differ: {p.shape} vs {q.shape}")
    # min-max then sum-normalise == (m - min) / (sum(m) - n·min): the max cancels
    p, q = p.ravel(), q.ravel()
    n = p.size
    lp, lq = float(p.min()), float(q.min())
    dp, dq = float(p.sum()) - n * lp, float(q.sum()) - n * lq
    if not (dp > 0 and dq > 0):
        _finite(dp + dq, p, q)
        return float("nan")
    return _finite(float(np.minimum((p - lp) / dp, (q - lq) / dq).sum()), p, q)


def _downsample(m: np.ndarray, size: int) -> np.ndarray:
    """Block-sum ``m`` to at most ``size × size`` bins (keeps mass)."""
    h, w = m.shape
    fy, fx = max(1, math.ceil(h / size)), max(1, math.ceil(w / size))
    ph, pw = -(-h // fy) * fy, -(-w // fx) * fx
    pad = np.zeros((ph, pw))
    pad[:h, :w] = m
    return pad.reshape(ph // fy, fy, pw // fx, fx).sum(axis=(1, 3))


@METRICS.register("emd")
def emd(saliency: np.ndarray, other: np.ndarray | Fixations, *, size: int = 16) -> float:
    """Earth Mover's Distance between the two maps, exact, on downsampled grids.

    Both maps are clipped at 0, block-summed to at most ``size × size`` bins and
    sum-normalised; the exact optimal transport cost (ground distance = Euclidean
    distance between bin centres) is solved as a linear program with
    :func:`scipy.optimize.linprog` (HiGHS) over the non-empty bins.

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    other : (H, W) ndarray, or (x, y) tuple of (N,) array_like, px
        Comparison map, or fixation points (as their :func:`fixation_map`).
    size : int
        Most bins per side of the downsampled grids.

    Returns
    -------
    float, bins
        Transport cost in bin widths of the downsampled grid; lower is better, 0 for
        identical maps; NaN when either map has no positive mass.

    Raises
    ------
    InputError
        A map is not 2-D, the shapes differ, or a map holds NaN or inf.
    """
    from scipy import sparse
    from scipy.optimize import linprog

    p = _map(saliency)
    q = _as_map(other, p.shape)
    if q.shape != p.shape:
        raise InputError(f"map shapes differ: {p.shape} vs {q.shape}")
    a, b = _downsample(np.clip(p, 0, None), size), _downsample(np.clip(q, 0, None), size)
    if a.sum() <= 0 or b.sum() <= 0:
        return float("nan")
    a, b = a.ravel() / a.sum(), b.ravel() / b.sum()
    ia, ib = np.flatnonzero(a > 0), np.flatnonzero(b > 0)
    w = _downsample(np.zeros(p.shape), size).shape[1]
    ya, xa = np.divmod(ia, w)
    yb, xb = np.divmod(ib, w)
    cost = np.hypot(ya[:, None] - yb[None, :], xa[:, None] - xb[None, :]).ravel()
    na, nb = ia.size, ib.size
    rows_a = sparse.kron(sparse.eye(na), np.ones((1, nb)))
    rows_b = sparse.kron(np.ones((1, na)), sparse.eye(nb))
    # supply rows as equalities, demand rows as ≤ (a tiny slack keeps the LP feasible
    # under floating-point rounding of the two unit masses)
    res = linprog(
        cost,
        A_ub=rows_b.tocsr(),
        b_ub=b[ib] + 1e-12,
        A_eq=rows_a.tocsr(),
        b_eq=a[ia],
        bounds=(0, None),
        method="highs",
    )
    if not res.success:  # pragma: no cover - transport LPs are always feasible
        raise InputError(f"EMD transport problem failed: {res.message}")
    return float(res.fun)


# ------------------------------------------------------------------ baselines
def uniform(shape: tuple[int, int]) -> np.ndarray:
    """Uniform baseline map (pysaliency's default information-gain baseline).

    Parameters
    ----------
    shape : (H, W), px
        Map grid.

    Returns
    -------
    (H, W) ndarray of float64
        Every pixel ``1 / (H W)``, summing to 1.
    """
    return np.full(shape, 1.0 / (shape[0] * shape[1]))


def center_bias(shape: tuple[int, int], sigma_frac: float = 0.25) -> np.ndarray:
    """Gaussian centre-bias baseline, summing to 1.

    Parameters
    ----------
    shape : (H, W), px
        Map grid.
    sigma_frac : float
        σ as a fraction of each side: σ_y = ``sigma_frac`` × H, σ_x = ``sigma_frac`` × W
        (isotropic in image fractions, not in pixels, for a non-square map).

    Returns
    -------
    (H, W) ndarray of float64
        Peak at the map's centre.
    """
    h, w = shape
    yy = (np.arange(h) - (h - 1) / 2) / (sigma_frac * h)
    xx = (np.arange(w) - (w - 1) / 2) / (sigma_frac * w)
    m = np.exp(-0.5 * (yy[:, None] ** 2 + xx[None, :] ** 2))
    return m / m.sum()


def evaluate(
    saliency: np.ndarray,
    fixations: Fixations,
    *,
    reference: np.ndarray | None = None,
    baseline: np.ndarray | None = None,
    other_fixations: Fixations | None = None,
    emd_size: int = 16,
    seed: int = 0,
) -> dict[str, float]:
    """All metrics that the inputs allow, as ``{name: value}``.

    Location metrics use ``fixations``; distribution metrics compare with ``reference``
    (a map, e.g. another reader's heatmap) or else the fixation map blurred by nothing
    (counts).

    Parameters
    ----------
    saliency : (H, W) array_like of float
        Predicted saliency map.
    fixations : (H, W) ndarray, or tuple of two (N,) array_like of float, px
        Fixations on the map grid (see :func:`fixation_indices`).
    reference : (H, W) ndarray, optional
        Ground-truth map for ``cc``, ``kld``, ``sim`` and ``emd``; the fixations'
        count map when omitted.
    baseline : (H, W) ndarray, optional
        Baseline of ``info_gain``; :func:`center_bias` when omitted.
    other_fixations : (H, W) ndarray or tuple of (N,) array_like, px, optional
        Other images' fixations; adds ``auc_shuffled``.
    emd_size : int
        Most bins per side for ``emd``.
    seed : int
        Seed of the random negatives of ``auc_borji`` and ``auc_shuffled``.

    Returns
    -------
    dict of str -> float
        ``auc_judd``, ``auc_borji``, ``nss``, ``info_gain`` (bit/fixation), ``cc``,
        ``kld``, ``sim``, ``emd`` (bins) and, with ``other_fixations``,
        ``auc_shuffled``; units and ranges as in each metric's function.

    Raises
    ------
    InputError
        As the individual metrics.
    """
    s = _map(saliency)
    ref = reference if reference is not None else fixation_map(fixations, s.shape)
    out = {
        "auc_judd": auc_judd(s, fixations),
        "auc_borji": auc_borji(s, fixations, seed=seed),
        "nss": nss(s, fixations),
        "info_gain": info_gain(
            s, fixations, baseline if baseline is not None else center_bias(s.shape)
        ),
        "cc": cc(s, ref),
        "kld": kld(s, ref),
        "sim": sim(s, ref),
        "emd": emd(s, ref, size=emd_size),
    }
    if other_fixations is not None:
        out["auc_shuffled"] = auc_shuffled(s, fixations, other_fixations, seed=seed)
    return out
