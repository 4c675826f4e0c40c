"""Anatomy atlases: named, possibly overlapping region masks on one image grid.

An :class:`Atlas` holds ``masks`` (R, H, W) bool and ``names`` (R,) str. Regions
may overlap (a point is in ``right_lung`` *and* ``right_lower_zone``); point
lookup returns a membership matrix, or the most specific region per point.

The on-disk contract (written by the simulator as ``DIR/anatomy/<image_id>.npz``)
is an ``.npz`` with ``masks`` (R, H, W) bool and ``names`` (R,) str; :meth:`Atlas.save`
adds an optional ``parents`` array (``""`` for top-level regions).

For many readers of one corpus, :meth:`Atlas.save_mapped` writes the *mapped* form:
``<stem>.codes.npy``, the uncompressed (H, W) uint64 bit-set code map, beside
``<stem>.codes.json`` (names, parents, areas). :meth:`Atlas.load` opens it
memory-mapped, so processes on one machine share one copy through the page cache and
loading costs no decompression; point lookups, areas and coverage use the code map
at full resolution, and the (R, H, W) masks are only built if asked for.
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
        """Read an atlas ``.npz`` (``masks`` (R,H,W) bool, ``names`` (R,) str, optional
        ``parents``), or the mapped form ``<stem>.codes.npy`` (see the module docstring).
        """
        path = Path(path)
        if path.name.endswith(MAPPED_SUFFIX):
            return MappedAtlas.open(path, image_id)
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

    def save_mapped(self, path: PathLike) -> Path:
        """Write the mapped form: ``path`` (``*.codes.npy``) and its ``.json`` beside it.

        Parameters
        ----------
        path : path-like
            Must end with ``.codes.npy``.

        Returns
        -------
        pathlib.Path
            The ``.codes.npy`` path.
        """
        import json

        from gazekit.io.parquet import atomic_open

        path = Path(path)
        if not path.name.endswith(MAPPED_SUFFIX):
            raise InputError(f"a mapped atlas file name ends with {MAPPED_SUFFIX}", path=path)
        doc = {
            "names": list(self.names),
            "parents": [self.parents.get(n) for n in self.names],
            "areas_px": [int(a) for a in self.area_array()],
            "shape": list(self.shape),
            "format": 1,
        }
        with atomic_open(_sidecar(path), "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        with atomic_open(path, "wb") as fh:
            np.save(fh, np.ascontiguousarray(self.code_map()), allow_pickle=False)
        return path

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


#: File-name ending of the mapped atlas form.
MAPPED_SUFFIX = ".codes.npy"


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name[: -len(".npy")] + ".json")


class MappedAtlas(Atlas):
    """An :class:`Atlas` backed by a read-only, memory-mapped code map.

    Built by :meth:`Atlas.load` from the mapped form. ``masks`` is computed from the
    code map on first use (and then held); everything the region statistics need
    (``lookup``, ``code_map``, ``area_array``, ``grid_masks``) works on the code map.
    """

    def __init__(
        self,
        codes: np.ndarray,
        names: tuple[str, ...],
        parents: dict[str, str | None],
        image_id: str | None,
        areas: np.ndarray,
    ) -> None:
        if codes.ndim != 2 or codes.dtype != np.uint64:
            raise InputError(f"a code map is (H, W) uint64, got {codes.dtype} {codes.shape}")
        self.names = tuple(str(n) for n in names)
        if len(self.names) > 64 or len(set(self.names)) != len(self.names):
            raise InputError(f"mapped atlas needs at most 64 unique names, got {self.names}")
        merged = {n: HIERARCHY.get(n) for n in self.names}
        merged.update(parents)
        self.parents = {n: (p if p in self.names else None) for n, p in merged.items()}
        self.image_id = image_id
        self._codes = codes
        self._grids = {}
        self._areas = np.asarray(areas, dtype=np.int64)
        self._masks: np.ndarray | None = None

    @classmethod
    def open(cls, path: PathLike, image_id: str | None = None) -> MappedAtlas:
        """Memory-map ``<stem>.codes.npy`` and read its ``.json`` sidecar."""
        import json

        path = Path(path)
        try:
            doc = json.loads(_sidecar(path).read_text(encoding="utf-8"))
            codes = np.load(path, mmap_mode="r", allow_pickle=False)
            names, parents, areas = doc["names"], doc["parents"], doc["areas_px"]
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"cannot read mapped atlas: {exc}", path=path) from None
        if len(names) != len(areas) or len(names) != len(parents):
            raise InputError("mapped atlas sidecar lists differ in length", path=path)
        stem = path.name[: -len(MAPPED_SUFFIX)]
        return cls(
            codes, tuple(names), dict(zip(names, parents, strict=True)), image_id or stem,
            np.asarray(areas),
        )  # fmt: skip

    @property  # type: ignore[override]
    def masks(self) -> np.ndarray:
        """(R, H, W) bool masks, decoded from the code map on first use."""
        if self._masks is None:
            bits = np.arange(len(self.names), dtype=np.uint64)
            self._masks = np.ascontiguousarray(
                ((self._codes[None, :, :] >> bits[:, None, None]) & np.uint64(1)).astype(bool)
            )
        return self._masks

    @masks.setter
    def masks(self, value: np.ndarray) -> None:
        raise AttributeError("a mapped atlas is read-only")

    @property
    def shape(self) -> tuple[int, int]:
        """Image grid ``(H, W)`` in px."""
        return int(self._codes.shape[0]), int(self._codes.shape[1])

    def code_map(self) -> np.ndarray:
        """(H, W) uint64 bit-set map (memory-mapped, read-only)."""
        return self._codes

    def grid_masks(self, shape: tuple[int, int]) -> np.ndarray:
        """Masks resampled (nearest) to ``shape`` as (H', W', R) float32, from the code map."""
        shape = (int(shape[0]), int(shape[1]))
        if shape not in self._grids:
            h, w = self.shape
            rows = np.minimum(((np.arange(shape[0]) + 0.5) * h / shape[0]).astype(np.intp), h - 1)
            cols = np.minimum(((np.arange(shape[1]) + 0.5) * w / shape[1]).astype(np.intp), w - 1)
            sub = np.asarray(self._codes[rows][:, cols])
            bits = np.arange(len(self.names), dtype=np.uint64)
            g = ((sub[:, :, None] >> bits[None, None, :]) & np.uint64(1)).astype(np.float32)
            g.flags.writeable = False
            self._grids[shape] = g
        return self._grids[shape]
