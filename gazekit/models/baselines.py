"""Honest baselines for the intent and scanpath models.

Intent (per-fixation finding scores):

* :func:`nearest_region_scores` — a fixation's score for a finding falls off with its
  distance to that finding's annotated box (1 inside, ``exp(-d / scale)`` outside);
  findings without a location score 0;
* :class:`GRUIntentModel` — a bidirectional GRU over the same fixation tokens as the
  transformer (image feature at the fixation included), trained with the same loop.

Scanpath (sampled fixation sequences, positions in [0, 1] image units):

* :class:`CentreBias` — positions from an anisotropic Gaussian fitted to the training
  fixations, log-normal durations and lengths from the training set;
* :class:`DensitySampler` — positions from the training fixation density (a 32×32
  histogram, sampled with uniform jitter inside the cell), same durations and lengths;
* human consistency — other readers' scanpaths of the same image (in
  :mod:`gazekit.models.evaluate`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from gazekit.models.data import FINDINGS, Example
from gazekit.models.nn import ImageEncoder, ModelConfig, TokenEmbedding


def nearest_region_scores(
    example: Example,
    findings: pd.DataFrame | None,
    image_shape: tuple[int, int],
    scale: float = 0.05,
) -> np.ndarray:
    """(L, C) scores from the distance of each fixation to each finding's box.

    ``findings`` holds the recording's rows of the ``findings`` table (labels mapped to
    GazeIntent names where possible); distances are in image-width units, ``scale`` is
    the fall-off length (0.05 ≈ 1° on a typical display).
    """
    from gazekit.vocab import to_gazeintent

    out = np.zeros((len(example), len(FINDINGS)), np.float32)
    if findings is None or not len(findings):
        return out
    h, w = image_shape
    x, y = example.xy[:, 0] * w, example.xy[:, 1] * h
    for r in findings.itertuples():
        try:
            name = to_gazeintent(str(r.label))
        except KeyError:
            try:
                name = to_gazeintent(str(r.label), "egd")
            except KeyError:
                continue
        if name not in FINDINGS:
            continue
        dx = np.maximum(np.maximum(r.xmin - x, 0.0), x - r.xmax)
        dy = np.maximum(np.maximum(r.ymin - y, 0.0), y - r.ymax)
        d = np.hypot(dx, dy) / w
        k = FINDINGS.index(name)
        out[:, k] = np.maximum(out[:, k], np.exp(-d / scale))
    return out


class GRUIntentModel(nn.Module):
    """Bidirectional GRU over fixation tokens → per-fixation finding logits (B, L, C)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = ImageEncoder(cfg)
        self.embed = TokenEmbedding(cfg)
        self.gru = nn.GRU(cfg.d_model, cfg.d_model // 2, num_layers=cfg.n_layers, batch_first=True,
                          bidirectional=True, dropout=cfg.dropout if cfg.n_layers > 1 else 0.0)  # fmt: skip
        self.head = nn.Linear(cfg.d_model, cfg.n_classes)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        _, fmap = self.encoder(batch["image"])
        x = self.embed(batch, fmap)
        lengths = batch["mask"].sum(1).clamp_min(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        y, _ = self.gru(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return self.head(y)

    def loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Masked binary cross-entropy (as :meth:`IntentModel.loss`)."""
        logits = self(batch)
        m = batch["mask"].unsqueeze(-1).to(logits.dtype)
        bce = nn.functional.binary_cross_entropy_with_logits(
            logits, batch["intent"], reduction="none"
        )
        return (bce * m).sum() / (m.sum() * logits.shape[-1]).clamp_min(1.0)


class _Durations:
    def __init__(self, train: Sequence[Example]) -> None:
        d = np.concatenate([e.dur for e in train])
        self.mu, self.sd = float(d.mean()), float(d.std() + 1e-6)
        self.lengths = np.array([len(e) for e in train])

    def draw(self, rng: np.random.Generator) -> tuple[int, np.ndarray]:
        n = int(rng.choice(self.lengths))
        return n, np.exp(rng.normal(self.mu, self.sd, n))


class CentreBias:
    """Fixations from a Gaussian fitted to the training positions (centre bias)."""

    name = "centre-bias"

    def __init__(self, train: Sequence[Example]) -> None:
        xy = np.concatenate([e.xy for e in train]).astype(np.float64)
        self.mean, self.cov = xy.mean(0), np.cov(xy.T) + 1e-6 * np.eye(2)
        self.dur = _Durations(train)

    def sample(self, image_id: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One scanpath: (L, 2) positions in [0, 1], (L,) durations in ms."""
        del image_id
        n, dur = self.dur.draw(rng)
        return np.clip(rng.multivariate_normal(self.mean, self.cov, n), 0, 1), dur


class DensitySampler:
    """Fixations drawn from the training fixation density (32×32 histogram)."""

    name = "heatmap-sampling"

    def __init__(self, train: Sequence[Example], bins: int = 32) -> None:
        xy = np.concatenate([e.xy for e in train]).astype(np.float64)
        h, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=bins, range=[[0, 1], [0, 1]])
        self.p = (h.ravel() + 1e-9) / (h.sum() + 1e-9 * h.size)
        self.bins = bins
        self.dur = _Durations(train)

    def sample(self, image_id: str, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One scanpath: (L, 2) positions in [0, 1], (L,) durations in ms."""
        del image_id
        n, dur = self.dur.draw(rng)
        cell = rng.choice(self.p.size, size=n, p=self.p)
        r, c = np.divmod(cell, self.bins)
        xy = np.stack([(c + rng.random(n)) / self.bins, (r + rng.random(n)) / self.bins], 1)
        return xy, dur
