"""Plot functions return figures/axes with the expected artists (Agg, never shown)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gazekit import heatmaps
from gazekit.anatomy import Atlas
from gazekit.plotting import plot_heatmap, plot_per_region, plot_region_dwell, save_figure


def _atlas():
    m = np.zeros((2, 40, 60), bool)
    m[0, :, :30] = True
    m[1, :, 30:] = True
    return Atlas(m, ("right_lung", "left_lung"))


def test_overlay_draws_image_and_heat_layers_and_saves_png(tmp_path):
    heat = heatmaps.heatmap([10.0, 40.0], [20.0, 20.0], (40, 60), sigma=3, unit="px", downsample=2)
    ax = plot_heatmap(heat, np.random.default_rng(0).random((40, 60)), atlas=_atlas(), outline=())
    assert len(ax.images) == 2
    p = save_figure(ax.figure, tmp_path / "o.png")
    assert p.read_bytes()[:4] == b"\x89PNG"


def test_small_multiples_one_panel_per_region():
    a = _atlas()
    heat = heatmaps.heatmap([10.0], [20.0], a.shape, sigma=3, unit="px")
    fig = plot_per_region(
        heatmaps.stacked(heat, a), None, a.names, atlas=a, shares={"right_lung": 1.0}
    )
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles[0].startswith("right lung") and "100.0 %" in titles[0] and len(titles) == 2


def test_dwell_bars_grouped_by_reader():
    df = pd.DataFrame(
        {
            "recording_id": ["a", "a", "b", "b"],
            "region": ["x", "y", "x", "y"],
            "dwell_share": [0.2, 0.8, 0.5, 0.5],
        }
    )
    ax = plot_region_dwell(df)
    assert len(ax.patches) == 4 and ax.get_legend() is not None
