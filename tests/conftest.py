"""Shared fixtures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_file(tmp_path: Path):
    """Copy a fixture from ``tests/data`` into ``tmp_path`` and return its path."""

    def _copy(name: str) -> Path:
        src = DATA / name
        dst = tmp_path / name
        if dst.exists():
            return dst
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy(src, dst)
        return dst

    return _copy
