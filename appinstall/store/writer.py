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

Nor does it copy the WAL back into the database file on the loop. SQLite does that (a checkpoint, with an
``fsync``) in whichever connection's commit finds the WAL over 1,000 pages; for the inline connection that is
switched off, and a passive checkpoint runs on the writer's thread, on a connection of its own, at most every
``CHECKPOINT_INTERVAL_SECONDS`` after a commit. That was about 5 % of the loop's time in a drain.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Final, TypeVar

from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool

from appinstall.store.engine import BUSY_TIMEOUT_MS, configure_sqlite
from appinstall.store.inline import is_busy

log = logging.getLogger("appinstall.store")

T = TypeVar("T")

CHECKPOINT_INTERVAL_SECONDS: Final = 0.1
WRITER_CACHE_KIB: Final = 32 * 1024
"""The writer's page cache (SQLite's default is 2 MiB). Every delivery updates seven b-trees; with conversations
named by UUIDs, one of them changes at random places, and at 80,000 deliveries an insert found its pages outside
the default cache: 32 MiB made a batch's inserts 12 % cheaper there. One connection's worth: the readers keep the
default."""


class InlineWriter:
    """Runs ``work(connection, *args)`` in a transaction; commits unless it raises. One transaction at a time:
    callers serialise (``Store.run_transaction`` holds the process's SQLite write lock)."""

    def __init__(self, database: str) -> None:
        self._database = database
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
        self._checkpointer: sqlite3.Connection | None = None  # the thread's own, for checkpoints
        self._checkpointing: Future[None] | None = None
        self._last_checkpoint = 0.0
        self.checkpoints = 0

    @property
    def engine(self) -> Any:
        """The synchronous engine, for instrumentation (tests count its statements)."""
        return self._engine

    def _connect(self) -> Connection:
        if self._connection is None:
            self._connection = self._engine.connect()
            driver: Any = self._connection.connection.driver_connection
            driver.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints run on the thread instead
            driver.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        return self._connection

    def _checkpoint(self) -> None:
        """On the writer's thread: copy what the WAL holds into the database file, waiting for no one."""
        try:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self._database, isolation_level=None, check_same_thread=False)
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as error:  # another checkpoint is running, say: the next one catches up
            log.warning("SQLite checkpoint failed (%s); the next one will catch up", error)
            return
        self.checkpoints += 1

    def _after_commit(self) -> None:
        now = time.monotonic()
        running = self._checkpointing is not None and not self._checkpointing.done()
        if not running and now - self._last_checkpoint >= CHECKPOINT_INTERVAL_SECONDS:
            self._last_checkpoint = now
            self._checkpointing = self._thread.submit(self._checkpoint)

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
            result = self._transaction(work, args, 0)
        except OperationalError as error:
            if not is_busy(error):
                raise
        else:
            self._after_commit()
            return result
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
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._engine.dispose()
