"""Anatomy atlases: named, possibly overlapping region masks on one image grid.

An :class:`Atlas` holds ``masks`` (R, H, W) bool and ``names`` (R,) str. Regions
may overlap (a point is in ``right_lung`` *and* ``right_lower_zone``); point
lookup returns a membership matrix, or the most specific region per point.

The on-disk contract (written by the simulator as ``DIR/anatomy/<image_id>.npz``)
is an ``.npz`` with ``masks`` (R, H, W) bool and ``names`` (R,) str; :meth:`Atlas.save`
adds an optional ``parents`` array (``""`` for top-level regions).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gazekit.anatomy.regions import HIERARCHY
from gazekit.errors import InputError

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


@dataclass
class Atlas:
    """Named region masks of one image.

    Attributes
    ----------
    masks : (R, H, W) ndarray of bool
        One mask per region, rows = image rows (y), columns = image columns (x).
    names : tuple of str, length R
    parents : dict of str -> str or None
        Parent region of each name (canonical :data:`~gazekit.anatomy.regions.HIERARCHY`
        by default; unknown names are top level).
    image_id : str or None
    """

    masks: np.ndarray
    names: tuple[str, ...]
    parents: dict[str, str | None] = field(default_factory=dict)
    image_id: str | None = None

    def __post_init__(self) -> None:
        masks = np.asarray(self.masks)
        if masks.ndim == 2:
            masks = masks[None]
        if masks.ndim != 3:
            raise InputError(f"atlas masks must be (R, H, W), got shape {masks.shape}")
        self.masks = np.ascontiguousarray(masks.astype(bool, copy=False))
        self.names = tuple(str(n) for n in self.names)
        if len(self.names) != self.masks.shape[0]:
            raise InputError(f"atlas has {self.masks.shape[0]} masks but {len(self.names)} names")
        if len(set(self.names)) != len(self.names):
            raise InputError(f"atlas region names are not unique: {list(self.names)}")
        parents = {n: HIERARCHY.get(n) for n in self.names}
        parents.update(self.parents)
        self.parents = {n: (p if p in self.names else None) for n, p in parents.items()}
        self._codes: np.ndarray | None = None
        self._grids: dict[tuple[int, int], np.ndarray] = {}
        self._areas: np.ndarray | None = None

    # ---------------------------------------------------------------- basics
    @property
    def shape(self) -> tuple[int, int]:
        """Image grid ``(H, W)`` in px."""
        return int(self.masks.shape[1]), int(self.masks.shape[2])

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def index(self, name: str) -> int:
        """Position of region ``name`` (raises ``KeyError`` naming the known regions)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no region {name!r}; atlas has {list(self.names)}") from None

    def mask(self, name: str) -> np.ndarray:
        """(H, W) bool mask of region ``name``."""
        return self.masks[self.index(name)]

    def area_array(self) -> np.ndarray:
        """(R,) int64 region areas in px (cached)."""
        if self._areas is None:
            self._areas = self.masks.sum(axis=(1, 2)).astype(np.int64)
        return self._areas

    def areas(self) -> dict[str, int]:
        """Region areas in px."""
        return dict(zip(self.names, self.area_array().tolist(), strict=True))

    def children(self, name: str) -> list[str]:
        """Direct sub-regions of ``name`` present in this atlas."""
        return [n for n in self.names if self.parents.get(n) == name]

    def depth(self, name: str) -> int:
        """Number of ancestors of ``name`` (0 for top-level regions)."""
        d, p = 0, self.parents.get(name)
        while p is not None and d < len(self.names):
            d, p = d + 1, self.parents.get(p)
        return d

    def subset(self, names: list[str] | tuple[str, ...]) -> Atlas:
        """Atlas with only ``names``, in that order."""
        idx = [self.index(n) for n in names]
        return Atlas(self.masks[idx], tuple(names), dict(self.parents), self.image_id)

    def resized(self, shape: tuple[int, int]) -> Atlas:
        """Nearest-neighbour resample to ``shape`` ``(H, W)``."""
        h, w = shape
        rows = np.minimum(
            ((np.arange(h) + 0.5) * self.shape[0] / h).astype(np.intp), self.shape[0] - 1
        )
        cols = np.minimum(
            ((np.arange(w) + 0.5) * self.shape[1] / w).astype(np.intp), self.shape[1] - 1
        )
        return Atlas(self.masks[:, rows][:, :, cols], self.names, dict(self.parents), self.image_id)

    def grid_masks(self, shape: tuple[int, int]) -> np.ndarray:
        """Masks resampled (nearest) to ``shape`` as an (H', W', R) float32 array, cached.

        Used to mask heatmaps computed on a downsampled grid; treat as read-only.
        """
        shape = (int(shape[0]), int(shape[1]))
        if shape not in self._grids:
            h, w = self.shape
            rows = np.minimum(((np.arange(shape[0]) + 0.5) * h / shape[0]).astype(np.intp), h - 1)
            cols = np.minimum(((np.arange(shape[1]) + 0.5) * w / shape[1]).astype(np.intp), w - 1)
            m = self.masks[:, rows][:, :, cols]
            g = np.ascontiguousarray(np.moveaxis(m, 0, -1), dtype=np.float32)
            g.flags.writeable = False
            self._grids[shape] = g
        return self._grids[shape]

    # ---------------------------------------------------------------- lookup
    def code_map(self) -> np.ndarray:
        """(H, W) uint64 bit-set map: bit r set where region r covers the pixel."""
        if self._codes is None:
            if len(self.names) > 64:
                raise InputError("point lookup supports at most 64 regions per atlas")
            codes = np.zeros(self.shape, dtype=np.uint64)
            for r in range(len(self.names)):
                codes |= self.masks[r].astype(np.uint64) << np.uint64(r)
            self._codes = codes
        return self._codes

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Region membership of points.

        Parameters
        ----------
        x, y : (N,) array_like of float, px
            Image column and row (pixel centres at integer coordinates). NaN or
            out-of-image points belong to no region.

        Returns
        -------
        (N, R) ndarray of bool
            ``out[i, r]`` is True when point ``i`` lies in region ``r``; a point may
            be in several (overlapping) regions.
        """
        x = np.asarray(x, dtype=np.float64).ravel()
        y = np.asarray(y, dtype=np.float64).ravel()
        if x.shape != y.shape:
            raise InputError(f"x and y differ in length ({x.size} vs {y.size})")
        h, w = self.shape
        ok = np.isfinite(x) & np.isfinite(y)
        col = np.where(ok, np.floor(x + 0.5), -1).astype(np.int64)
        row = np.where(ok, np.floor(y + 0.5), -1).astype(np.int64)
        ok &= (col >= 0) & (col < w) & (row >= 0) & (row < h)
        code = np.zeros(x.size, dtype=np.uint64)
        code[ok] = self.code_map()[row[ok], col[ok]]
        bits = np.arange(len(self.names), dtype=np.uint64)
        return ((code[:, None] >> bits[None, :]) & np.uint64(1)).astype(bool)

    def region_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Most specific region of each point (deepest in the hierarchy, then smallest).

        Returns
        -------
        (N,) ndarray of object
            Region name, or ``None`` outside every region.
        """
        member = self.lookup(x, y)
        areas = self.area_array().astype(np.float64)
        depth = np.array([self.depth(n) for n in self.names], dtype=np.float64)
        score = depth * 1e12 - areas  # deeper first, then smaller
        ranked = np.where(member, score[None, :], -np.inf)
        best = np.argmax(ranked, axis=1) if len(self.names) else np.zeros(len(member), int)
        names = np.array((*self.names, None), dtype=object)
        return np.where(member.any(axis=1), names[best], None)

    # ------------------------------------------------------------------ I/O
    @classmethod
    def load(cls, path: PathLike, image_id: str | None = None) -> Atlas:
        """Read an atlas ``.npz`` (``masks`` (R,H,W) bool, ``names`` (R,) str, optional ``parents``)."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                if "masks" not in z or "names" not in z:
                    raise InputError(
                        f"atlas npz needs arrays 'masks' and 'names', has {sorted(z.files)}",
                        path=path,
                    )
                masks, names = z["masks"], [str(n) for n in z["names"]]
                parents = (
                    {n: (str(p) or None) for n, p in zip(names, z["parents"], strict=True)}
                    if "parents" in z
                    else {}
                )
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read atlas: {exc}", path=path) from None
        return cls(masks, tuple(names), parents, image_id or path.stem)

    def save(self, path: PathLike) -> Path:
        """Write the atlas as ``.npz`` atomically; returns the path."""
        from gazekit.io.parquet import atomic_path

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        parents = np.array([self.parents.get(n) or "" for n in self.names], dtype=str)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, masks=self.masks, names=np.array(self.names, dtype=str), parents=parents
            )
        return path
