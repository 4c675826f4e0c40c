"""Held-out evaluation of scanpath checkpoints: likelihood first, prefix similarity second.

Headline (Kümmerer, Wallis & Bethge, PNAS 2015; Kümmerer & Bethge, "State-of-the-art in
human scanpath prediction", 2021): the teacher-forced log-likelihood of every test
fixation's position given the fixations before it, in bits per fixation over the unit
square of the image, and the **information gain** over two baselines fitted on the
training split — a centre-bias Gaussian and the blurred training fixation density:
``IG = mean(log2 p_model(x_i | x_<i) - log2 p_baseline(x_i))``. A positive IG whose
bootstrap interval (over test images) excludes 0 says the model predicts real fixations
better than where fixations usually land. The model is conditioned on the reading's
target finding when it was trained with one.

Secondary: MultiMatch, ScanMatch and string-edit distance (SED) on the first ``prefix``
fixations (long readings make these metrics saturate: human and centre bias differ by
≤ 0.04 on every MultiMatch dimension over 70 fixations). Sampled model scanpaths get the
region ids of the image's atlas, as in training. The human row is the leave-one-reader-
out ceiling among readers of the **same strategy** on the same image.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from gazekit.metrics.scanpath import multimatch, scanmatch, sed
from gazekit.models import baselines
from gazekit.models.data import Example, pad_batch, region_lookup
from gazekit.models.evaluate import _save, _test_examples, checkpoint_and_corpus
from gazekit.models.report import (
    N_BOOT,
    bootstrap_rows,
    resample_weights,
    rows_frame,
    weighted_mean_stat,
)
from gazekit.models.train import image_tensor, to_tensors

log = logging.getLogger(__name__)

PREFIX_METRICS = ("mm_vector", "mm_direction", "mm_length", "mm_position", "mm_duration",
                  "scanmatch", "sed")  # fmt: skip
LOWER_IS_BETTER = {"sed"}
#: Prefix length (fixations) of the secondary metrics: GazeSearch-length search
#: scanpaths are ≤ 7 fixations and the first 10–20 fixations of a free reading carry
#: its search order; 15 sits in that range.
PREFIX = 15
LN2 = math.log(2.0)


@torch.no_grad()
def teacher_forced_ll(
    model: torch.nn.Module, corpus: Any, examples: list[Example], batch_size: int = 16
) -> list[np.ndarray]:
    """Per-fixation position log-likelihood (bits, unit-square density) of each example."""
    model.eval()
    dev = next(model.parameters()).device
    out = []
    for i in range(0, len(examples), batch_size):
        part = examples[i : i + batch_size]
        b = to_tensors(corpus, part, dev)
        p, _ = model(b)
        ll = model.log_likelihood(b, p)["xy"].float().cpu().numpy() / LN2
        out += [ll[k, : len(e)] for k, e in enumerate(part)]
    return out


def _prefix_scores(
    pred: np.ndarray, ref: np.ndarray, size: tuple[float, float]
) -> dict[str, float]:
    """Similarity of two prefixes ((N, 3): x_px, y_px, duration_ms) in a ``size`` px frame."""
    mm = multimatch(pred, ref, frame_size=size)
    return {
        "mm_vector": mm["vector"], "mm_direction": mm["direction"], "mm_length": mm["length"],
        "mm_position": mm["position"], "mm_duration": mm["duration"],
        "scanmatch": scanmatch(pred, ref, frame_size=size, bins=(12, 12), temporal_bin_ms=50.0),
        "sed": sed(pred, ref, frame_size=size, bins=(5, 5)) / max(len(pred), len(ref)),
    }  # fmt: skip


def evaluate_scanpath(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    n_samples: int = 4,
    seed: int = 0,
    prefix: int = PREFIX,
    n_boot: int = N_BOOT,
    device: str = "cpu",
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """Scanpath rows: log-likelihood and information gain, then prefix similarities.

    Parameters
    ----------
    checkpoint, data : path
    out : path, optional
        Directory for ``scanpath_rows.csv`` and ``scanpath.md``.
    n_samples : int
        Scanpaths sampled per test reading (model and baseline samplers).
    seed : int
    prefix : int
        Fixations compared by the secondary metrics.
    n_boot : int
        Bootstrap resamples over test images.
    device : str
        Device of the model: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
    progress : bool
        Show a progress bar over the test recordings (tqdm, on stderr).

    Returns
    -------
    dict with ``rows`` (see :mod:`gazekit.models.report`).
    """
    model, ck, cfg, corpus = checkpoint_and_corpus(checkpoint, data, device=device)
    dev = next(model.parameters()).device
    regime = cfg.regime
    test = _test_examples(corpus, ck)
    by_id = {e.recording_id: e for e in corpus.examples}
    train_ex = [by_id[r] for r in ck["split"]["train"] if r in by_id]
    centre, density = baselines.CentreBias(train_ex), baselines.DensitySampler(train_ex)
    images = [e.image_id for e in test]
    w = resample_weights(images, n_boot, seed)
    # ---- headline: teacher-forced log-likelihood and information gain (bits/fixation)
    ll_model = teacher_forced_ll(model, corpus, test)
    per = {"transformer": [], centre.name: [], density.name: []}
    for e, llm in zip(test, ll_model, strict=True):
        xy = e.xy.astype(np.float64)
        per["transformer"].append(float(llm.mean()))
        per[centre.name].append(float(centre.log_density(xy).mean() / LN2))
        per[density.name].append(float(density.log_density(xy).mean() / LN2))
    ll_stats = {k: weighted_mean_stat(np.array(v), w) for k, v in per.items()}
    n_fix = int(sum(len(e) for e in test))
    rows = bootstrap_rows("scanpath", regime, "ll_bits_per_fixation", ll_stats, n_fix)
    for name in (centre.name, density.name):
        gain = np.array(per["transformer"]) - np.array(per[name])
        p, b = weighted_mean_stat(gain, w)
        rows += bootstrap_rows("scanpath", regime, f"ig_vs_{name}", {"transformer": (p, b)}, n_fix)
    # ---- secondary: prefix similarities of sampled scanpaths
    rng = np.random.default_rng(seed)
    gen = torch.Generator(device=dev).manual_seed(seed)
    samplers = [centre, density]
    names = ["transformer", centre.name, density.name, "human"]
    sims: dict[str, list[dict[str, float]]] = {n: [] for n in names}
    atlases: dict[str, Any] = {}
    for e in tqdm(test, desc="evaluate scanpath", unit="rec", disable=not progress):
        h, wd = corpus.image_shape[e.image_id]
        size = (float(wd), float(h))
        k = min(prefix, len(e))
        ref = np.column_stack([e.xy[:k, 0] * wd, e.xy[:k, 1] * h, np.exp(e.dur[:k])])

        def mean_sim(preds: list[tuple[np.ndarray, np.ndarray]], ref=ref, size=size, wd=wd, h=h):
            vals = []
            for xy01, dur_ms in preds:
                if len(xy01) < 2:
                    continue
                pr = np.column_stack([xy01[:prefix, 0] * wd, xy01[:prefix, 1] * h,
                                      dur_ms[:prefix]])  # fmt: skip
                vals.append(_prefix_scores(pr, ref, size))
            return {m: float(np.nanmean([v[m] for v in vals])) if vals else math.nan
                    for m in PREFIX_METRICS}  # fmt: skip

        image = image_tensor(corpus, e.image_id).to(dev)
        target = int(pad_batch([e])["target"][0]) if cfg.model.target_finding else None
        drawn = model.sample(image, n_samples=n_samples, max_len=prefix, generator=gen,
                             region_of=region_lookup(corpus, e.image_id, atlases),
                             target=target)  # fmt: skip
        sims["transformer"].append(mean_sim(
            [(d["xy"].numpy().astype(np.float64), d["dur_ms"].numpy().astype(np.float64))
             for d in drawn]))  # fmt: skip
        for s in samplers:
            sims[s.name].append(mean_sim([s.sample(e.image_id, rng) for _ in range(n_samples)]))
        others = [o for o in corpus.examples if o.image_id == e.image_id
                  and o.reader_id != e.reader_id and o.strategy == e.strategy]  # fmt: skip
        sims["human"].append(mean_sim([(o.xy.astype(np.float64), np.exp(o.dur.astype(np.float64)))
                                       for o in others]))  # fmt: skip
    for m in PREFIX_METRICS:
        stats = {n: weighted_mean_stat(np.array([v[m] for v in sims[n]]), w) for n in names}
        rows += bootstrap_rows("scanpath", regime, f"prefix{prefix}_{m}", stats, len(test),
                               reference="transformer", lower_is_better=m in LOWER_IS_BETTER)  # fmt: skip
    result = {"rows": rows_frame([r for r in rows if not r["model"].endswith(" - human")])}
    _save(result, out, "scanpath")
    return result
