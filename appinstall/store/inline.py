"""Reads that run inline on the event loop, for the hottest read-only statements on SQLite.

Through aiosqlite, one small indexed ``SELECT`` costs about 0.55 ms of CPU: a pool checkout, a ``BEGIN`` and a
``ROLLBACK``, and a thread hand-off for each step of the cursor. Blocking the loop for the statement's own time is
cheaper than handing the work to a thread: in WAL mode a reader never waits for the writer.

The statement still comes from SQLAlchemy, compiled once, but it runs on a plain ``sqlite3`` connection: through
a SQLAlchemy ``Connection`` the same read costs about 45 µs, through the cursor about 8 µs (the execution
context, the result object and its rows were the difference). Rows keep what callers use of SQLAlchemy's: values
by column name and by position, with the column types' conversions (JSON, booleans) applied.

Only reads go this way. The connection is opened read-only (``PRAGMA query_only``) and in autocommit, so each
statement sees everything committed before it started, like a pooled read connection would. A database that
lives in memory cannot be shared between two connections, so it has no inline reader.

The reads of a unit of work (``fetch_in``: who subscribes, which conversations are busy) go the same way on the
writer's own ``sqlite3`` connection, inside its transaction: a publish asks three of them, a Send API message too.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.sql.compiler import SQLCompiler

# A reader in WAL mode does not wait for the writer; SQLite reports "busy" to one only in rare moments (another
# connection recovering the WAL after a crash, say). The loop must not stall on it: after this long the caller is
# told, and reads through the pool instead.
BUSY_TIMEOUT_MS = 50

_DIALECT = SQLiteDialect_pysqlite()


@dataclass(frozen=True)
class _Rendered:
    """A statement's SQL for one shape of its lists, and each placeholder's source: ``(name, index)`` for an item
    of the caller's list ``name``, ``(name, None)`` for the caller's value ``name``, ``(None, value)`` for one of
    the statement's own; with the type's conversion."""

    sql: str
    sources: tuple[tuple[str | None, Any, Callable[[Any], Any] | None], ...]

    def values(self, parameters: Mapping[str, Any], *, converted: bool = True) -> list[Any]:
        values = []
        for name, where, convert in self.sources:
            if name is None:
                value = where
            elif where is None:
                value = parameters[name]
            else:
                value = parameters[name][where]
            values.append(value if convert is None or not converted else convert(value))
        return values


@dataclass
class _Prepared:
    """A statement compiled for SQLite once, with what turns its rows into values (filled on first use)."""

    compiled: SQLCompiler
    types: list[Any] | None  # the result columns' SQLAlchemy types, where the statement declares them
    processors: tuple[tuple[int, Callable[[Any], Any]], ...] | None = None  # by column: its type's conversion
    row_type: Any = None
    # Without expanding parameters: each placeholder's name, the statement's own value and its type's conversion;
    # () when the SQL is rendered per call instead (filled on first use).
    slots: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...] | None = None
    # With them: the SQL rendered for each shape (the lengths of the caller's lists), and where each value comes
    # from; None for a shape whose recipe did not reproduce SQLAlchemy's values (rendered per call).
    shapes: dict[tuple[Any, ...], _Rendered | None] = field(default_factory=dict)

    def rows(self, cursor: sqlite3.Cursor) -> list[Any]:
        if self.row_type is None:
            names = [column[0] for column in cursor.description or ()]
            self.row_type = namedtuple("Row", names, rename=True)  # type: ignore[misc]
            if self.types is not None and len(self.types) == len(names):
                converters = (kind.dialect_impl(_DIALECT).result_processor(_DIALECT, None) for kind in self.types)
                self.processors = tuple((index, convert) for index, convert in enumerate(converters) if convert)
        make, processors = self.row_type._make, self.processors
        if not processors:
            return [make(values) for values in cursor.fetchall()]
        rows = []
        for fetched in cursor.fetchall():
            values = list(fetched)
            for index, convert in processors:
                values[index] = convert(values[index])
            rows.append(make(values))
        return rows


_prepared: dict[int, tuple[Executable, _Prepared]] = {}


def _prepare(statement: Executable) -> _Prepared:
    # Keyed by identity (statements are built once and kept); the statement is held so its id stays its own.
    found = _prepared.get(id(statement))
    if found is not None and found[0] is statement:
        return found[1]
    compiled = statement.compile(dialect=_DIALECT)  # type: ignore[attr-defined]
    assert isinstance(compiled, SQLCompiler)
    columns = getattr(statement, "selected_columns", None)
    prepared = _Prepared(compiled, None if columns is None else [column.type for column in columns])
    _prepared[id(statement)] = (statement, prepared)
    return prepared


_REQUIRED = object()  # a placeholder the caller must give a value for


def _bound(prepared: _Prepared, parameters: Mapping[str, Any]) -> tuple[str, Sequence[Any]]:
    """The SQL and its values: expanding parameters (``IN`` lists) rendered, bound values converted by type.

    A statement without expanding parameters has one SQL text: its values are put in order here (SQLAlchemy's
    expanded state, built for every call, was 7 µs of a 10 µs read)."""
    compiled = prepared.compiled
    if prepared.slots is None:
        if compiled.post_compile_params or compiled.literal_execute_params or compiled.positiontup is None:
            prepared.slots = ()
        else:
            prepared.slots = tuple(
                (
                    name,
                    _REQUIRED if compiled.binds[name].required else compiled.binds[name].effective_value,
                    compiled.binds[name].type.dialect_impl(_DIALECT).bind_processor(_DIALECT),
                )
                for name in compiled.positiontup
            )
    if prepared.slots:
        ordered: list[Any] = []
        for name, default, convert in prepared.slots:
            value = parameters[name] if default is _REQUIRED else parameters.get(name, default)
            ordered.append(value if convert is None else convert(value))
        return compiled.string, ordered
    lists = tuple(bind.key for bind in compiled.post_compile_params if bind.value is None and bind.key in parameters)
    # The names given count too: a recipe reads the caller's values by name, the statement's own where none is.
    shape = (frozenset(parameters), *(len(parameters[name]) for name in lists))
    # Lists only: a recipe takes items by position (a set, say, goes SQLAlchemy's way each time).
    indexed = all(isinstance(parameters[name], (list, tuple)) for name in lists)
    rendered = prepared.shapes.get(shape, _UNSEEN) if indexed else None
    if isinstance(rendered, _Rendered):
        return rendered.sql, rendered.values(parameters)
    state = compiled.construct_expanded_state(dict(parameters))
    values = state.positional_parameters
    if state.processors:
        names = state.positiontup or ()
        values = tuple(
            state.processors[name](value) if name in state.processors else value
            for name, value in zip(names, values, strict=True)
        )
    # A value rendered into the SQL itself (``literal_execute``) would be kept with it: such statements are not.
    if rendered is _UNSEEN and len(prepared.shapes) < _SHAPES_KEPT and not compiled.literal_execute_params:
        prepared.shapes[shape] = _rendering(compiled, state, parameters, lists)
    return state.statement, values


_UNSEEN = object()
_SHAPES_KEPT = 64  # per statement: the few shapes a hot path asks (a publish's one event type, its few conversations)


def _rendering(
    compiled: SQLCompiler, state: Any, parameters: Mapping[str, Any], lists: tuple[str, ...]
) -> _Rendered | None:
    """How to put this shape's values in order without SQLAlchemy, if that provably gives SQLAlchemy's.

    SQLAlchemy names the placeholders of a list ``name_1``, ``name_2``…; a placeholder named like none of the
    caller's lists or values is taken for the statement's own, kept as rendered. Proved before it is kept: the same
    shape rendered again with every value of the caller's replaced by a new object must put exactly those objects
    where the recipe says, and the statement's own values where it keeps them."""
    items = {f"{name}_{index + 1}": (name, index) for name in lists for index in range(len(parameters[name]))}
    processors = state.processors or {}
    sources: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
    for name, raw in zip(state.positiontup or (), state.positional_parameters, strict=True):
        convert = processors.get(name)
        if name in items:
            sources.append((items[name][0], items[name][1], convert))
        elif name in parameters:
            sources.append((name, None, convert))
        else:
            sources.append((None, raw, convert))
    rendered = _Rendered(state.statement, tuple(sources))
    probe = {name: [object() for _ in value] if name in lists else object() for name, value in parameters.items()}
    try:
        again = compiled.construct_expanded_state(probe)
        expected = rendered.values(probe, converted=False)
    except Exception:  # a list given as something that cannot be indexed (a set), a value it cannot render: no recipe
        return None
    found = list(again.positional_parameters)
    same = again.statement == rendered.sql and len(found) == len(expected)
    return rendered if same and all(a is b or a == b for a, b in zip(found, expected, strict=False)) else None


def fetch_in(connection: Connection, statement: Executable, parameters: Mapping[str, Any]) -> Sequence[Any]:
    """The rows of a read in the caller's transaction (a unit of work's): on the driver's own ``sqlite3``
    connection where there is one (the inline writer's), a statement compiled once, else through SQLAlchemy.

    The inline writer's reads took most of a unit of work's time there: 56 µs for one busy-conversation lookup
    through SQLAlchemy, most of it building the execution's context and result."""
    driver = connection.connection.driver_connection
    # Through SQLAlchemy also when something listens to the engine's statements (tests count them): it sees these.
    if not isinstance(driver, sqlite3.Connection) or connection.dispatch.before_cursor_execute:
        return connection.execute(statement, parameters).all()
    prepared = _prepare(statement)
    sql, values = _bound(prepared, parameters)
    try:
        cursor = driver.execute(sql, values)
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, values, error, sqlite3.Error) from error
    return prepared.rows(cursor)


class InlineReader:
    """One read-only SQLite connection, used by one event loop at a time, opened on first use."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._connection: sqlite3.Connection | None = None
        self.statements = 0  # how many statements ran here (tests count a request's database work)

    def _connect(self) -> sqlite3.Connection:
        # The loop's thread may differ from the one that opened it (a test's loop, a restarted server); calls never
        # overlap, since each runs to completion on the loop.
        connection = sqlite3.connect(self._database, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA query_only=ON")
        return connection

    def fetch_all(self, statement: Executable, parameters: Mapping[str, Any]) -> Sequence[Any] | None:
        """The statement's rows, or None when SQLite stayed busy past ``BUSY_TIMEOUT_MS`` (read elsewhere)."""
        if self._connection is None:
            self._connection = self._connect()
        prepared = _prepare(statement)
        sql, values = _bound(prepared, parameters)
        self.statements += 1
        try:
            cursor = self._connection.execute(sql, values)
        except sqlite3.OperationalError as error:
            if is_busy(error):
                return None
            raise OperationalError(sql, values, error) from error
        return prepared.rows(cursor)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def is_busy(error: Exception) -> bool:
    """SQLite's "database is locked" (SQLITE_BUSY), as opposed to a real failure of the statement."""
    message = str(getattr(error, "orig", error))
    return "locked" in message or "busy" in message
