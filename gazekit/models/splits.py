"""Train/validation/test splits: given by the data, by a split file, or drawn at random.

Order of precedence in :func:`resolve_split`:

1. ``TrainConfig.split_file`` — a CSV/TSV or JSON file assigning recordings to splits;
2. the ``split`` column of the dataset's recordings (e.g. GazeSearch's ``train``/``valid``);
3. a random split (:func:`gazekit.models.data.split_recordings` for the ``image`` unit).

Split names: ``train``; ``valid``, ``val``, ``validation`` (the validation split, used for
checkpoint selection); ``test``. Other names are left out of training (a benchmark may
evaluate on them by name).

The **leakage unit** (``TrainConfig.leakage_unit``) is what may not appear in two splits:
``image`` (no image of a validation/test recording was seen in training) or
``image_target`` (no (image, search target) pair was: the unit of GazeSearch's published
split, in which 351 images appear in both ``train`` and ``valid`` with different findings).
A split that breaks its unit is refused, in training and again in evaluation.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gazekit.errors import InputError
from gazekit.models.data import Corpus, Example, split_recordings

log = logging.getLogger(__name__)

LEAKAGE_UNITS: tuple[str, ...] = ("image", "image_target")
_NAMES = {"train": "train", "valid": "val", "val": "val", "validation": "val", "test": "test"}


def unit_of(e: Example, unit: str) -> tuple[str, ...]:
    """The leakage unit of an example: ``(image_id,)`` or ``(image_id, target)``."""
    if unit not in LEAKAGE_UNITS:
        raise InputError(f"leakage_unit must be one of {LEAKAGE_UNITS}, got {unit!r}")
    return (e.image_id,) if unit == "image" else (e.image_id, str(e.target))


def check_leakage(train: Sequence[Example], held_out: Sequence[Example], unit: str) -> None:
    """Refuse held-out examples whose unit (image, or image × target) was trained on.

    Raises
    ------
    InputError
        Naming the number of leaking recordings, a few of them and the unit.
    """
    seen = {unit_of(e, unit) for e in train}
    leak = [e.recording_id for e in held_out if unit_of(e, unit) in seen]
    if leak:
        hint = (" (the published GazeSearch split is by image × target: leakage_unit "
                "'image_target')" if unit == "image" else "")  # fmt: skip
        raise InputError(
            f"{len(leak)} held-out recording(s) share "
            f"{'images' if unit == 'image' else '(image, target) pairs'} with training, "
            f"e.g. {leak[:3]}{hint}"
        )


def check_backbone(corpus: Corpus, backbone: str) -> None:
    """Refuse an image backbone on a corpus whose images are missing."""
    if backbone == "none":
        return
    need = {e.image_id for e in corpus.examples}
    missing = sorted(need - set(corpus.images))
    if missing:
        raise InputError(
            f"model backbone {backbone!r} needs images, but {len(missing)} of {len(need)} are "
            f"missing (e.g. images/{missing[0]}.png); use model.backbone 'none' (image-free)",
            path=None if corpus.root is None else corpus.root / "images",
        )


def read_split_file(path: str | Path) -> pd.DataFrame:
    """A split file as a table with ``split`` and ``recording_id`` or ``image_id``[, ``target``].

    CSV/TSV with those columns, or JSON: a list of such objects, a GazeSearch-shaped list
    (``name``, ``task``, ``split``: image file name and target), or ``{recording_id: split}``.
    """
    from gazekit.io.gazesearch import target_name

    p = Path(path)
    try:
        if p.suffix.lower() == ".json":
            raw: Any = json.loads(p.read_text("utf-8"))
            if isinstance(raw, dict):
                df = pd.DataFrame({"recording_id": list(raw), "split": list(raw.values())})
            else:
                df = pd.DataFrame(raw)
                if "name" in df and "image_id" not in df:
                    df["image_id"] = [Path(str(n)).stem for n in df["name"]]
                if "task" in df and "target" not in df:
                    df["target"] = [target_name(str(t)) for t in df["task"]]
        else:
            df = pd.read_csv(p, sep=None, engine="python", dtype=str)
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read split file ({exc})", path=p) from None
    if "split" not in df or not ({"recording_id", "image_id"} & set(df.columns)):
        raise InputError("split file needs a 'split' column and 'recording_id' or 'image_id'",
                         path=p, column="split")  # fmt: skip
    return df


def _assign_from_table(examples: Sequence[Example], df: pd.DataFrame) -> dict[str, str]:
    from gazekit.vocab import GAZEINTENT_FINDINGS as FINDINGS

    if "recording_id" in df:
        table = dict(zip(df["recording_id"].astype(str), df["split"].astype(str), strict=True))
        return {e.recording_id: table[e.recording_id] for e in examples if e.recording_id in table}
    if "target" in df:
        table = {(str(i), str(t)): str(s) for i, t, s in zip(df["image_id"], df["target"], df["split"], strict=True)}  # fmt: skip
        out = {}
        for e in examples:
            name = FINDINGS[e.target] if e.target is not None else "None"
            if (e.image_id, name) in table:
                out[e.recording_id] = table[(e.image_id, name)]
        return out
    table = dict(zip(df["image_id"].astype(str), df["split"].astype(str), strict=True))
    return {e.recording_id: table[e.image_id] for e in examples if e.image_id in table}


def _random_by_unit(examples: Sequence[Example], fractions: Sequence[float], seed: int,
                    unit: str) -> dict[str, str]:  # fmt: skip
    units = sorted({unit_of(e, unit) for e in examples})
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(units))
    cuts = np.cumsum(np.asarray(fractions, float) / np.sum(fractions))[:-1] * len(units)
    part = np.searchsorted(np.round(cuts), np.arange(len(units)), side="right")
    name = {units[i]: ("train", "val", "test")[int(part[k])] for k, i in enumerate(order)}
    return {e.recording_id: name[unit_of(e, unit)] for e in examples}


def resolve_split(corpus: Corpus, cfg: Any) -> tuple[list[str], list[str], list[str]]:
    """Train, validation and test recording ids (see the module docstring).

    Parameters
    ----------
    corpus : Corpus
    cfg : TrainConfig
        Reads ``split_file``, ``leakage_unit``, ``split`` (random fractions) and ``seed``.

    Raises
    ------
    InputError
        An unknown leakage unit, an unreadable split file, or a split that puts one
        unit in training and in validation/test.
    """
    unit = getattr(cfg, "leakage_unit", "image")
    if unit not in LEAKAGE_UNITS:
        raise InputError(f"leakage_unit must be one of {LEAKAGE_UNITS}, got {unit!r}")
    ex = corpus.examples
    split_file = getattr(cfg, "split_file", None)
    if split_file:
        names = _assign_from_table(ex, read_split_file(split_file))
        source = f"split file {split_file}"
    elif any(e.split for e in ex):
        names = {e.recording_id: e.split for e in ex if e.split}
        source = "the dataset's split column"
    elif unit == "image":
        tr, va, te = split_recordings(ex, cfg.split, cfg.seed)
        return tr, va, te
    else:
        names = _random_by_unit(ex, cfg.split, cfg.seed, unit)
        source = f"a random split by {unit}"
    out: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    other = 0
    for e in ex:
        k = _NAMES.get(str(names.get(e.recording_id, "")).lower())
        if k is None:
            other += 1
            continue
        out[k].append(e.recording_id)
    log.info("split from %s: %d train, %d validation, %d test, %d in no split used for training",
             source, len(out["train"]), len(out["val"]), len(out["test"]), other)  # fmt: skip
    by_id = {e.recording_id: e for e in ex}
    train_ex = [by_id[r] for r in out["train"]]
    check_leakage(train_ex, [by_id[r] for r in out["val"] + out["test"]], unit)
    return out["train"], out["val"], out["test"]


def examples_of_split(corpus: Corpus, name: str) -> list[Example]:
    """The examples whose dataset split is ``name`` (``valid`` and ``val`` are the same)."""
    want = _NAMES.get(name.lower(), name.lower())
    out = [
        e
        for e in corpus.examples
        if e.split and _NAMES.get(e.split.lower(), e.split.lower()) == want
    ]
    if not out:
        have = sorted({e.split for e in corpus.examples if e.split})
        raise InputError(f"no recording in split {name!r} (splits here: {have or 'none'})")
    return out
