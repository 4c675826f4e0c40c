"""Helpers shared by the CLI commands (option parsing only; no library logic)."""

from __future__ import annotations

import sys

import click

from gazekit.geometry import Geometry


def parse_pair(value: str | None, name: str) -> tuple[float, float] | None:
    """Parse ``"1920x1080"`` into ``(1920.0, 1080.0)``."""
    if value is None:
        return None
    try:
        a, b = value.lower().split("x")
        return float(a), float(b)
    except ValueError:
        raise click.BadParameter(
            f"expected WxH, e.g. 1920x1080, got {value!r}", param_hint=name
        ) from None


def geometry_options(f):  # type: ignore[no-untyped-def]
    """Add --screen-px/--screen-mm/--distance-mm options to a command."""
    f = click.option(
        "--distance-mm", type=float, default=None, help="Eye-to-screen distance (mm)."
    )(f)
    f = click.option(
        "--screen-mm", default=None, help="Physical screen size WxH in mm, e.g. 531x298."
    )(f)
    f = click.option(
        "--screen-px", default=None, help="Screen resolution WxH in px, e.g. 1920x1080."
    )(f)
    return f


def geometry_kwargs(
    screen_px: str | None, screen_mm: str | None, distance_mm: float | None
) -> dict[str, float]:
    """The geometry given on the command line as ``Geometry`` field names (only those given)."""
    out: dict[str, float] = {}
    px = parse_pair(screen_px, "--screen-px")
    mm = parse_pair(screen_mm, "--screen-mm")
    if px:
        out["screen_w_px"], out["screen_h_px"] = px
    if mm:
        out["screen_w_mm"], out["screen_h_mm"] = mm
    if distance_mm is not None:
        out["viewing_distance_mm"] = distance_mm
    return out


def override_geometry(
    geom: Geometry, screen_px: str | None, screen_mm: str | None, distance_mm: float | None
) -> Geometry:
    """Return ``geom`` with any geometry given on the command line filled in."""
    return Geometry.from_dict(
        {**geom.to_dict(), **geometry_kwargs(screen_px, screen_mm, distance_mm)}
    )


def progress_option(f):  # type: ignore[no-untyped-def]
    """Add ``--progress/--no-progress`` (default: a bar only when stderr is a terminal)."""
    return click.option(
        "--progress/--no-progress",
        default=None,
        help="Progress bar on stderr (default: only when stderr is a terminal).",
    )(f)


def show_progress(progress: bool | None) -> bool:
    """Whether to draw a progress bar: as asked, else when stderr is a terminal.

    Parameters
    ----------
    progress : bool or None
        The ``--progress/--no-progress`` value (None: not given).

    Returns
    -------
    bool
    """
    return sys.stderr.isatty() if progress is None else progress


def progress_bar(items, total: int, desc: str, unit: str, enabled: bool | None):  # type: ignore[no-untyped-def]
    """``items`` wrapped in a tqdm bar on stderr (disabled unless :func:`show_progress`).

    Parameters
    ----------
    items : iterable
        What to iterate over.
    total : int
        Number of items (the bar's length).
    desc, unit : str
        The bar's label and the name of one item.
    enabled : bool or None
        The ``--progress/--no-progress`` value.

    Returns
    -------
    tqdm
        An iterator over ``items``.
    """
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit=unit, disable=not show_progress(enabled))
