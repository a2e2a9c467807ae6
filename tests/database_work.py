"""Counting what a request asks of the database: pool checkouts and statements, on the real engine.

Performance regressions in this service have been extra round trips (a connection per lookup, a query per
secret), invisible to functional tests; these counters make them visible without mocking the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@dataclass
class DatabaseWork:
    checkouts: int = 0
    queries: int = 0  # statements other than BEGIN / COMMIT / ROLLBACK


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[DatabaseWork]:
    work = DatabaseWork()

    def on_checkout(*_: Any) -> None:
        work.checkouts += 1

    def on_execute(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            work.queries += 1

    pool, sync_engine = engine.sync_engine.pool, engine.sync_engine
    event.listen(pool, "checkout", on_checkout)
    event.listen(sync_engine, "before_cursor_execute", on_execute)
    try:
        yield work
    finally:
        event.remove(pool, "checkout", on_checkout)
        event.remove(sync_engine, "before_cursor_execute", on_execute)
