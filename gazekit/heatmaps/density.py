"""Fixation-density heatmaps: bilinear splatting + separable Gaussian blur.

Each fixation's weight (its duration, or 1) is split bilinearly over the four
pixels around its position, then the whole grid is blurred once with a separable
Gaussian (OpenCV, or :func:`scipy.ndimage.gaussian_filter` as fallback). This equals
the sum of one Gaussian per fixation up to the kernel truncation (4 σ) and the
bilinear split (variance ≤ 1/4 px²), at the cost of one blur instead of N
full-image Gaussians.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError
from gazekit.io.selection import check_single_selection

log = logging.getLogger(__name__)

NORMALIZE = ("probability", "density", "max", "none")
WEIGHTS = ("duration", "count")
TRUNCATE = 4.0
COARSE_SIGMA = 8.0  #: coarse-grid σ (px) below which blurs run at full resolution


def fixation_arrays(
    fixations: pd.DataFrame, *, weight: str = "duration"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions and weights of a fixation table.

    Parameters
    ----------
    fixations : DataFrame
        ``x_px``, ``y_px`` (image frame) and, for duration weights, ``duration_ms``
        (or ``onset_ms``/``offset_ms``). An ``event`` column, when present, keeps only
        ``fixation`` rows; the rows must be of one source, method and eye (choose them
        with :func:`gazekit.io.selection.select_events`).
    weight : {"duration", "count"}

    Returns
    -------
    x, y : (N,) ndarray of float64, px
    w : (N,) ndarray of float64 (ms for duration weights, 1 for counts)
    """
    if weight not in WEIGHTS:
        raise InputError(f"weight must be one of {WEIGHTS}, got {weight!r}")
    check_single_selection(fixations)
    if "event" in fixations.columns:
        fixations = fixations[fixations["event"] == "fixation"]
    for c in ("x_px", "y_px"):
        if c not in fixations.columns:
            raise InputError(f"fixation table lacks column {c!r}", column=c)
    x = fixations["x_px"].to_numpy(dtype=np.float64, na_value=np.nan)
    y = fixations["y_px"].to_numpy(dtype=np.float64, na_value=np.nan)
    if weight == "count":
        w = np.ones_like(x)
    elif "duration_ms" in fixations.columns:
        w = fixations["duration_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
    elif {"onset_ms", "offset_ms"} <= set(fixations.columns):
        w = fixations["offset_ms"].to_numpy(dtype=np.float64, na_value=np.nan) - fixations[
            "onset_ms"
        ].to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        raise InputError(
            "duration weights need duration_ms or onset_ms/offset_ms", column="duration_ms"
        )
    return x, y, w


class PixelScale:
    """Stand-in geometry when only the pixels per degree are known (e.g. from the CLI).

    Parameters
    ----------
    ppd : float, px/deg
    """

    def __init__(self, ppd: float) -> None:
        if not np.isfinite(ppd) or ppd <= 0:
            raise InputError(f"pixels per degree must be positive, got {ppd}")
        self.ppd = float(ppd)

    def px_per_deg(self) -> float:
        """Pixels per degree."""
        return self.ppd


def sigma_to_px(sigma: float, unit: str = "deg", geometry: Any = None) -> float:
    """Convert a kernel width to pixels of the image grid.

    Parameters
    ----------
    sigma : float
        Kernel standard deviation, in ``unit``.
    unit : {"deg", "px"}
    geometry : gazekit.geometry.Geometry, optional
        Needed for degrees (uses :meth:`~gazekit.geometry.Geometry.px_per_deg`).
    """
    if not np.isfinite(sigma) or sigma <= 0:
        raise InputError(f"sigma must be positive, got {sigma}")
    if unit == "px":
        return float(sigma)
    if unit != "deg":
        raise InputError(f"sigma unit must be 'deg' or 'px', got {unit!r}")
    if geometry is None:
        raise InputError("sigma in degrees needs the recording's geometry (or use unit='px')")
    return float(sigma) * geometry.px_per_deg()


def splat(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    shape: tuple[int, int],
    scale: float | tuple[float, float] = 1.0,
    offset: int = 0,
) -> np.ndarray:
    """Bilinear splat of weighted points onto a grid.

    Parameters
    ----------
    x, y : (N,) ndarray of float64, px
        Image column/row (pixel centres at integers). NaN or non-finite weights skip.
    w : (N,) ndarray of float64
    shape : (H, W)
        Output grid (already downsampled by ``scale``).
    scale : float or (sx, sy)
        Grid pixels per image pixel (``1/downsample``), per axis when a pair.
    offset : int
        Grid pixels of padding before the image's first pixel (on both axes).

    Returns
    -------
    (H, W) ndarray of float64
        Weight deposited on the grid; mass of points outside the grid is dropped.
    """
    h, wd = shape
    sx, sy = (scale, scale) if np.isscalar(scale) else scale  # type: ignore[misc]
    gx = (np.asarray(x, np.float64) + 0.5) * sx - 0.5 + offset
    gy = (np.asarray(y, np.float64) + 0.5) * sy - 0.5 + offset
    w = np.asarray(w, np.float64)
    ok = np.isfinite(gx) & np.isfinite(gy) & np.isfinite(w)
    gx, gy, w = gx[ok], gy[ok], w[ok]
    x0 = np.floor(gx).astype(np.int64)
    y0 = np.floor(gy).astype(np.int64)
    fx, fy = gx - x0, gy - y0
    cx = np.concatenate([x0, x0 + 1, x0, x0 + 1])
    cy = np.concatenate([y0, y0, y0 + 1, y0 + 1])
    ww = np.concatenate([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy]) * np.tile(
        w, 4
    )
    m = (cx >= 0) & (cx < wd) & (cy >= 0) & (cy < h)
    out = np.bincount(cy[m] * wd + cx[m], weights=ww[m], minlength=h * wd)
    return out.reshape(h, wd)


def blur(grid: np.ndarray, sigma_px: float) -> np.ndarray:
    """Separable Gaussian blur (zero outside the grid), truncated at 4 σ.

    OpenCV in float32 when available, else :func:`scipy.ndimage.gaussian_filter`.
    """
    if sigma_px <= 0:
        return grid
    try:
        import cv2
    except ImportError:  # pragma: no cover - opencv is a dependency
        cv2 = None
    radius = math.ceil(TRUNCATE * sigma_px)
    if cv2 is not None and max(grid.shape) < 32768:
        k = 2 * radius + 1
        src = np.ascontiguousarray(grid, dtype=np.float32)
        out = cv2.GaussianBlur(
            src, (k, k), sigma_px, sigmaY=sigma_px, borderType=cv2.BORDER_CONSTANT
        )
        return out.astype(np.float64)
    from scipy import ndimage

    return ndimage.gaussian_filter(grid, sigma_px, mode="constant", truncate=TRUNCATE)


def normalize_map(m: np.ndarray, how: str = "probability", pixel_area: float = 1.0) -> np.ndarray:
    """Normalise a map: ``probability`` (sums to 1), ``density`` (integrates to 1 per
    image px², i.e. sum × ``pixel_area`` = 1), ``max`` (peak 1) or ``none``."""
    if how not in NORMALIZE:
        raise InputError(f"normalize must be one of {NORMALIZE}, got {how!r}")
    if how == "none":
        return m
    m = np.clip(m, 0.0, None)  # float32 blur leaves ~1e-9 negatives
    total = m.max() if how == "max" else m.sum() * (pixel_area if how == "density" else 1.0)
    return m / total if total > 0 else m


def heatmap(
    x: np.ndarray,
    y: np.ndarray,
    shape: tuple[int, int],
    *,
    weights: np.ndarray | None = None,
    sigma: float = 1.0,
    unit: str = "deg",
    geometry: Any = None,
    normalize: str = "probability",
    downsample: int = 1,
    exact: bool = False,
) -> np.ndarray:
    """Fixation-density heatmap of points on an image.

    Parameters
    ----------
    x, y : (N,) array_like of float, px
        Fixation positions, image frame.
    shape : (H, W), px
        Image size.
    weights : (N,) array_like, optional
        Per-fixation weight (duration in ms for dwell maps); 1 each when omitted.
    sigma : float
        Gaussian standard deviation (default 1°).
    unit : {"deg", "px"}
        Unit of ``sigma``; degrees use ``geometry.px_per_deg()``.
    geometry : Geometry, optional
    normalize : {"probability", "density", "max", "none"}
    downsample : int
        Compute on a grid ``downsample`` times coarser (``ceil(H/d) × ceil(W/d)``).
    exact : bool
        Blur at full grid resolution even for wide kernels (by default σ above 16 grid
        px is blurred on a coarser grid and resampled; relative error ~1e-3).

    Returns
    -------
    (H', W') ndarray of float64
        The map on the (possibly downsampled) grid.

    Examples
    --------
    >>> m = heatmap([10.0], [20.0], (40, 30), sigma=2, unit="px")
    >>> m.shape, round(float(m.sum()), 6), np.unravel_index(m.argmax(), m.shape)
    ((40, 30), 1.0, (np.int64(20), np.int64(10)))
    """
    h, w = int(shape[0]), int(shape[1])
    if h <= 0 or w <= 0:
        raise InputError(f"image shape must be positive, got {shape}")
    d = int(downsample)
    if d < 1:
        raise InputError(f"downsample must be ≥ 1, got {downsample}")
    x = np.asarray(x, np.float64).ravel()
    y = np.asarray(y, np.float64).ravel()
    wts = np.ones_like(x) if weights is None else np.asarray(weights, np.float64).ravel()
    if not (x.size == y.size == wts.size):
        raise InputError(f"x, y and weights differ in length ({x.size}, {y.size}, {wts.size})")
    gh, gw = -(-h // d), -(-w // d)
    s_grid = sigma_to_px(sigma, unit, geometry) / d
    # Wide kernels are blurred on a coarser grid (σ ≥ 8 coarse px) and resampled
    # bilinearly: the extra smoothing (tent of one coarse px) adds < 0.3 % to σ².
    f = 1 if exact else max(1, int(s_grid // COARSE_SIGMA))
    # the coarse grid covers ceil(g / f) * f grid px, so the scale is exactly 1/f
    ch, cw = -(-gh // f), -(-gw // f)
    s_c = s_grid / f
    # pad by the kernel radius so fixations near or beyond the border keep the part of
    # their Gaussian that falls inside the image (exactly as a sum of Gaussians would)
    pad = math.ceil(TRUNCATE * s_c) + 2
    grid = splat(x, y, wts, (ch + 2 * pad, cw + 2 * pad), 1.0 / (d * f), offset=pad)
    # the bilinear split itself adds on average 1/6 px² of variance per axis
    out = blur(grid, math.sqrt(s_c * s_c - 1.0 / 6.0) if s_c > 1.0 else s_c)
    if f == 1:
        out = out[pad : pad + gh, pad : pad + gw]
    else:
        import cv2

        q = 2  # coarse px kept around the image so the interpolation has neighbours
        c = np.ascontiguousarray(
            out[pad - q : pad + ch + q, pad - q : pad + cw + q], dtype=np.float32
        )
        up = cv2.resize(c, ((cw + 2 * q) * f, (ch + 2 * q) * f), interpolation=cv2.INTER_LINEAR)
        out = up[q * f : q * f + gh, q * f : q * f + gw].astype(np.float64) / (f * f)
    return normalize_map(out, normalize, pixel_area=float(d * d))


def compute(
    fixations: pd.DataFrame,
    shape: tuple[int, int],
    *,
    weight: str = "duration",
    sigma: float = 1.0,
    unit: str = "deg",
    geometry: Any = None,
    normalize: str = "probability",
    downsample: int = 1,
) -> np.ndarray:
    """Heatmap of a fixation table (``x_px``, ``y_px``, ``duration_ms``); see :func:`heatmap`."""
    x, y, w = fixation_arrays(fixations, weight=weight)
    return heatmap(
        x, y, shape, weights=w, sigma=sigma, unit=unit, geometry=geometry,
        normalize=normalize, downsample=downsample,
    )  # fmt: skip


def per_region(
    heat: np.ndarray, atlas: Any, *, normalize: str = "probability"
) -> dict[str, np.ndarray]:
    """Per-anatomy heatmaps: the map masked to each region and normalised within it.

    Parameters
    ----------
    heat : (H', W') ndarray
        A heatmap (any normalisation) on the atlas grid or a downsampled one.
    atlas : gazekit.anatomy.Atlas
    normalize : str
        Normalisation inside each region (see :func:`normalize_map`); a region without
        gaze stays all zeros.

    Returns
    -------
    dict of region name -> (H', W') ndarray
    """
    stack = stacked(heat, atlas, normalize=normalize)
    return {n: stack[..., r] for r, n in enumerate(atlas.names)}


def stacked(
    heat: np.ndarray, atlas: Any, *, normalize: str = "probability", dtype: Any = np.float64
) -> np.ndarray:
    """Per-anatomy heatmaps stacked as an (H', W', R) array (axis 2 = ``atlas.names``).

    Each slice is ``heat`` inside the region, zero outside, normalised within the region
    (``probability``: sums to 1; ``density``: integrates to 1 per image px²; ``max``:
    peak 1; ``none``: masked only). ``dtype`` float32 halves memory for large batches.
    """
    if normalize not in NORMALIZE:
        raise InputError(f"normalize must be one of {NORMALIZE}, got {normalize!r}")
    masks = atlas.grid_masks(heat.shape)  # (H', W', R) float32
    out = np.multiply(np.asarray(heat, dtype)[..., None], masks, dtype=dtype)
    if normalize in ("probability", "density"):
        tot = out.sum(axis=(0, 1), dtype=np.float64)
        scale = np.divide(1.0, tot, out=np.zeros_like(tot), where=tot > 0)
        if normalize == "density":
            scale /= (atlas.shape[0] * atlas.shape[1]) / (heat.shape[0] * heat.shape[1])
        out *= scale.astype(dtype)
    elif normalize == "max":
        mx = out.max(axis=(0, 1)).astype(np.float64)
        out *= np.divide(1.0, mx, out=np.zeros_like(mx), where=mx > 0).astype(dtype)
    return out


def region_mass(heat: np.ndarray, atlas: Any) -> np.ndarray:
    """(R,) share of the heatmap's mass inside each region (regions may overlap)."""
    masks = atlas.grid_masks(heat.shape).reshape(-1, len(atlas.names))
    tot = heat.sum()
    mass = heat.ravel().astype(np.float32) @ masks
    return mass.astype(np.float64) / tot if tot > 0 else np.zeros(len(atlas.names))


def phrase_windows(
    transcript: pd.DataFrame, before_ms: float = 3000.0, *, level: str | None = None
) -> list[tuple[float, float]]:
    """Windows of ``before_ms`` before each dictated phrase's start.

    Parameters
    ----------
    transcript : DataFrame
        ``transcripts`` schema (``start_ms``, optional ``level``).
    before_ms : float, ms
    level : str, optional
        Keep only rows of this level (e.g. ``"phrase"``).
    """
    if "start_ms" not in transcript.columns:
        raise InputError("transcript lacks column 'start_ms'", column="start_ms")
    if level is not None and "level" in transcript.columns:
        transcript = transcript[transcript["level"] == level]
    starts = transcript["start_ms"].to_numpy(dtype=np.float64)
    return [(float(s - before_ms), float(s)) for s in starts]


def windowed(
    fixations: pd.DataFrame,
    shape: tuple[int, int],
    windows: Sequence[tuple[float, float]],
    *,
    weight: str = "duration",
    **kwargs: Any,
) -> np.ndarray:
    """Heatmaps of the fixations overlapping each time window.

    A fixation contributes the part of its duration inside ``[start, end)`` ms (with
    ``weight="count"``, 1 if it overlaps at all). ``kwargs`` go to :func:`heatmap`
    (``sigma``, ``unit``, ``geometry``, ``normalize``, ``downsample``).

    Returns
    -------
    (K, H', W') ndarray of float64
        One map per window (all zeros when no fixation overlaps).
    """
    if weight not in WEIGHTS:
        raise InputError(f"weight must be one of {WEIGHTS}, got {weight!r}")
    x, y, w = fixation_arrays(fixations, weight="count")
    cols = set(fixations.columns)
    if "onset_ms" not in cols or not ({"offset_ms", "duration_ms"} & cols):
        raise InputError(
            "time windows need onset_ms and offset_ms (or duration_ms)", column="onset_ms"
        )
    fx = fixations[fixations["event"] == "fixation"] if "event" in fixations.columns else fixations
    on = fx["onset_ms"].to_numpy(dtype=np.float64)
    off = (
        fx["offset_ms"].to_numpy(dtype=np.float64)
        if "offset_ms" in fx.columns
        else on + fx["duration_ms"].to_numpy(dtype=np.float64)
    )
    maps = []
    for a, b in windows:
        overlap = np.clip(np.minimum(off, b) - np.maximum(on, a), 0.0, None)
        sel = overlap > 0
        ww = overlap[sel] if weight == "duration" else w[sel]
        maps.append(heatmap(x[sel], y[sel], shape, weights=ww, **kwargs))
    if not maps:
        d = int(kwargs.get("downsample", 1))
        return np.zeros((0, -(-shape[0] // d), -(-shape[1] // d)))
    return np.stack(maps)
