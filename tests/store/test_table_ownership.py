"""Each domain owns its tables: only its own modules query them; the others ask its service.

Read from the source, without importing it: a module of ``appinstall/<domain>/`` may import the ``tables`` module of
its own domain and of no other; a module outside the domains imports none, but for the few in ``ALLOWED``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import appinstall
from appinstall.store import schema

PACKAGE = Path(appinstall.__file__).parent
DOMAINS = frozenset(module.__name__.split(".")[1] for module in schema.DOMAINS)

# Modules that read other domains' tables, and why; keep it short.
ALLOWED: dict[str, frozenset[str]] = {
    # Gathers every domain's tables onto the one metadata, for Alembic's environment and the tests' databases.
    "store/schema.py": DOMAINS,
    # The list of every column sealed by a master key (client secrets, signing keys), walked by `db reencrypt`,
    # the start-up census of what each key sealed and the lost-key recovery: one list, so none can be forgotten.
    "store/sealed.py": frozenset({"registry", "tokens"}),
}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        yield relative, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _domain(relative: str) -> str | None:
    first = relative.split("/")[0]
    return first if first in DOMAINS else None


def _tables_imported(tree: ast.Module) -> set[str]:
    """The domains whose ``tables`` module the module imports, however it is spelled."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if len(parts) == 3 and parts[0] == "appinstall" and parts[2] == "tables":
                found.add(parts[1])
    return found


def test_every_domain_with_tables_is_in_the_schema() -> None:
    declared = {path.parent.name for path in PACKAGE.glob("*/tables.py")}
    assert declared == DOMAINS


def test_no_module_imports_the_tables_of_another_domain() -> None:
    trespasses = {}
    for relative, tree in _modules():
        own = _domain(relative)
        foreign = _tables_imported(tree) - {own} - ALLOWED.get(relative, frozenset())
        if foreign:
            trespasses[relative] = sorted(foreign)
    assert trespasses == {}


def _declares_tables(tree: ast.Module) -> bool:
    """Whether the module calls SQLAlchemy's ``Table`` (rich has a ``Table`` too)."""
    imported = any(
        isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy" and any(a.name == "Table" for a in node.names)
        for node in ast.walk(tree)
    )
    called = any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Table"
        for node in ast.walk(tree)
    )
    return imported and called


def test_tables_are_declared_only_in_the_tables_modules() -> None:
    declaring = {relative for relative, tree in _modules() if _declares_tables(tree)}
    assert declaring == {f"{domain}/tables.py" for domain in DOMAINS}


def test_the_allowed_exceptions_still_need_their_exception() -> None:
    trees = dict(_modules())
    assert {relative: _tables_imported(trees[relative]) for relative in ALLOWED} == ALLOWED
