"""Scanpath figure: the radiograph with numbered fixation circles and saccade lines."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _column(df: pd.DataFrame, *names: str) -> np.ndarray:
    for n in names:
        if n in df.columns:
            return df[n].to_numpy(dtype=np.float64)
    raise KeyError(f"fixations table needs one of the columns {names}")


def plot_scanpath(
    image: np.ndarray | None,
    fixations: pd.DataFrame,
    ax: Any = None,
    color_by: str | None = None,
    *,
    numbered: bool = True,
    max_number: int | None = 40,
    radius_px: tuple[float, float] | None = None,
    cmap: str = "viridis",
    alpha: float = 0.55,
    saccade_color: str = "#ffd54a",
    legend: bool = True,
    title: str | None = None,
    palette: dict[str, Any] | None = None,
) -> Any:
    """Draw a scanpath over a radiograph.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) ndarray, or None
        Radiograph in the same pixel frame as the fixations (grayscale shown with
        the ``gray`` colormap). ``None`` draws on a blank axis.
    fixations : pandas.DataFrame
        One row per fixation in reading order with ``x_px``, ``y_px`` (image px) and
        ``duration_ms`` (an events table filtered to fixations, or a truth table).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on (a new figure when omitted).
    color_by : str, optional
        Column to colour fixations by: categorical (e.g. ``phase``, ``target_region``;
        a legend is drawn) or numeric. Default: reading order (``cmap``).
    numbered : bool
        Write the fixation's order number in its circle.
    max_number : int or None
        Number only the first ``max_number`` fixations (None: all).
    radius_px : (min, max), optional
        Circle radius range in image px; radius grows with the square root of
        duration. Default: 0.8 % to 3 % of the image width.
    cmap : str
    alpha : float
        Circle fill opacity.
    saccade_color : str
    legend : bool
    title : str, optional
    palette : dict, optional
        Category → colour for a categorical ``color_by`` (unlisted categories get
        ``tab10`` colours), so several panels colour the same category alike.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    x = _column(fixations, "x_px", "x")
    y = _column(fixations, "y_px", "y")
    d = _column(fixations, "duration_ms", "duration")
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(d)
    if image is not None:
        img = np.asarray(image)
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="antialiased")
        h, w = img.shape[:2]
    else:
        w = float(np.nanmax(x[ok])) if ok.any() else 1.0
        h = float(np.nanmax(y[ok])) if ok.any() else 1.0
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)
        ax.set_aspect("equal")
    rmin, rmax = radius_px if radius_px is not None else (0.008 * w, 0.03 * w)
    if ok.any():
        dd = np.sqrt(np.clip(d, 0, None))
        lo, hi = np.nanmin(dd[ok]), np.nanmax(dd[ok])
        r = rmin + (rmax - rmin) * ((dd - lo) / (hi - lo) if hi > lo else 0.5)
    else:
        r = np.full(len(x), rmin)

    handles = []
    if color_by is None:
        colors = plt.get_cmap(cmap)(np.linspace(0, 1, max(len(x), 1)))
    else:
        vals = fixations[color_by]
        if pd.api.types.is_numeric_dtype(vals):
            v = vals.to_numpy(dtype=np.float64)
            span = np.nanmax(v) - np.nanmin(v) if np.isfinite(v).any() else 0.0
            norm = (v - np.nanmin(v)) / span if span > 0 else np.zeros_like(v)
            colors = plt.get_cmap(cmap)(np.nan_to_num(norm))
        else:
            labels = vals.astype(str).to_numpy()
            cats = list(dict.fromkeys(labels))
            pal = plt.get_cmap("tab10" if len(cats) <= 10 else "tab20")
            lut = {c: pal(i % pal.N) for i, c in enumerate(cats)}
            lut.update({c: col for c, col in (palette or {}).items() if c in lut})
            from matplotlib.colors import to_rgba

            colors = (
                np.array([to_rgba(lut[c]) for c in labels]) if len(labels) else np.zeros((0, 4))
            )
            handles = [
                Line2D([], [], marker="o", ls="", color=lut[c], label=c.replace("_", " "))
                for c in cats
            ]

    idx = np.flatnonzero(ok)
    if len(idx) > 1:
        ax.plot(x[idx], y[idx], "-", color=saccade_color, lw=1.0, alpha=0.8, zorder=2)
    circles = [Circle((x[i], y[i]), r[i]) for i in idx]
    pc = PatchCollection(
        circles,
        facecolors=colors[idx] if len(idx) else "none",
        edgecolors="white",
        linewidths=0.6,
        alpha=alpha,
        zorder=3,
    )
    ax.add_collection(pc)
    if numbered:
        last = len(idx) if max_number is None else min(len(idx), max_number)
        for k, i in enumerate(idx[:last]):
            ax.text(
                x[i],
                y[i],
                str(k + 1),
                color="white",
                fontsize=6,
                ha="center",
                va="center",
                zorder=4,
                fontweight="bold",
            )
    if handles and legend:
        ax.legend(handles=handles, loc="lower right", fontsize=6, framealpha=0.7)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax
