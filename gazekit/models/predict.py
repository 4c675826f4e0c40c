"""Predictions written as tables of ``data_schemas/`` (``intent_predictions``, ``scanpath_predictions``)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from gazekit.io.parquet import write_table
from gazekit.models.data import FINDINGS, pad_batch, region_lookup
from gazekit.models.evaluate import checkpoint_and_corpus, predict_intent
from gazekit.models.train import image_tensor


def predict_intent_table(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    threshold: float = 0.5,
    *,
    device: str = "cpu",
    progress: bool = False,
    batch_size: int = 32,
) -> pd.DataFrame:
    """Per-fixation finding probabilities for every recording of ``data``.

    Parameters
    ----------
    checkpoint : path
        An ``intent`` checkpoint.
    data : path
        Dataset directory.
    out : path, optional
        Where to write the ``intent_predictions`` table (Parquet).
    threshold : float
        A finding is ``predicted`` at or above this probability.
    device : str
        Device of the model: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
    progress : bool
        Show a progress bar over the recordings (tqdm, on stderr).
    batch_size : int
        Recordings per forward pass.

    Returns
    -------
    DataFrame
        One row per fixation: ``recording_id``, ``fixation_index``, ``onset_ms`` (ms),
        ``x_px``, ``y_px`` (image px), ``regime``, ``findings``, ``probabilities``
        (in [0, 1], one per finding) and ``predicted``.

    Raises
    ------
    InputError
        The checkpoint is not an intent model, or does not fit the dataset.
    """
    model, _, cfg, corpus = checkpoint_and_corpus(checkpoint, data, "intent", device)
    probs = []
    examples = corpus.examples
    with tqdm(total=len(examples), desc="predict intent", unit="rec", disable=not progress) as bar:
        for i in range(0, len(examples), batch_size):
            part = examples[i : i + batch_size]
            probs += predict_intent(model, corpus, part, batch_size=batch_size)
            bar.update(len(part))
    rows = []
    for e, p in zip(corpus.examples, probs, strict=True):
        h, w = corpus.image_shape[e.image_id]
        for i in range(len(e)):
            rows.append({
                "recording_id": e.recording_id, "fixation_index": i, "onset_ms": float(e.onset_ms[i]),
                "x_px": float(e.xy[i, 0] * w), "y_px": float(e.xy[i, 1] * h), "regime": cfg.regime,
                "findings": list(FINDINGS), "probabilities": p[i].astype(np.float32).tolist(),
                "predicted": [f for f, v in zip(FINDINGS, p[i], strict=True) if v >= threshold],
            })  # fmt: skip
    df = pd.DataFrame(rows)
    if out is not None:
        write_table(
            df, out, "intent_predictions", {"checkpoint": str(checkpoint), "regime": cfg.regime}
        )
    return df


def sample_scanpath_table(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    n_samples: int = 4,
    max_len: int = 80,
    seed: int = 0,
    device: str = "cpu",
    progress: bool = False,
) -> pd.DataFrame:
    """``n_samples`` scanpaths for every image of ``data``, in image pixels.

    Sampled fixations get the region ids of the image's atlas (as in training). A model
    trained with ``target_finding`` is conditioned on the image's target: the most
    frequent target finding of its recordings (their dominant labelled finding), or "no
    target" when none is labelled. When the dataset gives search targets (scanpath lists
    such as GazeSearch), every (image, target) pair gets its own samples and a ``target``
    column. An image-free corpus needs an image-free model (``backbone: "none"``).

    Parameters
    ----------
    checkpoint : path
        A ``scanpath`` checkpoint.
    data : path
        Dataset directory.
    out : path, optional
        Where to write the ``scanpath_predictions`` table (Parquet).
    n_samples : int
        Scanpaths per image (or per image and target).
    max_len : int
        Longest scanpath (fixations).
    seed : int
        Seed of the sampling generator (on ``device``: the same seed draws other
        scanpaths on cpu and on cuda).
    device : str
        Device of the model: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
    progress : bool
        Show a progress bar over the images (tqdm, on stderr).

    Returns
    -------
    DataFrame
        One row per sampled fixation: ``image_id``, ``sample``, ``fixation_index``,
        ``x_px``, ``y_px`` (image px), ``duration_ms`` and ``onset_ms`` (ms from the
        scanpath's start), and ``target`` when the data gives search targets.

    Raises
    ------
    InputError
        The checkpoint is not a scanpath model, or does not fit the dataset.
    """
    model, _, cfg, corpus = checkpoint_and_corpus(checkpoint, data, "scanpath", device)
    dev = next(model.parameters()).device
    gen = torch.Generator(device=dev).manual_seed(seed)
    targets: dict[str, list[int]] = {}
    for e in corpus.examples:
        targets.setdefault(e.image_id, []).append(int(pad_batch([e])["target"][0]))
    given = any(e.target is not None for e in corpus.examples)
    units: list[tuple[str, int | None]] = []
    if given and cfg.model.target_finding:  # one unit per (image, search target) of the data
        units = sorted({(e.image_id, e.target) for e in corpus.examples},
                       key=lambda u: (u[0], -1 if u[1] is None else u[1]))  # fmt: skip
    else:
        for image_id in sorted({e.image_id for e in corpus.examples}):
            target = None
            if cfg.model.target_finding and targets.get(image_id):
                target = int(np.bincount(targets[image_id]).argmax())
            units.append((image_id, target))
    atlases: dict = {}
    rows = []
    for image_id, target in tqdm(
        units, desc="predict scanpath", unit="image", disable=not progress
    ):
        h, w = corpus.image_shape[image_id]
        drawn = model.sample(image_tensor(corpus, image_id).to(dev), n_samples=n_samples, max_len=max_len,
                             generator=gen, region_of=region_lookup(corpus, image_id, atlases),
                             target=target)  # fmt: skip
        for k, s in enumerate(drawn):
            dur = s["dur_ms"].numpy().astype(np.float64)
            onset = np.concatenate([[0.0], np.cumsum(dur)[:-1]])
            xy = s["xy"].numpy().astype(np.float64)
            part = pd.DataFrame({"image_id": image_id, "sample": k, "fixation_index": np.arange(len(dur)),
                                 "x_px": xy[:, 0] * w, "y_px": xy[:, 1] * h, "duration_ms": dur,
                                 "onset_ms": onset})  # fmt: skip
            if given and cfg.model.target_finding:
                part["target"] = None if target is None else FINDINGS[target]
            rows.append(part)
    df = pd.concat(rows, ignore_index=True)
    if out is not None:
        write_table(
            df, out, "scanpath_predictions", {"checkpoint": str(checkpoint), "samples": n_samples}
        )
    return df
