"""Write transactions on a SQLite file, run whole on a plain connection: on the event loop, or on a thread when
another process is writing.

Through aiosqlite every statement of a transaction is a hand-off to its thread and back, with SQLAlchemy's async
adaptation around each: for the webhook worker's batches (a claim, the attempts of 64 deliveries recorded) those
hand-offs cost more than the statements (about 215 µs of CPU per delivery through aiosqlite, 100 µs here). A unit
of work written as a plain function over a synchronous SQLAlchemy ``Connection`` runs here in one go.

It runs on the loop, because handing it to a thread was slower still: the thread's Python contends with the loop
for the GIL, and a delivery's slot stays taken until its batch is recorded (28 % of the HTTP ceiling instead of
36 %, ``bench/webhooks.py``). The loop is held for the transaction's own time, a few milliseconds for a batch. It
is never held waiting for a lock: the transaction begins with a busy timeout of zero, and when another process
holds SQLite's write lock the work is rolled back and run again on the writer's thread, which waits for the lock
as the pool's connections do.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from appinstall.store.engine import BUSY_TIMEOUT_MS, configure_sqlite
from appinstall.store.inline import is_busy

T = TypeVar("T")


class InlineWriter:
    """Runs ``work(connection, *args)`` in a transaction; commits unless it raises. One transaction at a time:
    callers serialise (``Store.run_transaction`` holds the process's SQLite write lock)."""

    def __init__(self, database: str) -> None:
        self._engine = create_engine(
            URL.create("sqlite", database=database),
            poolclass=StaticPool,
            # Used on the loop's thread and, when SQLite is busy, on the writer's thread, never both at once.
            connect_args={"check_same_thread": False},
        )
        configure_sqlite(self._engine)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="appinstall-sqlite-writer")
        self._connection: Connection | None = None
        self._busy_timeout_ms = BUSY_TIMEOUT_MS  # as configure_sqlite leaves a new connection
        self._closed = False
        self.waits = 0  # transactions that found another process writing and waited on the thread

    @property
    def engine(self) -> Any:
        """The synchronous engine, for instrumentation (tests count its statements)."""
        return self._engine

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection

    def _transaction(self, work: Callable[..., T], args: tuple[Any, ...], busy_timeout_ms: int) -> T:
        connection = self._connect()
        if busy_timeout_ms != self._busy_timeout_ms:
            # On the driver's connection: through SQLAlchemy's, the statement would begin a transaction.
            driver: Any = connection.connection.driver_connection
            driver.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            self._busy_timeout_ms = busy_timeout_ms
        with connection.begin():
            return work(connection, *args)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """The work's result, once its transaction has committed."""
        try:
            return self._transaction(work, args, 0)
        except OperationalError as error:
            if not is_busy(error):
                raise
        # Another process is writing; the work was rolled back. Wait for the lock off the loop, then do it again.
        self.waits += 1
        done = asyncio.get_running_loop().run_in_executor(self._thread, self._transaction, work, args, BUSY_TIMEOUT_MS)
        try:
            return await asyncio.shield(done)
        finally:
            # A cancelled caller still waits for the transaction (it cannot be stopped half-way), so the lock the
            # caller holds is held until it ends.
            if not done.done():
                await asyncio.wait([done])

    def close(self) -> None:
        """Close the connection and stop the thread (after a transaction still running there). Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._thread.shutdown(wait=True)
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()
