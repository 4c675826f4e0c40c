"""The core ``gazekit demo`` steps: simulate, write EGD files, convert, heatmaps, figure."""

from __future__ import annotations

import numpy as np

from gazekit.demo.context import DemoContext, StepSkipped
from gazekit.errors import GazekitError


def step_simulate(ctx: DemoContext) -> str:
    """Generate ``n_images × n_readers`` sessions (mixed strategies, Gazepoint-like 60 Hz)."""
    from gazekit.synthetic import simulate_corpus

    ctx.sessions = list(
        simulate_corpus(
            ctx.n_images,
            seed=ctx.seed,
            n_readers=ctx.n_readers,
            tracker="gazepoint",
            strategy="mixed",
            image_size=ctx.image_size,
        )
    )
    n_fix = sum(len(s.truth) for s in ctx.sessions)
    secs = sum(s.eye.duration_ms for s in ctx.sessions) / 1000
    labels = sorted({f.label for s in ctx.sessions for f in s.findings})
    return (
        f"{len(ctx.sessions)} sessions ({ctx.n_images} images × {ctx.n_readers} readers), "
        f"{secs:.0f} s of gaze, {n_fix} true fixations; findings: {', '.join(labels) or 'none'}"
    )


def step_write_egd(ctx: DemoContext) -> str:
    """Write the sessions as EGD-CXR files (Gazepoint CSV + transcripts), plus ground truth."""
    from gazekit.synthetic.export import write_sessions

    raw = ctx.outdir / "raw_egd"
    try:
        write_sessions(ctx.sessions, raw, "egd")
    except GazekitError as exc:
        if "gazekit.io.writers" in str(exc):
            raise StepSkipped("no EGD writer in this installation (gazekit.io.writers)") from None
        raise
    ctx.raw_dir = raw
    n = sum(1 for p in raw.rglob("*") if p.is_file())
    return f"{n} files in {raw}"


def step_convert(ctx: DemoContext) -> str:
    """Convert the raw EGD files into a gazekit dataset.

    EGD-CXR files carry no finding locations, so the simulator's findings (what
    REFLACX's ellipses would give) are added to the dataset with the ground truth.
    """
    from gazekit.io.convert import convert
    from gazekit.io.dataset_dir import concat_tables
    from gazekit.io.parquet import write_table
    from gazekit.synthetic.export import write_ground_truth, write_sessions

    ds = ctx.outdir / "dataset"
    if ctx.raw_dir is None:  # no EGD writer ran: write the dataset from memory (same tables)
        write_sessions(ctx.sessions, ds, "parquet")
        ctx.dataset_dir = ds
        return f"dataset written directly (no EGD round trip) → {ds}"
    res = convert([ctx.raw_dir], ds, overwrite=True)
    write_ground_truth(ctx.sessions, ds)
    findings = concat_tables([s.recording.findings for s in ctx.sessions], "findings")
    write_table(findings, ds / "findings.parquet", "findings")
    ctx.dataset_dir = ds
    return (
        f"converted {ctx.raw_dir.name} → {ds} ({len(res.recordings)} recordings, "
        f"{res.n_samples:,} samples; + simulated finding locations)"
    )


#: Scanpath colours of the reader phases (the same in every panel).
PHASE_COLORS = {
    "scan": "#42a5f5",
    "search": "#ffa726",
    "verify": "#66bb6a",
    "explore": "#ab47bc",
    "return": "#ef5350",
    "review": "#bdbdbd",
}


def step_figure(ctx: DemoContext) -> str:
    """Draw ``demo.png``: the first three sessions' radiographs with their scanpaths."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse, Rectangle

    from gazekit.plotting.scanpath import plot_scanpath

    shown = ctx.sessions[:3]  # mixed strategies: seq, explore, hybrid
    fig, axes = plt.subplots(1, len(shown), figsize=(5.6 * len(shown), 6.0), dpi=110)
    axes = np.atleast_1d(axes)
    for ax, s in zip(axes, shown, strict=True):
        fx = ctx.results.get("fixations", {}).get(s.recording_id, s.truth)
        if "phase" in fx.columns:  # the reading proper, without the review while dictating
            fx = fx[fx["phase"] != "review"]
        plot_scanpath(
            s.image,
            fx,
            ax=ax,
            color_by="phase" if "phase" in fx.columns else None,
            palette=PHASE_COLORS,
        )
        for f in s.findings:
            x0, y0, x1, y1 = f.box
            patch = (
                Ellipse(((x0 + x1) / 2, (y0 + y1) / 2), x1 - x0, y1 - y0)
                if f.shape == "ellipse"
                else Rectangle((x0, y0), x1 - x0, y1 - y0)
            )
            patch.set(fill=False, edgecolor="#ff5252", lw=1.2, ls="--", zorder=5)
            ax.add_patch(patch)
            ax.text(x0, y0 - 6, f.label.replace("_", " "), color="#ff5252", fontsize=7, zorder=5)
        dur = s.eye.duration_ms / 1000
        ax.set_title(
            f"{s.recording_id}: {s.strategy} strategy, {len(fx)} fixations "
            f"({len(s.truth)} with review), {dur:.0f} s",
            fontsize=9,
        )
    fig.suptitle("gazekit demo: synthetic readings (circle area ∝ fixation duration)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    path = ctx.outdir / "demo.png"
    from gazekit.io.parquet import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    ctx.artifacts["figure"] = path
    return f"figure → {path}"


def step_heatmaps(ctx: DemoContext) -> str:
    """Per-anatomy heatmap overlay of the first session and ``region_stats.parquet`` for all."""
    import pandas as pd

    from gazekit import heatmaps
    from gazekit.anatomy import Atlas
    from gazekit.plotting import plot_heatmap, save_figure

    tables, first = [], None
    for s in ctx.sessions:
        fx = ctx.results.get("fixations", {}).get(s.recording_id)
        if fx is None:  # no detector step: the tracker's fixations
            fx = s.recording.events[s.recording.events["event"] == "fixation"]
        atlas = Atlas(s.atlas_masks, s.region_names, image_id=s.recording.image_id)
        geom = s.recording.geometry
        heat = heatmaps.compute(fx, atlas.shape, geometry=geom, downsample=2)
        tables.append(
            heatmaps.region_stats(
                fx, atlas, recording_id=s.recording_id, image_id=s.recording.image_id,
                reader_id=s.recording.reader_id, geometry=geom, heat=heat,
            )
        )  # fmt: skip
        if first is None:
            first = (s, heat, atlas)
    if first is None:
        raise StepSkipped("no sessions")
    stats = pd.concat(tables, ignore_index=True)
    out = (ctx.dataset_dir or ctx.outdir) / "region_stats.parquet"
    heatmaps.write_region_stats(stats, out)
    s, heat, atlas = first
    ax = plot_heatmap(
        heat, s.image, atlas=atlas, outline=(), title=f"{s.recording_id}: dwell heatmap (σ = 1°)"
    )
    png = save_figure(ax.figure, ctx.outdir / "heatmap.png")
    ctx.artifacts["heatmap"], ctx.artifacts["region_stats"] = png, out
    ctx.results["region_stats"] = stats
    top = stats.loc[stats.groupby("recording_id")["dwell_share"].idxmax(), "region"].value_counts()
    return f"{len(tables)} heatmaps → {png.name}; region_stats ({len(stats)} rows), most dwelt: {top.index[0]}"
