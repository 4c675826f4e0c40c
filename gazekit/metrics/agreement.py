"""Agreement between two per-sample event labellings (detector vs human coder).

Sample-level Cohen's kappa over all classes, the binary one-vs-rest kappa per class used in
the event-detection literature (Andersson et al. 2017, *One algorithm to rule them all?*,
Behavior Research Methods 49; Zemblys et al. 2018), and a simple event-level matching
(events of one class overlapping in time) for event recall/precision.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gazekit.errors import InputError


def _pair(
    a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(a)
    y = np.asarray(b)
    if x.ndim != 1 or y.ndim != 1:
        raise InputError(f"agreement: labels must be 1-D, got shapes {x.shape} and {y.shape}")
    if x.shape != y.shape:
        raise InputError(f"agreement: lengths differ ({x.size} vs {y.size})")
    return x, y


def cohen_kappa(
    a: Sequence[int] | np.ndarray,
    b: Sequence[int] | np.ndarray,
    labels: Sequence[int] | None = None,
) -> float:
    """Cohen's kappa ``(p_o − p_e) / (1 − p_e)`` between two label sequences.

    Parameters
    ----------
    a, b : (N,) array_like
        Labels of the two raters, sample by sample.
    labels : sequence, optional
        Keep only samples where *both* raters used one of these labels (as scikit-learn's
        ``cohen_kappa_score(labels=...)`` restricts the confusion matrix); default all.

    Returns
    -------
    float
        Kappa in [-1, 1]; NaN for no samples; 1.0 when both raters agree on a single label.
    """
    x, y = _pair(a, b)
    if labels is not None:
        keep = np.isin(x, labels) & np.isin(y, labels)
        x, y = x[keep], y[keep]
    if x.size == 0:
        return math.nan
    values, inv = np.unique(np.concatenate([x, y]), return_inverse=True)
    ix, iy = inv[: x.size], inv[x.size :]
    k = values.size
    conf = np.bincount(ix * k + iy, minlength=k * k).reshape(k, k).astype(np.float64) / x.size
    po = float(np.trace(conf))
    pe = float(conf.sum(axis=1) @ conf.sum(axis=0))
    if pe >= 1.0:
        return 1.0 if po >= 1.0 else math.nan
    return (po - pe) / (1.0 - pe)


def per_class_kappa(
    a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray, cls: int
) -> float:
    """Binary one-vs-rest kappa of class ``cls`` (``a == cls`` vs ``b == cls``).

    Parameters
    ----------
    a, b : (N,) array_like of int
        Per-sample event codes of the two raters (e.g. :data:`gazekit.events.CODE_NAMES`
        indices), sample by sample.
    cls : int
        The class code.

    Returns
    -------
    float
        Kappa in [-1, 1]; NaN when neither rater used ``cls`` (agreement on absence is
        uninformative).

    Raises
    ------
    InputError
        The sequences are not 1-D or differ in length.
    """
    x, y = _pair(a, b)
    xa, yb = x == cls, y == cls
    if not (xa.any() or yb.any()):
        return math.nan
    return cohen_kappa(xa, yb)


def _runs(mask: np.ndarray) -> np.ndarray:
    """``(M, 2)`` int64 [start, stop) of the runs of True in ``mask``."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.column_stack([np.flatnonzero(d == 1), np.flatnonzero(d == -1)]).astype(np.int64)


def match_events(
    a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray, cls: int
) -> dict[str, float]:
    """Event-level matching of class ``cls``.

    An event is a run of consecutive samples labelled ``cls``. An event of ``a`` is
    matched when it overlaps (shares at least one sample with) an event of ``b``, and
    vice versa.

    Parameters
    ----------
    a, b : (N,) array_like of int
        Per-sample event codes of the tested labelling (``a``, e.g. a detector) and of
        the reference (``b``, e.g. a human coder), on the same samples.
    cls : int
        The class code.

    Returns
    -------
    dict of str -> float
        ``n_a``, ``n_b`` (event counts), ``recall`` (share of ``b``'s events overlapped by
        one of ``a``'s, ``b`` taken as reference), ``precision`` (share of ``a``'s events
        overlapped by one of ``b``'s) and their ``f1``; NaN where a count is zero.

    Raises
    ------
    InputError
        The sequences are not 1-D or differ in length.

    Examples
    --------
    >>> match_events([1, 1, 0, 0, 1, 1], [1, 0, 0, 0, 0, 0], cls=1)
    {'n_a': 2.0, 'n_b': 1.0, 'recall': 1.0, 'precision': 0.5, 'f1': 0.666...}
    """
    x, y = _pair(a, b)
    ra, rb = _runs(x == cls), _runs(y == cls)
    ca = np.concatenate([[0], np.cumsum(y == cls)])
    cb = np.concatenate([[0], np.cumsum(x == cls)])
    hit_a = (ca[ra[:, 1]] - ca[ra[:, 0]]) > 0 if ra.size else np.zeros(0, bool)
    hit_b = (cb[rb[:, 1]] - cb[rb[:, 0]]) > 0 if rb.size else np.zeros(0, bool)
    prec = float(hit_a.mean()) if hit_a.size else math.nan
    rec = float(hit_b.mean()) if hit_b.size else math.nan
    f1 = 2 * prec * rec / (prec + rec) if (prec + rec) > 0 else math.nan
    return {
        "n_a": float(len(ra)),
        "n_b": float(len(rb)),
        "recall": rec,
        "precision": prec,
        "f1": f1,
    }
