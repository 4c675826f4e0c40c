"""``gazekit export``."""

from __future__ import annotations

import click


@click.command("export")
@click.argument("dataset", type=click.Path(exists=True))
@click.option(
    "--to",
    "fmt",
    type=click.Choice(["bids", "asc", "egd", "reflacx"], case_sensitive=False),
    default="bids",
    show_default=True,
    help="Output format.",
)
@click.option(
    "-o",
    "--output",
    "outdir",
    required=True,
    type=click.Path(file_okay=False),
    help="Output folder (the BIDS root for --to bids).",
)
@click.option("--task", default="cxr", show_default=True, help="BIDS task label.")
@click.option(
    "--name",
    "dataset_name",
    default="gazekit eye-tracking dataset",
    show_default=True,
    help="BIDS dataset name (dataset_description.json).",
)
@click.option("--overwrite", is_flag=True, help="Write into a non-empty output folder.")
def export(
    dataset: str, fmt: str, outdir: str, task: str, dataset_name: str, overwrite: bool
) -> None:
    """Export DATASET (a gazekit dataset directory, or raw recordings) to another format.

    With --to bids, every recording becomes BIDS eye-tracking physio files (one per
    recorded eye) with its events, under a BIDS root that `gazekit convert` reads back.

    \b
    Examples:
      gazekit export data/ -o bids/ --task cxr
      gazekit export data/ --to asc -o asc/
    """
    from gazekit.io.export import export as run

    options = {"task": task, "dataset_name": dataset_name} if fmt == "bids" else {}
    paths = run(dataset, outdir, fmt, overwrite=overwrite, **options)
    click.echo(f"wrote {len(paths)} files → {outdir}")
