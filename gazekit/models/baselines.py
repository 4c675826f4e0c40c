"""Honest baselines for the intent and scanpath models.

Intent (per-fixation finding scores):

* :class:`RegionTimePrior` — a count table P(finding | anatomy region, time bin) from
  the training split (Laplace-smoothed): what an intent model gets for free from where
  and when a fixation lands;
* :class:`GRUIntentModel` — a bidirectional GRU over the same fixation tokens as the
  transformer (image feature at the fixation included), trained with the same loop;
* :class:`ImageOnlyIntentModel` — the same image encoder and loss, one prediction per
  reading from the image alone (no fixation): what "is the finding in the image" is worth;
* :func:`oracle_region_scores` — **not a baseline but an upper bound**: a fixation's
  score for a finding falls off with its distance to that finding's annotated box
  (1 inside, ``exp(-d / scale)`` outside). It reads the test image's finding boxes,
  which define the labels, so it is reported as the oracle row.

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

from gazekit.errors import InputError
from gazekit.models.data import FINDINGS, Example
from gazekit.models.nn import ImageEncoder, IntentHead, ModelConfig, TokenEmbedding


def oracle_region_scores(
    example: Example,
    findings: pd.DataFrame | None,
    image_shape: tuple[int, int],
    scale: float = 0.05,
) -> np.ndarray:
    """(L, C) oracle scores from the distance of each fixation to each finding's box.

    An upper bound, never a baseline: the boxes are the test image's annotations.

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


class GRUIntentModel(IntentHead):
    """Bidirectional GRU over fixation tokens → per-fixation finding logits (B, L, C)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self._init_head(cfg)
        self.encoder = ImageEncoder(cfg)
        self.embed = TokenEmbedding(cfg)
        self.gru = nn.GRU(cfg.d_model, cfg.d_model // 2, num_layers=cfg.n_layers, batch_first=True,
                          bidirectional=True, dropout=cfg.dropout if cfg.n_layers > 1 else 0.0)  # fmt: skip
        self.head = nn.Linear(cfg.d_model, cfg.n_classes)

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, L, C) and the loss (None without ``intent``), as :class:`IntentModel`."""
        _, fmap = self.encoder(batch["image"])
        x = self.embed(batch, fmap)
        lengths = batch["mask"].sum(1).clamp_min(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(
            x, lengths, batch_first=True, enforce_sorted=False
        )
        y, _ = self.gru(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        logits = self.head(y)
        return logits, (self.intent_loss(logits, batch) if "intent" in batch else None)


class ImageOnlyIntentModel(IntentHead):
    """Image-only classifier: one finding vector per reading, from the image tokens alone.

    Every fixation of a reading gets the same logits, so it cannot tell fixations apart
    within an image (its within-image AUROC is 0.5 by construction); pooled over images
    it measures how much of a score is "this finding is in the image".
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self._init_head(cfg)
        self.encoder = ImageEncoder(cfg)
        self.head = nn.Sequential(
            nn.LayerNorm(cfg.d_model), nn.Linear(cfg.d_model, cfg.d_model), nn.GELU(),
            nn.Linear(cfg.d_model, cfg.n_classes),
        )  # fmt: skip

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits (B, L, C), constant along L, and the loss (None without ``intent``)."""
        img_tokens, _ = self.encoder(batch["image"])
        logits = self.head(img_tokens.mean(1))[:, None].expand(-1, batch["xy"].shape[1], -1)
        return logits, (self.intent_loss(logits, batch) if "intent" in batch else None)


class RegionTimePrior:
    """P(finding | anatomy region, onset-time bin), counted on the training split.

    Parameters
    ----------
    train : sequence of Example
    bin_edges_s : sequence of float
        Onset-time bin edges (s from the first fixation); the default (0, 2, 5, 10, 20,
        40 s, then open) separates the initial scan (~2–3 s, Kundel et al. 2007's global
        impression) from the search and the later review.
    alpha : float
        Laplace smoothing toward the finding's overall rate (pseudo-fixations per cell).
    """

    name = "region-time-prior"

    def __init__(
        self,
        train: Sequence[Example],
        bin_edges_s: Sequence[float] = (2.0, 5.0, 10.0, 20.0, 40.0),
        alpha: float = 1.0,
    ) -> None:
        if not alpha > 0:
            raise InputError(f"RegionTimePrior alpha must be > 0, got {alpha}")
        self.edges = np.asarray(bin_edges_s, dtype=np.float64)
        n_reg = 1 + max(int(max(e.region.max(initial=0) for e in train)), 0)
        self.n_reg = max(n_reg, 64)
        n_bins = len(self.edges) + 1
        c = len(FINDINGS)
        pos = np.zeros((self.n_reg, n_bins, c))
        cnt = np.zeros((self.n_reg, n_bins))
        for e in train:
            r, b = self._cells(e)
            np.add.at(pos, (r, b), e.intent)
            np.add.at(cnt, (r, b), 1.0)
        y = np.concatenate([e.intent for e in train])
        base = y.mean(axis=0) if len(y) else np.zeros(c)
        self.table = (pos + alpha * base) / (cnt[..., None] + alpha)

    def _cells(self, e: Example) -> tuple[np.ndarray, np.ndarray]:
        r = np.clip(e.region.astype(np.int64), 0, self.n_reg - 1)
        b = np.searchsorted(self.edges, e.t.astype(np.float64), side="right")
        return r, b

    def scores(self, e: Example) -> np.ndarray:
        """(L, C) probabilities of every fixation of ``e``."""
        r, b = self._cells(e)
        return self.table[r, b].astype(np.float32)


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

    def log_density(self, xy: np.ndarray) -> np.ndarray:
        """Log density (nats) of positions (N, 2) in [0, 1]² units under the Gaussian."""
        d = np.asarray(xy, dtype=np.float64) - self.mean
        inv = np.linalg.inv(self.cov)
        q = np.einsum("ni,ij,nj->n", d, inv, d)
        return -np.log(2 * np.pi) - 0.5 * np.log(np.linalg.det(self.cov)) - 0.5 * q


class DensitySampler:
    """Fixations drawn from the training fixation density (32×32 histogram).

    The histogram is blurred by one cell (Gaussian) and mixed with 1 % of the uniform
    density, so that its log-likelihood on held-out fixations is finite (the usual
    regularisation of a saliency baseline, Kümmerer et al., PNAS 2015).
    """

    name = "heatmap-sampling"

    def __init__(self, train: Sequence[Example], bins: int = 32) -> None:
        from scipy.ndimage import gaussian_filter

        xy = np.concatenate([e.xy for e in train]).astype(np.float64)
        h, _, _ = np.histogram2d(xy[:, 1], xy[:, 0], bins=bins, range=[[0, 1], [0, 1]])
        h = gaussian_filter(h, 1.0, mode="nearest")
        p = h.ravel() / max(h.sum(), 1e-12)
        self.p = 0.99 * p + 0.01 / p.size
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

    def log_density(self, xy: np.ndarray) -> np.ndarray:
        """Log density (nats) of positions (N, 2) in [0, 1]² units (cell mass × bins²)."""
        xy = np.asarray(xy, dtype=np.float64)
        c = np.clip((xy[:, 0] * self.bins).astype(int), 0, self.bins - 1)
        r = np.clip((xy[:, 1] * self.bins).astype(int), 0, self.bins - 1)
        return np.log(self.p[r * self.bins + c] * self.bins**2)
