"""``gazekit convert`` and ``gazekit info``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from gazekit.cli._common import geometry_kwargs, geometry_options


def _parse_map(value: str | None) -> dict[str, str] | None:
    if not value:
        return None
    out = {}
    for part in value.split(","):
        key, sep, col = part.partition("=")
        if not sep or not key.strip() or not col.strip():
            raise click.BadParameter(f"expected KEY=COLUMN, got {part!r}", param_hint="--map")
        out[key.strip()] = col.strip()
    return out


@click.command("convert")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "-o",
    "--output",
    "outdir",
    required=True,
    type=click.Path(file_okay=False),
    help="Dataset directory to write.",
)
@click.option(
    "--format",
    "fmt",
    default=None,
    help="Reader (egd, reflacx, asc, edf, tobii, bids, generic); detected when omitted.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing dataset in OUTDIR.")
@click.option("-j", "--jobs", type=int, default=1, show_default=True, help="Reader processes.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first input that fails.")
@click.option(
    "--map",
    "column_map",
    default=None,
    help="Generic format: t=COL,x=COL,y=COL[,pupil=COL,valid=COL].",
)
@click.option(
    "--time-unit",
    type=click.Choice(["s", "ms", "us", "ns"]),
    default=None,
    help="Generic format: unit of the time column.",
)
@click.option(
    "--progress/--no-progress", default=None, help="Progress bar (default: on a terminal)."
)
@geometry_options
def convert(
    inputs: tuple[str, ...], outdir: str, fmt: str | None, overwrite: bool, jobs: int,
    fail_fast: bool, column_map: str | None, time_unit: str | None, progress: bool | None,
    screen_px: str | None, screen_mm: str | None, distance_mm: float | None,
) -> None:  # fmt: skip
    """Convert raw recordings (files or corpus folders) into a validated Parquet dataset.

    Exits with status 1 when any input failed; the summary lists them.
    """
    from gazekit.io.convert import convert as run

    options: dict[str, Any] = {}
    cmap = _parse_map(column_map)
    if cmap:
        options["column_map"] = cmap
    if time_unit:
        options["time_unit"] = time_unit
    options.update(geometry_kwargs(screen_px, screen_mm, distance_mm))
    show = sys.stderr.isatty() if progress is None else progress
    result = run(
        list(inputs), outdir, fmt=fmt, overwrite=overwrite, jobs=jobs, fail_fast=fail_fast,
        progress=show, **options,
    )  # fmt: skip
    for _path, error in result.failures:
        click.echo(f"failed: {error}", err=True)
    click.echo(result.summary())
    if not result.ok:
        sys.exit(1)


@click.command("info")
@click.argument("path", type=click.Path(exists=True))
@click.option("--recording", default=None, help="Recording id (when PATH is a dataset directory).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def info(path: str, recording: str | None, as_json: bool) -> None:
    """Print a converted recording's metadata and row counts.

    PATH is a samples Parquet file or a dataset directory (all recordings, or the one
    given with --recording).
    """
    from gazekit.io.dataset_dir import is_dataset_dir, recording_ids
    from gazekit.io.parquet import read_frame, read_metadata, read_table

    p = Path(path)
    files: list[Path]
    if p.is_dir():
        if not is_dataset_dir(p):
            raise click.UsageError(f"{p} is not a gazekit dataset directory")
        ids = [recording] if recording else recording_ids(p)
        files = [p / "samples" / f"{rid}.parquet" for rid in ids]
        counts = {}
        for kind in ("events", "transcripts", "findings"):
            f = p / f"{kind}.parquet"
            if f.is_file():
                t = read_frame(f, kind)
                counts[kind] = t["recording_id"].value_counts().to_dict()
    else:
        files, counts = [p], {}
    out = []
    for f in files:
        if not f.is_file():
            raise click.UsageError(f"no samples file {f}")
        meta = read_metadata(f)
        rid = meta.get("recording_id")
        rows = {"samples": read_table(f, "samples")[0].num_rows}
        for kind, c in counts.items():
            rows[kind] = int(c.get(rid, 0))
        out.append({"file": str(f), "metadata": meta, "rows": rows})
    if as_json:
        click.echo(json.dumps(out, indent=2, default=str))
        return
    for item in out:
        click.echo(item["file"])
        for k, v in item["metadata"].items():
            if k != "extra":
                click.echo(f"  {k:22s} {v}")
        click.echo("  rows: " + ", ".join(f"{k} {v}" for k, v in item["rows"].items()))
