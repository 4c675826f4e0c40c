"""Shared fixtures."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
# Python processes the tests start (``python -c``, ``python -m gazekit.cli.main``) must import
# gazekit from where it is installed, not from the checkout they happen to start in (the
# source tree has no gazekit.cli or gazekit.data_schemas: they install from cli/, data_schemas/)
os.environ["PYTHONSAFEPATH"] = "1"

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
