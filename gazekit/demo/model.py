"""The ``model`` step of ``gazekit demo``: a tiny intent and scanpath model in seconds.

Trains both transformers briefly on the demo dataset (CPU, the ``tiny`` architecture at
64 px), prints predicted intents next to the labels for a few fixations of a held-out
recording, and draws a sampled scanpath next to the real one (``model.png``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from gazekit.demo.context import StepSkipped


def step_model(ctx: Any) -> str:
    """Train, predict and sample; store the figure in ``ctx.artifacts["model"]``."""
    import matplotlib.pyplot as plt
    import torch

    from gazekit.models import (
        FINDINGS,
        TrainConfig,
        config_path,
        load_corpus,
        predict_intent,
        train,
    )
    from gazekit.plotting import save_figure
    from gazekit.plotting.scanpath import plot_scanpath

    if ctx.dataset_dir is None or not ctx.sessions:
        raise StepSkipped("no dataset")
    base = TrainConfig.load(
        config_path("tiny"), max_steps=40, eval_every=10, patience=100, batch_size=8
    )
    corpus = load_corpus(ctx.dataset_dir, regime="radhybrid", image_size=base.model.image_size)
    if len({e.image_id for e in corpus.examples}) < 2:
        raise StepSkipped("needs two images for a train/validation split")
    runs = ctx.outdir / "model"
    intent = train(corpus, replace(base, task="intent", split=(0.5, 0.5, 0.0)), runs / "intent")
    scan = train(corpus, replace(base, task="scanpath", split=(0.5, 0.5, 0.0)), runs / "scanpath")
    from gazekit.models import load_checkpoint

    im, _ = load_checkpoint(intent.checkpoint)
    sm, _ = load_checkpoint(scan.checkpoint)
    held = next(e for e in corpus.examples if e.recording_id in intent.split["val"])
    prob = predict_intent(im, corpus, [held])[0]
    lines = []
    for i in range(0, min(len(held), 40), 8):
        top = int(np.argmax(prob[i]))
        truth = [FINDINGS[k] for k in np.flatnonzero(held.intent[i] > 0.5)] or ["none"]
        lines.append(
            f"fixation {i}: predicted {FINDINGS[top]} ({prob[i, top]:.2f}), label {'/'.join(truth)}"
        )
    ctx.results["model_intents"] = lines
    h, w = corpus.image_shape[held.image_id]
    image = torch.as_tensor(corpus.images[held.image_id])[None, None]
    from gazekit.models.data import region_lookup

    (smp,) = sm.sample(
        image,
        n_samples=1,
        max_len=2 * len(held),
        generator=torch.Generator().manual_seed(ctx.seed),
        region_of=region_lookup(corpus, held.image_id),  # atlas regions, as in training
    )
    session = next(s for s in ctx.sessions if s.image_id == held.image_id)
    real = pd.DataFrame(
        {"x_px": held.xy[:, 0] * w, "y_px": held.xy[:, 1] * h, "duration_ms": np.exp(held.dur)}
    )
    xy = smp["xy"].numpy()
    fake = pd.DataFrame(
        {"x_px": xy[:, 0] * w, "y_px": xy[:, 1] * h, "duration_ms": smp["dur_ms"].numpy()}
    )
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.6))
    plot_scanpath(
        session.image,
        real,
        ax=axes[0],
        title=f"{held.recording_id}: real scanpath ({len(real)} fixations)",
    )
    plot_scanpath(
        session.image,
        fake,
        ax=axes[1],
        title=f"sampled by the scanpath model ({len(fake)} fixations)",
    )
    png = save_figure(fig, ctx.outdir / "model.png")
    ctx.artifacts["model"] = png
    return (
        f"intent model {intent.steps} steps (val loss {intent.best_val:.3f}), scanpath model "
        f"{scan.steps} steps (val NLL {scan.best_val:.2f}); {lines[0] if lines else ''}; sampled "
        f"scanpath → {png.name}"
    )

