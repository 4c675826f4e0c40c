"""Heatmap overlays on the radiograph, per-anatomy small multiples, dwell bar charts.

Plotting only: arrays come from :mod:`gazekit.heatmaps`. Figures are drawn with the
user's matplotlib backend (inline in Jupyter; matplotlib picks Agg where there is no
display); gazekit never switches it.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError

PathLike = str | os.PathLike[str]

#: Largest side (px) of the coloured overlay raster; figures never show more.
MAX_OVERLAY = 1024
#: Largest side (px) of a small-multiple panel.
PANEL_PX = 384


def _pyplot() -> Any:
    import matplotlib.pyplot as plt  # the user's backend: inline in Jupyter, Agg headless

    return plt


def _upsample(heat: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if heat.shape == shape:
        return heat
    import cv2

    return cv2.resize(heat.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _show_image(ax: Any, image: np.ndarray | None, shape: tuple[int, int]) -> None:
    if image is not None:
        img = np.asarray(image)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="antialiased")
    else:
        ax.imshow(np.zeros(shape), cmap="gray", vmin=0, vmax=1)
    ax.set_axis_off()


def plot_heatmap(
    heat: np.ndarray,
    image: np.ndarray | None = None,
    ax: Any = None,
    *,
    cmap: str = "inferno",
    alpha: float = 0.65,
    threshold: float = 0.05,
    contours: bool = True,
    atlas: Any = None,
    outline: tuple[str, ...] | None = None,
    colorbar: bool = True,
    title: str | None = None,
) -> Any:
    """Overlay a heatmap on the radiograph.

    Parameters
    ----------
    heat : (H', W') ndarray
        Heatmap (any grid; resampled bilinearly to the image).
    image : (H, W) or (H, W, 3) ndarray, optional
        The radiograph (image px); without it the map is drawn on its own grid.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    cmap : str
        Matplotlib colour map of the overlay.
    alpha : float
        Maximum opacity of the overlay (0..1). Opacity grows with the
        (max-normalised) value, so the radiograph stays visible where gaze is low.
    threshold : float
        Values below this fraction of the maximum are transparent.
    contours : bool
        Draw iso-lines at 25/50/75 % of the maximum.
    atlas : Atlas, optional
        With ``outline``, draw those regions' outlines (``()``: lungs and heart, or all
        top-level regions).
    outline : tuple of str, optional
        Region names to outline (needs ``atlas``); ``None`` draws no outline.
    colorbar : bool
        Colour bar in units of the map's maximum ("relative density").
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib Axes
    """
    plt = _pyplot()
    shape = tuple(np.asarray(image).shape[:2]) if image is not None else heat.shape
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6 * shape[0] / shape[1]), dpi=120)
    # colour the overlay on a grid of at most MAX_OVERLAY px a side (a figure never shows
    # more), placed with ``extent`` on the image's pixel grid
    k = min(1.0, MAX_OVERLAY / max(shape))
    grid = (max(1, round(shape[0] * k)), max(1, round(shape[1] * k)))
    extent = (-0.5, shape[1] - 0.5, shape[0] - 0.5, -0.5)
    h = _upsample(np.asarray(heat, dtype=np.float32), grid)  # type: ignore[arg-type]
    mx = float(h.max())
    rel = np.clip(h / mx, 0.0, 1.0) if mx > 0 else h
    _show_image(ax, image, shape)  # type: ignore[arg-type]
    cm = plt.get_cmap(cmap)
    rgba = cm(rel, bytes=True)
    rgba[..., 3] = np.where(rel >= threshold, 255 * alpha * rel**0.7, 0.0).astype(np.uint8)
    ax.imshow(rgba, interpolation="antialiased", extent=extent)
    yy = (np.arange(grid[0]) + 0.5) * shape[0] / grid[0] - 0.5
    xx = (np.arange(grid[1]) + 0.5) * shape[1] / grid[1] - 0.5
    if contours and mx > 0:
        ax.contour(xx, yy, rel, levels=[0.25, 0.5, 0.75], colors="white", linewidths=0.6, alpha=0.7)
    if atlas is not None and outline is not None:
        default = tuple(n for n in ("right_lung", "left_lung", "heart") if n in atlas)
        names = outline or default or tuple(n for n in atlas.names if atlas.parents.get(n) is None)
        for n in names:
            m = _upsample(atlas.mask(n).astype(np.float32), grid)  # type: ignore[arg-type]
            ax.contour(xx, yy, m, levels=[0.5], colors="#80deea", linewidths=0.7, alpha=0.8)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    if colorbar:
        import matplotlib as mpl

        sm = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 1), cmap=cm)
        cb = ax.figure.colorbar(sm, ax=ax, fraction=0.046, pad=0.02)
        cb.set_label("relative fixation density", fontsize=8)
        cb.ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_per_region(
    stack: np.ndarray | dict[str, np.ndarray],
    image: np.ndarray | None = None,
    names: tuple[str, ...] | list[str] | None = None,
    *,
    atlas: Any = None,
    ncols: int = 5,
    panel_size: float = 2.4,
    cmap: str = "inferno",
    shares: dict[str, float] | None = None,
) -> Any:
    """Per-anatomy small multiples: one panel per region, heatmap inside that region.

    Parameters
    ----------
    stack : (H', W', R) ndarray or dict of name -> (H', W') ndarray
        From :func:`gazekit.heatmaps.stacked` / :func:`~gazekit.heatmaps.per_region`.
    image : (H, W) ndarray, optional
        The radiograph, shown under every panel.
    names : sequence of str
        Region names of the stack's last axis (required for an array).
    atlas : Atlas, optional
        Outlines each panel's region.
    ncols : int
        Panels per row.
    panel_size : float, inch
        Width of one panel.
    cmap : str
        Matplotlib colour map.
    shares : dict of name -> float, optional
        Dwell share (0..1, shown as %) in each panel's title (e.g. from ``region_stats``).

    Returns
    -------
    matplotlib Figure

    Raises
    ------
    InputError
        An array stack without one name per region.
    """
    plt = _pyplot()
    if isinstance(stack, dict):
        names = list(stack)
        maps = [stack[n] for n in names]
    else:
        if names is None or len(names) != stack.shape[-1]:
            raise InputError("an (H, W, R) stack needs R region names")
        maps = [stack[..., r] for r in range(stack.shape[-1])]
    n = len(maps)
    ncols = max(1, min(ncols, n))
    nrows = max(1, math.ceil(n / ncols))
    shape = tuple(np.asarray(image).shape[:2]) if image is not None else maps[0].shape
    aspect = shape[0] / shape[1]
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_size * ncols, panel_size * aspect * nrows + 0.4), dpi=110,
        squeeze=False,
    )  # fmt: skip
    # panels are small: draw them on a grid of at most PANEL_PX a side
    k = min(1.0, PANEL_PX / max(shape))
    g = (max(1, round(shape[0] * k)), max(1, round(shape[1] * k)))
    small = None
    if image is not None:
        import cv2

        small = cv2.resize(
            np.asarray(image, np.float32), (g[1], g[0]), interpolation=cv2.INTER_AREA
        )
    for ax, name, m in zip(axes.flat, names, maps, strict=False):
        mg = _upsample(np.asarray(m, np.float32), g)  # type: ignore[arg-type]
        plot_heatmap(mg, small, ax, cmap=cmap, contours=False, colorbar=False, threshold=0.01)
        if small is None:
            ax.set_xlim(-0.5, g[1] - 0.5)
            ax.set_ylim(g[0] - 0.5, -0.5)
        if atlas is not None and name in atlas:
            mm = _upsample(atlas.mask(name).astype(np.float32), g)  # type: ignore[arg-type]
            ax.contour(mm, levels=[0.5], colors="#80deea", linewidths=0.6)
        label = name.replace("_", " ")
        if shares is not None and name in shares:
            label += f"\n{100 * shares[name]:.1f} % of dwell"
        ax.set_title(label, fontsize=7.5)
    for ax in list(axes.flat)[n:]:
        ax.set_axis_off()
    fig.tight_layout()
    return fig


def plot_region_dwell(
    stats: pd.DataFrame,
    ax: Any = None,
    *,
    value: str = "dwell_share",
    by: str = "recording_id",
    sort: bool = True,
    title: str | None = None,
) -> Any:
    """Horizontal bar chart of a region statistic (grouped bars per reader/recording).

    Parameters
    ----------
    stats : DataFrame
        ``region_stats`` table (one or several recordings).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when omitted.
    value : str
        Column to plot (``dwell_share``, ``dwell_ms``, ``fixation_count``, ``coverage``…).
    by : str
        Column distinguishing the bar groups.
    sort : bool
        Order regions by their mean value (largest at the top).
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    InputError
        ``stats`` lacks ``region``, ``value`` or ``by``.
    """
    plt = _pyplot()
    for c in ("region", value, by):
        if c not in stats.columns:
            raise InputError(f"region statistics lack column {c!r}", column=c)
    wide = stats.pivot_table(index="region", columns=by, values=value, aggfunc="sum").fillna(0.0)
    if sort:
        wide = wide.loc[wide.mean(axis=1).sort_values().index]
    k = wide.shape[1]
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 0.28 * len(wide) * max(1, 0.6 * k) + 1.2), dpi=120)
    height = 0.8 / max(k, 1)
    y = np.arange(len(wide))
    colors = plt.get_cmap("tab10")
    for j, col in enumerate(wide.columns):
        ax.barh(
            y + (j - (k - 1) / 2) * height,
            wide[col].to_numpy(),
            height,
            label=str(col),
            color=colors(j % 10),
        )
    ax.set_yticks(y, [str(r).replace("_", " ") for r in wide.index], fontsize=8)
    unit = {
        "dwell_share": "share of total dwell",
        "dwell_ms": "dwell (ms)",
        "coverage": "coverage (fraction of region)",
    }
    ax.set_xlabel(unit.get(value, value.replace("_", " ")), fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", alpha=0.3)
    if k > 1:
        ax.legend(fontsize=7, frameon=False, loc="lower right")
    if title:
        ax.set_title(title, fontsize=9)
    ax.figure.tight_layout()
    return ax


def save_figure(fig: Any, path: PathLike, **kwargs: Any) -> Path:
    """Save a figure atomically and close it.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : path
        Destination; its suffix picks the format (``.png``, ``.svg``, ``.pdf``; PNG
        without a suffix). Folders are created as needed.
    **kwargs
        Passed to :meth:`matplotlib.figure.Figure.savefig` (``dpi``, ...).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from gazekit.io.parquet import atomic_path

    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, bbox_inches="tight", **kwargs)
    _pyplot().close(fig)
    return path
