"""Fixation-density heatmaps, per-anatomy maps and per-region statistics.

Pure computation (plots are in :mod:`gazekit.plotting`)::

    heat = heatmaps.compute(fixations, image.shape, geometry=rec.geometry)  # (H, W)
    per = heatmaps.stacked(heat, atlas)                                      # (H, W, R)
    table = heatmaps.region_stats(fixations, atlas, geometry=rec.geometry)
"""

from __future__ import annotations

from gazekit.heatmaps.density import (
    PixelScale,
    blur,
    compute,
    fixation_arrays,
    fixation_px_per_deg,
    heatmap,
    normalize_map,
    per_region,
    phrase_windows,
    region_mass,
    sigma_to_px,
    splat,
    stacked,
    windowed,
)
from gazekit.heatmaps.stats import (
    group_stats,
    per_anatomy_batch,
    reader_agreement,
    recording_info,
    region_stats,
    save_heatmaps,
    write_region_stats,
)

__all__ = [
    "PixelScale",
    "blur",
    "compute",
    "fixation_arrays",
    "fixation_px_per_deg",
    "group_stats",
    "heatmap",
    "normalize_map",
    "per_anatomy_batch",
    "per_region",
    "phrase_windows",
    "reader_agreement",
    "recording_info",
    "region_mass",
    "region_stats",
    "save_heatmaps",
    "sigma_to_px",
    "splat",
    "stacked",
    "windowed",
    "write_region_stats",
]
