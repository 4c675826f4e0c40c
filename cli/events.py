"""``gazekit events``: detect fixations, saccades, PSO and blinks → OUTDIR/events.parquet."""

from __future__ import annotations

from typing import Any

import click

from gazekit.cli._common import geometry_kwargs, geometry_options

#: detector parameter -> the option that sets it (for error messages)
_OPTION = {
    "velocity_threshold": "--velocity-threshold", "dispersion": "--dispersion",
    "window_ms": "--window", "min_fixation_ms": "--min-fixation", "merge_gap_ms": "--merge-gap",
    "merge_distance_deg": "--merge-distance", "sg_window_ms": "--sg-window",
    "max_gap_ms": "--max-gap",
}  # fmt: skip


@click.command("events")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "-o",
    "--output",
    "outdir",
    required=True,
    type=click.Path(file_okay=False),
    help="Output directory (events.parquet); may be the input dataset itself.",
)
@click.option(
    "--method",
    default="ivt",
    show_default=True,
    help="Detector: ivt, idt or adaptive (when installed).",
)
@click.option(
    "--velocity-threshold", type=float, default=None, help="I-VT threshold (deg/s; default 30)."
)
@click.option(
    "--dispersion", type=float, default=None, help="I-DT dispersion threshold (deg; default 1.0)."
)
@click.option("--window", type=float, default=None, help="I-DT window (ms; default 100).")
@click.option("--min-fixation", type=float, default=None, help="Shortest fixation kept (ms).")
@click.option(
    "--merge-gap", type=float, default=None, help="Merge fixations this close in time (ms)."
)
@click.option("--merge-distance", type=float, default=None, help="... and in space (deg).")
@click.option("--sg-window", type=float, default=None, help="Savitzky–Golay window (ms; 20).")
@click.option(
    "--max-gap", type=float, default=None, help="Interpolate losses up to this long (ms; 75)."
)
@click.option(
    "--degree-free",
    is_flag=True,
    help="No screen geometry: work in px (thresholds in px and px/s).",
)
@click.option(
    "--param",
    "extra",
    multiple=True,
    metavar="NAME=VALUE",
    help="Any other detector parameter (repeatable), e.g. --param min_saccade_ms=10.",
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Threads.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@geometry_options
def events(
    inputs: tuple[str, ...],
    outdir: str,
    method: str,
    velocity_threshold: float | None,
    dispersion: float | None,
    window: float | None,
    min_fixation: float | None,
    merge_gap: float | None,
    merge_distance: float | None,
    sg_window: float | None,
    max_gap: float | None,
    degree_free: bool,
    extra: tuple[str, ...],
    jobs: int | None,
    no_progress: bool,
    screen_px: str | None,
    screen_mm: str | None,
    distance_mm: float | None,
) -> None:
    """Detect events in INPUT... (dataset directories or samples .parquet files)."""
    import os

    from tqdm import tqdm

    from gazekit.errors import GazekitError
    from gazekit.events import detector_parameters
    from gazekit.events.files import detect_items, expand_inputs, write_events

    params: dict[str, Any] = {
        k: v
        for k, v in {
            "velocity_threshold": velocity_threshold,
            "dispersion": dispersion,
            "window_ms": window,
            "min_fixation_ms": min_fixation,
            "merge_gap_ms": merge_gap,
            "merge_distance_deg": merge_distance,
            "sg_window_ms": sg_window,
            "max_gap_ms": max_gap,
        }.items()
        if v is not None
    }
    if degree_free:
        params["degree_free"] = True
    for kv in extra:
        name, sep, value = kv.partition("=")
        if not sep:
            raise click.BadParameter(f"expected NAME=VALUE, got {kv!r}", param_hint="--param")
        params[name.strip()] = _number(value.strip())
    try:
        full = detector_parameters(method, **params)
    except GazekitError as exc:
        bad = next((n for n in params if f"parameter {n} " in str(exc)), None)
        hint = _OPTION.get(bad, "--param") if bad else "--method"
        raise click.BadParameter(str(exc), param_hint=hint) from None
    geom = geometry_kwargs(screen_px, screen_mm, distance_mm)
    items = expand_inputs(inputs)

    def bar(it, total):  # type: ignore[no-untyped-def]
        return tqdm(it, total=total, unit="rec", desc=f"events ({method})", disable=no_progress)

    detected = detect_items(
        items, method, jobs=jobs or os.cpu_count() or 1, geometry=geom, progress=bar, **params
    )
    out = write_events(detected, outdir, method, full)
    counts = detected["event"].value_counts().to_dict() if len(detected) else {}
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no events"
    click.echo(f"{len(items)} recording(s), {method}: {summary} → {out}")


def _number(value: str) -> Any:
    """``"30"`` → 30.0, ``"true"`` → True, anything else stays text."""
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    try:
        return float(value)
    except ValueError:
        return value
