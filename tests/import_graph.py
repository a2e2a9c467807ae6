"""The ``appinstall`` package's import graph, read statically from its source with ``ast`` (shared by the tests
that check which module may import which: no cycles, settings that import no domain).

Every import counts wherever it stands: at module level, inside a function, under ``if TYPE_CHECKING:``. An import
names the module it loads: ``from appinstall.webhooks import health`` is an edge to ``appinstall.webhooks.health``
and ``from appinstall.store import Store`` one to the package ``appinstall.store`` (its ``__init__``). The parent
packages that Python runs on the way are not edges (as in grimp and import-linter).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import appinstall

PACKAGE = Path(appinstall.__file__).resolve().parent


def package_modules() -> dict[str, Path]:
    """Every module of the package by dotted name; a package by its own name (its ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported_modules(
    node: ast.Import | ast.ImportFrom, module: str, is_package: bool, known: set[str]
) -> Iterator[str]:
    """The modules of the package that one import statement loads."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            name = alias.name
            while name and name not in known:  # ``import a.b.c`` where c is not a module of ours
                name = name.rpartition(".")[0]
            if name:
                yield name
        return
    if node.level:
        base = module.split(".")
        if not is_package:
            base.pop()
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        if submodule in known:
            yield submodule
        elif source in known:
            yield source


def import_graph() -> dict[str, set[str]]:
    """Each module of the package → the modules of the package it imports (anywhere in its source)."""
    modules = package_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        edges = {
            target
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for target in imported_modules(node, name, is_package, known)
        }
        edges.discard(name)
        graph[name] = edges
    return graph
