"""The handle every service works through: the engine, the keyring and the clock; the engine's dialect and the
workers' wakeup, each chosen once here (``store/dialect.py``, ``store/wakeup.py``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Executable
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from appinstall.store.dialect import Dialect, dialect_of
from appinstall.store.group_commit import Batched, GroupCommit
from appinstall.store.inline import InlineReader
from appinstall.store.keyring import Keyring
from appinstall.store.wakeup import Wake, Wakeup, committing, wakeup_for
from appinstall.store.writer import InlineWriter

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - the item of a batched unit of work
R = TypeVar("R")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class Store:
    """What services need to reach the data. ``clock`` returns milliseconds and is replaceable in tests.

    ``dialect`` is what differs between the engines; ``wakeup`` is how a commit that made work due reaches the
    workers (``wake_after_commit`` in a transaction of this store).
    """

    engine: AsyncEngine
    keyring: Keyring
    clock: Callable[[], int] = field(default=now_ms)
    dialect: Dialect = field(init=False)
    wakeup: Wakeup = field(init=False)
    _sqlite_writer: asyncio.Lock = field(default_factory=asyncio.Lock, init=False, repr=False)
    _inline: InlineReader | None = field(default=None, init=False, repr=False)
    _writer: InlineWriter | None = field(default=None, init=False, repr=False)
    _group: GroupCommit = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.dialect = dialect_of(self.engine)
        self.wakeup = wakeup_for(self.dialect, self.engine)
        database = self.dialect.inline_database(self.engine.url)
        if database is not None:
            self._inline = InlineReader(database)
            self._writer = InlineWriter(database)
            self._group = GroupCommit(self._commit_inline)
        else:
            # Where transactions run side by side (PostgreSQL), only batched units are grouped; more than one group
            # may be on its way to the database, so one slow commit does not hold up the next group.
            self._group = GroupCommit(self._commit_async, concurrency=1 if self.dialect.single_writer else 2)

    @asynccontextmanager
    async def read(self, reuse: AsyncConnection | None = None) -> AsyncIterator[AsyncConnection]:
        """A connection for reading; on SQLite it does not take the write lock.

        ``reuse`` is a read connection the caller already holds (one per request, see ``http.deps``): it is
        lent as it is and left open. Each checkout costs the pool's ping (and on SQLite a ``BEGIN`` and a
        ``ROLLBACK``), which were most of a small request's time.
        """
        if reuse is not None:
            yield reuse
            return
        async with self.engine.connect() as connection:
            await connection.execution_options(**self.dialect.read_options())
            yield connection

    async def fetch_all(self, statement: Executable, parameters: Mapping[str, Any]) -> Sequence[Any]:
        """The rows of one read-only statement, by the cheapest way the engine has.

        For the few reads on the hottest paths (client authentication, the webhook worker's claims). On a SQLite
        file the statement runs inline on the event loop (see ``store.inline``) unless SQLite is busy for a
        moment; otherwise, and on PostgreSQL, on a pooled read connection. Give a statement built once, with
        ``bindparam`` placeholders, so SQLAlchemy computes its cache key once too.
        """
        if self._inline is not None:
            rows = self._inline.fetch_all(statement, parameters)
            if rows is not None:
                return rows
        async with self.read() as connection:
            return (await connection.execute(statement, dict(parameters))).all()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Reading]:
        """For several hot reads in a row: inline on a SQLite file, otherwise one pooled connection for them all
        (each checkout costs a ping)."""
        if self._inline is not None:
            yield Reading(self, None)
            return
        async with self.read() as connection:
            yield Reading(self, connection)

    @property
    def writer_engine(self) -> Any | None:
        """The inline writer's synchronous engine, if this store has one (tests count its statements)."""
        return None if self._writer is None else self._writer.engine

    @property
    def writer_waits(self) -> int:
        """How many units of work found another process writing and waited for it off the loop."""
        return 0 if self._writer is None else self._writer.waits

    @property
    def inline_reader(self) -> InlineReader | None:
        """The inline reader, if this store has one (tests count the statements it runs)."""
        return self._inline

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection in a transaction that commits when the block ends (and rolls back on error).

        SQLite has one writer at a time. Within this process, writers queue on an asyncio lock instead of in
        SQLite's busy handler, which polls with sleeps of up to 100 ms; other processes still meet the busy
        handler (``busy_timeout``). Once it has committed, whatever the transaction asked for with
        ``wake_after_commit`` runs.
        """
        after_commit: list[Wake] = []
        if not self.dialect.single_writer:
            async with self.engine.begin() as connection:
                with committing(connection, self.wakeup, after_commit):
                    yield connection
        else:
            async with self._sqlite_writer, self.engine.begin() as connection:
                with committing(connection, self.wakeup, after_commit):
                    yield connection
        _run(after_commit)

    async def run_transaction(self, work: Callable[..., T], *args: Any) -> T:
        """``work(connection, *args)`` in a write transaction on a synchronous ``Connection``; its result, once
        committed.

        For the hot write paths (publishing, the Send API, the webhook worker's claims and records), written once
        as plain functions over SQLAlchemy Core: pure units of work, which may run again from the start and which
        fail alone (see ``store.group_commit``). On a SQLite file, concurrent callers' works share a transaction
        (group commit), run whole on a plain connection, on the loop unless another process holds the write lock
        (see ``store.writer``), instead of a thread hand-off per statement. Elsewhere SQLAlchemy runs each inside
        an async transaction of its own (``run_sync``), statement by statement on the async driver.
        """
        if self._writer is None:
            async with self.transaction() as connection:
                return await connection.run_sync(work, *args)
        return await self._group.run(work, *args)

    async def run_batched(self, batched: Batched[I, R], item: I) -> R:
        """``item``'s result from ``batched.run(connection, items)``, called once for the items concurrent callers
        gave, in one transaction (on every engine); answered once committed."""
        return await self._group.run_batched(batched, item)

    @property
    def group_commits(self) -> tuple[int, int]:
        """Transactions the group commit has committed, and the units they held (tests and benchmarks)."""
        return self._group.groups, self._group.units

    async def _commit_inline(self, unit: Callable[[Connection], None]) -> None:
        assert self._writer is not None
        after_commit: list[Wake] = []

        def framed(connection: Connection) -> None:
            after_commit.clear()  # run again (another process was writing): only the last run counts
            with committing(connection, self.wakeup, after_commit):
                unit(connection)

        async with self._sqlite_writer:
            await self._writer.run(framed)
        _run(after_commit)

    async def _commit_async(self, unit: Callable[[Connection], None]) -> None:
        async with self.transaction() as connection:
            await connection.run_sync(unit)

    async def close(self) -> None:
        await self._group.wait_idle()
        self.wakeup.close()
        if self._writer is not None:
            self._writer.close()
        if self._inline is not None:
            self._inline.close()
        await self.engine.dispose()


def _run(after_commit: list[Wake]) -> None:
    for callback in after_commit:
        callback()


@dataclass(frozen=True)
class Reading:
    """Reads on the connection ``Store.reading()`` chose; ``connection`` is None where reads run inline."""

    store: Store
    connection: AsyncConnection | None

    async def fetch_all(self, statement: Executable, parameters: Mapping[str, Any]) -> Sequence[Any]:
        if self.connection is None:
            return await self.store.fetch_all(statement, parameters)
        return (await self.connection.execute(statement, dict(parameters))).all()
