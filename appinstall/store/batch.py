"""One statement executed for many rows, on SQLite without SQLAlchemy's work for every row; many rows inserted with
the keys the database gives them.

``connection.execute(statement, rows)`` builds each row's parameters through the compiled statement (defaults,
bind names, type processing): for the webhook worker's batches that was about a third of the time it spends
recording attempts, more than SQLite's own. The statement is compiled here once, and each row becomes a tuple in
the order of the SQL's placeholders: the values the row gives, the statement's own for the rest.

Only where nothing is lost: on a dialect whose driver needs no conversion for the values these statements carry
(text, integers, bytes, None; ``Dialect.plain_batches``, SQLite's). Elsewhere, and for any statement with
parameters that SQLAlchemy expands or converts, the ordinary ``execute`` runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Executable,
    Insert,
    LargeBinary,
    Select,
    Table,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

from appinstall.store.dialect import dialect_of
from appinstall.store.inline import fetch_in


@dataclass(frozen=True)
class _Slot:
    name: str
    from_row: bool
    default: Any


@dataclass(frozen=True)
class _Prepared:
    statement: Executable
    sql: str
    slots: tuple[_Slot, ...]

    @cached_property
    def values(self) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
        """A row's values in the placeholders' order, the statement's own where the row has none: one
        ``itemgetter`` (in C: the worker records tens of thousands of rows a second), over the row merged with the
        statement's values where it has some."""
        names = tuple(slot.name for slot in self.slots)
        if len(names) > 1:
            getter = cast(Callable[[Mapping[str, Any]], tuple[Any, ...]], itemgetter(*names))
        else:
            getter = (lambda row: (row[names[0]],)) if names else (lambda row: ())
        defaults = {slot.name: slot.default for slot in self.slots if not slot.from_row}
        if not defaults:
            return getter
        return lambda row: getter({**row, **defaults})


_prepared: dict[tuple[int, str, tuple[str, ...]], _Prepared | None] = {}


def _prepare(statement: Executable, connection: Connection, keys: tuple[str, ...]) -> _Prepared | None:
    cache_key = (id(statement), connection.dialect.name, keys)
    if cache_key in _prepared:
        found = _prepared[cache_key]
        # Keyed by identity (statements are built once and kept); a statement that reuses a freed one's id is new.
        if found is None or found.statement is statement:
            return found
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(keys))  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    prepared = None
    plain = (
        compiled.positiontup is not None
        and not compiled.post_compile_params
        and not compiled.literal_execute_params
        and not any(
            bind.type.dialect_impl(connection.dialect).bind_processor(connection.dialect) is not None
            and not isinstance(bind.type, LargeBinary)  # its processor wraps bytes in what the driver takes as is
            for bind in compiled.binds.values()
        )
    )
    if plain:
        slots = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            from_row = name in keys
            slots.append(_Slot(name, from_row, None if from_row else bind.effective_value))
        prepared = _Prepared(statement, compiled.string, tuple(slots))
    _prepared[cache_key] = prepared
    return prepared


def _run_plain(connection: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """Run plain SQL for each row: on the driver's own ``sqlite3`` connection when nothing watches the engine's
    statements (SQLAlchemy's driver-SQL path still builds an execution context: about 15 µs a call), else through
    SQLAlchemy so that what watches sees it. Either way in the caller's transaction."""
    driver = connection.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection) or connection.dispatch.before_cursor_execute:
        connection.exec_driver_sql(sql, rows)
        return
    try:
        driver.executemany(sql, rows)
    except sqlite3.Error as error:  # as SQLAlchemy would raise it (IntegrityError, OperationalError for busy…)
        raise DBAPIError.instance(sql, rows, error, sqlite3.Error) from error


def execute_many(connection: Connection, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """Execute ``statement`` once for each of ``rows`` (all with the same keys), in the caller's transaction."""
    if not rows:
        return
    prepared = _prepare(statement, connection, tuple(rows[0])) if dialect_of(connection).plain_batches else None
    if prepared is None:
        connection.execute(statement, list(rows))
        return
    values = prepared.values
    _run_plain(connection, prepared.sql, [values(row) for row in rows])


def _as_given(prepared: _Prepared | None, columns: tuple[str, ...]) -> str | None:
    """The prepared SQL, if its placeholders are exactly ``columns`` in that order (no value of its own)."""
    if prepared is None or tuple(slot.name for slot in prepared.slots) != columns:
        return None
    return prepared.sql if all(slot.from_row for slot in prepared.slots) else None


@dataclass(frozen=True)
class _TableInserts:
    """A table's insert statements, built once (``fetch_in`` compiles a statement once by its identity)."""

    table: Table
    plain: Insert
    returning: Insert | None  # the insert returning the table's one integer key, in the rows' order
    largest: Select[Any] | None  # the largest key (0 when empty)
    above: Select[Any, Any, Any] | None  # how many keys above ``:before``, the lowest and the highest


_inserts: dict[int, _TableInserts] = {}


def _inserts_of(table: Table) -> _TableInserts:
    found = _inserts.get(id(table))
    if found is None or found.table is not table:
        keys = list(table.primary_key.columns)
        key = keys[0] if len(keys) == 1 else None
        found = _TableInserts(
            table,
            insert(table),
            None if key is None else insert(table).returning(key, sort_by_parameter_order=True),
            None if key is None else select(func.coalesce(func.max(key), 0)),
            None
            if key is None
            else select(func.count(), func.min(key), func.max(key)).where(key > bindparam("before")),
        )
        _inserts[id(table)] = found
    return found


def insert_many(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert ``rows``, each the values of ``columns`` in that order, in the caller's transaction.

    Tuples, not mappings, for the hottest inserts (a batch publish's thousand deliveries): on a dialect that takes
    plain batches they go to the driver as they are, without a dictionary built and read back for each row."""
    if not rows:
        return
    plain = _inserts_of(table).plain
    if dialect_of(connection).plain_batches:
        sql = _as_given(_prepare(plain, connection, columns), columns)
        if sql is not None:
            _run_plain(connection, sql, list(rows))
            return
    connection.execute(plain, [dict(zip(columns, row, strict=True)) for row in rows])


def insert_keyed(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> list[int]:
    """Insert ``rows`` (each the values of ``columns`` in that order) into ``table``, whose primary key is one
    integer the database makes: the keys it made, in the rows' order.

    ``INSERT … RETURNING`` for many rows, sorted back into their order by SQLAlchemy, except where a transaction's
    inserts get consecutive keys (``Dialect.consecutive_keys``: SQLite, which does not promise RETURNING's order,
    so SQLAlchemy executes such an insert row by row, a third of a 1,000-notification batch publish). There the rows
    go in as one ``insert_many`` and their keys follow the largest key before them; what the table then holds
    above it is checked to be exactly those, because a key read wrong would attach rows to another's. Three
    statements on the driver's connection, cheaper even for one row than SQLAlchemy's one.
    """
    if not rows:
        return []
    inserts = _inserts_of(table)
    if inserts.returning is None or inserts.largest is None or inserts.above is None:
        raise ValueError(f"{table.name} has no single key column to return")
    if not dialect_of(connection).consecutive_keys:
        return list(connection.scalars(inserts.returning, [dict(zip(columns, row, strict=True)) for row in rows]))
    [(before,)] = fetch_in(connection, inserts.largest, {})
    insert_many(connection, table, columns, rows)
    [(count, lowest, highest)] = fetch_in(connection, inserts.above, {"before": before})
    if (count, lowest, highest) != (len(rows), before + 1, before + len(rows)):
        raise RuntimeError(
            f"{table.name}: {len(rows)} rows inserted above key {before}, but the table holds {count} "
            f"from {lowest} to {highest} there"
        )
    return list(range(before + 1, before + len(rows) + 1))
