"""Held-out evaluation of intent checkpoints against fair baselines and an oracle.

The test recordings are the ones the checkpoint's own split put aside (images — and,
with enough readers, readers — never seen in training); the split is stored in the
checkpoint, so evaluation cannot leak.

Intent rows (see :mod:`gazekit.models.report` for the row format and the bootstrap):

* ``auroc_within`` / ``ap_within`` (headline): for each finding, the AUROC / average
  precision *within each test reading* that has both labelled and unlabelled fixations
  for it, averaged over those readings, then macro-averaged over findings. Pooled
  scores mostly measure whether a finding is in the image at all (an image-level
  oracle scores 0.93–1.00 pooled); within a reading, only knowing *which* fixation is
  aimed at the finding counts;
* ``auroc_pooled`` / ``ap_pooled``: the same over all test fixations pooled;
* models: the transformer; fair baselines trained or fitted on the same training
  split — the region × time-bin prior, the GRU and the image-only classifier; and the
  **oracle** (finding boxes of the test image, which define the labels) as a bound on
  what *spatial* information gives, never a baseline. It knows no time, so within a
  reading it can trail a model that learns the reading's phases (e.g. the RadHybrid
  scan, where every finding is a target wherever the fixation lands).
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from gazekit.errors import InputError
from gazekit.io.parquet import read_frame
from gazekit.metrics.classification import auroc, average_precision
from gazekit.models import baselines
from gazekit.models.data import FINDINGS, Corpus, Example, check_digests, load_corpus
from gazekit.models.report import (
    N_BOOT,
    boot_over,
    bootstrap_rows,
    format_rows,
    macro_of_means,
    resample_weights,
    rows_frame,
)
from gazekit.models.train import TrainConfig, load_checkpoint, resolve_device, to_tensors, train

log = logging.getLogger(__name__)

INTENT_METRICS = ("auroc_within", "ap_within", "auroc_pooled", "ap_pooled")
ORACLE = "oracle-finding-boxes"
#: Intent baselines trained with the checkpoint's own configuration and split.
TRAINED_BASELINES = {"gru": "intent_gru", "image-only": "intent_image"}


def checkpoint_and_corpus(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    task: str | None = None,
    device: str = "cpu",
) -> tuple[torch.nn.Module, dict[str, Any], TrainConfig, Corpus]:
    """A checkpoint's model, dict and config, and ``data`` loaded the way it was trained.

    Parameters
    ----------
    checkpoint : str or PathLike
        A run's ``best.pt``/``checkpoint.pt``.
    data : str or PathLike
        Dataset directory.
    task : str, optional
        Required task of the checkpoint (refused otherwise); any when omitted.
    device : str
        Device of the model: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (cuda when
        available).

    Returns
    -------
    (torch.nn.Module, dict, TrainConfig, Corpus)
    """
    model, ck = load_checkpoint(checkpoint, device=resolve_device(device), task=task)
    cfg = TrainConfig.from_dict(ck["config"])
    corpus = load_corpus(
        data, regime=cfg.regime, source=cfg.source, image_size=cfg.model.image_size
    )
    return model, ck, cfg, corpus


def _test_examples(corpus: Corpus, ck: dict[str, Any]) -> list[Example]:
    split = ck["split"]
    test = split["test"] or split["val"]
    from gazekit.models.splits import check_leakage

    seen = set(split["train"])
    ex = [e for e in corpus.examples if e.recording_id in set(test)]
    train = [e for e in corpus.examples if e.recording_id in seen]
    check_leakage(train, ex, (ck.get("config") or {}).get("leakage_unit", "image"))  # its own unit
    if not ex:
        raise InputError("the checkpoint's split has no test or validation recordings here")
    if "digests" not in split:
        raise InputError(
            "the checkpoint records no fingerprint of its training data (written by an older "
            "gazekit); train again so the test recordings can be checked"
        )
    check_digests(ex, split["digests"], corpus.root)
    return ex


@torch.no_grad()
def predict_intent(
    model: torch.nn.Module, corpus: Corpus, examples: list[Example], batch_size: int = 32
) -> list[np.ndarray]:
    """Per-fixation finding probabilities, one (L, C) array per example.

    Runs without gradients, in evaluation mode, on the model's device.

    Parameters
    ----------
    model : torch.nn.Module
        An intent model (:func:`gazekit.models.train.load_checkpoint`).
    corpus : Corpus
        Holds the examples' images.
    examples : list of Example
        Recordings to score.
    batch_size : int
        Examples per forward pass.

    Returns
    -------
    list of (L, C) ndarray of float32
        Sigmoid probabilities in [0, 1]; ``L`` fixations of each example, ``C``
        findings in :data:`gazekit.models.data.FINDINGS` order.
    """
    model.eval()
    dev = next(model.parameters()).device
    out = []
    for i in range(0, len(examples), batch_size):
        part = examples[i : i + batch_size]
        logits, _ = model(to_tensors(corpus, part, dev))
        prob = torch.sigmoid(logits).float().cpu().numpy()
        out += [prob[k, : len(e)] for k, e in enumerate(part)]
    return out


def within_scores(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-finding AUROC and AP of one reading ((C,) each, NaN without both classes).

    Parameters
    ----------
    y : (L, C) ndarray of {0, 1}
    s : (L, C) ndarray of float
    """
    c = y.shape[1]
    au, ap = np.full(c, np.nan), np.full(c, np.nan)
    for k in range(c):
        n_pos = int(y[:, k].sum())
        if 0 < n_pos < len(y):
            au[k] = auroc(y[:, k], s[:, k])
            ap[k] = average_precision(y[:, k], s[:, k])
    return au, ap


def _pooled(y: np.ndarray, s: np.ndarray, metric) -> float:  # type: ignore[no-untyped-def]
    vals = [metric(y[:, k], s[:, k]) for k in range(y.shape[1]) if 0 < y[:, k].sum() < len(y)]
    return float(np.mean(vals)) if vals else math.nan


def intent_rows(
    test: list[Example],
    scores: dict[str, list[np.ndarray]],
    regime: str,
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    reference: str = "transformer",
) -> pd.DataFrame:
    """Result rows of every intent model on the test readings (bootstrap over images).

    Parameters
    ----------
    test : list of Example
    scores : dict of str to list of (L, C) ndarray
        Per model, per test reading, the per-fixation finding scores.
    regime : str
    n_boot, seed : int
        Bootstrap resamples and their seed (the same resamples for every model).
    reference : str
        Model whose paired differences to the others are reported.
    """
    images = [e.image_id for e in test]
    w_rec = resample_weights(images, n_boot, seed)
    fix_img = np.concatenate([[e.image_id] * len(e) for e in test])
    w_fix = resample_weights(fix_img, n_boot // 5 or 1, seed)  # pooled: fewer (costlier)
    y = np.concatenate([e.intent for e in test])
    stats: dict[str, dict[str, tuple[float, np.ndarray]]] = {m: {} for m in INTENT_METRICS}
    support: dict[str, int] = {}
    for name, per_rec in scores.items():
        au = np.stack([within_scores(e.intent, sc)[0] for e, sc in zip(test, per_rec, strict=True)])
        ap = np.stack([within_scores(e.intent, sc)[1] for e, sc in zip(test, per_rec, strict=True)])
        stats["auroc_within"][name] = macro_of_means(au, w_rec)
        stats["ap_within"][name] = macro_of_means(ap, w_rec)
        support["auroc_within"] = support["ap_within"] = int(np.isfinite(au).sum())
        s = np.concatenate(per_rec)
        for metric, fn in (("auroc_pooled", auroc), ("ap_pooled", average_precision)):
            point = _pooled(y, s, fn)
            boot = boot_over(lambda i, fn=fn, s=s: _pooled(y[i], s[i], fn), len(y), w_fix)
            stats[metric][name] = (point, boot)
        support["auroc_pooled"] = support["ap_pooled"] = len(y)
    rows = []
    for metric in INTENT_METRICS:
        rows += bootstrap_rows("intent", regime, metric, stats[metric], support[metric],
                               reference=reference)  # fmt: skip
    return rows_frame(rows)


def per_finding_table(test: list[Example], scores: dict[str, list[np.ndarray]]) -> pd.DataFrame:
    """Within-reading AUROC and AP per finding and model, with support (readings)."""
    out = []
    for name, per_rec in scores.items():
        pairs = [within_scores(e.intent, sc) for e, sc in zip(test, per_rec, strict=True)]
        au = np.stack([p[0] for p in pairs])
        ap = np.stack([p[1] for p in pairs])
        for k, f in enumerate(FINDINGS):
            n = int(np.isfinite(au[:, k]).sum())
            if n:
                out.append({"model": name, "finding": f, "readings": n,
                            "auroc_within": float(np.nanmean(au[:, k])),
                            "ap_within": float(np.nanmean(ap[:, k]))})  # fmt: skip
    return pd.DataFrame(out)


def evaluate_intent(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    baseline_checkpoints: dict[str, str | os.PathLike[str]] | None = None,
    gru_checkpoint: str | os.PathLike[str] | None = None,
    n_boot: int = N_BOOT,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Intent rows for one checkpoint (one regime): transformer, fair baselines, oracle.

    Parameters
    ----------
    checkpoint, data : path
    out : path, optional
        Directory for ``intent_<regime>_rows.csv``, ``…_per_finding.csv`` and ``….md``;
        the trained baselines go to ``out/<name>`` (next to the checkpoint without it).
    baseline_checkpoints : dict, optional
        ``{"gru": path, "image-only": path}``: reuse trained baselines (same split!).
        Missing ones are trained here with the checkpoint's configuration and split.
    gru_checkpoint : path, optional
        Shorthand for ``baseline_checkpoints={"gru": path}``.
    n_boot, seed : int
        Bootstrap resamples over test images and their seed.
    device : str
        Device of the models (``cpu``, ``cuda``, ``cuda:N``, ``auto``); baselines
        trained here train on it too.
    progress : bool
        Show progress bars (models scored; baseline training) on stderr.

    Returns
    -------
    dict with ``rows`` (see :mod:`gazekit.models.report`) and ``per_finding``.
    """
    model, ck, cfg, corpus = checkpoint_and_corpus(checkpoint, data, "intent", device)
    dev = next(model.parameters()).device
    bar = tqdm(total=2 + len(TRAINED_BASELINES), desc=f"evaluate intent {cfg.regime}",
               unit="model", disable=not progress)  # fmt: skip
    test = _test_examples(corpus, ck)
    given = dict(baseline_checkpoints or {})
    if gru_checkpoint is not None:
        given["gru"] = gru_checkpoint
    scores = {"transformer": predict_intent(model, corpus, test)}
    bar.update()
    by_id = {e.recording_id: e for e in corpus.examples}
    train_ex = [by_id[r] for r in ck["split"]["train"] if r in by_id]
    prior = baselines.RegionTimePrior(train_ex)
    scores[prior.name] = [prior.scores(e) for e in test]
    bar.update()
    for name, task in TRAINED_BASELINES.items():
        path = given.get(name)
        if path is None:
            bdir = (Path(out) if out is not None else Path(checkpoint).parent) / name
            path = train(corpus, replace(cfg, task=task), bdir, device=str(dev),
                         progress=progress).checkpoint  # fmt: skip
        bm, bck = load_checkpoint(path, device=dev)
        if sorted(bck["split"]["test"]) != sorted(ck["split"]["test"]):
            raise InputError(f"baseline {name} was trained on another split", path=Path(path))
        scores[name] = predict_intent(bm, corpus, test)
        bar.update()
    bar.close()
    finds = _findings(Path(data))
    scores[ORACLE] = [
        baselines.oracle_region_scores(e, finds.get(e.recording_id), corpus.image_shape[e.image_id])
        for e in test
    ]
    rows = intent_rows(test, scores, cfg.regime, n_boot=n_boot, seed=seed)
    result = {"rows": rows, "per_finding": per_finding_table(test, scores)}
    _save(result, out, f"intent_{cfg.regime}")
    return result


def _findings(root: Path) -> dict[str, pd.DataFrame]:
    f = root / "findings.parquet"
    if not f.is_file():
        return {}
    df = read_frame(f, "findings")
    return {str(k): g for k, g in df.groupby("recording_id")}


def _save(result: dict[str, pd.DataFrame], out: str | os.PathLike[str] | None, stem: str) -> None:
    if out is None:
        return
    from gazekit.io.parquet import atomic_path

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    for key, df in result.items():
        with atomic_path(d / f"{stem}_{key}.csv") as tmp:
            df.to_csv(tmp, index=False)
    with atomic_path(d / f"{stem}.md") as tmp:
        Path(tmp).write_text(format_tables(result))


def format_tables(result: dict[str, pd.DataFrame]) -> str:
    """Markdown: the rows as tables with confidence intervals, then per-finding scores.

    Parameters
    ----------
    result : dict of str -> DataFrame
        ``rows`` (see :func:`gazekit.models.report.format_rows`) and optionally
        ``per_finding`` (``model``, ``finding``, ``readings``, ``auroc_within``).

    Returns
    -------
    str
        Markdown text ending in a newline; values with three decimals.
    """
    text = format_rows(result["rows"])
    pf = result.get("per_finding")
    if pf is not None and not pf.empty:
        wide = pf.pivot_table(index=["finding", "readings"], columns="model",
                              values="auroc_within", sort=False).reset_index()  # fmt: skip
        text += "\nper-finding AUROC within readings (support = readings):\n\n" + _markdown(wide)
    return text + "\n"


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(map(str, cols)) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)
