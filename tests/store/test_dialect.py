"""What differs between the engines is asked of one object, chosen once by the store; no other module branches."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

import appinstall
from appinstall.store import Store
from appinstall.store.dialect import PostgreSQL, SQLite, dialect_named

PACKAGE = Path(appinstall.__file__).resolve().parent
# The dialect itself, and the predicate that tells a SQLite store's URL (start-up checks about its file use it).
MAY_NAME_ENGINES = {PACKAGE / "store" / "dialect.py", PACKAGE / "store" / "engine.py"}
ENGINE_NAMES = {"sqlite", "postgresql"}


def _branches_on_the_engine(tree: ast.AST) -> Iterator[int]:
    """Lines that compare something with an engine's name, or a dialect's name with anything."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) and o.value in ENGINE_NAMES for o in operands) or any(
                ast.unparse(o).endswith(("dialect.name", "get_backend_name()")) for o in operands
            ):
                yield node.lineno


def test_no_module_but_the_dialect_branches_on_the_engine() -> None:
    found = [
        f"{path.relative_to(PACKAGE.parent)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in MAY_NAME_ENGINES and "migrations" not in path.parts
        for line in _branches_on_the_engine(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert not found, f"ask store.dialect instead: {found}"


def test_the_check_finds_a_branch_on_the_engine_name() -> None:
    tree = ast.parse('if connection.dialect.name == "postgresql":\n    pass\n')
    assert list(_branches_on_the_engine(tree)) == [1]


@pytest.mark.anyio
async def test_the_store_chooses_its_dialect_once(store: Store) -> None:
    assert isinstance(store.dialect, SQLite)
    assert store.dialect is dialect_named("sqlite")


def test_each_engine_name_has_its_dialect() -> None:
    assert isinstance(dialect_named("postgresql"), PostgreSQL)


def test_an_engine_appinstall_does_not_run_on_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="does not run on mysql"):
        dialect_named("mysql")


def test_sqlite_takes_no_lock_and_works_out_no_keys() -> None:
    """Its write lock keeps every other writer out already; the keys (hashes) are not even computed."""

    def keys() -> Iterator[int]:
        raise AssertionError("a key was computed")
        yield 0

    connection: Connection = None  # type: ignore[assignment]  # never touched
    SQLite().lock(connection, keys())


def test_sqlite_reads_on_deferred_connections_and_postgresql_in_autocommit() -> None:
    assert SQLite().read_options() == {"appinstall_read_only": True}
    assert PostgreSQL().read_options() == {"isolation_level": "AUTOCOMMIT"}


def test_a_dialect_compared_with_an_engine_name_says_it_is_not_one() -> None:
    with pytest.raises(TypeError, match="not its name"):
        assert SQLite() != "sqlite"
