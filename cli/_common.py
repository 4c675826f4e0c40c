"""Helpers shared by the CLI commands (option parsing only; no library logic)."""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

import click

from gazekit.errors import GazekitError
from gazekit.geometry import Geometry


def parse_pair(value: str | None, name: str) -> tuple[float, float] | None:
    """Parse ``"1920x1080"`` into ``(1920.0, 1080.0)``."""
    if value is None:
        return None
    try:
        a, b = value.lower().split("x")
        pair = float(a), float(b)
    except ValueError:
        raise click.BadParameter(
            f"expected WxH, e.g. 1920x1080, got {value!r}", param_hint=name
        ) from None
    if not all(math.isfinite(v) and v > 0 for v in pair):
        raise click.BadParameter(
            f"both sizes must be finite and > 0, got {value!r}", param_hint=name
        )
    return pair


def overwrite_option(f):  # type: ignore[no-untyped-def]
    """Add the ``--overwrite`` flag (the one rule: an existing output is kept unless given)."""
    return click.option(
        "--overwrite", is_flag=True, help="Replace an existing output (refused otherwise)."
    )(f)


def check_output(
    path: str | os.PathLike[str], overwrite: bool, option: str = "-o/--output"
) -> Path:
    """Refuse an existing output unless ``--overwrite``; refuse an output that cannot be written.

    Parameters
    ----------
    path : str or PathLike
        Output file or directory.
    overwrite : bool
        The ``--overwrite`` flag.
    option : str
        Option name for the message.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    click.BadParameter
        The output exists (a file, or a non-empty directory) and ``overwrite`` is off,
        or a parent of it is a file.
    """
    p = Path(path)
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise click.BadParameter(
                    f"{p}: {parent} is a file, not a directory; pass a writable path",
                    param_hint=option,
                )
            break
    exists = p.is_file() or (p.is_dir() and any(p.iterdir())) or (p.exists() and not p.is_dir())
    if exists and not overwrite:
        raise click.BadParameter(
            f"{p} exists; pass --overwrite to replace it (or choose a new path)", param_hint=option
        )
    return p


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
    for option, keys in _GEOMETRY_OPTIONS.items():  # impossible values refused here, by option
        try:
            Geometry(**{k: out[k] for k in keys if k in out})
        except GazekitError as exc:
            raise click.BadParameter(str(exc), param_hint=option) from None
    return out


_GEOMETRY_OPTIONS = {
    "--screen-px": ("screen_w_px", "screen_h_px"),
    "--screen-mm": ("screen_w_mm", "screen_h_mm"),
    "--distance-mm": ("viewing_distance_mm",),
}


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
