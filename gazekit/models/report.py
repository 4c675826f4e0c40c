"""Evaluation rows with bootstrap confidence intervals over images, as tables and JSON.

Every number an evaluation reports is one row ``(task, regime, model, metric, value,
ci_low, ci_high, support)``: ``value`` is the point estimate on the test split,
``ci_low``/``ci_high`` the 2.5 and 97.5 percentiles of the same statistic recomputed on
test *images* resampled with replacement (the percentile bootstrap, Efron & Tibshirani
1993; images, not fixations, are the independent units: fixations of one reading and
readings of one image are correlated), and ``support`` the number of units behind the
value. Differences between two models are bootstrapped on the same resamples (paired),
so a difference whose interval excludes 0 is a difference the test set supports.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROW_COLUMNS: tuple[str, ...] = (
    "task", "regime", "model", "metric", "value", "ci_low", "ci_high", "support",
)  # fmt: skip
#: Percentile bootstrap resamples (1,000: the percentile interval's Monte-Carlo error is
#: then well under its width for the sample sizes here; Efron & Tibshirani 1993, ch. 19).
N_BOOT = 1000


def resample_weights(groups: Sequence[str], n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_units) multiplicities of units when their groups (images) are resampled.

    Parameters
    ----------
    groups : sequence of str
        Image id of each unit (reading, fixation, ...).
    n_boot : int
    seed : int

    Returns
    -------
    (n_boot, n_units) ndarray of float64
        How many times each unit enters each resample (units of one image together).
    """
    g = pd.Index(list(groups))
    codes, uniq = pd.factorize(g)
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, len(uniq), size=(n_boot, len(uniq)))
    counts = np.zeros((n_boot, len(uniq)))
    for b in range(n_boot):
        counts[b] = np.bincount(draw[b], minlength=len(uniq))
    return counts[:, codes]


def ci(values: np.ndarray) -> tuple[float, float]:
    """2.5 and 97.5 percentiles of the finite bootstrap values (NaN when none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan
    lo, hi = np.percentile(v, [2.5, 97.5])
    return float(lo), float(hi)


def weighted_mean_stat(values: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean of per-unit values and its bootstrap replicates.

    Parameters
    ----------
    values : (n_units,) ndarray (NaN = unit does not count)
    weights : (n_boot, n_units) ndarray from :func:`resample_weights`

    Returns
    -------
    (float, (n_boot,) ndarray)
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    point = float(v[ok].mean()) if ok.any() else math.nan
    w = weights * ok[None, :]
    den = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (w @ np.where(ok, v, 0.0)) / den
    return point, boot


def macro_of_means(values: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
    """Macro average over columns of per-unit means (NaN = unit/column pair absent).

    ``values`` (n_units, C): e.g. the AUROC of finding ``c`` within reading ``u``. The
    point estimate is the mean over columns of the column means; each replicate does the
    same with the units resampled (columns with no unit in a resample are skipped).
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        col = np.where(ok.any(0), np.nansum(np.where(ok, v, 0.0), 0) / ok.sum(0), np.nan)
        point = float(np.nanmean(col)) if np.isfinite(col).any() else math.nan
        num = weights @ np.where(ok, v, 0.0)  # (B, C)
        den = weights @ ok.astype(np.float64)
        has = den > 0
        col_means = np.where(has, num / np.where(has, den, 1.0), 0.0)
        n_cols = has.sum(axis=1)
        boot = np.where(n_cols > 0, col_means.sum(axis=1) / np.maximum(n_cols, 1), np.nan)
    return point, boot


def row(task: str, regime: str, model: str, metric: str, point: float, boot: np.ndarray,
        support: int) -> dict[str, object]:  # fmt: skip
    """One result row (see the module docstring)."""
    lo, hi = ci(boot)
    return {"task": task, "regime": regime, "model": model, "metric": metric, "value": point,
            "ci_low": lo, "ci_high": hi, "support": int(support)}  # fmt: skip


def bootstrap_rows(task: str, regime: str, metric: str, stats: dict[str, tuple[float, np.ndarray]],
                   support: int, reference: str | None = None,
                   lower_is_better: bool = False) -> list[dict[str, object]]:  # fmt: skip
    """Rows of one metric for several models, plus paired differences to ``reference``.

    ``stats[model] = (point, replicates)`` on the same resamples. A difference row has
    model ``"<reference> - <other>"`` and metric ``"delta_<metric>"``, signed so that
    positive means the reference is better.
    """
    out = [row(task, regime, m, metric, p, b, support) for m, (p, b) in stats.items()]
    if reference is not None and reference in stats:
        p0, b0 = stats[reference]
        sign = -1.0 if lower_is_better else 1.0
        for m, (p, b) in stats.items():
            if m == reference or m.startswith("oracle"):
                continue
            out.append(row(task, regime, f"{reference} - {m}", f"delta_{metric}",
                           sign * (p0 - p), sign * (b0 - b), support))  # fmt: skip
    return out


def boot_over(fn: Callable[[np.ndarray], float], n_units: int, weights: np.ndarray) -> np.ndarray:
    """Replicates of a statistic that needs the resampled data itself.

    ``fn(idx)`` computes the statistic on units ``idx`` (with repeats); ``weights`` from
    :func:`resample_weights` give the multiplicities.
    """
    base = np.arange(n_units)
    out = np.empty(len(weights))
    for b, w in enumerate(weights):
        out[b] = fn(np.repeat(base, w.astype(np.int64)))
    return out


def rows_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows as a DataFrame with the :data:`ROW_COLUMNS` order."""
    return pd.DataFrame(rows, columns=list(ROW_COLUMNS))


def format_rows(rows: pd.DataFrame) -> str:
    """Markdown tables, one per (task, regime): models as rows, metrics as columns.

    Cells read ``value [ci_low, ci_high]``; difference rows come in a second table.
    """
    out = []
    for (task, regime), g in rows.groupby(["task", "regime"], sort=False):
        for kind, part in (("", g[~g["metric"].str.startswith("delta_")]),
                           ("paired differences (positive = first model better)",
                            g[g["metric"].str.startswith("delta_")])):  # fmt: skip
            if part.empty:
                continue
            metrics = list(dict.fromkeys(part["metric"]))
            models = list(dict.fromkeys(part["model"]))
            head = f"### {task} · {regime}" + (f" · {kind}" if kind else "")
            lines = [head, "", "| model | " + " | ".join(metrics) + " |",
                     "|---|" + "---|" * len(metrics)]  # fmt: skip
            cell = {(r.model, r.metric): r for r in part.itertuples()}
            for m in models:
                vals = []
                for k in metrics:
                    r = cell.get((m, k))
                    vals.append(_fmt(r) if r is not None else "")
                lines.append(f"| {m} | " + " | ".join(vals) + " |")
            sup = part.groupby("metric")["support"].first()
            lines.append("")
            lines.append("support: " + ", ".join(f"{k} {int(sup[k])}" for k in metrics))
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def _fmt(r) -> str:  # type: ignore[no-untyped-def]
    if not math.isfinite(r.value):
        return "n/a"
    if math.isfinite(r.ci_low):
        return f"{r.value:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
    return f"{r.value:.3f}"


def write_json(rows: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write rows as a JSON list of objects (NaN → null), atomically."""
    from gazekit.io.parquet import atomic_path

    recs = []
    for r in rows.to_dict("records"):
        recs.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                     for k, v in r.items()})  # fmt: skip
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(p) as tmp:
        Path(tmp).write_text(json.dumps(recs, indent=1))
    return p
