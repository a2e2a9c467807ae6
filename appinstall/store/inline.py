"""Reads that run inline on the event loop, for the hottest read-only statements on SQLite.

Through aiosqlite, one small indexed ``SELECT`` costs about 0.55 ms of CPU: a pool checkout, a ``BEGIN`` and a
``ROLLBACK``, and a thread hand-off for each step of the cursor. The same statement on a connection that is kept
open and called directly costs about 0.07 ms, most of it SQLAlchemy's result processing, which we keep (JSON
columns, booleans). Blocking the loop for that long is cheaper than handing the work to a thread: in WAL mode a
reader never waits for the writer, so the call's time is the statement's own.

Only reads go this way. The connection is opened read-only (``PRAGMA query_only``) and in autocommit, so each
statement sees everything committed before it started, like a pooled read connection would. A database that
lives in memory cannot be shared between two connections, so it has no inline reader.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Executable, Row, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

# A reader in WAL mode does not wait for the writer; SQLite reports "busy" to one only in rare moments (another
# connection recovering the WAL after a crash, say). The loop must not stall on it: after this long the caller is
# told, and reads through the pool instead.
BUSY_TIMEOUT_MS = 50


class InlineReader:
    """One read-only SQLite connection, used by one event loop at a time, opened on first use."""

    def __init__(self, database: str) -> None:
        self._engine = create_engine(
            URL.create("sqlite", database=database),
            poolclass=StaticPool,
            isolation_level="AUTOCOMMIT",
            # The loop's thread may differ from the one that opened it (a test's loop, a restarted server);
            # calls never overlap, since each runs to completion on the loop.
            connect_args={"check_same_thread": False},
        )
        event.listen(self._engine, "connect", _read_only)
        self._connection: Connection | None = None

    @property
    def engine(self) -> Any:
        """The synchronous engine, for instrumentation (tests count its statements)."""
        return self._engine

    def fetch_all(self, statement: Executable, parameters: Mapping[str, Any]) -> Sequence[Row[Any]] | None:
        """The statement's rows, or None when SQLite stayed busy past ``BUSY_TIMEOUT_MS`` (read elsewhere)."""
        if self._connection is None:
            self._connection = self._engine.connect()
        try:
            return self._connection.execute(statement, dict(parameters)).all()
        except OperationalError as error:
            if not is_busy(error):
                raise
            return None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()


def _read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


def is_busy(error: OperationalError) -> bool:
    """SQLite's "database is locked" (SQLITE_BUSY), as opposed to a real failure of the statement."""
    return "locked" in str(error.orig) or "busy" in str(error.orig)


def inline_database(url: URL) -> str | None:
    """The file an inline reader may open for this engine URL, or None (not SQLite, or in memory)."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:") or url.query.get("mode") == "memory":
        return None
    return database
