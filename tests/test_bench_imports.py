"""The benchmarks in bench/ are run by hand, not by the suite: this checks, without running them, that every name
they import from the workspace's packages still exists (a renamed or removed function breaks a benchmark silently)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
FIRST_PARTY = ("legion_",)


def first_party_imports(path: Path) -> list[tuple[str, str]]:
    """(module, name) of every `from legion_* import name` in a file, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(FIRST_PARTY):
            found += [(node.module, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize("path", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_every_workspace_name_a_benchmark_imports_exists(path: Path) -> None:
    missing = []
    for module, name in first_party_imports(path):
        imported = importlib.import_module(module)
        if not hasattr(imported, name):
            try:  # a submodule imported by name
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{module}.{name}")
    assert not missing, f"{path.name} imports names that do not exist: {missing}"
