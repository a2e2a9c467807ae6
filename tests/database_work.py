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

from appinstall.store import Store

_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


@dataclass
class DatabaseWork:
    checkouts: int = 0
    queries: int = 0  # statements other than BEGIN / COMMIT / ROLLBACK


@contextmanager
def counting(store: Store) -> Iterator[DatabaseWork]:
    """Checkouts of the store's pool, and statements on every connection of it, the inline reader's and the inline
    writer's included (read the counts after the block: the inline reader's are added as it ends)."""
    work = DatabaseWork()

    def on_checkout(*_: Any) -> None:
        work.checkouts += 1

    def on_execute(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().upper().startswith(_TRANSACTION_CONTROL):
            work.queries += 1

    pool = store.engine.sync_engine.pool
    engines = [store.engine.sync_engine] + ([store.writer_engine] if store.writer_engine is not None else [])
    inline = store.inline_reader
    inline_before = inline.statements if inline is not None else 0
    event.listen(pool, "checkout", on_checkout)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield work
    finally:
        event.remove(pool, "checkout", on_checkout)
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_execute)
        if inline is not None:
            work.queries += inline.statements - inline_before
