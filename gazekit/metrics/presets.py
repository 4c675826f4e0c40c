"""Benchmark presets: the scanpath metrics set to one published benchmark's conventions.

A preset fixes the frame, whether the image centre is prepended to every scanpath, and
each metric's parameters, so that "ScanMatch" means the number the benchmark reports.
It calls :mod:`gazekit.metrics.scanpath` for every metric; only the benchmark's own
variants that the generic functions do not offer are written here.

``gazesearch`` (Pham et al., "GazeSearch: Radiology Findings Search Benchmark", WACV
2025, and its released evaluation code):

* frame 224 × 224 px (images padded to a square and resized);
* the image centre (112, 112) prepended to every human and predicted scanpath (the
  paper's "scanpaths of length 7" are 6 fixations after the centre);
* MultiMatch on vector, direction, length and position (no duration), screen 224 × 224;
* ScanMatch on a 14 × 14 grid, threshold 3.5, no temporal binning (each fixation once);
* SED: Levenshtein distance of 5 × 5 grid-cell strings, not normalised;
* STDE: FixaTons' scaled time-delay embedding similarity (Zanca et al. 2018) — positions
  divided by the frame's largest side, for k = 1 … min(len) − 1 the mean over candidate
  windows of the smallest window distance to a reference window, the window distance
  being the **sum** of its per-fixation Euclidean distances divided by k; the score is the
  mean over k of exp(−distance).

Where gazekit differs from the benchmark's code: its SED grid uses integer cells of
``224 // 5 = 44`` px (so x or y ≥ 220 falls into a sixth column/row: a sixth column
aliases into column 0 of the next row, a sixth row makes extra symbols), where the exact
grid has 44.8-px cells. gazekit uses the exact grid; :func:`gazesearch_sed_labels`
reproduces the benchmark's grid so that the difference can be measured
(``benchmarks/gazesearch.py`` prints it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gazekit.errors import InputError
from gazekit.metrics.scanpath import as_scanpath, multimatch, scanmatch, sed, sed_labels
from gazekit.registry import Registry


@dataclass(frozen=True)
class ScanpathPreset:
    """Metric conventions of one benchmark.

    Attributes
    ----------
    name : str
    frame_px : (width, height), px
        Frame every scanpath is expressed in.
    prepend_centre : bool
        Put the frame centre (zero duration) in front of every scanpath before scoring.
    multimatch_dims : tuple of str
        MultiMatch dimensions reported.
    scanmatch_bins : (Xbin, Ybin)
    scanmatch_threshold : float
    scanmatch_temporal_bin_ms : float or None
        None: each fixation counts once (no duration).
    sed_bins : (Xbin, Ybin)
    stde : bool
        Report STDE (FixaTons' summed window distance).
    """

    name: str
    frame_px: tuple[float, float]
    prepend_centre: bool
    multimatch_dims: tuple[str, ...]
    scanmatch_bins: tuple[int, int]
    scanmatch_threshold: float
    scanmatch_temporal_bin_ms: float | None
    sed_bins: tuple[int, int]
    stde: bool = True

    @property
    def metrics(self) -> tuple[str, ...]:
        """Names of the pair metrics :func:`score_pair` returns, in report order."""
        names = [f"mm_{d}" for d in self.multimatch_dims] + ["scanmatch", "sed"]
        return (*names, "stde") if self.stde else tuple(names)


PRESETS: Registry[ScanpathPreset] = Registry("scanpath preset")
GAZESEARCH = ScanpathPreset(
    name="gazesearch",
    frame_px=(224.0, 224.0),
    prepend_centre=True,
    multimatch_dims=("vector", "direction", "length", "position"),
    scanmatch_bins=(14, 14),
    scanmatch_threshold=3.5,
    scanmatch_temporal_bin_ms=None,
    sed_bins=(5, 5),
)
PRESETS.add("gazesearch", GAZESEARCH)
#: Metrics where lower is better.
LOWER_IS_BETTER = frozenset({"sed"})


def with_centre(scanpath: Any, frame_px: tuple[float, float]) -> np.ndarray:
    """``(N + 1, 3)`` scanpath with the frame centre (duration 0) in front.

    Parameters
    ----------
    scanpath : (N, 3) array of x_px, y_px, duration_s, or a DataFrame (see
        :func:`~gazekit.metrics.scanpath.as_scanpath`)
    frame_px : (width, height), px
    """
    a = as_scanpath(scanpath)
    return np.vstack([[frame_px[0] / 2.0, frame_px[1] / 2.0, 0.0], a])


def stde_summed(reference: Any, candidate: Any, frame_px: tuple[float, float]) -> float:
    """FixaTons' scaled time-delay embedding similarity (summed window distance).

    Parameters
    ----------
    reference, candidate : scanpath
        Human and predicted scanpaths (px; only positions are used).
    frame_px : (width, height), px
        Positions are divided by ``max(frame_px)``.

    Returns
    -------
    float in (0, 1]
        Mean over k = 1 … min(len) − 1 of exp(−TDE_k); NaN when the shorter scanpath has
        fewer than 2 fixations (no window length is defined).
    """
    a = as_scanpath(reference, "reference")[:, :2] / max(frame_px)
    b = as_scanpath(candidate, "candidate")[:, :2] / max(frame_px)
    n = min(len(a), len(b))
    if n < 2:
        return math.nan
    dist = np.hypot(b[:, None, 0] - a[None, :, 0], b[:, None, 1] - a[None, :, 1])  # (nb, na)
    window = dist.copy()  # summed distance of the k-windows starting at (i, j)
    sims = []
    for k in range(1, n):
        if k > 1:
            window = window[:-1, :-1] + dist[k - 1 :, k - 1 :]
        sims.append(math.exp(-float((window / k).min(axis=1).mean())))
    return float(np.mean(sims))


def gazesearch_sed_labels(scanpath: Any, bins: int = 5, frame: int = 224) -> np.ndarray:
    """Grid symbols as GazeSearch's SED code builds them (integer cells, no clipping).

    Cells are ``frame // bins`` px (44 for 224 / 5); the symbol is ``row * bins + col``
    with ``col = x // 44``, ``row = y // 44``, so x ≥ 220 gives column 5 (read as column
    0 of the next row) and y ≥ 220 gives row 5 (symbols past the grid). Only for measuring
    how far gazekit's exact grid is from the benchmark's figures.
    """
    a = as_scanpath(scanpath)
    cell = frame // bins
    col = np.floor(a[:, 0]).astype(np.int64) // cell
    row = np.floor(a[:, 1]).astype(np.int64) // cell
    return row * bins + col


def score_pair(preset: ScanpathPreset, predicted: Any, reference: Any) -> dict[str, float]:
    """Every metric of ``preset`` for one predicted and one human scanpath.

    Parameters
    ----------
    preset : ScanpathPreset
    predicted, reference : scanpath
        ``(N, 3)`` x_px, y_px, duration_s in ``preset.frame_px`` (without the centre:
        it is prepended here when the preset says so).

    Returns
    -------
    dict
        ``mm_<dim>``, ``scanmatch``, ``sed`` (and ``stde``); NaN where a metric is
        undefined (MultiMatch with fewer than 3 fixations).
    """
    frame = preset.frame_px
    p, q = as_scanpath(predicted, "predicted"), as_scanpath(reference, "reference")
    if not len(p) or not len(q):
        raise InputError("score_pair: empty scanpath")
    if preset.prepend_centre:
        p, q = with_centre(p, frame), with_centre(q, frame)
    mm = multimatch(p, q, frame_size=frame)
    out = {f"mm_{d}": mm[d] for d in preset.multimatch_dims}
    out["scanmatch"] = scanmatch(p, q, frame_size=frame, bins=preset.scanmatch_bins,
                                 threshold=preset.scanmatch_threshold,
                                 temporal_bin_ms=preset.scanmatch_temporal_bin_ms)  # fmt: skip
    out["sed"] = float(sed(p, q, frame_size=frame, bins=preset.sed_bins))
    if preset.stde:
        out["stde"] = stde_summed(q, p, frame)
    return out


def sed_gazesearch_grid(preset: ScanpathPreset, predicted: Any, reference: Any) -> float:
    """SED of one pair on GazeSearch's integer grid (see :func:`gazesearch_sed_labels`)."""
    frame = preset.frame_px
    p, q = as_scanpath(predicted, "predicted"), as_scanpath(reference, "reference")
    if preset.prepend_centre:
        p, q = with_centre(p, frame), with_centre(q, frame)
    bins, side = int(preset.sed_bins[0]), int(frame[0])
    return float(
        sed_labels(gazesearch_sed_labels(p, bins, side), gazesearch_sed_labels(q, bins, side))
    )
