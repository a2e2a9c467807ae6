"""SQLite's engine settings (WAL, pragmas, write transactions that take the lock up front), and which URLs name a
SQLite store. The engine of either database is made by its dialect (``dialect.create_engine``)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url

READ_ONLY = "appinstall_read_only"
# How long a connection waits for another's write lock before SQLite answers "database is locked".
BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def configure_sqlite(engine: Engine) -> None:
    """WAL for concurrent readers, enforced foreign keys, and write transactions that take the lock up front.

    SQLite's default deferred transactions fail with "database is locked" when two of them read and then both
    try to write; ``BEGIN IMMEDIATE`` makes the second wait (up to the busy timeout) instead. Connections opened
    by ``Store.read()`` carry the ``READ_ONLY`` option and begin deferred, so reads never queue for the write
    lock (WAL lets them run beside a writer). ``engine`` is synchronous: an async engine's ``sync_engine``, or the
    store's writer thread's own (``store.writer``).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def use_wal(database: str) -> None:
    """Put the database file in WAL mode, once, before any pooled connection exists.

    The mode is stored in the file, so later connections inherit it. Switching needs the database to itself, and
    SQLite answers "database is locked" at once rather than waiting when another process (or engine) is switching
    or migrating at the same moment, so this retries for a while.
    """
    deadline = time.monotonic() + 10
    while True:
        try:
            with contextlib.closing(sqlite3.connect(database, timeout=10)) as connection:
                mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
                if str(mode).lower() != "wal":
                    connection.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
