"""Atlas loaders and the default chest template.

* :func:`rle_decode` / :func:`rle_encode` and :func:`read_chexmask` — CheXmask-style CSVs
  (``Left Lung``, ``Right Lung``, ``Heart`` run-length encoded: space-separated
  ``start length`` pairs, starts 1-indexed, row-major over ``(Height, Width)``).
* :func:`from_label_map` — a label image (PNG or NPY) with a ``{label: name}`` table.
* :func:`read_boxes` — Chest ImaGenome-style bounding boxes (JSON).
* :func:`template_from_box` / :func:`template_from_lungs` — the default template with
  every region of :mod:`gazekit.anatomy.regions`, fitted to a chest bounding box (such as
  REFLACX's ``chest_bounding_box.csv``, :func:`read_chest_box`) or to lung masks.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gazekit.anatomy.atlas import Atlas
from gazekit.anatomy.regions import REGIONS
from gazekit.errors import InputError

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

#: CheXmask column -> canonical region (patient's side, as in the dataset's column names).
CHEXMASK_COLUMNS = {"Right Lung": "right_lung", "Left Lung": "left_lung", "Heart": "heart"}

#: Chest ImaGenome bounding-box names (lower-case) -> canonical region.
IMAGENOME_NAMES = {
    "right lung": "right_lung",
    "left lung": "left_lung",
    "right upper lung zone": "right_upper_zone",
    "right mid lung zone": "right_middle_zone",
    "right lower lung zone": "right_lower_zone",
    "left upper lung zone": "left_upper_zone",
    "left mid lung zone": "left_middle_zone",
    "left lower lung zone": "left_lower_zone",
    "right hilar structures": "right_hilum",
    "left hilar structures": "left_hilum",
    "right costophrenic angle": "right_costophrenic_angle",
    "left costophrenic angle": "left_costophrenic_angle",
    "cardiac silhouette": "heart",
    "mediastinum": "mediastinum",
    "upper mediastinum": "mediastinum",
    "trachea": "trachea",
    "right hemidiaphragm": "right_hemidiaphragm",
    "left hemidiaphragm": "left_hemidiaphragm",
}


#: Largest mask side accepted (px). Chest radiographs are at most ~4300 px on a side
#: (43 cm detector at 0.1 mm pitch); CheXmask's own masks are at most 1024 px. A larger
#: ``Height``/``Width`` is refused instead of allocating gigabytes.
MAX_MASK_SIDE_PX = 8192


# ------------------------------------------------------------------ RLE
def rle_decode(rle: str, height: int, width: int) -> np.ndarray:
    """Decode a CheXmask run-length string.

    Parameters
    ----------
    rle : str
        Space-separated ``start length`` pairs; starts are 1-indexed positions in the
        row-major flattened ``(height, width)`` image.
    height, width : int, px

    Returns
    -------
    (height, width) ndarray of bool

    Raises
    ------
    InputError
        A side is not in ``1..MAX_MASK_SIDE_PX``, or a run is malformed or outside
        the image.
    """
    if not (0 < height <= MAX_MASK_SIDE_PX and 0 < width <= MAX_MASK_SIDE_PX):
        raise InputError(
            f"mask size {height}×{width} px is impossible (each side 1..{MAX_MASK_SIDE_PX})"
        )
    flat = np.zeros(height * width, dtype=np.int8)
    tokens = str(rle).split()
    if len(tokens) % 2:
        raise InputError(f"RLE has an odd number of values ({len(tokens)})")
    try:
        runs = np.array(tokens, dtype=np.int64).reshape(-1, 2)
    except ValueError:
        raise InputError("RLE values must be integers") from None
    starts, lengths = runs[:, 0] - 1, runs[:, 1]
    if runs.size and (
        starts.min() < 0 or lengths.min() < 0 or (starts + lengths).max() > flat.size
    ):
        raise InputError(f"RLE run outside a {height}×{width} image")
    # +1 at each run start, -1 after its end, cumulative sum = inside
    np.add.at(flat, starts, 1)
    ends = starts + lengths
    np.add.at(flat, ends[ends < flat.size], -1)
    return (np.cumsum(flat, dtype=np.int32) > 0).reshape(height, width)


def rle_encode(mask: np.ndarray) -> str:
    """Encode a mask as a CheXmask run-length string (inverse of :func:`rle_decode`).

    Parameters
    ----------
    mask : (H, W) ndarray of bool
        Region mask (True or 1 inside, False or 0 outside).

    Returns
    -------
    str
        Space-separated ``start length`` pairs over the row-major flattened mask,
        starts 1-indexed, lengths in pixels; empty for an empty mask.
    """
    flat = np.concatenate([[0], np.asarray(mask, dtype=np.int8).ravel(), [0]])
    edges = np.flatnonzero(np.diff(flat))
    starts, ends = edges[::2], edges[1::2]
    return " ".join(f"{s + 1} {e - s}" for s, e in zip(starts, ends, strict=True))


def iter_chexmask(
    path: PathLike, image_ids: list[str] | None = None, *, template: bool = True
) -> Iterator[tuple[str, Atlas]]:
    """Stream a CheXmask-style CSV, one ``(image_id, atlas)`` at a time.

    Rows are read in small chunks and each atlas is yielded as soon as it is decoded,
    so memory stays bounded by one atlas whatever the number of rows (a real CheXmask
    file has hundreds of thousands).

    Parameters
    ----------
    path : path
        CSV with the image id in the first column, then ``Dice RCA (Mean)``,
        ``Dice RCA (Max)``, ``Landmarks``, ``Left Lung``, ``Right Lung``, ``Heart``,
        ``Height``, ``Width``.
    image_ids : list of str, optional
        Only these images.
    template : bool
        Fit the full template (zones, hila, …) to the decoded lung and heart masks;
        otherwise return only the three decoded regions.

    Yields
    ------
    (str, Atlas)
        Image id and its atlas, in file order.

    Raises
    ------
    InputError
        Unreadable file, missing columns, impossible ``Height``/``Width`` (see
        :data:`MAX_MASK_SIDE_PX`) or malformed run-length strings, with the line.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError("not a regular file", path=path)
    wanted = None if image_ids is None else set(image_ids)
    try:
        with pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=16) as chunks:
            yield from _chexmask_rows(chunks, path, wanted, template)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read CheXmask CSV: {exc}", path=path) from None
    except pd.errors.EmptyDataError:
        raise InputError("empty CheXmask CSV", path=path) from None


def _chexmask_rows(
    chunks: Any, path: Path, wanted: set[str] | None, template: bool
) -> Iterator[tuple[str, Atlas]]:
    line = 2
    for df in chunks:
        missing = [c for c in ("Height", "Width", *CHEXMASK_COLUMNS) if c not in df.columns]
        if missing:
            raise InputError(f"CheXmask CSV lacks columns {missing}", path=path)
        id_col = df.columns[0]
        for row in df.itertuples(index=False):
            i, line = line, line + 1
            rec = dict(zip(df.columns, row, strict=True))
            image_id = str(rec[id_col])
            if wanted is not None and image_id not in wanted:
                continue
            yield image_id, _chexmask_atlas(rec, image_id, template, path, i)


def _chexmask_atlas(
    rec: dict[str, Any], image_id: str, template: bool, path: Path, line: int
) -> Atlas:
    try:
        h, w = int(float(rec["Height"])), int(float(rec["Width"]))
        masks = {
            name: rle_decode(rec[col], h, w)
            for col, name in CHEXMASK_COLUMNS.items()
            if str(rec[col]).strip()
        }
    except InputError as exc:
        raise InputError(exc.message, path=path, line=line) from None
    except (ValueError, OverflowError):
        raise InputError("Height/Width must be integers", path=path, line=line) from None
    if not masks:
        raise InputError("row has no lung or heart mask", path=path, line=line)
    if template and "right_lung" in masks and "left_lung" in masks:
        return template_from_lungs(
            masks["right_lung"], masks["left_lung"], masks.get("heart"), image_id=image_id
        )
    return Atlas(np.stack(list(masks.values())), tuple(masks), image_id=image_id)


def read_chexmask(
    path: PathLike, image_ids: list[str] | None = None, *, template: bool = True
) -> dict[str, Atlas]:
    """Read a CheXmask-style CSV into one atlas per image (all in memory).

    Parameters
    ----------
    path : path
        See :func:`iter_chexmask` (use it for large files: it streams).
    image_ids : list of str, optional
        Only these images.
    template : bool
        Fit the full template to the decoded masks.

    Returns
    -------
    dict of str to Atlas
    """
    return dict(iter_chexmask(path, image_ids, template=template))


# ------------------------------------------------------------ label maps
def from_label_map(
    labels: np.ndarray | PathLike, names: dict[int, str], image_id: str | None = None
) -> Atlas:
    """Atlas from a label image (one region per integer label; 0 is background).

    Parameters
    ----------
    labels : (H, W) ndarray of int, or path to a ``.npy`` or ``.png``
        Label image on the radiograph's pixel grid (px).
    names : dict of int -> str
        Label value -> region name. Labels not in the table are ignored.
    image_id : str, optional
        Image the atlas belongs to; defaults to the file's stem when ``labels``
        is a path.

    Returns
    -------
    Atlas
        One ``(H, W)`` boolean mask per entry of ``names``, in ascending label order.

    Raises
    ------
    InputError
        The file cannot be read, or the label map is not 2-D.
    """
    path = None
    if not isinstance(labels, np.ndarray):
        path = Path(labels)
        try:
            if path.suffix.lower() == ".npy":
                labels = np.load(path, allow_pickle=False)
            else:
                from gazekit.io.images import read_image

                labels = read_image(path, grayscale=False)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read label map: {exc}", path=path) from None
        image_id = image_id or path.stem
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise InputError(f"label map must be 2-D, got shape {labels.shape}", path=path)
    keys = sorted(names)
    masks = np.stack([labels == k for k in keys]) if keys else np.zeros((0, *labels.shape), bool)
    return Atlas(masks, tuple(names[k] for k in keys), image_id=image_id)


def read_name_table(path: PathLike) -> dict[int, str]:
    """Read a ``{label: name}`` table from JSON (object) or CSV/TSV (``label,name`` rows).

    Parameters
    ----------
    path : path
        ``.json`` file holding one object ``{"1": "right_lung", ...}``, or a text
        file of ``label,name`` (or tab-separated) rows; a non-numeric first row is
        taken as a header and skipped, blank lines are skipped.

    Returns
    -------
    dict of int -> str
        Label value -> region name.

    Raises
    ------
    InputError
        The file cannot be read, the JSON is not an object with integer keys, or a
        row (named by its line number) is not ``label,name``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read name table as UTF-8 text: {exc}", path=path) from None
    if path.suffix.lower() == ".json":
        try:
            return {int(k): str(v) for k, v in json.loads(text).items()}
        except (ValueError, AttributeError) as exc:
            raise InputError(
                f"name table must be a JSON object label->name: {exc}", path=path
            ) from None
    table: dict[int, str] = {}
    for i, line in enumerate(text.splitlines(), 1):
        parts = [p.strip() for p in line.replace("\t", ",").split(",")]
        if not line.strip() or (i == 1 and not parts[0].lstrip("-").isdigit()):
            continue
        if len(parts) < 2 or not parts[0].lstrip("-").isdigit():
            raise InputError("expected 'label,name'", path=path, line=i)
        table[int(parts[0])] = parts[1]
    return table


# ------------------------------------------------------------------ boxes
def _canonical(name: str) -> str:
    key = " ".join(str(name).lower().replace("_", " ").split())
    return IMAGENOME_NAMES.get(key, key.replace(" ", "_"))


def from_boxes(
    boxes: dict[str, tuple[float, float, float, float]],
    shape: tuple[int, int],
    image_id: str | None = None,
) -> Atlas:
    """Atlas of axis-aligned boxes.

    Parameters
    ----------
    boxes : dict of str -> (x0, y0, x1, y1), px
        Region name -> box on the image; ``x1`` and ``y1`` are exclusive. Corners are
        rounded to the nearest pixel and clipped to the grid.
    shape : (H, W), px
        Image grid.
    image_id : str, optional
        Image the atlas belongs to.

    Returns
    -------
    Atlas
        One ``(H, W)`` boolean mask per box, in the order of ``boxes``.
    """
    h, w = shape
    masks = np.zeros((len(boxes), h, w), dtype=bool)
    for r, (x0, y0, x1, y1) in enumerate(boxes.values()):
        c0, c1 = int(np.clip(round(x0), 0, w)), int(np.clip(round(x1), 0, w))
        r0, r1 = int(np.clip(round(y0), 0, h)), int(np.clip(round(y1), 0, h))
        masks[r, r0:r1, c0:c1] = True
    return Atlas(masks, tuple(boxes), image_id=image_id)


def read_boxes(path: PathLike, shape: tuple[int, int] | None = None) -> Atlas:
    """Read Chest ImaGenome-style boxes from JSON.

    Accepts a scene-graph object (``{"image_id":…, "objects": [{"bbox_name", "original_x1",
    "original_y1", "original_x2", "original_y2"}, …]}``), a list of such objects, or a
    ``{name: [x0, y0, x1, y1]}`` mapping. Names map to canonical regions
    (:data:`IMAGENOME_NAMES`); the grid is ``shape`` or the boxes' extent.

    Parameters
    ----------
    path : path
        JSON file. Objects without ``original_*`` keys are read from ``x1, y1, x2, y2``.
    shape : (H, W), px, optional
        Image grid; by default the smallest grid holding every box.

    Returns
    -------
    Atlas
        One box mask per region; ``image_id`` from the file, else the file's stem.

    Raises
    ------
    InputError
        The file cannot be read or parsed, or a box entry lacks a coordinate.
    """
    path = Path(path)
    try:
        data: Any = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read boxes JSON: {exc}", path=path) from None
    image_id = data.get("image_id") if isinstance(data, dict) else None
    if isinstance(data, dict) and "objects" in data:
        data = data["objects"]
    boxes: dict[str, tuple[float, float, float, float]] = {}
    try:
        if isinstance(data, dict):
            for k, v in data.items():
                boxes[_canonical(k)] = tuple(float(c) for c in v)  # type: ignore[assignment]
        else:
            for obj in data:
                name = obj.get("bbox_name", obj.get("name"))
                pre = "original_" if "original_x1" in obj else ""
                boxes[_canonical(name)] = tuple(  # type: ignore[assignment]
                    float(obj[f"{pre}{c}"]) for c in ("x1", "y1", "x2", "y2")
                )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"malformed box entry: {exc!r}", path=path) from None
    if shape is None:
        ext = np.array(list(boxes.values())) if boxes else np.zeros((1, 4))
        shape = (int(np.ceil(ext[:, 3].max())), int(np.ceil(ext[:, 2].max())))
    return from_boxes(boxes, shape, image_id or path.stem)


def read_chest_box(path: PathLike) -> tuple[float, float, float, float]:
    """Read a chest bounding box from a REFLACX-style CSV.

    Parameters
    ----------
    path : path
        CSV with columns ``xmin, ymin, xmax, ymax`` (case and surrounding spaces
        ignored); the first row is used.

    Returns
    -------
    (x0, y0, x1, y1) : tuple of float, px
        Box corners on the image.

    Raises
    ------
    InputError
        The file cannot be read, a column is missing, it has no row, or the box is
        degenerate (``xmax <= xmin`` or ``ymax <= ymin``).
    """
    import pandas as pd

    path = Path(path)
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read chest box CSV: {exc}", path=path) from None
    cols = {c.lower().strip(): c for c in df.columns}
    need = ("xmin", "ymin", "xmax", "ymax")
    if not all(c in cols for c in need) or df.empty:
        raise InputError(f"chest box CSV needs columns {need} and one row", path=path)
    vals = [float(df[cols[c]].iloc[0]) for c in need]
    if not (vals[2] > vals[0] and vals[3] > vals[1]):
        raise InputError(f"degenerate chest box {vals}", path=path, line=2)
    return vals[0], vals[1], vals[2], vals[3]


# --------------------------------------------------------------- template
def _ellipse(h: int, w: int, cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    yy, xx = np.ogrid[:h, :w]
    return ((xx - cx) / max(rx, 1e-9)) ** 2 + ((yy - cy) / max(ry, 1e-9)) ** 2 <= 1.0


def template_from_box(
    box: tuple[float, float, float, float], shape: tuple[int, int], image_id: str | None = None
) -> Atlas:
    """Default chest template fitted to a chest bounding box.

    Parameters
    ----------
    box : (x0, y0, x1, y1), px
        Chest (thorax) bounding box on the image.
    shape : (H, W), px
        Image grid.
    image_id : str, optional
        Image the atlas belongs to.

    Returns
    -------
    Atlas
        All regions of :data:`~gazekit.anatomy.regions.REGIONS`. The lungs are
        ellipses in the lateral parts of the box; the rest follows
        :func:`template_from_lungs`. A coarse prior, not a segmentation.

    Raises
    ------
    InputError
        The box has no width or height.
    """
    h, w = shape
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    if bw <= 0 or bh <= 0:
        raise InputError(f"degenerate chest box {box}")
    right = _ellipse(h, w, x0 + 0.27 * bw, y0 + 0.50 * bh, 0.21 * bw, 0.44 * bh)
    left = _ellipse(h, w, x0 + 0.73 * bw, y0 + 0.50 * bh, 0.21 * bw, 0.44 * bh)
    heart = _ellipse(h, w, x0 + 0.56 * bw, y0 + 0.72 * bh, 0.19 * bw, 0.15 * bh)
    left &= ~heart
    return template_from_lungs(right, left, heart, image_id=image_id)


def template_from_lungs(
    right_lung: np.ndarray,
    left_lung: np.ndarray,
    heart: np.ndarray | None = None,
    image_id: str | None = None,
) -> Atlas:
    """Default template derived from lung masks (and a heart mask when known).

    Zones are thirds of each lung's height; hila the medial 35 % of the lung in
    its 35–60 % height band; costophrenic angles the lateral 40 % of its lowest
    15 %; hemidiaphragms a band (4 % of lung height) under each lung's lower
    border; the mediastinum the columns between the lungs' medial edges from the
    lung apices to the lung bases; the trachea its upper central strip. Without a
    heart mask, the heart is an ellipse in the lower mediastinum.

    Parameters
    ----------
    right_lung, left_lung : (H, W) ndarray of bool
        Patient's right lung (image left on a PA film) and left lung.
    heart : (H, W) ndarray of bool, optional
        Heart mask on the same grid; an ellipse prior when omitted.
    image_id : str, optional
        Image the atlas belongs to.

    Returns
    -------
    Atlas
        Every region of :data:`~gazekit.anatomy.regions.REGIONS` on the ``(H, W)`` grid.

    Raises
    ------
    InputError
        A lung mask is empty.
    """
    right_lung = np.asarray(right_lung, bool)
    left_lung = np.asarray(left_lung, bool)
    h, w = right_lung.shape
    if not right_lung.any() or not left_lung.any():
        raise InputError("template needs non-empty lung masks")
    regions: dict[str, np.ndarray] = {"right_lung": right_lung, "left_lung": left_lung}
    rows = np.arange(h)[:, None]
    cols = np.arange(w)[None, :]
    extents = {}
    for side, lung in (("right", right_lung), ("left", left_lung)):
        rr = np.flatnonzero(lung.any(axis=1))
        cc = np.flatnonzero(lung.any(axis=0))
        top, bot, lo, hi = rr[0], rr[-1] + 1, cc[0], cc[-1] + 1
        extents[side] = (top, bot, lo, hi)
        lh, lw = bot - top, hi - lo
        frac = (rows - top) / lh
        for name, a, b in (("upper", 0, 1 / 3), ("middle", 1 / 3, 2 / 3), ("lower", 2 / 3, 1.01)):
            regions[f"{side}_{name}_zone"] = lung & (frac >= a) & (frac < b)
        # medial side: towards the image centre (image right for the patient's right lung)
        medial = (cols >= hi - 0.35 * lw) if side == "right" else (cols < lo + 0.35 * lw)
        lateral = (cols < lo + 0.40 * lw) if side == "right" else (cols >= hi - 0.40 * lw)
        regions[f"{side}_hilum"] = lung & medial & (frac >= 0.35) & (frac < 0.60)
        regions[f"{side}_costophrenic_angle"] = lung & lateral & (frac >= 0.85)
        # hemidiaphragm: band under the lowest lung pixel of each column
        has = lung.any(axis=0)
        lowest = np.where(has, h - 1 - np.argmax(lung[::-1], axis=0), -1)
        band = max(2, round(0.04 * lh))
        regions[f"{side}_hemidiaphragm"] = (
            has[None, :] & (rows > lowest[None, :]) & (rows <= lowest[None, :] + band)
        )
    r_top, r_bot, _, r_hi = extents["right"]
    l_top, l_bot, l_lo, _ = extents["left"]
    top, bot = min(r_top, l_top), max(r_bot, l_bot)
    mid_lo, mid_hi = min(r_hi, l_lo), max(r_hi, l_lo)
    if mid_hi - mid_lo < 2:  # touching lungs: give the mediastinum a minimal width
        c = (mid_lo + mid_hi) // 2
        mid_lo, mid_hi = c - 1, c + 1
    mediastinum = (rows >= top) & (rows < bot) & (cols >= mid_lo) & (cols < mid_hi)
    if heart is None:
        cw = mid_hi - mid_lo
        heart = (
            _ellipse(
                h,
                w,
                (mid_lo + mid_hi) / 2 + 0.3 * cw,
                top + 0.72 * (bot - top),
                0.9 * cw,
                0.15 * (bot - top),
            )
            & ~right_lung
        )
    heart = np.asarray(heart, bool)
    mid_c, tw = (mid_lo + mid_hi) / 2, max(2.0, 0.25 * (mid_hi - mid_lo))
    trachea = (
        (rows >= max(0, top - 0.05 * (bot - top)))
        & (rows < top + 0.35 * (bot - top))
        & (np.abs(cols + 0.5 - mid_c) <= tw / 2)
    )
    regions["heart"] = heart
    regions["mediastinum"] = mediastinum | heart
    regions["trachea"] = trachea
    names = [n for n in REGIONS if n in regions]
    return Atlas(np.stack([regions[n] for n in names]), tuple(names), image_id=image_id)
