"""``gazekit events``: detect fixations, saccades, PSO, pursuit and blinks → OUTDIR/events.parquet.

The detector and preprocessing options are generated from the parameter dataclasses of
:mod:`gazekit.events.params` (one option per field, named after it), so the command line,
``gazekit.events.detect(**params)`` and the pipeline's ``-p events.NAME=VALUE`` accept the
same names and check them the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from gazekit.cli._common import geometry_kwargs, geometry_options, progress_option, show_progress
from gazekit.events.params import (
    AdaptiveParams,
    IDTParams,
    IVTParams,
    PostParams,
    SignalParams,
    field_types,
)

#: Parameter classes whose fields become options, in help order.
PARAM_CLASSES = (SignalParams, PostParams, IVTParams, IDTParams, AdaptiveParams)


def _param_fields() -> list[tuple[str, type, str]]:
    """``(name, type, help)`` of every parameter field, each name once."""
    out: dict[str, tuple[str, type, str]] = {}
    for cls in PARAM_CLASSES:
        types_ = field_types(cls)
        for f in dataclasses.fields(cls):
            out.setdefault(f.name, (f.name, types_[f.name], f.metadata.get("help", "")))
    return list(out.values())


def param_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add one ``--name`` option per parameter field (default: the detector's own)."""
    for name, tp, text in reversed(_param_fields()):
        flag = "--" + name.replace("_", "-")
        if tp is bool:
            func = click.option(f"{flag}/--no-{name.replace('_', '-')}", name, default=None,
                                help=text)(func)  # fmt: skip
        else:
            ctype = click.INT if tp is int else click.FLOAT
            func = click.option(flag, name, type=ctype, default=None, help=text)(func)
    return func

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
    type=click.Choice(["ivt", "idt", "adaptive"], case_sensitive=False),
    help="Detector. Options of another detector are refused.",
)
@param_options
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Parallel worker threads (default: the CPU count).",
)
@progress_option
@geometry_options
def events(
    inputs: tuple[str, ...],
    outdir: str,
    method: str,
    jobs: int | None,
    progress: bool | None,
    screen_px: str | None,
    screen_mm: str | None,
    distance_mm: float | None,
    **options: Any,
) -> None:
    """Detect events in INPUT... (dataset directories or samples .parquet files).

    \b
    Example:
      gazekit events data/ -o data/ --method idt --dispersion-deg 1.0 --window-ms 100
    """
    import os

    from tqdm import tqdm

    from gazekit.events import resolve
    from gazekit.events.files import detect_items, expand_inputs, write_events

    params = {k: v for k, v in options.items() if v is not None}
    full = resolve(method, **params).as_dict()
    geom = geometry_kwargs(screen_px, screen_mm, distance_mm)
    items = expand_inputs(inputs)

    def bar(it, total):  # type: ignore[no-untyped-def]
        return tqdm(it, total=total, unit="rec", desc=f"events ({method})",
                    disable=not show_progress(progress))  # fmt: skip

    detected = detect_items(
        items, method, jobs=jobs or os.cpu_count() or 1, geometry=geom, progress=bar, **params
    )
    out = write_events(detected, outdir, method, full)
    counts = detected["event"].value_counts().to_dict() if len(detected) else {}
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no events"
    click.echo(f"{len(items)} recording(s), {method}: {summary} → {out}")
