"""Every notebook in notebooks/ runs top to bottom, and is committed with its figures."""

from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def _pngs(nb) -> int:  # type: ignore[no-untyped-def]
    return sum(
        "image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_its_figures(path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    assert _pngs(nb) >= 1, f"{path.name}: run `python notebooks/execute.py` and commit the outputs"
    assert not any(
        "matplotlib.use" in "".join(c.source) for c in nb.cells if c.cell_type == "code"
    ), "notebooks keep the inline backend"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, monkeypatch, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's own inline backend
    nb = nbformat.read(path, as_version=4)
    committed = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in committed if o.output_type == "error"], "committed outputs hold an error"
    # run in a copy of the repository's shape (notebooks/ beside tests/), so what a notebook
    # writes next to itself never lands in the checkout
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "tests").symlink_to(path.parent.parent / "tests", target_is_directory=True)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path / "notebooks")}},
    )  # fmt: skip
    client.execute()
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    assert _pngs(nb) >= 1, "the notebook draws no figure"
