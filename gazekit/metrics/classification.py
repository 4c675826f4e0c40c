"""Per-fixation multi-label intent classification metrics.

Definitions follow scikit-learn's (``roc_auc_score``, ``average_precision_score``,
``precision_recall_fscore_support`` with ``zero_division=0``, ``cohen_kappa_score``)
without depending on it. Macro averages are over findings (classes), never over
{0, 1}. A class with no positive fixations has NaN for every per-class metric and is
left out of the macro average (a log line names it); micro averages pool all cells.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError
from gazekit.registry import Registry

log = logging.getLogger(__name__)

METRICS: Registry[Any] = Registry("classification metric")

PER_CLASS = ("auroc", "average_precision", "precision", "recall", "f1", "accuracy")


def _matrix(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{name}: expected shape (n_fixations, n_classes), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        row, col = (int(v[0]) for v in np.nonzero(~np.isfinite(arr)))
        raise InputError(f"{name}: non-finite value", line=row, column=str(col))
    return arr


def _binary(y: np.ndarray, name: str) -> np.ndarray:
    if not np.all((y == 0) | (y == 1)):
        raise InputError(f"{name}: labels must be 0 or 1")
    return y.astype(bool)


@METRICS.register("auroc")
def auroc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve of one class (rank formula, ties count ½).

    Parameters
    ----------
    y_true : array (n,) of {0, 1}
    y_score : array (n,) of float

    Returns
    -------
    float; NaN when ``y_true`` has only one class.
    """
    t = _binary(_matrix(y_true, "y_true")[:, 0], "y_true")
    s = _matrix(y_score, "y_score")[:, 0]
    npos = int(t.sum())
    nneg = t.size - npos
    if npos == 0 or nneg == 0:
        return math.nan
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[t].sum() - npos * (npos + 1) / 2) / (npos * nneg))


@METRICS.register("average_precision")
def average_precision(y_true: Any, y_score: Any) -> float:
    """Average precision ``Σ (R_k − R_{k−1}) P_k`` over distinct score thresholds (sklearn's).

    Parameters
    ----------
    y_true : (n,) array_like of {0, 1}
        Whether each fixation has the finding.
    y_score : (n,) array_like of float
        Predicted score (probability) of each fixation; higher means more likely.

    Returns
    -------
    float
        In [0, 1]; NaN when there are no positives.

    Raises
    ------
    InputError
        A label is not 0 or 1, or a value is not finite.

    Examples
    --------
    >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    t = _binary(_matrix(y_true, "y_true")[:, 0], "y_true")
    s = _matrix(y_score, "y_score")[:, 0]
    npos = int(t.sum())
    if npos == 0:
        return math.nan
    order = np.argsort(-s, kind="mergesort")
    s, t = s[order], t[order]
    last = np.r_[np.nonzero(np.diff(s))[0], s.size - 1]  # last index of each threshold
    tp = np.cumsum(t)[last]
    fp = (last + 1) - tp
    precision = tp / (tp + fp)
    recall = tp / npos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def _prf(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp > 0 else 0.0
    r = tp / (tp + fn) if tp + fn > 0 else 0.0
    f = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return p, r, f


def multilabel_report(
    y_true: Any,
    y_score: Any,
    *,
    classes: Sequence[str] | None = None,
    threshold: float = 0.5,
) -> dict[str, Any]:
    """All intent metrics for per-fixation multi-label predictions.

    Parameters
    ----------
    y_true : array (n_fixations, n_classes) of {0, 1}
    y_score : array (n_fixations, n_classes) of float
        Probabilities; predicted positive when ``score >= threshold``.
    classes : sequence of str, optional
        Finding names (default ``class_0 ...``).
    threshold : float, default 0.5

    Returns
    -------
    dict
        ``per_class``: DataFrame indexed by class with columns auroc, average_precision,
        precision, recall, f1, accuracy, support; ``macro``: dict of the mean of each
        per-class metric over classes with positives; ``micro``: dict of auroc,
        average_precision, precision, recall, f1 pooled over all cells;
        ``exact_match_accuracy`` (all labels of a fixation right) and
        ``label_accuracy`` (fraction of right cells); ``excluded``: classes without
        positives.
    """
    t = _binary(_matrix(y_true, "y_true"), "y_true")
    s = _matrix(y_score, "y_score")
    if t.shape != s.shape:
        raise InputError(f"y_true shape {t.shape} differs from y_score shape {s.shape}")
    n, c = t.shape
    names = list(classes) if classes is not None else [f"class_{k}" for k in range(c)]
    if len(names) != c:
        raise InputError(f"{len(names)} class names for {c} columns")
    pred = s >= threshold
    rows = []
    excluded = []
    for k in range(c):
        tk, pk = t[:, k], pred[:, k]
        acc = float(np.mean(tk == pk)) if n else math.nan
        if not tk.any():
            excluded.append(names[k])
            rows.append(dict.fromkeys(PER_CLASS[:-1], math.nan) | {"accuracy": acc, "support": 0})
            continue
        tp = float(np.sum(tk & pk))
        fp = float(np.sum(~tk & pk))
        fn = float(np.sum(tk & ~pk))
        p, r, f = _prf(tp, fp, fn)
        rows.append(
            {
                "auroc": auroc(tk, s[:, k]),
                "average_precision": average_precision(tk, s[:, k]),
                "precision": p,
                "recall": r,
                "f1": f,
                "accuracy": acc,
                "support": int(tk.sum()),
            }
        )
    if excluded:
        log.info("classes without positives, excluded from macro averages: %s", ", ".join(excluded))
    per_class = pd.DataFrame(rows, index=pd.Index(names, name="class"))
    kept = per_class.drop(index=excluded)
    macro = {
        m: (float(np.nanmean(kept[m])) if kept[m].notna().any() else math.nan) for m in PER_CLASS
    }
    tp = float(np.sum(t & pred))
    fp = float(np.sum(~t & pred))
    fn = float(np.sum(t & ~pred))
    p, r, f = _prf(tp, fp, fn)
    micro = {
        "auroc": auroc(t.ravel(), s.ravel()),
        "average_precision": average_precision(t.ravel(), s.ravel()),
        "precision": p,
        "recall": r,
        "f1": f,
    }
    return {
        "per_class": per_class,
        "macro": macro,
        "micro": micro,
        "exact_match_accuracy": float(np.mean(np.all(t == pred, axis=1))) if n else math.nan,
        "label_accuracy": float(np.mean(t == pred)) if n else math.nan,
        "excluded": excluded,
    }


@METRICS.register("cohen_kappa")
def cohen_kappa(y1: Sequence[Any], y2: Sequence[Any]) -> float:
    """Cohen's kappa between two single-label annotations, ``(p_o − p_e) / (1 − p_e)``.

    Parameters
    ----------
    y1, y2 : sequence
        Labels (any hashable values) of the two raters, item by item.

    Returns
    -------
    float
        Kappa in [-1, 1]; NaN for empty input; 1.0 when both raters use one
        identical label only.

    Raises
    ------
    InputError
        The sequences differ in length.
    """
    a = np.asarray(list(y1), dtype=object)
    b = np.asarray(list(y2), dtype=object)
    if a.shape != b.shape:
        raise InputError(f"cohen_kappa: lengths differ ({a.size} vs {b.size})")
    if a.size == 0:
        return math.nan
    labels = sorted(set(a.tolist()) | set(b.tolist()), key=str)
    po = float(np.mean(a == b))
    pe = sum(float(np.mean(a == v)) * float(np.mean(b == v)) for v in labels)
    if pe == 1.0:
        return 1.0 if po == 1.0 else math.nan
    return (po - pe) / (1 - pe)
