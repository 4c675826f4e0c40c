"""Training examples from a gazekit dataset directory: fixation tokens, intents, images.

One example is one recording: its fixations in onset order as tokens

* ``xy``        (L, 2) position in the image, normalised to [0, 1] (x = column / width);
* ``dur``       (L,)  log fixation duration, log(ms);
* ``t``         (L,)  fixation onset, s from the first fixation;
* ``region``    (L,)  anatomy region id (0 = none; 1 + index in :data:`REGIONS`);
* ``intent``    (L, C) multi-hot targets over the 13 GazeIntent findings (from ``gazekit
  intent`` labels of one regime);

plus the image id. Images are grayscale, resized to ``image_size`` and cached per id.
Splits keep every image and every reader in one split only (no leakage).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from gazekit.anatomy.regions import REGIONS as _ANATOMY
from gazekit.errors import InputError
from gazekit.io.layout import id_filename
from gazekit.io.parquet import read_frame
from gazekit.io.selection import select_events
from gazekit.vocab import GAZEINTENT_FINDINGS

log = logging.getLogger(__name__)

#: Anatomy regions with an embedding (id = 1 + index; 0 = outside every region).
REGIONS: tuple[str, ...] = tuple(_ANATOMY)
FINDINGS: tuple[str, ...] = GAZEINTENT_FINDINGS


@dataclass
class Example:
    """One recording's fixation sequence (see the module docstring for the fields)."""

    recording_id: str
    image_id: str
    reader_id: str
    xy: np.ndarray
    dur: np.ndarray
    t: np.ndarray
    region: np.ndarray
    intent: np.ndarray
    onset_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    strategy: str = ""
    target: int | None = None
    split: str | None = None

    def __len__(self) -> int:
        return int(self.xy.shape[0])


@dataclass
class Corpus:
    """Examples of a dataset directory and the images they refer to.

    Attributes
    ----------
    examples : list of Example
    images : dict of str to ndarray
        (image_size, image_size) float32 in [0, 1], per image id.
    image_shape : dict of str to (H, W)
        Original image size (px), to map positions back.
    regime : str
    """

    examples: list[Example]
    images: dict[str, np.ndarray]
    image_shape: dict[str, tuple[int, int]]
    regime: str
    root: Path | None = None

    def subset(self, ids: Sequence[str]) -> Corpus:
        """The examples with these recording ids (same images)."""
        keep = set(ids)
        return Corpus([e for e in self.examples if e.recording_id in keep], self.images,
                      self.image_shape, self.regime, self.root)  # fmt: skip


def _load_image(path: Path, size: int) -> tuple[np.ndarray, tuple[int, int]]:
    import cv2

    from gazekit.io.images import read_image

    img = read_image(path)
    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return small.astype(np.float32) / 255.0, (int(img.shape[0]), int(img.shape[1]))


def _regions(root: Path, image_id: str, x: np.ndarray, y: np.ndarray, cache: dict) -> np.ndarray:
    path = root / "anatomy" / f"{id_filename(image_id, 'image_id')}.npz"
    if not path.is_file():
        return np.zeros(len(x), np.int64)
    if image_id not in cache:
        from gazekit.anatomy import Atlas

        cache[image_id] = Atlas.load(path, image_id=image_id)
    names = cache[image_id].region_of(x, y)
    index = {n: i + 1 for i, n in enumerate(REGIONS)}
    return np.array([index.get(n, 0) if n is not None else 0 for n in names], dtype=np.int64)


def region_lookup(corpus: Corpus, image_id: str, cache: dict | None = None):  # type: ignore[no-untyped-def]
    """Region ids of positions on one image, for :meth:`ScanpathModel.sample`.

    Parameters
    ----------
    corpus : Corpus
        Its ``root`` holds ``anatomy/<image_id>.npz`` (the same atlas as in training).
    image_id : str
    cache : dict, optional
        Atlases already read, by image id.

    Returns
    -------
    callable or None
        ``fn(xy)`` mapping a (n, L, 2) tensor of [0, 1] positions to (n, L) int64 region
        ids (0 outside every region), or None when the image has no atlas (training
        then also saw region 0 everywhere).
    """
    import torch

    if corpus.root is None or not (corpus.root / "anatomy" / f"{id_filename(image_id, 'image_id')}.npz").is_file():
        return None
    h, w = corpus.image_shape[image_id]
    cache = {} if cache is None else cache
    root = corpus.root

    def fn(xy: torch.Tensor) -> torch.Tensor:
        a = xy.detach().cpu().numpy().reshape(-1, 2).astype(np.float64)
        ids = _regions(root, image_id, a[:, 0] * w, a[:, 1] * h, cache)
        return torch.as_tensor(ids.reshape(xy.shape[:-1]), device=xy.device)

    return fn


def _strategies(root: Path) -> dict[str, str]:
    """Reading strategy per recording, from a synthetic dataset's truth table (else empty)."""
    f = root / "truth" / "fixations.parquet"
    if not f.is_file():
        return {}
    import pyarrow.parquet as pq

    t = pq.read_table(f, columns=["recording_id", "strategy"]).to_pandas()
    return dict(t.drop_duplicates("recording_id").itertuples(index=False, name=None))


def load_corpus(
    path: str | os.PathLike[str],
    *,
    regime: str = "radhybrid",
    source: str = "auto",
    method: str | None = None,
    image_size: int = 128,
    min_fixations: int = 2,
) -> Corpus:
    """Build the examples of a dataset directory.

    A fixation-only dataset (scanpath lists: ``gazekit convert`` of a GazeSearch JSON) is
    read by :func:`gazekit.models.fixation_data.load_fixation_corpus` instead: tracker
    fixations, the search target and split from the recordings table, no intent labels,
    images only when present, every scanpath kept.

    Parameters
    ----------
    path : path-like
        Dataset directory (``gazekit convert``/``simulate --format parquet`` layout) with
        ``images/<image_id>.png``; ``anatomy/<image_id>.npz`` is used when present.
    regime : str
        Intent regime; ``intent_labels.parquet`` is used when it holds that regime,
        otherwise labels are computed with :func:`gazekit.intent.label_dataset`.
    source : {"auto", "detected", "tracker"}
        Fixations to use (see :mod:`gazekit.io.selection`); a stored
        ``intent_labels.parquet`` is used only when it was made from this source/method.
    method : str, optional
        Detector or tracker name, needed when the source holds several.
    image_size : int, px
        Side of the square model input.
    min_fixations : int
        Shorter recordings are skipped.

    Returns
    -------
    Corpus
        One :class:`Example` per kept recording (positions as fractions [0, 1] of the
        image; see the module docstring for the fields) and the images resized to
        ``image_size`` × ``image_size`` float32 in [0, 1], with their original sizes (px).

    Raises
    ------
    InputError
        A needed table or an image is missing, no recording has enough labelled
        fixations, or the fixation source/method is unknown or ambiguous.
    """
    import warnings

    from gazekit.intent import IntentWarning, label_dataset

    root = Path(path)
    from gazekit.models.fixation_data import is_fixation_only, load_fixation_corpus

    if is_fixation_only(root):  # scanpath lists: tracker fixations, target and split given
        return load_fixation_corpus(root, image_size=image_size)
    labels = None
    f = root / "intent_labels.parquet"
    if f.is_file():
        lab = read_frame(f, "intent_labels")
        stored = lab.attrs["gazekit"].get("selection")
        if len(lab) and (lab["regime"] == regime).all() and stored:
            events = read_frame(root / "events.parquet", "events")
            if stored == select_events(events, source, method)[1].to_dict():
                labels = lab
    if labels is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", IntentWarning)
            labels = label_dataset(root, regime, source=source, method=method)
    recs = read_frame(root / "recordings.parquet", "recordings").set_index("recording_id")
    cls = {c: i for i, c in enumerate(FINDINGS)}
    images: dict[str, np.ndarray] = {}
    shapes: dict[str, tuple[int, int]] = {}
    atlases: dict[str, object] = {}
    strategies = _strategies(root)
    examples = []
    for rid, g in labels.groupby("recording_id", sort=True):
        g = g.sort_values("onset_ms")
        g = g[np.isfinite(g["x_px"].to_numpy(float)) & np.isfinite(g["y_px"].to_numpy(float))]
        if len(g) < min_fixations or rid not in recs.index:
            continue
        row = recs.loc[rid]
        image_id = str(row["image_id"])
        if image_id not in images:
            img_path = root / "images" / f"{id_filename(image_id, 'image_id')}.png"
            if not img_path.is_file():
                raise InputError(
                    f"no image for {image_id!r} (images/<image_id>.png)", path=img_path
                )
            images[image_id], shapes[image_id] = _load_image(img_path, image_size)
        h, w = shapes[image_id]
        x, y = g["x_px"].to_numpy(np.float64), g["y_px"].to_numpy(np.float64)
        on, off = g["onset_ms"].to_numpy(np.float64), g["offset_ms"].to_numpy(np.float64)
        target = np.zeros((len(g), len(FINDINGS)), np.float32)
        for i, labs in enumerate(g["labels"]):
            for lab in labs:
                if lab in cls:
                    target[i, cls[lab]] = 1.0
        examples.append(Example(
            recording_id=str(rid), image_id=image_id, reader_id=str(row["reader_id"]),
            xy=np.clip(np.stack([x / w, y / h], axis=1), 0.0, 1.0).astype(np.float32),
            dur=np.log(np.maximum(off - on, 1.0)).astype(np.float32),
            t=((on - on[0]) / 1000.0).astype(np.float32),
            region=_regions(root, image_id, x, y, atlases), intent=target, onset_ms=on,
            strategy=strategies.get(str(rid), ""),
        ))  # fmt: skip
    if not examples:
        raise InputError("no recording with enough labelled fixations", path=root)
    return Corpus(examples, images, shapes, regime, root)


def example_digest(example: Example) -> str:
    """Fingerprint of one example's data (16 hex digits of BLAKE2b).

    Covers the recording, image and reader ids and every per-fixation array (positions,
    durations, times, regions, intent targets), so a different dataset whose recording
    ids happen to collide with the training data's gives a different digest.

    Parameters
    ----------
    example : Example

    Returns
    -------
    str
    """
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    for text in (example.recording_id, example.image_id, example.reader_id):
        h.update(str(text).encode() + b"\0")
    for arr in (example.xy, example.dur, example.t, example.region, example.intent):
        a = np.ascontiguousarray(arr)
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def check_digests(examples: Sequence[Example], digests: dict[str, str], path: Path | None) -> None:
    """Refuse examples whose data differ from what a checkpoint recorded for their ids.

    Parameters
    ----------
    examples : sequence of Example
        Examples about to be evaluated.
    digests : dict
        ``recording_id -> digest`` stored at training time (:func:`example_digest`).
    path : Path
        Dataset directory, for the message.

    Raises
    ------
    InputError
        Naming the first differing recordings.
    """
    bad = [e.recording_id for e in examples if digests.get(e.recording_id) != example_digest(e)]
    if bad:
        raise InputError(
            f"{len(bad)} recording(s) differ from the data the checkpoint was trained and split "
            f"on (e.g. {bad[:3]}): a different dataset or other labels with the same recording "
            "ids; evaluate on the training dataset, or train again",
            path=path,
        )
def reader_known(reader_id: object) -> bool:
    """Whether a ``reader_id`` names a reader (not null, empty or a null's text)."""
    return reader_id is not None and str(reader_id) not in ("", "None", "nan", "<NA>")


def split_recordings(
    examples: Sequence[Example],
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
    min_readers: int = 6,
) -> tuple[list[str], list[str], list[str]]:
    """Train/validation/test recording ids with no image and no reader in two splits.

    Images and readers are assigned to splits at random (by ``fractions`` of images and
    of readers); a recording belongs to a split when both its image and its reader do,
    recordings that straddle two splits are left out. With fewer than ``min_readers``
    readers, or when some recording has no reader identity, readers are not split (by
    image only: test images are unseen, readers are not) and this is logged.

    Parameters
    ----------
    examples : sequence of Example
        The corpus's recordings.
    fractions : (train, validation, test) floats
        Relative sizes (normalised to sum 1); each split gets at least one image.
    seed : int
        Seed of the random assignment.
    min_readers : int
        Fewest readers for a reader-disjoint split.

    Returns
    -------
    train, val, test : list of str
        Recording ids, in ``examples`` order.
    """
    rng = np.random.default_rng(seed)
    image_ids = sorted({e.image_id for e in examples})
    readers = sorted({e.reader_id for e in examples})

    def assign(items: list[str]) -> dict[str, int]:
        order = rng.permutation(len(items))
        cuts = np.cumsum(np.array(fractions) / np.sum(fractions))[:-1] * len(items)
        cuts = np.maximum(np.round(cuts).astype(int), np.arange(1, len(cuts) + 1))
        part = np.searchsorted(cuts, np.arange(len(items)), side="right")
        return {items[i]: int(part[k]) for k, i in enumerate(order)}

    by_image = assign(image_ids)
    unknown = sum(not reader_known(e.reader_id) for e in examples)
    split_readers = len(readers) >= min_readers and not unknown
    if unknown:
        # e.g. REFLACX, whose reading ids do not name the radiologist: a reader-disjoint
        # split cannot be guaranteed, so readers are not split
        log.warning(
            "%d of %d recordings have no reader identity: splitting by image only "
            "(test readers may also appear in training)", unknown, len(examples),
        )  # fmt: skip
    elif not split_readers:
        log.info("%d readers (< %d): splitting by image only", len(readers), min_readers)
    by_reader = assign(readers) if split_readers else dict.fromkeys(readers, -1)
    out: tuple[list[str], list[str], list[str]] = ([], [], [])
    for e in examples:
        s = by_image[e.image_id]
        if by_reader[e.reader_id] in (-1, s):
            out[s].append(e.recording_id)
    return out


def pad_batch(examples: Sequence[Example]) -> dict[str, np.ndarray]:
    """Pad examples to the longest one; ``mask`` is True on real tokens (batch first).

    ``target`` (B,) is the recording's search target when the dataset gives one
    (``Example.target``), else the reading's dominant finding (most labelled fixations),
    or ``len(FINDINGS)`` when none is labelled; the scanpath model may condition on it.
    """
    n, L = len(examples), max(len(e) for e in examples)
    batch = {
        "xy": np.zeros((n, L, 2), np.float32), "dur": np.zeros((n, L), np.float32),
        "t": np.zeros((n, L), np.float32), "region": np.zeros((n, L), np.int64),
        "intent": np.zeros((n, L, len(FINDINGS)), np.float32), "mask": np.zeros((n, L), bool),
        "target": np.full(n, len(FINDINGS), np.int64),
    }  # fmt: skip
    for i, e in enumerate(examples):
        k = len(e)
        if e.target is not None:  # the search target the dataset gives
            batch["target"][i] = e.target
        elif k and e.intent.any():  # the reading's dominant finding; len(FINDINGS) = none
            batch["target"][i] = int(np.argmax(e.intent.sum(axis=0)))
        batch["xy"][i, :k], batch["dur"][i, :k], batch["t"][i, :k] = e.xy, e.dur, e.t
        batch["region"][i, :k], batch["intent"][i, :k] = e.region, e.intent
        batch["mask"][i, :k] = True
    return batch


def frame_of(examples: Sequence[Example]) -> pd.DataFrame:
    """All tokens as one table (for baselines and reports)."""
    rows = []
    for e in examples:
        rows.append(pd.DataFrame({"recording_id": e.recording_id, "image_id": e.image_id,
                                  "reader_id": e.reader_id, "x": e.xy[:, 0], "y": e.xy[:, 1],
                                  "log_dur": e.dur, "region": e.region}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)
