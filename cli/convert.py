"""``gazekit convert`` and ``gazekit info``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from gazekit.cli._common import geometry_kwargs, geometry_options, progress_option, show_progress


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


def _parse_frame(value: str) -> tuple[float, float]:
    w, sep, h = value.lower().partition("x")
    try:
        size = (float(w), float(h))
    except ValueError:
        size = (0.0, 0.0)
    if not sep or min(size) <= 0:
        raise click.BadParameter(
            f"expected WIDTHxHEIGHT in px, got {value!r}", param_hint="--frame-px"
        )
    return size


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
    help="Reader (egd, reflacx, asc, edf, tobii, bids, gazesearch, generic); detected when omitted.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing dataset in OUTDIR.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Parallel reader processes.",
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first input that fails.")
@click.option(
    "--map",
    "column_map",
    default=None,
    help="Generic format: t=COL,x=COL,y=COL[,pupil=COL,valid=COL].",
)
@click.option(
    "--time-unit",
    type=click.Choice(["s", "ms", "us", "ns"], case_sensitive=False),
    default=None,
    help="Generic format: unit of the time column.",
)
@click.option(
    "--pupil-unit", default=None, help="Generic format: unit of the pupil column (e.g. mm)."
)
@click.option(
    "--allow-mixed-pupil-units",
    is_flag=True,
    help="Keep recordings whose pupil unit differs from the others' (refused by default).",

)
@click.option(
    "--frame-px",
    "frame",
    default=None,
    help="Scanpath lists (gazesearch format): frame of X/Y as WxH in px [default: 224x224].",
)
@click.option(
    "--duration-unit",
    type=click.Choice(["auto", "s", "ms"], case_sensitive=False),
    default=None,
    help="Scanpath lists: unit of the durations T [default: auto].",
)
@progress_option
@click.option(
    "--reader-map",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="REFLACX: CSV with columns id,reader_id (the corpus does not name its readers).",
)
@click.option(
    "--calibration",
    type=click.Choice(["skip", "export"], case_sensitive=False),
    default=None,
    help="EGD-CXR calibration images: skip them (default) or export as calibration recordings.",
)
@geometry_options
def convert(
    inputs: tuple[str, ...], outdir: str, fmt: str | None, overwrite: bool, jobs: int,
    fail_fast: bool, column_map: str | None, time_unit: str | None, pupil_unit: str | None,
    allow_mixed_pupil_units: bool, progress: bool | None, reader_map: str | None,
    calibration: str | None, frame: str | None, duration_unit: str | None,
    screen_px: str | None, screen_mm: str | None, distance_mm: float | None,
) -> None:  # fmt: skip
    """Convert raw recordings (files or corpus folders) into a validated Parquet dataset.

    Exits with status 1 when any input failed; the summary lists them.

    \b
    Examples:
      gazekit convert recordings/*.asc -o data/ -j 4
      gazekit convert export.csv -o data/ --format generic --map t=time,x=gx,y=gy --time-unit s
    """
    from gazekit.io.convert import convert as run

    options: dict[str, Any] = {}
    cmap = _parse_map(column_map)
    if cmap:
        options["column_map"] = cmap
    if time_unit:
        options["time_unit"] = time_unit
    if pupil_unit:
        options["pupil_unit"] = pupil_unit
    if reader_map:
        options["reader_map"] = reader_map
    if calibration:
        options["calibration"] = calibration
    if frame:
        options["frame_px"] = _parse_frame(frame)
    if duration_unit:
        options["duration_unit"] = duration_unit
    options.update(geometry_kwargs(screen_px, screen_mm, distance_mm))
    show = show_progress(progress)
    result = run(
        list(inputs), outdir, fmt=fmt, overwrite=overwrite, jobs=jobs, fail_fast=fail_fast,
        progress=show, allow_mixed_pupil_units=allow_mixed_pupil_units, **options,
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

    \b
    Examples:
      gazekit info data/
      gazekit info data/ --recording P01_img003 --json
    """
    from gazekit.io.dataset_dir import is_dataset_dir, recording_ids
    from gazekit.io.layout import id_filename
    from gazekit.io.parquet import read_frame, read_metadata, read_table

    p = Path(path)
    files: list[Path]
    if p.is_file() and read_metadata(p).get("schema") != "samples":
        _info_table(p, as_json)
        return
    choices: dict[str, object] = {}
    if p.is_dir():
        if not is_dataset_dir(p):
            raise click.UsageError(f"{p} is not a gazekit dataset directory")
        ids = recording_ids(p)
        if recording is not None and recording not in ids:
            raise click.BadParameter(
                f"no recording {recording!r} in {p}; it has: {_listing(ids)}",
                param_hint="--recording",
            )
        ids = [recording] if recording else ids
        files = [p / "samples" / f"{id_filename(rid, 'recording_id')}.parquet" for rid in ids]
        counts = {}
        for kind in ("events", "transcripts", "findings"):
            f = p / f"{kind}.parquet"
            if f.is_file():
                t = read_frame(f, kind)
                counts[kind] = t["recording_id"].value_counts().to_dict()
        choices = _dataset_choices(p)
    else:
        files, counts = [p], {}
    out = []
    recs = None
    for f in files:
        if f.is_file():
            meta = read_metadata(f)
            rows = {"samples": read_table(f, "samples")[0].num_rows}
        else:  # a fixation-only recording: its recordings row is its provenance
            if recs is None and p.is_dir():
                recs = read_frame(p / "recordings.parquet", "recordings").set_index("recording_id")
            rid = f.stem
            if (
                recs is None
                or rid not in recs.index
                or not bool(recs.loc[rid].get("fixation_only"))
            ):
                raise click.UsageError(f"no samples file {f}")
            meta = {"recording_id": rid, **recs.loc[rid].to_dict()}
            rows = {"samples": 0}
        rid = meta.get("recording_id")
        for kind, c in counts.items():
            rows[kind] = int(c.get(rid, 0))
        out.append({"file": str(f), "metadata": meta, "rows": rows})
    if as_json:
        click.echo(json.dumps({"choices": choices, "recordings": out} if choices else out,
                              indent=2, default=str))  # fmt: skip
        return
    for name, value in choices.items():
        click.echo(f"{name}: {value}")
    for item in out:
        click.echo(item["file"])
        for k, v in item["metadata"].items():
            if k != "extra":
                click.echo(f"  {k:22s} {v}")
        for k, v in _checks(item["metadata"]).items():
            click.echo(f"  {k:22s} {v}")
        click.echo("  rows: " + ", ".join(f"{k} {v}" for k, v in item["rows"].items()))


def _listing(names: list[str], limit: int = 20) -> str:
    """``a, b, c`` (the first ``limit`` names and how many more)."""
    head = ", ".join(names[:limit]) or "none"
    return head + (f" ... ({len(names) - limit} more)" if len(names) > limit else "")


def _dataset_choices(root: Path) -> dict[str, object]:
    """What a dataset's derived numbers were computed from: event sources/methods, the
    detectors' parameters, and the selection of its intent labels."""
    from gazekit.io.parquet import read_frame, read_metadata

    out: dict[str, object] = {}
    ev = root / "events.parquet"
    if ev.is_file():
        t = read_frame(ev, "events")
        fx = t[t["event"] == "fixation"]
        kinds = fx.groupby(["source", "method", "eye"], dropna=False).size()
        out["fixation sources"] = (
            ", ".join(f"{s}/{m} ({e}) {n}" for (s, m, e), n in kinds.items())
            or "none (run `gazekit events`)"
        )
        detectors = read_metadata(ev).get("detectors") or {}
        for method, params in detectors.items():
            out[f"detector {method}"] = params
    rec = root / "recordings.parquet"
    if rec.is_file():
        r = read_frame(rec, "recordings")
        for col in ("sampling_rate_hz", "frame", "pupil_unit"):
            if col in r:
                vals = r[col].astype(str).value_counts()
                out[col] = ", ".join(f"{v} ({n})" for v, n in vals.items())
    lab = root / "intent_labels.parquet"
    if lab.is_file():
        meta = read_metadata(lab)
        out["intent labels"] = {"regime": meta.get("regime"), "selection": meta.get("selection")}
    return out


def _info_table(path: Path, as_json: bool) -> None:
    """Metadata and row count of a gazekit table other than samples (events, region_stats,
    intent_labels ...): the choices that produced its numbers."""
    import pyarrow.parquet as pq

    from gazekit.io.parquet import read_metadata

    meta = read_metadata(path)
    rows = pq.ParquetFile(path).metadata.num_rows
    if as_json:
        click.echo(json.dumps({"file": str(path), "metadata": meta, "rows": rows}, indent=2))
        return
    click.echo(f"{path} ({meta.get('schema')} table, {rows} rows)")
    for k, v in meta.items():
        click.echo(f"  {k:22s} {v}")
def _checks(meta: dict[str, Any]) -> dict[str, str]:
    """What the reader decided about identity, geometry, calibration images and labels."""
    from gazekit.vocab import REFLACX_TO_GAZEINTENT

    extra = meta.get("extra") or {}
    out = {}
    source = extra.get("reader_id_source")
    if source:
        out["reader identity"] = (
            "unknown (not published): reader-based splits fall back to image only, with a warning"
            if source == "unknown"
            else f"from {source}"
        )
    out["geometry mode"] = str(extra.get("geometry_mode", "fixed"))
    if "calibration_images_skipped" in extra:
        out["calibration skipped"] = f"{extra['calibration_images_skipped']} image(s) in its folder"
    if extra.get("calibration"):
        out["calibration"] = "this recording is a calibration target (screen frame)"
    if meta.get("fixation_only") or extra.get("fixation_only"):
        out["fixation only"] = "no gaze samples (fixations from the tracker/corpus only)"
    label_set = extra.get("label_set")
    if label_set:
        none = sorted(k for k, v in REFLACX_TO_GAZEINTENT.items() if v is None)
        out["label mapping"] = (
            f"{label_set} labels -> GazeIntent (gazekit.vocab.REFLACX_TO_GAZEINTENT); "
            f"no counterpart: {', '.join(none)}"
        )
    return out
