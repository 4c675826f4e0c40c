"""Execute every notebook here top to bottom and save it with its outputs (figures included).

Run after changing a notebook or the code it shows: ``python notebooks/execute.py``. The
notebooks are committed with their outputs so the figures show on the repository page; the
test suite executes them again and checks that they still run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent


def execute(path: Path, timeout_s: int = 600) -> nbformat.NotebookNode:
    """Run ``path`` in a python3 kernel with the notebook's folder as working directory."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=timeout_s, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    )
    client.execute()
    return nb


def main(argv: list[str]) -> None:
    paths = [Path(a) for a in argv] or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        nb = execute(path)
        nbformat.write(nb, path)
        n_png = sum(
            "image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs
        )
        sys.stdout.write(f"{path.name}: executed, {n_png} figures\n")


if __name__ == "__main__":
    main(sys.argv[1:])
