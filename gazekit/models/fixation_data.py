"""Examples of a fixation-only dataset (scanpath lists such as GazeSearch).

Such a dataset has no samples and no intent labels: every recording is one search
scanpath, its fixations the tracker events, its search target and data split columns
of ``recordings.parquet``. The coordinate frame is the dataset's (``image_w_px`` ×
``image_h_px``, 224 × 224 for GazeSearch), never an image file's size; images
(``images/<image_id>.png``) are loaded only when present (an image-free model,
``backbone: "none"``, needs none).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from gazekit.errors import InputError
from gazekit.io.parquet import read_frame
from gazekit.models.data import FINDINGS, Corpus, Example, _load_image

log = logging.getLogger(__name__)


def is_fixation_only(path: str | os.PathLike[str]) -> bool:
    """Whether the dataset directory holds fixation-only recordings (manifest or table)."""
    root = Path(path)
    manifest = root / "manifest.json"
    if manifest.is_file():
        try:
            if json.loads(manifest.read_text("utf-8")).get("fixation_only"):
                return True
        except (OSError, json.JSONDecodeError):
            pass
    f = root / "recordings.parquet"
    if not f.is_file():
        return False
    recs = read_frame(f, "recordings")
    return (
        "fixation_only" in recs
        and len(recs) > 0
        and bool(recs["fixation_only"].fillna(False).all())
    )


def target_index(target: str | None) -> int | None:
    """Index of a search target in :data:`FINDINGS` (None for no target).

    Raises
    ------
    InputError
        A target that is no finding of the project vocabulary (the target embedding has
        one entry per finding).
    """
    if target is None or (isinstance(target, float) and np.isnan(target)):
        return None
    if target not in FINDINGS:
        raise InputError(
            f"search target {target!r} is no finding of gazekit.vocab "
            f"({', '.join(FINDINGS)}); the scanpath model conditions on these findings",
            column="target",
        )
    return FINDINGS.index(str(target))


def load_fixation_corpus(
    path: str | os.PathLike[str], *, image_size: int = 128, min_fixations: int = 1
) -> Corpus:
    """Examples of a fixation-only dataset, one per search scanpath.

    Parameters
    ----------
    path : path-like
        Dataset directory written by ``gazekit convert`` from a scanpath list.
    image_size : int
        Side of the square model input (px), for images that are present.
    min_fixations : int
        Shorter scanpaths are skipped (default 1: a search may end on its first fixation).

    Returns
    -------
    Corpus
        ``Example.target`` is the index of the recording's target in :data:`FINDINGS`,
        ``Example.split`` its split; ``intent`` is all zeros (no labels);
        ``image_shape`` is the dataset's frame; ``images`` holds only the images found.
    """
    root = Path(path)
    recs = read_frame(root / "recordings.parquet", "recordings").set_index("recording_id")
    ev = read_frame(root / "events.parquet", "events")
    fix = ev[(ev["event"] == "fixation") & (ev["source"] == "tracker")]
    images: dict[str, np.ndarray] = {}
    shapes: dict[str, tuple[int, int]] = {}
    rows = recs.to_dict("index")
    fix = fix.sort_values(["recording_id", "onset_ms"], kind="stable")
    ids = fix["recording_id"].to_numpy()
    cut = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts, ends = np.r_[0, cut], np.r_[cut, len(ids)]
    cols = {c: fix[c].to_numpy(np.float64) for c in ("x_px", "y_px", "onset_ms", "duration_ms")}
    by_id = {}
    for a, b in zip(starts, ends, strict=True):
        rid = str(ids[a])
        row = rows.get(rid)
        if row is None or b - a < min_fixations:
            continue
        image_id = str(row["image_id"])
        w, h = float(row["image_w_px"]), float(row["image_h_px"])
        if not (np.isfinite(w) and np.isfinite(h)):
            raise InputError(f"recording {rid!r} has no frame size (image_w_px, image_h_px)",
                             path=root / "recordings.parquet")  # fmt: skip
        shapes[image_id] = (round(h), round(w))
        img = root / "images" / f"{image_id}.png"
        if image_id not in images and img.is_file():
            images[image_id] = _load_image(img, image_size)[0]
        x, y = cols["x_px"][a:b], cols["y_px"][a:b]
        on, dur = cols["onset_ms"][a:b], cols["duration_ms"][a:b]
        split = row.get("split")
        by_id[rid] = Example(
            recording_id=rid, image_id=image_id, reader_id=str(row["reader_id"]),
            xy=np.clip(np.stack([x / w, y / h], axis=1), 0.0, 1.0).astype(np.float32),
            dur=np.log(np.maximum(dur, 1.0)).astype(np.float32),
            t=((on - on[0]) / 1000.0).astype(np.float32), region=np.zeros(b - a, np.int64),
            intent=np.zeros((b - a, len(FINDINGS)), np.float32), onset_ms=on,
            target=target_index(row.get("target")),
            split=None if split is None or (isinstance(split, float) and np.isnan(split)) else str(split),
        )  # fmt: skip
    examples = [by_id[r] for r in recs.index if r in by_id]  # the recordings table's order
    if not examples:
        raise InputError("no fixation-only recording with fixations", path=root)
    if images and len(images) < len({e.image_id for e in examples}):
        log.info("%d of %d images present: a model with an image backbone needs all of them",
                 len(images), len({e.image_id for e in examples}))  # fmt: skip
    return Corpus(examples, images, shapes, "none", root)
