"""``gazekit intent``: label fixations with diagnostic intention (RadGazeIntent regimes)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gazekit.cli._common import check_output, overwrite_option, progress_bar, progress_option


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
    type=click.Choice(["auto", "detected", "tracker"], case_sensitive=False),
    default="auto",
    show_default=True,
    help="Fixations to label (auto: detected if the dataset has any, else tracker).",
)
@click.option(
    "--method",
    default=None,
    help="Detector or tracker name, needed when the source holds several (e.g. ivt, idt).",
)
@click.option(
    "--eye",
    default=None,
    help="left, right or both, needed when the events hold several eyes.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output Parquet (default: INPUT/intent_labels.parquet; required for several inputs).",
)
@click.option(
    "--lag-before-s",
    type=float,
    default=3.0,
    show_default=True,
    help="RadSeq: how long before a finding's report its find may start (s).",
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
    "--max-seq-fixations",
    type=int,
    default=7,
    show_default=True,
    help="Longest RadSeq subsequence, ending on the finding (fixations).",
)
@click.option(
    "--scan-s",
    type=float,
    default=3.0,
    show_default=True,
    help="RadHybrid initial scan (s).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@overwrite_option
@progress_option
def intent(
    inputs,
    regime,
    source,
    method,
    eye,
    output,
    lag_before_s,
    margin_deg,
    margin_px,
    max_seq_fixations,
    scan_s,
    as_json,
    overwrite,
    progress,
):  # type: ignore[no-untyped-def]
    """Label the fixations of gazekit dataset directories INPUT... with intended findings.

    The options are the fields of gazekit.intent.IntentParams, under the same names.

    \b
    Examples:
      gazekit intent data/ --regime radhybrid --scan-s 3
      gazekit intent a/ b/ -o labels.parquet --regime radseq --lag-before-s 2
    """
    import pandas as pd

    from gazekit.intent import IntentParams, label_dataset, summarize
    from gazekit.io.parquet import write_table

    params = IntentParams(
        lag_before_s=lag_before_s,
        margin_deg=margin_deg,
        margin_px=margin_px,
        max_seq_fixations=max_seq_fixations,
        scan_s=scan_s,
    )
    if output is None and len(inputs) > 1:
        raise click.UsageError("-o/--output is required with several inputs")
    inputs = tuple(dict.fromkeys(inputs))  # a dataset given twice is labelled once
    if output is not None:
        check_output(output, overwrite)
    frames = []
    for p in inputs:

        def bar(rows, n, p=p):  # type: ignore[no-untyped-def]
            return progress_bar(rows, n, f"intent {p}", "rec", progress)

        frames.append(label_dataset(p, regime, source=source, method=method, eye=eye,
                                    params=params, progress=bar))  # fmt: skip
    selections = [f.attrs["gazekit"]["selection"] for f in frames]
    if any(s != selections[0] for s in selections):
        raise click.UsageError(
            f"the inputs' events differ in source/method/eye ({selections}); pass "
            "--source/--method/--eye so that one kind is labelled"
        )
    df = pd.concat(frames, ignore_index=True)
    out = Path(output) if output else Path(inputs[0]) / "intent_labels.parquet"
    write_table(df, out, "intent_labels", {"regime": regime, "selection": selections[0]})
    summary = summarize(df)
    if as_json:
        click.echo(json.dumps({**summary, "selection": selections[0]}, indent=2))
        return
    sel = selections[0]
    click.echo(
        f"wrote {out}: {summary['fixations']} fixations ({sel['source']}/{sel['method']}, "
        f"eye {sel['eye']}), regime {regime}"
    )
    click.echo(f"labelled: {summary['labelled_fraction']:.1%}")
    for name, n in summary["label_counts"].items():
        dwell = summary["dwell_ms"][name] / 1000.0
        click.echo(f"  {name:28s} {n:6d} fixations  {dwell:8.1f} s dwell")
