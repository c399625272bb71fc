"""The layout keeps its promises: no import cycles between modules, nobody reaches into another
package's ``_private`` module, and packages and modules stay small enough to read.

The layer contracts themselves are import-linter's (``pyproject.toml``, run by ``make test``);
these are the rules it cannot express. The graph is grimp's, the one import-linter builds.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")
MAX_MODULES_PER_PACKAGE = 12
MAX_LINES = 400


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def _is_package(module: str) -> bool:
    return (ROOT / Path(*module.split(".")) / "__init__.py").exists()


def test_no_module_imports_itself_back(graph: grimp.ImportGraph) -> None:
    """A cycle of any length between modules (a package's ``__init__`` counts as a module)."""
    modules = sorted(graph.modules)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in modules}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for nxt in edges[module]:
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[module] = 2

    for module in modules:
        if module not in state:
            visit(module)
    assert cycles == []


def test_cycle_check_finds_a_cycle() -> None:
    """The walk above is not vacuous: a two-module cycle in a made-up graph is found."""
    fake = grimp.ImportGraph()
    fake.add_import(importer="a.x", imported="a.y")
    fake.add_import(importer="a.y", imported="a.x")
    with pytest.raises(AssertionError):
        test_no_module_imports_itself_back(fake)


def _private_owner(module: str) -> str | None:
    """The package that owns ``module`` if it (or a package on its path) is private."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def test_no_import_of_another_packages_private_module(graph: grimp.ImportGraph) -> None:
    trespasses = []
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            owner = _private_owner(imported)
            if owner is None:
                continue
            if importer != owner and not importer.startswith(owner + "."):
                trespasses.append(f"{importer} -> {imported}")
    assert trespasses == []


def test_packages_stay_small() -> None:
    crowded = {}
    for package in PACKAGES:
        for folder in [ROOT / package, *(ROOT / package).rglob("*")]:
            if not folder.is_dir() or not (folder / "__init__.py").exists():
                continue
            modules = [
                p for p in folder.glob("*.py") if p.name not in ("__init__.py", "__main__.py")
            ]
            if "migrations" in folder.parts:
                continue
            if len(modules) > MAX_MODULES_PER_PACKAGE:
                crowded[str(folder.relative_to(ROOT))] = len(modules)
    assert crowded == {}


def test_long_modules_say_why() -> None:
    """A module over ~400 lines is allowed only when its docstring says why it stays whole."""
    unexplained = []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text("utf-8")
            if text.count("\n") <= MAX_LINES:
                continue
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "Why one module" not in doc:
                unexplained.append(f"{path.relative_to(ROOT)} ({text.count(chr(10))} lines)")
    assert unexplained == []
