"""The ``intent`` step of ``gazekit demo``: label the dataset, colour a scanpath by intent."""

from __future__ import annotations

from typing import Any

import numpy as np

from gazekit.demo.context import StepSkipped


def intended_finding(labels_df: Any) -> np.ndarray:
    """One display category per fixation: target, else "explore: all", else "none"."""
    out = []
    for tgt, labs in zip(labels_df["target"], labels_df["labels"], strict=True):
        if isinstance(tgt, str):
            out.append(tgt)
        elif len(labs):
            out.append("explore (all findings)")
        else:
            out.append("none")
    return np.asarray(out, dtype=object)


def step_intent(ctx: Any) -> str:
    """Label ``ctx.dataset_dir`` with RadHybrid and draw ``intent.png`` for the first session.

    Writes ``DIR/intent_labels.parquet``; stores the table in ``ctx.results["intent"]``
    and the figure in ``ctx.artifacts["intent"]``.
    """
    from gazekit.intent import label_dataset, summarize
    from gazekit.plotting import save_figure
    from gazekit.plotting.scanpath import plot_scanpath

    if ctx.dataset_dir is None or not ctx.sessions:
        raise StepSkipped("no dataset")
    out = ctx.dataset_dir / "intent_labels.parquet"
    df = label_dataset(ctx.dataset_dir, "radhybrid", output=out)
    ctx.results["intent"] = df
    s = ctx.sessions[0]
    first = df[df["recording_id"] == s.recording_id].copy()
    first["duration_ms"] = first["offset_ms"] - first["onset_ms"]
    first["intended_finding"] = intended_finding(first)
    ax = plot_scanpath(
        s.image,
        first,
        color_by="intended_finding",
        palette={"none": "#bdbdbd", "explore (all findings)": "#ab47bc"},
        title=f"{s.recording_id}: RadHybrid intent labels",
    )
    png = save_figure(ax.figure, ctx.outdir / "intent.png")
    ctx.artifacts["intent"] = png
    summ = summarize(df)
    return (
        f"radhybrid labels for {df['recording_id'].nunique()} recordings → {out.name}, "
        f"{summ['labelled_fraction']:.0%} of fixations labelled; scanpath → {png.name}"
    )
