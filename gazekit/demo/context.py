"""State shared by the ``gazekit demo`` steps, and the exception a step raises to skip."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class StepSkipped(Exception):
    """Raised by a step that cannot run here (the message says why)."""


@dataclass
class DemoContext:
    """State shared by the demo steps.

    Attributes
    ----------
    outdir : Path
    seed, n_images, n_readers, image_size : int
        What the simulate step generates.
    sessions : list of gazekit.synthetic.Session
    raw_dir : Path or None
        Raw recordings in a tracker format (EGD-CXR layout).
    dataset_dir : Path or None
        The gazekit dataset (Parquet) the later stages read.
    artifacts : dict of str -> Path
        Files produced, by name (``figure`` is ``demo.png``).
    results : dict of str -> Any
        In-memory results steps hand to later steps.
    summary : list of (step, message, seconds)
    """

    outdir: Path
    seed: int = 0
    n_images: int = 2
    n_readers: int = 2
    image_size: int = 1024
    sessions: list[Any] = field(default_factory=list)
    raw_dir: Path | None = None
    dataset_dir: Path | None = None
    artifacts: dict[str, Path] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    summary: list[tuple[str, str, float]] = field(default_factory=list)


Step = Callable[[DemoContext], "str | None"]


