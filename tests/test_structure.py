"""The package structure follows the data flow: no import cycles, no stage importing what sits on top.

Stage packages (io → events → anatomy/heatmaps → intent → models → metrics) never import the
demo, the pipeline or the command line; ``io`` and ``synthetic`` never import ``intent`` (the
finding vocabulary lives on the floor, in ``gazekit.vocab``); reading a dataset never imports
the pipeline runner. Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import gazekit

ROOT = Path(gazekit.__file__).resolve().parent
#: What sits on top of the stages and must never be imported by them.
TOP = {"demo", "pipeline", "cli", "interop"}
STAGES = {"io", "events", "anatomy", "heatmaps", "intent", "models", "metrics", "dataset"}


def _unit(module: str) -> str | None:
    """The first-level unit of a gazekit module name (``gazekit.io.egd`` → ``io``)."""
    parts = module.split(".")
    if parts[0] != "gazekit" or len(parts) < 2:
        return None
    return parts[1]


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        src_unit = rel.parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for t in targets:
                unit = _unit(t)
                if unit and unit != src_unit and (ROOT / unit).exists() | (ROOT / f"{unit}.py").exists():
                    graph[src_unit].add(unit)
    return graph


def test_no_stage_package_imports_the_demo_pipeline_or_cli():
    graph = _graph()
    bad = {s: sorted(graph[s] & TOP) for s in STAGES if graph[s] & TOP}
    assert bad == {}


def test_io_and_synthetic_do_not_import_intent():
    graph = _graph()
    assert "intent" not in graph["io"] and "intent" not in graph["synthetic"]


def test_package_import_graph_has_no_cycle():
    graph = _graph()
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in stack:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in done:
                visit(nxt, [*stack, nxt])
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start])
    assert cycles == []
