"""Benchmark-preset evaluation of target-conditioned scanpath models (``--preset gazesearch``).

For every held-out search scanpath, the model — conditioned on that recording's search
target, read from the dataset (never the untrained "no target" entry) — and every
per-target baseline of :mod:`gazekit.models.targets` predict a scanpath; the preset of
:mod:`gazekit.metrics.presets` scores it against the human one (centre prepended,
benchmark parameters). Stochastic predictors are averaged over ``n_samples`` draws.

Headline first (Kümmerer & Bethge 2021): the teacher-forced log-likelihood of the human
fixations (bits per fixation, density over the unit square of the frame) and the
information gain of the model over the centre-bias Gaussian and over the per-target
density, with 95 % bootstrap intervals over images (:mod:`gazekit.models.report`).

Decoding (``decoding``): ``sample`` (temperature ``temperature``: the mixture weights are
sharpened and the Gaussians narrowed by it) or ``greedy`` (the most probable component's
mean, the median duration, stop when the stop probability exceeds ½). Decoding always
starts at the frame centre: the benchmark's scanpaths begin after the reader's first,
central fixation, which the model's learned start token stands for; the preset then
prepends the centre to the decoded scanpath as to the human one. Scanpaths are capped at
the longest training scanpath (6 fixations for GazeSearch, whose scanpaths are cut there).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from gazekit.errors import InputError
from gazekit.metrics.presets import LOWER_IS_BETTER, PRESETS, score_pair, sed_gazesearch_grid
from gazekit.models import targets
from gazekit.models.baselines import CentreBias
from gazekit.models.data import Corpus, Example, load_corpus
from gazekit.models.evaluate_scanpath import LN2, teacher_forced_ll
from gazekit.models.report import bootstrap_rows, resample_weights, rows_frame, weighted_mean_stat
from gazekit.models.splits import check_leakage, examples_of_split
from gazekit.models.train import TrainConfig, load_checkpoint, resolve_device

log = logging.getLogger(__name__)

DECODINGS: tuple[str, ...] = ("sample", "greedy")
MODEL = "model"


class _CentreBiasPredictor:
    """The global centre-bias Gaussian as a per-example predictor."""

    name = "centre bias"
    deterministic = False

    def __init__(self, train: Sequence[Example]) -> None:
        self.g = CentreBias(train)

    def sample(self, e: Example, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return self.g.sample(e.image_id, rng)

    def log_density(self, e: Example, xy: np.ndarray) -> np.ndarray:
        del e
        return self.g.log_density(xy)


@torch.no_grad()
def decode(
    model: torch.nn.Module,
    image: torch.Tensor,
    target: int | None,
    *,
    n_samples: int,
    max_len: int,
    decoding: str = "sample",
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Scanpaths of a scanpath model: (L, 2) positions in [0, 1] and (L,) durations in ms.

    Parameters
    ----------
    model : ScanpathModel
    image : (1, 1, S, S) tensor
        The image (a (1, 1, 1, 1) placeholder for an image-free model).
    target : int or None
        Index of the search target in ``FINDINGS``.
    n_samples : int
        Scanpaths drawn (``greedy`` returns one).
    max_len : int
        Longest scanpath (fixations).
    decoding : {"sample", "greedy"}
    temperature : float
        Sampling temperature (> 0).
    generator : torch.Generator, optional
    """
    if decoding not in DECODINGS:
        raise InputError(f"decoding must be one of {DECODINGS}, got {decoding!r}")
    if not temperature > 0:
        raise InputError(f"temperature must be > 0, got {temperature}")
    if decoding == "sample":
        drawn = model.sample(image, n_samples=n_samples, max_len=max_len, temperature=temperature,
                             generator=generator, target=target)  # fmt: skip
        return [(d["xy"].numpy().astype(np.float64), d["dur_ms"].numpy().astype(np.float64))
                for d in drawn]  # fmt: skip
    return [_greedy(model, image, target, max_len)]


def _greedy(
    model: torch.nn.Module, image: torch.Tensor, target: int | None, max_len: int
) -> tuple[np.ndarray, np.ndarray]:
    """Most probable component's mean at each step; stop when P(stop) > 1/2."""
    model.eval()
    tokens, fmap = model.encoder(image)
    dev = tokens.device
    tgt = model.cfg.n_classes if target is None else int(target)
    xy, dur, t = [], [], []
    for i in range(max_len):
        cur = {
            "xy": torch.tensor([[*xy, (0.0, 0.0)]], dtype=torch.float32, device=dev),
            "dur": torch.tensor([[*dur, 0.0]], dtype=torch.float32, device=dev),
            "t": torch.tensor([[*t, 0.0]], dtype=torch.float32, device=dev),
            "mask": torch.ones(1, i + 1, dtype=torch.bool, device=dev),
            "region": torch.zeros(1, i + 1, dtype=torch.long, device=dev),
            "target": torch.tensor([tgt], device=dev),
        }
        p = model.params(model._hidden(cur, tokens, fmap)[:, -1])
        k = int(p["logit_pi"][0].argmax())
        xy.append(tuple(float(v) for v in p["mu"][0, k].clamp(0.0, 1.0)))
        t.append(t[-1] + math.exp(dur[-1]) / 1000.0 if i else 0.0)
        dur.append(float(p["dur_mu"][0]))
        if float(torch.sigmoid(p["stop"][0])) > 0.5:
            break
    return np.array(xy, dtype=np.float64), np.exp(np.array(dur, dtype=np.float64))


def _px(xy01: np.ndarray, dur_ms: np.ndarray, frame: tuple[float, float]) -> np.ndarray:
    return np.column_stack([xy01[:, 0] * frame[0], xy01[:, 1] * frame[1], dur_ms / 1000.0])


def evaluate_preset(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    preset: str = "gazesearch",
    eval_split: str | None = None,
    train_data: str | os.PathLike[str] | None = None,
    n_samples: int = 8,
    decodings: Sequence[str] = ("sample",),
    temperature: float = 1.0,
    seed: int = 0,
    n_boot: int = 1000,
    out: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    progress: bool = False,
) -> dict[str, pd.DataFrame]:
    """The preset's table for a target-conditioned checkpoint and every baseline.

    Parameters
    ----------
    checkpoint : path
        A ``scanpath`` checkpoint (e.g. trained with the ``gazesearch`` config).
    data : path
        Dataset directory holding the recordings to evaluate.
    preset : str
        A preset of :data:`gazekit.metrics.presets.PRESETS`.
    eval_split : str, optional
        Evaluate the recordings of this dataset split (``valid``, ``test``, ...); default:
        the checkpoint's own test (else validation) recordings.
    train_data : path, optional
        Dataset holding the checkpoint's training recordings (the baselines are fitted
        on them); default ``data``.
    n_samples : int
        Draws per stochastic predictor and held-out scanpath.
    decodings : sequence of {"sample", "greedy"}
        One model row per decoding.
    temperature : float
        Sampling temperature.
    seed : int
    n_boot : int
        Bootstrap resamples over images.
    out : path, optional
        Directory for ``<preset>_rows.csv`` and ``<preset>.md``.
    device : str
        Device of the model: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
    progress : bool
        Show a progress bar over the held-out recordings (tqdm, on stderr).

    Returns
    -------
    dict
        ``rows``: one row per (predictor, metric) with 95 % intervals (see
        :mod:`gazekit.models.report`), paired differences to the model.

    Raises
    ------
    InputError
        A model without target conditioning, a held-out recording without a target,
        training recordings not found, or held-out units seen in training.
    """
    spec = PRESETS.get(preset)
    model, ck = load_checkpoint(checkpoint, device=resolve_device(device))
    dev = next(model.parameters()).device
    cfg = TrainConfig.from_dict(ck["config"])
    if ck["task"] != "scanpath":
        raise InputError(f"--preset {preset} evaluates scanpath checkpoints, not {ck['task']!r}")
    if not cfg.model.target_finding:
        raise InputError("the checkpoint was trained without target conditioning "
                         "(model.target_finding); train it with the 'gazesearch' config")  # fmt: skip

    def load(path: str | os.PathLike[str]) -> Corpus:
        return load_corpus(path, regime=cfg.regime, source=cfg.source,
                           image_size=cfg.model.image_size)  # fmt: skip

    corpus = load(data)
    train_corpus = corpus if train_data is None else load(train_data)
    seen = set(ck["split"]["train"])
    train = [e for e in train_corpus.examples if e.recording_id in seen]
    if not train:
        raise InputError("none of the checkpoint's training recordings is in the data; pass "
                         "the training dataset (--train-data)", path=Path(train_data or data))  # fmt: skip
    if eval_split is not None:
        test = examples_of_split(corpus, eval_split)
    else:
        ids = set(ck["split"]["test"] or ck["split"]["val"])
        test = [e for e in corpus.examples if e.recording_id in ids]
    if not test:
        raise InputError("no held-out recording to evaluate", path=Path(data))
    check_leakage(train, test, cfg.leakage_unit)
    no_target = [e.recording_id for e in test if e.target is None]
    if no_target:
        raise InputError(f"{len(no_target)} held-out recording(s) have no search target, e.g. "
                         f"{no_target[:2]}: a target-conditioned model needs one")  # fmt: skip
    frame = spec.frame_px
    frames = {corpus.image_shape[e.image_id] for e in test}
    if frames != {(round(frame[1]), round(frame[0]))}:
        raise InputError(f"preset {preset} scores a {frame[0]:g} x {frame[1]:g} frame; the data's "
                         f"frames are {sorted(frames)} (h, w)")  # fmt: skip
    max_len = max(len(e) for e in train)
    baselines = [targets.CentreRepeat(train), targets.TargetMeanScanpath(train),
                 targets.RandomHumanSameTarget(train), targets.TargetDensity(train),
                 _CentreBiasPredictor(train)]  # fmt: skip
    rng = np.random.default_rng(seed)
    gen = torch.Generator(device=dev).manual_seed(seed)
    names = [f"{MODEL} ({d})" for d in decodings] + [b.name for b in baselines]
    metrics = (*spec.metrics, "sed_gazesearch_grid")
    per: dict[str, dict[str, list[float]]] = {n: {m: [] for m in metrics} for n in names}
    for e in tqdm(test, desc=f"evaluate {preset}", unit="rec", disable=not progress):
        ref = _px(e.xy.astype(np.float64), np.exp(e.dur.astype(np.float64)), frame)
        image = _image(corpus, e).to(dev)
        preds: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        for d in decodings:
            preds[f"{MODEL} ({d})"] = decode(model, image, e.target, n_samples=n_samples,
                                            max_len=max_len, decoding=d, temperature=temperature,
                                            generator=gen)  # fmt: skip
        for b in baselines:
            k = 1 if b.deterministic else n_samples
            preds[b.name] = [b.sample(e, rng) for _ in range(k)]
        for name, drawn in preds.items():
            scores = []
            for xy01, dur_ms in drawn:
                p = _px(xy01, dur_ms, frame)
                s = score_pair(spec, p, ref)
                s["sed_gazesearch_grid"] = sed_gazesearch_grid(spec, p, ref)
                scores.append(s)
            for m in metrics:
                vals = [s[m] for s in scores if np.isfinite(s[m])]
                per[name][m].append(float(np.mean(vals)) if vals else math.nan)
    w = resample_weights([e.image_id for e in test], n_boot, seed)
    rows: list[dict[str, object]] = []
    rows += _likelihood_rows(model, corpus, test, train, baselines, w, preset, decodings)
    ref_name = names[0]
    for m in metrics:
        stats = {n: weighted_mean_stat(np.array(per[n][m]), w) for n in names}
        rows += bootstrap_rows("scanpath", preset, m, stats, len(test), reference=ref_name,
                               lower_is_better=m in LOWER_IS_BETTER or m.startswith("sed"))  # fmt: skip
    result = {"rows": rows_frame(rows)}
    if out is not None:
        _save(result, out, preset)
    return result


def _image(corpus: Corpus, e: Example) -> torch.Tensor:
    if not corpus.images:
        return torch.zeros(1, 1, 1, 1)
    return torch.as_tensor(corpus.images[e.image_id])[None, None]


def _likelihood_rows(model: torch.nn.Module, corpus: Corpus, test: list[Example],
                     train: list[Example], baselines: list[Any], w: np.ndarray, preset: str,
                     decodings: Sequence[str]) -> list[dict[str, object]]:  # fmt: skip
    """Log-likelihood (bits/fixation) of the model and the density baselines; IG of the model."""
    dens = [b for b in baselines if hasattr(b, "log_density")]
    ll_model = teacher_forced_ll(model, corpus, test)
    name = f"{MODEL} ({decodings[0]})"
    per = {name: [float(v.mean()) for v in ll_model]}
    for b in dens:
        per[b.name] = [float(b.log_density(e, e.xy.astype(np.float64)).mean() / LN2) for e in test]
    stats = {k: weighted_mean_stat(np.array(v), w) for k, v in per.items()}
    n_fix = int(sum(len(e) for e in test))
    rows = bootstrap_rows("scanpath", preset, "ll_bits_per_fixation", stats, n_fix)
    for b in dens:
        gain = np.array(per[name]) - np.array(per[b.name])
        rows += bootstrap_rows("scanpath", preset, f"ig_vs_{b.name.replace(' ', '_')}",
                               {name: weighted_mean_stat(gain, w)}, n_fix)  # fmt: skip
    return rows


def _save(result: dict[str, pd.DataFrame], out: str | os.PathLike[str], stem: str) -> None:
    from gazekit.io.parquet import atomic_path
    from gazekit.models.report import format_rows

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    with atomic_path(d / f"{stem}_rows.csv") as tmp:
        result["rows"].to_csv(tmp, index=False)
    with atomic_path(d / f"{stem}.md") as tmp:
        Path(tmp).write_text(format_rows(result["rows"]))
