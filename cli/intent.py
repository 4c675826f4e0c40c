"""``gazekit intent``: label fixations with diagnostic intention (RadGazeIntent regimes)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gazekit.cli._common import check_output, overwrite_option


@click.command("intent")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--regime",
    default="radseq",
    show_default=True,
    help="Labeller: radseq, radexplore, radhybrid or a registered name.",
)
@click.option(
    "--source",
    type=click.Choice(["auto", "detected", "tracker"]),
    default="auto",
    show_default=True,
    help="Fixations to label (auto: detected if present, else tracker).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output Parquet (default: INPUT/intent_labels.parquet; required for several inputs).",
)
@click.option(
    "--lag-before",
    type=float,
    default=3.0,
    show_default=True,
    help="Eye-voice lag window before dictation (s).",
)
@click.option(
    "--lag-after",
    type=float,
    default=1.0,
    show_default=True,
    help="Window after dictation onset (s).",
)
@click.option(
    "--margin-deg", type=float, default=1.0, show_default=True, help="Region margin (deg)."
)
@click.option(
    "--margin-px",
    type=float,
    default=30.0,
    show_default=True,
    help="Region margin when degrees are unknown (px).",
)
@click.option(
    "--max-seq",
    type=int,
    default=7,
    show_default=True,
    help="Longest RadSeq subsequence (fixations).",
)
@click.option(
    "--scan",
    "scan_s",
    type=float,
    default=3.0,
    show_default=True,
    help="RadHybrid initial scan (s).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@overwrite_option
def intent(
    inputs,
    regime,
    source,
    output,
    lag_before,
    lag_after,
    margin_deg,
    margin_px,
    max_seq,
    scan_s,
    as_json,
    overwrite,
):  # type: ignore[no-untyped-def]
    """Label the fixations of gazekit dataset directories INPUT... with intended findings."""
    import pandas as pd

    from gazekit.intent import IntentParams, label_dataset, summarize
    from gazekit.io.parquet import write_table

    params = IntentParams(
        lag_before_s=lag_before,
        lag_after_s=lag_after,
        margin_deg=margin_deg,
        margin_px=margin_px,
        max_seq_fixations=max_seq,
        scan_s=scan_s,
    )
    if output is None and len(inputs) > 1:
        raise click.UsageError("-o/--output is required with several inputs")
    inputs = tuple(dict.fromkeys(inputs))  # a dataset given twice is labelled once
    if output is not None:
        check_output(output, overwrite)
    frames = [label_dataset(p, regime, source=source, params=params) for p in inputs]
    df = pd.concat(frames, ignore_index=True)
    out = Path(output) if output else Path(inputs[0]) / "intent_labels.parquet"
    write_table(df, out, "intent_labels", {"regime": regime, "source": source})
    summary = summarize(df)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        return
    click.echo(f"wrote {out}: {summary['fixations']} fixations, regime {regime}")
    click.echo(f"labelled: {summary['labelled_fraction']:.1%}")
    for name, n in summary["label_counts"].items():
        dwell = summary["dwell_ms"][name] / 1000.0
        click.echo(f"  {name:28s} {n:6d} fixations  {dwell:8.1f} s dwell")
