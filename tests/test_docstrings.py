"""Every public function documents its parameters and what it returns (numpydoc sections)."""

from __future__ import annotations

import importlib
import inspect

import pytest

#: The public API: what the reference site documents.
PUBLIC_MODULES = (
    "gazekit.dataset",
    "gazekit.geometry",
    "gazekit.vocab",
    "gazekit.io",
    "gazekit.events",
    "gazekit.anatomy",
    "gazekit.heatmaps",
    "gazekit.intent",
    "gazekit.models",
    "gazekit.metrics.scanpath",
    "gazekit.metrics.saliency",
    "gazekit.metrics.classification",
    "gazekit.metrics.agreement",
    "gazekit.plotting",
    "gazekit.synthetic",
)


def _public_functions() -> list[tuple[str, object]]:
    out = []
    for modname in PUBLIC_MODULES:
        mod = importlib.import_module(modname)
        names = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for n in names:
            obj = getattr(mod, n, None)
            if inspect.isfunction(obj) and obj.__module__.startswith("gazekit"):
                out.append((f"{modname}.{n}", obj))
    return sorted({k: v for k, v in out}.items())


FUNCTIONS = _public_functions()


@pytest.mark.parametrize("name,func", FUNCTIONS, ids=[n for n, _ in FUNCTIONS])
def test_public_function_has_parameters_and_returns_sections(name, func):
    doc = inspect.getdoc(func) or ""
    sig = inspect.signature(func)
    params = [p for p in sig.parameters.values() if p.name not in ("self", "cls")]
    if params:
        assert "Parameters\n----------" in doc, f"{name}: no Parameters section"
    ret = sig.return_annotation
    if ret not in (None, "None", inspect.Signature.empty):
        assert ("Returns\n-------" in doc) or ("Yields\n------" in doc), f"{name}: no Returns section"
