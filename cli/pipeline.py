"""``gazekit pipeline``: run the whole chain over a corpus, incrementally."""

from __future__ import annotations

import json
from pathlib import Path

import click

from gazekit.cli._common import progress_option


@click.command("pipeline")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "-o",
    "--output",
    "dataset",
    required=True,
    type=click.Path(file_okay=False),
    help="Dataset directory (partitioned Parquet + _manifest.sqlite); created if missing.",
)
@click.option(
    "--scheduler",
    default="sync",
    show_default=True,
    help="sync, processes, dask (a local cluster) or dask://HOST:PORT of a running scheduler.",
)
@click.option(
    "--scheduler-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Dask scheduler file (from `dask scheduler --scheduler-file`).",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel worker processes for --scheduler processes/dask (default: the CPU count).",
)
@click.option(
    "--stages",
    default=None,
    help="Comma-separated recording stages to run (default: the whole available chain).",
)
@click.option(
    "-p",
    "--param",
    "params",
    multiple=True,
    metavar="STAGE.NAME=VALUE",
    help="Stage parameter (value parsed as JSON when possible); repeatable.",
)
@click.option(
    "--params-file",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help='JSON file {"stage": {"name": value}}; --param overrides it.',
)
@click.option(
    "--max-in-flight", type=int, default=None, help="Units submitted at once (bounds memory)."
)
@click.option("--retry-failed", is_flag=True, help="Re-run recordings that failed before.")
@click.option("--prune", is_flag=True, help="Drop outputs of sources no longer given.")
@progress_option
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the run summary as JSON here.",
)
def pipeline(
    sources: tuple[str, ...],
    dataset: str,
    scheduler: str,
    scheduler_file: str | None,
    jobs: int | None,
    stages: str | None,
    params: tuple[str, ...],
    params_file: str | None,
    max_in_flight: int | None,
    retry_failed: bool,
    prune: bool,
    progress: bool | None,
    summary_json: str | None,
) -> None:
    """Convert, detect events, assign anatomy and label intent for every recording in SOURCES.

    SOURCES are raw tracker/corpus files or directories, or converted gazekit dataset
    directories. Re-running skips recordings whose inputs and parameters did not change.
    Exits with status 1 when a recording failed (see the summary and the manifest).
    Stage parameters (-p) use the library's names, e.g. events.* are the fields of
    gazekit.events.params, the same names as the `gazekit events` options.

    \b
    Examples:
      gazekit pipeline raw/ -o data/ --scheduler processes -j 4
      gazekit pipeline raw/ -o data/ -p events.method=idt -p events.window_ms=100
    """
    from gazekit.io.parquet import atomic_open
    from gazekit.pipeline import parse_param, run_pipeline

    merged: dict[str, dict[str, object]] = {}
    if params_file:
        try:
            doc = json.loads(Path(params_file).read_text("utf-8"))
            merged = {str(k): dict(v) for k, v in doc.items()}
        except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as exc:
            raise click.BadParameter(
                f"{params_file}: expected a JSON object {{\"stage\": {{\"name\": value}}}} "
                f"({exc.__class__.__name__})",
                param_hint="--params-file",
            ) from None
    for text in params:
        stage, name, value = parse_param(text)
        merged.setdefault(stage, {})[name] = value
    names = [s.strip() for s in stages.split(",") if s.strip()] if stages is not None else None
    summary = run_pipeline(
        list(sources),
        dataset,
        stages=names,
        params=merged,
        scheduler=scheduler,
        workers=jobs,
        scheduler_file=scheduler_file,
        max_in_flight=max_in_flight,
        retry_failed=retry_failed,
        prune=prune,
        progress=progress,
    )
    click.echo(summary.format())
    if summary_json:
        with atomic_open(summary_json, "w", encoding="utf-8") as fh:
            json.dump(summary.to_dict(), fh, indent=2)
    if summary.recordings_failed or summary.units_failed:
        first = summary.failures[0] if summary.failures else None
        where = f"; first: {first['id']}: {first['error']}" if first else ""
        click.echo(
            f"Error: {summary.recordings_failed} recording(s) and {summary.units_failed} "
            f"source unit(s) failed{where} (the manifest lists every one; fix the input and "
            "run again, or --retry-failed)",
            err=True,
        )
        raise SystemExit(1)
