"""Per-target baselines of target-conditioned scanpath prediction (visual search).

Every predictor is fitted on the training examples and draws a scanpath for a held-out
example from what it may know: the example's search target (``Example.target``), never
its fixations. Positions are in [0, 1] frame units, durations in ms.

* :class:`CentreRepeat` — the frame centre N times (N = median training length): the
  trivial predictor that MultiMatch vector/position reward for collapsing to an average;
* :class:`TargetMeanScanpath` — the mean scanpath of the target: at index i, the mean
  position of the i-th fixation over the target's training scanpaths;
* :class:`RandomHumanSameTarget` — a random training scanpath of the same target (a
  human-consistency reference: another reading of another image for the same finding);
* :class:`TargetDensity` — fixations drawn independently from the target's training
  fixation density (the blurred histogram of
  :class:`~gazekit.models.baselines.DensitySampler`), length from the target's
  scanpaths; it also gives the per-target log-density for information gain;
* :class:`~gazekit.models.baselines.CentreBias` (the global Gaussian) completes the set.

A target with no training example falls back to all training examples.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gazekit.models.baselines import DensitySampler
from gazekit.models.data import Example


def _by_target(train: Sequence[Example]) -> dict[int | None, list[Example]]:
    out: dict[int | None, list[Example]] = {}
    for e in train:
        out.setdefault(e.target, []).append(e)
    return out


class CentreRepeat:
    """The frame centre repeated N times, each for the median training duration."""

    deterministic = True

    def __init__(self, train: Sequence[Example], n: int | None = None) -> None:
        self.n = int(n if n is not None else np.median([len(e) for e in train]))
        self.dur_ms = float(np.exp(np.median(np.concatenate([e.dur for e in train]))))
        self.name = f"centre x{self.n}"

    def sample(self, e: Example, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) positions in [0, 1] (all 0.5) and (N,) durations in ms."""
        del e, rng
        return np.full((self.n, 2), 0.5), np.full(self.n, self.dur_ms)


class TargetMeanScanpath:
    """Per-target mean scanpath: mean i-th fixation over the target's training scanpaths.

    Its length is the median length of those scanpaths; position ``i`` averages the
    scanpaths that have an i-th fixation.
    """

    name = "target mean scanpath"
    deterministic = True

    def __init__(self, train: Sequence[Example]) -> None:
        self.paths: dict[int | None, tuple[np.ndarray, np.ndarray]] = {}
        groups = _by_target(train)
        groups[None] = list(train)  # fallback for an unseen target
        for t, ex in groups.items():
            n = max(1, int(np.median([len(e) for e in ex])))
            xy = np.zeros((n, 2))
            dur = np.zeros(n)
            for i in range(n):
                have = [e for e in ex if len(e) > i]
                xy[i] = np.mean([e.xy[i] for e in have], axis=0)
                dur[i] = np.exp(np.mean([e.dur[i] for e in have]))
            self.paths[t] = (xy, dur)

    def sample(self, e: Example, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The mean scanpath of ``e``'s target."""
        del rng
        xy, dur = self.paths.get(e.target, self.paths[None])
        return xy.copy(), dur.copy()


class RandomHumanSameTarget:
    """A random training scanpath with the same target (another image's reading)."""

    name = "random human (same target)"
    deterministic = False

    def __init__(self, train: Sequence[Example]) -> None:
        self.groups = _by_target(train)
        self.all = list(train)

    def sample(self, e: Example, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One training scanpath of ``e``'s target (another image's, if any)."""
        pool = [o for o in self.groups.get(e.target, self.all) if o.image_id != e.image_id]
        o = (pool or self.all)[int(rng.integers(len(pool or self.all)))]
        return o.xy.astype(np.float64), np.exp(o.dur.astype(np.float64))


class TargetDensity:
    """Per-target fixation density: sampled independently, and as a log-density."""

    name = "target density"
    deterministic = False

    def __init__(self, train: Sequence[Example]) -> None:
        self.models = {t: DensitySampler(ex) for t, ex in _by_target(train).items()}
        self.fallback = DensitySampler(list(train))

    def _model(self, e: Example) -> DensitySampler:
        return self.models.get(e.target, self.fallback)

    def sample(self, e: Example, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Positions from the target's density, length and durations from its scanpaths."""
        return self._model(e).sample(e.image_id, rng)

    def log_density(self, e: Example, xy: np.ndarray) -> np.ndarray:
        """Log density (nats, unit-square units) of positions (N, 2) under ``e``'s target."""
        return self._model(e).log_density(xy)
