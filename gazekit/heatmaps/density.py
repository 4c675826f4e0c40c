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
from gazekit.geometry import PPD_COLUMNS, Geometry
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


#: A constant pixels-per-degree "geometry" (e.g. from the CLI's ``--px-per-deg``):
#: :meth:`gazekit.geometry.Geometry.from_px_per_deg`, under its former name.
PixelScale = Geometry.from_px_per_deg


def sigma_to_px(sigma: float, unit: str = "deg", geometry: Geometry | None = None) -> float:
    """Convert a kernel width to pixels of the image grid.

    Parameters
    ----------
    sigma : float
        Kernel standard deviation, in ``unit``.
    unit : {"deg", "px"}
    geometry : gazekit.geometry.Geometry, optional
        Needed for degrees (:meth:`~gazekit.geometry.Geometry.deg_to_px` at the screen
        centre).

    Returns
    -------
    float, px
    """
    if not np.isfinite(sigma) or sigma <= 0:
        raise InputError(f"sigma must be positive, got {sigma}")
    if unit == "px":
        return float(sigma)
    if unit != "deg":
        raise InputError(f"sigma unit must be 'deg' or 'px', got {unit!r}")
    if geometry is None:
        raise InputError("sigma in degrees needs the recording's geometry (or use unit='px')")
    return float(geometry.deg_to_px(sigma))


def fixation_px_per_deg(fixations: pd.DataFrame) -> np.ndarray | None:
    """Per-fixation image px per degree (x, y), when the table carries them.

    Parameters
    ----------
    fixations : DataFrame
        Events table; its ``px_per_deg_x``/``px_per_deg_y`` columns are those of a viewer
        that zooms and pans (REFLACX). An ``event`` column keeps only ``fixation`` rows, as
        :func:`fixation_arrays` does.

    Returns
    -------
    (N, 2) ndarray of float64, px/deg, or None
        Column 0 along x, column 1 along y, NaN where unknown (a missing column is all
        NaN); ``None`` without either column or when every entry is NaN (tables of
        trackers with a fixed mapping).
    """
    if not any(c in fixations.columns for c in PPD_COLUMNS):
        return None
    if "event" in fixations.columns:
        fixations = fixations[fixations["event"] == "fixation"]
    cols = [
        fixations[c].to_numpy(dtype=np.float64, na_value=np.nan)
        if c in fixations.columns
        else np.full(len(fixations), np.nan)
        for c in PPD_COLUMNS
    ]
    ppd = np.stack(cols, axis=1)
    return ppd if np.isfinite(ppd).any() else None


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


def blur(grid: np.ndarray, sigma_px: float | tuple[float, float]) -> np.ndarray:
    """Separable Gaussian blur (zero outside the grid), truncated at 4 σ.

    Uses OpenCV in float32 when available, else :func:`scipy.ndimage.gaussian_filter`.

    Parameters
    ----------
    grid : (H, W) ndarray
        Map to blur.
    sigma_px : float or (sx, sy), grid px
        One σ, or one per axis (x = columns, y = rows). An axis with σ ≤ 0 is not
        blurred; with both ≤ 0 ``grid`` is returned as is.

    Returns
    -------
    (H, W) ndarray of float64
        The blurred map (mass near the border that falls outside the grid is lost).
    """
    sx, sy = (sigma_px, sigma_px) if np.isscalar(sigma_px) else sigma_px  # type: ignore[misc]
    sx, sy = float(sx), float(sy)
    if sx <= 0 and sy <= 0:
        return grid
    try:
        import cv2
    except ImportError:  # pragma: no cover - opencv is a dependency
        cv2 = None
    if cv2 is not None and max(grid.shape) < 32768 and sx > 0 and sy > 0:
        kx = 2 * math.ceil(TRUNCATE * sx) + 1
        ky = 2 * math.ceil(TRUNCATE * sy) + 1
        src = np.ascontiguousarray(grid, dtype=np.float32)
        out = cv2.GaussianBlur(src, (kx, ky), sx, sigmaY=sy, borderType=cv2.BORDER_CONSTANT)
        return out.astype(np.float64)
    from scipy import ndimage

    return ndimage.gaussian_filter(
        grid, (max(sy, 0.0), max(sx, 0.0)), mode="constant", truncate=TRUNCATE
    )


def normalize_map(m: np.ndarray, how: str = "probability", pixel_area: float = 1.0) -> np.ndarray:
    """Normalise a map.

    Parameters
    ----------
    m : (H, W) ndarray
        Map to normalise (small negative values from a float32 blur are clipped to 0,
        except with ``"none"``).
    how : {"probability", "density", "max", "none"}
        ``probability``: sums to 1; ``density``: integrates to 1 per image px², i.e.
        sum × ``pixel_area`` = 1; ``max``: peak 1; ``none``: unchanged.
    pixel_area : float, image px²
        Area of one grid pixel (``downsample**2``), used by ``"density"``.

    Returns
    -------
    (H, W) ndarray of float64
        The normalised map; an all-zero map stays all zeros.

    Raises
    ------
    InputError
        ``how`` is not one of the four names.
    """
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
    px_per_deg: np.ndarray | None = None,
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
        Unit of ``sigma``; degrees use :meth:`Geometry.deg_to_px`, or ``px_per_deg``.
    geometry : Geometry, optional
    normalize : {"probability", "density", "max", "none"}
    downsample : int
        Compute on a grid ``downsample`` times coarser (``ceil(H/d) × ceil(W/d)``).
    exact : bool
        Blur at full grid resolution even for wide kernels (by default σ above 16 grid
        px is blurred on a coarser grid and resampled; relative error ~1e-3).
    px_per_deg : (N,) or (N, 2) array_like, px/deg, optional
        Each fixation's own image px per degree (x, y): with a viewer that zooms
        (REFLACX), σ in degrees is σx = σ·ppd_x, σy = σ·ppd_y at each fixation, as the
        corpus's published heatmaps do. NaN entries use ``geometry``. Fixations are
        grouped by σ (1 % bins) and each group blurred once.

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
    if unit == "deg" and px_per_deg is not None:
        sx, sy = _sigma_per_point(sigma, px_per_deg, geometry, x.size)
        out = np.zeros((-(-h // d), -(-w // d)))
        key = np.round(np.log(np.stack([sx, sy], axis=1)) / np.log(1.01)).astype(np.int64)
        _, group = np.unique(key, axis=0, return_inverse=True)
        for g in np.unique(group):
            sel = group.ravel() == g
            out += _density(
                x[sel], y[sel], wts[sel], (h, w), d, float(np.median(sx[sel])),
                float(np.median(sy[sel])), exact,
            )  # fmt: skip
        return normalize_map(out, normalize, pixel_area=float(d * d))
    s_px = sigma_to_px(sigma, unit, geometry)
    out = _density(x, y, wts, (h, w), d, s_px, s_px, exact)
    return normalize_map(out, normalize, pixel_area=float(d * d))


def _sigma_per_point(
    sigma: float, px_per_deg: Any, geometry: Any, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-point σ (px) along x and y from per-point px/deg (NaN: the geometry's)."""
    if not np.isfinite(sigma) or sigma <= 0:
        raise InputError(f"sigma must be positive, got {sigma}")
    ppd = np.asarray(px_per_deg, np.float64)
    ppd = np.stack([ppd, ppd], axis=1) if ppd.ndim == 1 else ppd
    if ppd.shape != (n, 2):
        raise InputError(f"px_per_deg must be (N,) or (N, 2) for N={n}, got {ppd.shape}")
    bad = ~(np.isfinite(ppd) & (ppd > 0))
    if bad.any():
        if geometry is None or not getattr(geometry, "has_degrees", False):
            raise InputError(
                "some fixations have no px_per_deg and no geometry gives one (or use unit='px')"
            )
        fill = np.asarray(geometry.px_per_deg_xy(), np.float64)[None, :]
        ppd = np.where(bad, fill, ppd)
    return sigma * ppd[:, 0], sigma * ppd[:, 1]


def _density(
    x: np.ndarray, y: np.ndarray, wts: np.ndarray, shape: tuple[int, int], d: int,
    sx_px: float, sy_px: float, exact: bool,
) -> np.ndarray:  # fmt: skip
    """Unnormalised map of weighted points blurred with σ = (sx_px, sy_px) image px."""
    h, w = shape
    gh, gw = -(-h // d), -(-w // d)
    sgx, sgy = sx_px / d, sy_px / d
    # Wide kernels are blurred on a coarser grid (σ ≥ 8 coarse px) and resampled
    # bilinearly: the extra smoothing (tent of one coarse px) adds < 0.3 % to σ².
    f = 1 if exact else max(1, int(min(sgx, sgy) // COARSE_SIGMA))
    # the coarse grid covers ceil(g / f) * f grid px, so the scale is exactly 1/f
    ch, cw = -(-gh // f), -(-gw // f)
    scx, scy = sgx / f, sgy / f
    # pad by the kernel radius so fixations near or beyond the border keep the part of
    # their Gaussian that falls inside the image (exactly as a sum of Gaussians would)
    pad = math.ceil(TRUNCATE * max(scx, scy)) + 2
    grid = splat(x, y, wts, (ch + 2 * pad, cw + 2 * pad), 1.0 / (d * f), offset=pad)
    # the bilinear split itself adds on average 1/6 px² of variance per axis
    out = blur(grid, tuple(math.sqrt(c * c - 1.0 / 6.0) if c > 1.0 else c for c in (scx, scy)))  # type: ignore[arg-type]
    if f == 1:
        return out[pad : pad + gh, pad : pad + gw]
    import cv2

    q = 2  # coarse px kept around the image so the interpolation has neighbours
    c = np.ascontiguousarray(out[pad - q : pad + ch + q, pad - q : pad + cw + q], dtype=np.float32)
    up = cv2.resize(c, ((cw + 2 * q) * f, (ch + 2 * q) * f), interpolation=cv2.INTER_LINEAR)
    return up[q * f : q * f + gh, q * f : q * f + gw].astype(np.float64) / (f * f)


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
    """Heatmap of a fixation table; see :func:`heatmap`.

    Per-fixation ``px_per_deg_x``/``px_per_deg_y`` columns (REFLACX's zoom) set each
    fixation's σ in degrees.

    Parameters
    ----------
    fixations : DataFrame
        ``x_px``, ``y_px`` (image frame) and, for duration weights, ``duration_ms`` (or
        ``onset_ms``/``offset_ms``); rows of one source, method and eye (see
        :func:`fixation_arrays`).
    shape : (H, W), px
        Image size.
    weight : {"duration", "count"}
        Weight each fixation by its duration (ms, a dwell map) or count each once.
    sigma : float
        Gaussian standard deviation in ``unit`` (default 1°, as :func:`heatmap`).
    unit : {"deg", "px"}
        Unit of ``sigma``.
    geometry : Geometry, optional
        Needed for degrees when the table has no per-fixation px/deg.
    normalize : {"probability", "density", "max", "none"}
        See :func:`normalize_map`.
    downsample : int
        Compute on a grid ``downsample`` times coarser.

    Returns
    -------
    (H', W') ndarray of float64
        The map, ``H' = ceil(H / downsample)``, ``W' = ceil(W / downsample)``.

    Raises
    ------
    InputError
        A needed column is missing, the rows mix sources/methods/eyes, or an option is
        invalid (``sigma`` not positive, degrees without a geometry, unknown ``weight``
        or ``normalize``).

    Examples
    --------
    >>> import pandas as pd
    >>> fix = pd.DataFrame({"x_px": [10.0, 30.0], "y_px": [20.0, 20.0],
    ...                     "duration_ms": [300.0, 100.0]})
    >>> m = compute(fix, (40, 50), sigma=2, unit="px")
    >>> m.shape, round(float(m.sum()), 6), np.unravel_index(m.argmax(), m.shape)
    ((40, 50), 1.0, (np.int64(20), np.int64(10)))
    >>> round(float(m[20, 10] / m[20, 30]), 2)  # dwell-weighted: 300 ms vs 100 ms
    3.0
    """
    x, y, w = fixation_arrays(fixations, weight=weight)
    return heatmap(
        x, y, shape, weights=w, sigma=sigma, unit=unit, geometry=geometry,
        normalize=normalize, downsample=downsample, px_per_deg=fixation_px_per_deg(fixations),
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

    Each slice is ``heat`` inside the region, zero outside, normalised within the region.

    Parameters
    ----------
    heat : (H', W') ndarray
        A heatmap on the atlas grid or a downsampled one.
    atlas : gazekit.anatomy.Atlas
        Regions, resampled to ``heat``'s grid.
    normalize : {"probability", "density", "max", "none"}
        ``probability``: each slice sums to 1; ``density``: integrates to 1 per image
        px²; ``max``: peak 1; ``none``: masked only. A region without gaze stays zero.
    dtype : numpy dtype
        Output dtype; float32 halves memory for large batches.

    Returns
    -------
    (H', W', R) ndarray of ``dtype``

    Raises
    ------
    InputError
        ``normalize`` is not one of the four names.
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
    """Share of the heatmap's mass inside each region (regions may overlap).

    Parameters
    ----------
    heat : (H', W') ndarray
        A heatmap (any normalisation) on the atlas grid or a downsampled one.
    atlas : gazekit.anatomy.Atlas
        R regions, resampled to ``heat``'s grid.

    Returns
    -------
    (R,) ndarray of float64
        Fraction (0..1) of ``heat.sum()`` inside each region, in ``atlas.names`` order;
        all zeros for an empty map.
    """
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
        Window length before each start (3 s by default).
    level : str, optional
        Keep only rows of this level (e.g. ``"phrase"``).

    Returns
    -------
    list of (float, float), ms
        ``(start_ms - before_ms, start_ms)`` per row, for :func:`windowed`.

    Raises
    ------
    InputError
        The transcript lacks ``start_ms``.
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
    ``weight="count"``, 1 if it overlaps at all).

    Parameters
    ----------
    fixations : DataFrame
        ``x_px``, ``y_px``, ``onset_ms`` and ``offset_ms`` (or ``duration_ms``); rows
        of one source, method and eye.
    shape : (H, W), px
        Image size.
    windows : sequence of (start, end), ms
        Time windows on the recording's clock (e.g. :func:`phrase_windows`).
    weight : {"duration", "count"}
        Weight by the overlapping duration (ms) or count overlapping fixations.
    **kwargs
        Passed to :func:`heatmap` (``sigma``, ``unit``, ``geometry``, ``normalize``,
        ``downsample``).

    Returns
    -------
    (K, H', W') ndarray of float64
        One map per window (all zeros when no fixation overlaps).

    Raises
    ------
    InputError
        ``weight`` is unknown or the table lacks the timing columns.
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
    ppd = fixation_px_per_deg(fixations)
    maps = []
    for a, b in windows:
        overlap = np.clip(np.minimum(off, b) - np.maximum(on, a), 0.0, None)
        sel = overlap > 0
        ww = overlap[sel] if weight == "duration" else w[sel]
        extra = {"px_per_deg": ppd[sel]} if ppd is not None else {}
        maps.append(heatmap(x[sel], y[sel], shape, weights=ww, **kwargs, **extra))
    if not maps:
        d = int(kwargs.get("downsample", 1))
        return np.zeros((0, -(-shape[0] // d), -(-shape[1] // d)))
    return np.stack(maps)
