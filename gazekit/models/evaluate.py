"""Held-out evaluation of checkpoints against baselines computed in the same run.

The test recordings are the ones the checkpoint's own split put aside (images — and,
with enough readers, readers — never seen in training); the split is stored in the
checkpoint, so evaluation cannot leak. Intent: macro AUROC, average precision, F1 and
fixation-level accuracy (every finding of the fixation right) against the
nearest-finding-region heuristic and a GRU trained with the same loop and data.
Scanpath: MultiMatch (5 dimensions), ScanMatch, string-edit distance on a 5×5 grid and
SemSS on anatomy regions, averaged over sampled scanpaths and references, against a
centre-bias sampler, heatmap sampling and the human consistency ceiling.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from gazekit.errors import InputError
from gazekit.io.layout import id_filename
from gazekit.io.parquet import read_frame
from gazekit.metrics.classification import multilabel_report
from gazekit.metrics.scanpath import multimatch, scanmatch, sed, semss
from gazekit.models import baselines
from gazekit.models.data import FINDINGS, Corpus, Example, check_digests, load_corpus
from gazekit.models.train import TrainConfig, load_checkpoint, to_tensors, train

log = logging.getLogger(__name__)

INTENT_METRICS = ("auroc", "average_precision", "f1", "accuracy")
SCANPATH_METRICS = ("mm_vector", "mm_direction", "mm_length", "mm_position", "mm_duration",
                    "scanmatch", "sed", "semss")  # fmt: skip
LOWER_IS_BETTER = {"sed"}


def checkpoint_and_corpus(
    checkpoint: str | os.PathLike[str], data: str | os.PathLike[str], task: str | None = None
) -> tuple[torch.nn.Module, dict[str, Any], TrainConfig, Corpus]:
    """A checkpoint's model, dict and config, and ``data`` loaded the way it was trained.

    Parameters
    ----------
    checkpoint : str or PathLike
        A run's ``best.pt``/``checkpoint.pt``.
    data : str or PathLike
        Dataset directory.
    task : str, optional
        Required task of the checkpoint (refused otherwise); any when omitted.

    Returns
    -------
    (torch.nn.Module, dict, TrainConfig, Corpus)
    """
    model, ck = load_checkpoint(checkpoint, task=task)
    cfg = TrainConfig.from_dict(ck["config"])
    corpus = load_corpus(
        data, regime=cfg.regime, source=cfg.source, image_size=cfg.model.image_size
    )
    return model, ck, cfg, corpus


def _test_examples(corpus: Corpus, ck: dict[str, Any]) -> list[Example]:
    split = ck["split"]
    test = split["test"] or split["val"]
    seen = set(split["train"])
    train_images = {e.image_id for e in corpus.examples if e.recording_id in seen}
    ex = [e for e in corpus.examples if e.recording_id in set(test)]
    leak = [e.recording_id for e in ex if e.image_id in train_images]
    if leak:
        raise InputError(f"test recordings share images with training: {leak[:3]}")
    if not ex:
        raise InputError("the checkpoint's split has no test or validation recordings here")
    if "digests" not in split:
        raise InputError(
            "the checkpoint records no fingerprint of its training data (written by an older "
            "gazekit); train again so the test recordings can be checked"
        )
    check_digests(ex, split["digests"], corpus.root)
    return ex


@torch.no_grad()
def predict_intent(
    model: torch.nn.Module, corpus: Corpus, examples: list[Example], batch_size: int = 32
) -> list[np.ndarray]:
    """Per-fixation finding probabilities, one (L, C) array per example."""
    model.eval()
    dev = next(model.parameters()).device
    out = []
    for i in range(0, len(examples), batch_size):
        part = examples[i : i + batch_size]
        prob = torch.sigmoid(model(to_tensors(corpus, part, dev))).float().cpu().numpy()
        out += [prob[k, : len(e)] for k, e in enumerate(part)]
    return out


def _intent_row(name: str, y: np.ndarray, s: np.ndarray) -> dict[str, Any]:
    rep = multilabel_report(y, s, classes=FINDINGS)
    pred = s >= 0.5
    return {"model": name, "auroc": rep["macro"]["auroc"], "average_precision": rep["macro"]["average_precision"],
            "f1": rep["macro"]["f1"], "accuracy": float(np.mean(np.all(pred == (y > 0.5), axis=1)))}  # fmt: skip


def margins(table: pd.DataFrame, ours: str, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Our model's margin over every other row: absolute and relative (positive = better)."""
    mine = table.set_index("model").loc[ours]
    rows = []
    for r in table.itertuples():
        if r.model == ours:
            continue
        row = {"baseline": r.model}
        for m in metrics:
            sign = -1.0 if m in LOWER_IS_BETTER else 1.0
            d = sign * (mine[m] - getattr(r, m))
            row[m] = d
            row[f"{m}_rel"] = d / abs(getattr(r, m)) if getattr(r, m) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def evaluate_intent(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    gru_checkpoint: str | os.PathLike[str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Intent table for one checkpoint (one regime): transformer vs baselines.

    Without ``gru_checkpoint`` the GRU baseline is trained here with the checkpoint's
    own configuration and split (written under ``out/gru``).
    """
    model, ck, cfg, corpus = checkpoint_and_corpus(checkpoint, data, task="intent")
    test = _test_examples(corpus, ck)
    y = np.concatenate([e.intent for e in test])
    rows = [_intent_row("transformer", y, np.concatenate(predict_intent(model, corpus, test)))]
    if gru_checkpoint is None:
        gcfg = replace(cfg, task="intent_gru")
        gdir = Path(out) / "gru" if out is not None else Path(checkpoint).parent / "gru"
        gru_checkpoint = train(corpus, gcfg, gdir).checkpoint
    gru, _ = load_checkpoint(gru_checkpoint, task="intent_gru")
    rows.append(_intent_row("gru", y, np.concatenate(predict_intent(gru, corpus, test))))
    finds = _findings(Path(data))
    near = [
        baselines.nearest_region_scores(
            e, finds.get(e.recording_id), corpus.image_shape[e.image_id]
        )
        for e in test
    ]
    rows.append(_intent_row("nearest-finding-region", y, np.concatenate(near)))
    table = pd.DataFrame(rows)
    table.insert(1, "regime", cfg.regime)
    table["fixations"] = len(y)
    result = {"table": table, "margins": margins(table, "transformer", INTENT_METRICS)}
    _save(result, out, f"intent_{cfg.regime}")
    return result


def _findings(root: Path) -> dict[str, pd.DataFrame]:
    f = root / "findings.parquet"
    if not f.is_file():
        return {}
    df = read_frame(f, "findings")
    return {str(k): g for k, g in df.groupby("recording_id")}


def _save(result: dict[str, pd.DataFrame], out: str | os.PathLike[str] | None, stem: str) -> None:
    if out is None:
        return
    from gazekit.io.parquet import atomic_path

    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    for key, df in result.items():
        with atomic_path(d / f"{stem}_{key}.csv") as tmp:
            df.to_csv(tmp, index=False)
    with atomic_path(d / f"{stem}.md") as tmp:
        Path(tmp).write_text(format_tables(result))


def format_tables(result: dict[str, pd.DataFrame]) -> str:
    """Markdown: the metric table, then our margin over each baseline."""
    t = _markdown(result["table"])
    m = result["margins"]
    keep = [c for c in m.columns if not c.endswith("_rel")]
    lines = ["", "margin of the transformer (positive = better; relative in brackets):", ""]
    for r in m.to_dict("records"):
        parts = [f"{c} {r[c]:+.3f} ({r[c + '_rel']:+.0%})" for c in keep if c != "baseline"]
        lines.append(f"- vs {r['baseline']}: " + ", ".join(parts))
    return t + "\n" + "\n".join(lines) + "\n"


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    fmt = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _region_names(atlas: Any, xy_px: np.ndarray) -> list[str]:
    if atlas is None or not len(xy_px):
        return ["none"] * len(xy_px)
    names = atlas.region_of(xy_px[:, 0], xy_px[:, 1])
    return [n if n is not None else "none" for n in names]


def _scanpath_scores(
    pred: np.ndarray,
    ref: np.ndarray,
    pred_reg: list[str],
    ref_reg: list[str],
    size: tuple[float, float],
) -> dict[str, float]:
    """Similarity of one predicted to one reference scanpath ((N, 3): x_px, y_px, duration_ms)."""
    mm = multimatch(pred, ref, frame_size=size)
    return {
        "mm_vector": mm["vector"], "mm_direction": mm["direction"], "mm_length": mm["length"],
        "mm_position": mm["position"], "mm_duration": mm["duration"],
        "scanmatch": scanmatch(pred, ref, frame_size=size, bins=(12, 12), temporal_bin_ms=50.0),
        "sed": sed(pred, ref, frame_size=size, bins=(5, 5)) / max(len(pred), len(ref)),
        "semss": semss(pred_reg, ref_reg, durations_ms_p=pred[:, 2], durations_ms_q=ref[:, 2]),
    }  # fmt: skip


def evaluate_scanpath(
    checkpoint: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    n_samples: int = 4,
    seed: int = 0,
) -> dict[str, pd.DataFrame]:
    """Scanpath table: sampled model scanpaths vs baselines and the human ceiling.

    For every test recording, ``n_samples`` scanpaths of each sampler are compared with
    it; the human row compares the other readers' scanpaths of the same image (images
    read by one reader only do not enter that row). SED is normalised by the longer
    string (lower is better); the other metrics are similarities (higher is better).
    """
    from gazekit.anatomy import Atlas

    model, ck, _cfg, corpus = checkpoint_and_corpus(checkpoint, data, task="scanpath")
    test = _test_examples(corpus, ck)
    by_id = {e.recording_id: e for e in corpus.examples}
    train_ex = [by_id[r] for r in ck["split"]["train"] if r in by_id]
    samplers = [baselines.CentreBias(train_ex), baselines.DensitySampler(train_ex)]
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    atlases: dict[str, Any] = {}
    scores: dict[str, list[dict[str, float]]] = {"transformer": [], "human": []}
    for s in samplers:
        scores[s.name] = []
    root = Path(data)
    for e in test:
        h, w = corpus.image_shape[e.image_id]
        size = (float(w), float(h))
        if e.image_id not in atlases:
            p = root / "anatomy" / f"{id_filename(e.image_id, 'image_id')}.npz"
            atlases[e.image_id] = Atlas.load(p, image_id=e.image_id) if p.is_file() else None
        atlas = atlases[e.image_id]
        ref = np.column_stack([e.xy[:, 0] * w, e.xy[:, 1] * h, np.exp(e.dur)])
        ref_reg = _region_names(atlas, ref[:, :2])

        def add(
            name: str, xy01: np.ndarray, dur_ms: np.ndarray, ctx=(ref, ref_reg, atlas, w, h, size)
        ) -> None:
            ref_, reg_, atlas_, w_, h_, size_ = ctx
            pred = np.column_stack([xy01[:, 0] * w_, xy01[:, 1] * h_, dur_ms])
            scores[name].append(
                _scanpath_scores(pred, ref_, _region_names(atlas_, pred[:, :2]), reg_, size_)
            )

        image = torch.as_tensor(corpus.images[e.image_id])[None, None]
        for smp in model.sample(
            image, n_samples=n_samples, max_len=max(60, 2 * len(e)), generator=gen
        ):
            add(
                "transformer",
                smp["xy"].numpy().astype(np.float64),
                smp["dur_ms"].numpy().astype(np.float64),
            )
        for s in samplers:
            for _ in range(n_samples):
                add(s.name, *s.sample(e.image_id, rng))
        for o in corpus.examples:
            if o.image_id == e.image_id and o.reader_id != e.reader_id:
                add("human", o.xy.astype(np.float64), np.exp(o.dur.astype(np.float64)))
    rows = []
    for name, vals in scores.items():
        if not vals:
            continue
        df = pd.DataFrame(vals)
        rows.append(
            {
                "model": name,
                **{m: float(np.nanmean(df[m])) for m in SCANPATH_METRICS},
                "pairs": len(df),
            }
        )
    table = pd.DataFrame(rows)
    non_human = table[table["model"] != "human"]
    result = {"table": table, "margins": margins(non_human, "transformer", SCANPATH_METRICS)}
    _save(result, out, "scanpath")
    return result
