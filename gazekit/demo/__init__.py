"""``gazekit demo``: every stage on a few synthetic sessions, in seconds.

The demo is the list of steps :data:`STEPS`, written out in order; each step takes the
shared :class:`DemoContext` and returns a one-line summary (or ``None``)::

    simulate → write_egd → convert → events → heatmaps → intent → model → figure

A step reads what earlier steps left in the context (``ctx.sessions``,
``ctx.dataset_dir``, ``ctx.results``, ``ctx.artifacts``) and stores its own outputs
there. A step whose optional dependency is missing raises :class:`StepSkipped` with
the reason, which the summary reports. The stage packages (``gazekit.events``,
``gazekit.intent``, ``gazekit.models``…) know nothing of the demo: it sits on top of
them and calls their public functions.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from gazekit.demo.context import DemoContext, Step, StepSkipped
from gazekit.demo.events import step_events
from gazekit.demo.intent import step_intent
from gazekit.demo.model import step_model
from gazekit.demo.steps import (
    step_convert,
    step_figure,
    step_heatmaps,
    step_simulate,
    step_write_egd,
)
from gazekit.errors import GazekitError

__all__ = [
    "STEPS",
    "DemoContext",
    "StepSkipped",
    "add_step",
    "format_summary",
    "run_demo",
]

log = logging.getLogger(__name__)

#: The demo's steps, in order (a copy may be extended with :func:`add_step`).
STEPS: tuple[tuple[str, Step], ...] = (
    ("simulate", step_simulate),
    ("write_egd", step_write_egd),
    ("convert", step_convert),
    ("events", step_events),
    ("heatmaps", step_heatmaps),
    ("intent", step_intent),
    ("model", step_model),
    ("figure", step_figure),
)


def add_step(
    name: str,
    step: Step,
    *,
    steps: list[tuple[str, Step]],
    before: str | None = "figure",
) -> None:
    """Insert ``step`` into the step list ``steps`` before ``before`` (at the end when None).

    Parameters
    ----------
    name : str
        The step's name in the summary.
    step : callable
        ``step(ctx) -> str | None``.
    steps : list of (str, callable)
        The list to extend, e.g. ``list(STEPS)``; :data:`STEPS` itself is never changed.
    before : str or None
        Name of the step to insert before.
    """
    if any(n == name for n, _ in steps):
        raise GazekitError(f"demo step {name!r} already exists; existing: {[n for n, _ in steps]}")
    names = [n for n, _ in steps]
    pos = names.index(before) if before in names else len(steps)
    steps.insert(pos, (name, step))


def run_demo(
    outdir: str | Path = "gazekit-demo",
    *,
    seed: int = 0,
    n_images: int = 2,
    n_readers: int = 2,
    image_size: int = 1024,
    steps: list[tuple[str, Step]] | None = None,
) -> DemoContext:
    """Run every demo step and return the context (``ctx.summary`` says what each did)."""
    ctx = DemoContext(Path(outdir), seed, n_images, n_readers, image_size)
    ctx.outdir.mkdir(parents=True, exist_ok=True)
    for name, step in steps if steps is not None else STEPS:
        t0 = time.perf_counter()
        try:
            msg = step(ctx) or "done"
        except StepSkipped as exc:
            msg = f"skipped: {exc}"
        dt = time.perf_counter() - t0
        ctx.summary.append((name, msg, dt))
        log.info("demo step %s (%.1f s): %s", name, dt, msg)
    return ctx


def format_summary(ctx: DemoContext) -> str:
    """The demo summary as printable text."""
    width = max((len(n) for n, _, _ in ctx.summary), default=4)
    lines = [f"gazekit demo → {ctx.outdir}"]
    lines += [f"  {n:<{width}}  {dt:5.1f} s  {msg}" for n, msg, dt in ctx.summary]
    total = sum(dt for _, _, dt in ctx.summary)
    lines.append(f"  {'total':<{width}}  {total:5.1f} s")
    return "\n".join(lines)
