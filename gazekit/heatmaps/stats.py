"""Per-region gaze statistics (``region_stats`` table), group summaries and I/O."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError
from gazekit.heatmaps._kernels import coverage_counts
from gazekit.heatmaps.density import (
    fixation_arrays,
    fixation_px_per_deg,
    heatmap,
    region_mass,
    stacked,
)

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


def coverage_radius_px(radius: float = 1.0, unit: str = "deg", geometry: Any = None) -> float:
    """Coverage radius in image px (1° by default), via :meth:`Geometry.deg_to_px`.

    Parameters
    ----------
    radius : float
        In ``unit``.
    unit : {"deg", "px"}
    geometry : Geometry, optional
        Needed for degrees (its fixed mapping; for a zooming viewer, the most-used view).

    Returns
    -------
    float, px
    """
    if unit == "px":
        return float(radius)
    if geometry is None:
        raise InputError("a coverage radius in degrees needs the geometry (or unit='px')")
    return float(geometry.deg_to_px(radius))


def _coverage(x: np.ndarray, y: np.ndarray, atlas: Any, radius_px: Any) -> np.ndarray:
    """(R,) fraction of each region's pixels within each point's ``radius_px`` (scalar or (N,))."""
    radius = np.broadcast_to(np.asarray(radius_px, dtype=np.float64), np.shape(x))
    hit = coverage_counts(
        np.ascontiguousarray(x, np.float64),
        np.ascontiguousarray(y, np.float64),
        np.ascontiguousarray(np.maximum(radius, 0.0)),
        atlas.code_map(),
        len(atlas.names),
    )
    areas = atlas.area_array()
    return np.divide(hit, areas, out=np.zeros(len(areas)), where=areas > 0)


def region_stats(
    fixations: pd.DataFrame,
    atlas: Any,
    *,
    recording_id: str = "",
    image_id: str | None = None,
    reader_id: str | None = None,
    geometry: Any = None,
    coverage_radius: float = 1.0,
    coverage_unit: str = "deg",
    heat: np.ndarray | None = None,
) -> pd.DataFrame:
    """Per-region dwell statistics of one recording (``region_stats`` schema).

    Parameters
    ----------
    fixations : DataFrame
        ``x_px``, ``y_px`` (image frame), ``onset_ms`` and ``duration_ms`` (or
        ``offset_ms``), in reading order.
    atlas : gazekit.anatomy.Atlas
    recording_id, image_id, reader_id : str
    geometry : Geometry, optional
        Converts the coverage radius from degrees.
    coverage_radius : float
        Coverage counts region pixels within this distance of any fixation (1°).
    coverage_unit : {"deg", "px"}
    heat : (H', W') ndarray, optional
        The recording's heatmap; adds ``heat_share``.

    Returns
    -------
    DataFrame
        One row per atlas region. A fixation in overlapping regions counts in each.
    """
    x, y, dur = fixation_arrays(fixations, weight="duration")
    fx = fixations[fixations["event"] == "fixation"] if "event" in fixations.columns else fixations
    onset = (
        fx["onset_ms"].to_numpy(dtype=np.float64, na_value=np.nan)
        if "onset_ms" in fx.columns
        else np.full(x.size, np.nan)
    )
    order = np.argsort(onset, kind="stable") if np.isfinite(onset).all() else np.arange(x.size)
    x, y, dur, onset = x[order], y[order], dur[order], onset[order]
    dur = np.where(np.isfinite(dur), dur, 0.0)
    member = atlas.lookup(x, y)  # (N, R)
    dwell = dur @ member
    count = member.sum(axis=0)
    first = np.array(
        [onset[member[:, r]].min() if count[r] else np.nan for r in range(len(atlas.names))]
    )
    m = member.astype(np.int8)
    entries = np.diff(np.vstack([np.zeros((1, m.shape[1]), np.int8), m]), axis=0) == 1
    visits = entries.sum(axis=0)
    total = float(dur.sum())
    radius = coverage_radius_px(coverage_radius, coverage_unit, geometry)
    per_fixation: Any = radius
    ppd = fixation_px_per_deg(fixations) if coverage_unit == "deg" else None
    if ppd is not None:  # a zooming viewer (REFLACX): each fixation's own px/deg, where known
        local = coverage_radius * np.sqrt(ppd[:, 0] * ppd[:, 1])[order]
        per_fixation = np.where(np.isfinite(local), local, radius)
        radius = float(np.median(per_fixation)) if per_fixation.size else radius
    cov = _coverage(x, y, atlas, per_fixation)
    out = pd.DataFrame(
        {
            "recording_id": recording_id,
            "image_id": image_id,
            "reader_id": reader_id,
            "region": list(atlas.names),
            "parent": [atlas.parents.get(n) for n in atlas.names],
            "area_px": atlas.area_array(),
            "dwell_ms": dwell.astype(np.float64),
            "fixation_count": count.astype(np.int64),
            "first_fixation_ms": first,
            "visits": visits.astype(np.int64),
            "revisits": np.maximum(visits - 1, 0).astype(np.int64),
            "dwell_share": dwell / total if total > 0 else np.zeros(len(atlas.names)),
            "coverage": cov,
            "coverage_radius_px": radius,
        }
    )
    if heat is not None:
        out["heat_share"] = region_mass(heat, atlas)
    for c in ("recording_id", "image_id", "reader_id", "region", "parent"):
        out[c] = out[c].astype("string")
    return out


def per_anatomy_batch(
    items: Iterable[tuple[pd.DataFrame, Any]],
    *,
    sigma: float = 1.0,
    unit: str = "deg",
    geometry: Any = None,
    downsample: int = 4,
    normalize: str = "probability",
    workers: int = 1,
) -> Iterator[np.ndarray]:
    """Stacked per-anatomy heatmaps for many ``(fixations, atlas)`` pairs.

    A generator (500 stacks of 256×256×14 would be 1.8 GB at once), in input order.
    Per recording: one splat, one blur on the grid ``downsample`` times coarser and one
    masked normalisation; ``downsample=4`` keeps a 1° kernel (≈ 40 px at typical
    reading distances) well resolved. ``workers > 1`` runs recordings in threads
    (NumPy and OpenCV release the GIL).

    Parameters
    ----------
    items : iterable of (DataFrame, Atlas)
        A fixation table (``x_px``, ``y_px``, ``duration_ms``; see
        :func:`~gazekit.heatmaps.density.fixation_arrays`) and the atlas of its image.
    sigma : float
        Gaussian standard deviation in ``unit`` (1° by default).
    unit : {"deg", "px"}
        Unit of ``sigma``.
    geometry : Geometry, optional
        Needed for degrees unless the tables carry per-fixation px/deg.
    downsample : int
        Grid coarsening factor (``H' = ceil(H / downsample)``).
    normalize : {"probability", "density", "max", "none"}
        Normalisation inside each region (see :func:`~gazekit.heatmaps.density.stacked`).
    workers : int
        Threads; 1 runs in the calling thread.

    Yields
    ------
    (H', W', R) ndarray of float32
        One stack per item, axis 2 in ``atlas.names`` order.
    """

    def one(item: tuple[pd.DataFrame, Any]) -> np.ndarray:
        fix, atlas = item
        x, y, w = fixation_arrays(fix)
        heat = heatmap(
            x, y, atlas.shape, weights=w, sigma=sigma, unit=unit, geometry=geometry,
            normalize="none", downsample=downsample, px_per_deg=fixation_px_per_deg(fix),
        )  # fmt: skip
        return stacked(heat, atlas, normalize=normalize, dtype=np.float32)

    if workers <= 1:
        for item in items:
            yield one(item)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: list[Any] = []
        for item in items:
            pending.append(pool.submit(one, item))
            if len(pending) >= 2 * workers:
                yield pending.pop(0).result()
        for fut in pending:
            yield fut.result()


def group_stats(stats: pd.DataFrame, by: tuple[str, ...] = ("image_id", "region")) -> pd.DataFrame:
    """Across-reader group means of a ``region_stats`` table.

    Parameters
    ----------
    stats : DataFrame
        ``region_stats`` rows (:func:`region_stats`) of several recordings.
    by : tuple of str
        Grouping columns.

    Returns
    -------
    DataFrame
        One row per ``by`` group with ``n_readers`` (distinct recordings), the mean and
        standard deviation (``<col>_mean``, ``<col>_std``) of ``dwell_ms`` (ms),
        ``dwell_share`` (0..1), ``fixation_count``, ``coverage`` (0..1) and ``revisits``,
        and ``p_fixated``, the share of readers who fixated the region.

    Raises
    ------
    InputError
        A needed column is missing.
    """
    cols = ["dwell_ms", "dwell_share", "fixation_count", "coverage", "revisits"]
    missing = [c for c in (*by, *cols) if c not in stats.columns]
    if missing:
        raise InputError(f"region statistics lack columns {missing}", column=missing[0])
    g = stats.assign(fixated=stats["fixation_count"] > 0).groupby(list(by), sort=True, dropna=False)
    out = g[cols].agg(["mean", "std"])
    out.columns = [f"{c}_{s}" for c, s in out.columns]
    out["n_readers"] = g["recording_id"].nunique()
    out["p_fixated"] = g["fixated"].mean()
    return out.reset_index()


def reader_agreement(stats: pd.DataFrame, value: str = "dwell_share") -> pd.DataFrame:
    """Between-reader agreement on the regional profile of ``value``, per image.

    Parameters
    ----------
    stats : DataFrame
        ``region_stats`` rows with ``image_id``, ``region``, ``recording_id`` and ``value``.
    value : str
        Column whose per-region profile is compared (``dwell_share`` by default).

    Returns
    -------
    DataFrame
        One row per image: ``n_readers``, ``mean_pairwise_r`` (mean Pearson
        correlation between readers' region profiles) and ``kendall_w`` (Kendall's
        coefficient of concordance of the region rankings, no tie correction; 1 = all
        readers rank the regions identically). Both are NaN with fewer than two
        readers or two regions.
    """
    rows = []
    for image_id, df in stats.groupby("image_id", sort=True, dropna=False):
        wide = df.pivot_table(index="region", columns="recording_id", values=value, aggfunc="sum")
        wide = wide.dropna(axis=0)
        m, n = wide.shape[1], wide.shape[0]
        r_mean = w = np.nan
        if m >= 2 and n >= 2:
            vals = wide.to_numpy(dtype=np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                c = np.corrcoef(vals.T)
            iu = np.triu_indices(m, 1)
            r_mean = float(np.nanmean(c[iu])) if np.isfinite(c[iu]).any() else np.nan
            ranks = wide.rank(axis=0).to_numpy(dtype=np.float64)
            s = ((ranks.sum(axis=1) - m * (n + 1) / 2) ** 2).sum()
            w = float(12 * s / (m**2 * (n**3 - n)))
        rows.append(
            {"image_id": image_id, "n_readers": m, "mean_pairwise_r": r_mean, "kendall_w": w}
        )
    return pd.DataFrame(rows)


def recording_info(path: PathLike) -> dict[str, dict[str, Any]]:
    """Geometry, image and reader of each recording of a dataset's ``recordings.parquet``.

    Parameters
    ----------
    path : path
        A ``recordings`` table written by gazekit.

    Returns
    -------
    dict of recording_id -> {"geometry": Geometry, "image_id": str or None, "reader_id": str or None}

    Raises
    ------
    InputError
        The file is not a readable gazekit Parquet table.
    """
    from gazekit.geometry import Geometry
    from gazekit.io.parquet import read_frame

    df = read_frame(path)
    out: dict[str, dict[str, Any]] = {}
    for row in df.to_dict("records"):
        out[str(row["recording_id"])] = {
            "geometry": Geometry.from_dict(row),
            "image_id": None if pd.isna(row.get("image_id")) else str(row["image_id"]),
            "reader_id": None if pd.isna(row.get("reader_id")) else str(row["reader_id"]),
        }
    return out


def save_heatmaps(path: PathLike, heat: np.ndarray, atlas: Any = None, **extra: Any) -> Path:
    """Write a heatmap (and its per-region stack) as ``.npz`` atomically.

    Parameters
    ----------
    path : path
        Destination ``.npz`` file.
    heat : (H', W') ndarray
        The heatmap; stored as float32 under ``heatmap``.
    atlas : gazekit.anatomy.Atlas, optional
        Adds ``per_region`` (H', W', R) float32, normalised to probability within each
        region, and ``names`` (R,).
    **extra : array_like
        Further arrays, stored as given under their keyword.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from gazekit.io.parquet import atomic_path

    path = Path(path)
    arrays: dict[str, Any] = {"heatmap": np.asarray(heat, np.float32)}
    if atlas is not None:
        arrays["per_region"] = stacked(heat, atlas).astype(np.float32)
        arrays["names"] = np.array(atlas.names, dtype=str)
    arrays.update({k: np.asarray(v) for k, v in extra.items()})
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def write_region_stats(
    stats: pd.DataFrame, path: PathLike, metadata: dict[str, Any] | None = None
) -> Path:
    """Validate against ``region_stats`` and write Parquet atomically.

    Parameters
    ----------
    stats : DataFrame
        Output of :func:`region_stats` (possibly concatenated over recordings).
    path : path
        Destination ``.parquet`` file.
    metadata : dict, optional
        Provenance stored with the table (see :func:`gazekit.io.parquet.write_table`).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    SchemaError
        The table does not conform to the ``region_stats`` schema.
    """
    from gazekit.io.parquet import write_table

    return write_table(stats, path, "region_stats", metadata)
