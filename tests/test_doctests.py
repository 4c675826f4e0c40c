"""Every docstring example in the installed package runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import gazekit

#: Modules whose import needs an optional extra (skipped, with the reason, when it is absent).
OPTIONAL = {"gazekit.interop": "the interop extra", "gazekit.io.edf": "the edf extra"}


def _modules() -> list[str]:
    names = ["gazekit"]
    for info in pkgutil.walk_packages(gazekit.__path__, prefix="gazekit."):
        names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write here
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        extra = next((v for k, v in OPTIONAL.items() if name.startswith(k)), None)
        if extra is None:
            raise
        pytest.skip(f"{name} needs {extra}: {exc}")
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    n = 0
    for test in finder.find(module, name):
        if test.examples:
            runner.run(test)
            n += len(test.examples)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {n} doctest examples failed in {name}"
