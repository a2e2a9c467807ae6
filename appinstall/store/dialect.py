"""What differs between the engines, in one object per engine, chosen once by the store (``Store.dialect``).

SQLite (embedded: one writer at a time, a file this process may also open itself) and PostgreSQL (many processes
on one queue: row locks, advisory locks, ``NOTIFY``) need different SQL in a few places: the upsert's construct,
the locks that keep concurrent transactions in order, how a claim leases the rows it chose, how a batch is
executed, how reads are isolated, how one process tells the others that work is due, how the engine is made.
Each difference is a member of ``Dialect``; no other module asks which engine it runs on
(``tests/store/test_dialect.py`` looks). A third database is one more subclass here, its name in ``_BY_NAME``
(and, to be typed as a URL, its async driver in the settings' URL schemes); a way of waking workers outside the
database (Redis, say) is one more ``Wakeup`` in ``store/wakeup.py``. Nothing else changes. (``engine.is_sqlite``
stays for the start-up checks about SQLite's file: its folder, its lock, the master key file beside it.)

Code that holds only a connection (the units of work of ``Store.run_transaction``) finds the same object with
``dialect_of(connection)``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import ARRAY, BigInteger, Connection, Table, bindparam, event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from appinstall.store.engine import READ_ONLY, configure_sqlite, use_wal
from appinstall.store.files import private_file

# Called with the notice's payload when a process says work is due.
Heard = Callable[[str], None]


class Listening(abc.ABC):
    """A connection that hears other processes' notices until closed."""

    @abc.abstractmethod
    async def close(self) -> None: ...


class Dialect(abc.ABC):
    """One engine's way of doing what the engines do differently."""

    name: ClassVar[str]
    # One write transaction at a time in the whole database (SQLite's write lock): what a writer read is still so
    # when it writes, and transactions need no other lock to keep out of each other's way.
    single_writer: ClassVar[bool]
    # The driver takes a batch as SQL and plain tuples, with no conversion of the values the hot statements carry
    # (text, integers, bytes, None): ``store.batch`` then skips SQLAlchemy's work for every row.
    plain_batches: ClassVar[bool]
    # A table's new integer key is the largest it holds plus one, and one writer at a time: the rows a transaction
    # inserts get consecutive keys in the order inserted (``store.batch.insert_keyed`` reads them off that).
    consecutive_keys: ClassVar[bool]
    # Processes can tell one another that work is due through the database (``notify``, ``listen``).
    notifies: ClassVar[bool] = False

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):  # ``store.dialect`` was the engine's name once: say so rather than answer False
            raise TypeError(f"a Dialect is not its name: ask it (or compare store.dialect.name) instead of {other!r}")
        return self is other

    __hash__ = object.__hash__

    @abc.abstractmethod
    def create_engine(self, url: str) -> AsyncEngine:
        """An async engine for ``url``, set up as this engine needs."""

    @abc.abstractmethod
    def upsert(self, table: Table) -> Any:
        """``insert(table)`` in the engine's own construct, the one with ``on_conflict_do_update``."""

    @abc.abstractmethod
    def lock(self, connection: Connection, keys: Iterable[int]) -> None:
        """Hold a lock on each key (64-bit integers) until the transaction ends, taken in one order (two
        transactions locking overlapping keys then wait for each other instead of deadlocking)."""

    @abc.abstractmethod
    def read_options(self) -> dict[str, Any]:
        """Execution options of a connection that only reads (``Store.read``)."""

    def inline_database(self, url: URL) -> str | None:
        """The file this process may read and write directly, outside the async driver, or None."""
        return None

    def notify(self, connection: Connection, channel: str, payload: str) -> None:
        """Tell every process listening on ``channel`` (``payload`` with it) once the connection's transaction
        commits, not if it rolls back."""
        raise NotImplementedError(f"{self.name} cannot notify other processes")

    async def listen(self, engine: AsyncEngine, channel: str, heard: Heard) -> Listening:
        """Call ``heard`` whenever a process notifies ``channel``, on a connection of its own."""
        raise NotImplementedError(f"{self.name} cannot notify other processes")


class SQLite(Dialect):
    name = "sqlite"
    single_writer = True
    plain_batches = True
    consecutive_keys = True  # SQLite's rowid: "one larger than the largest ROWID in the table prior to the insert"

    def create_engine(self, url: str) -> AsyncEngine:
        """The database file and its folder are created if missing, private, and the file put in WAL mode."""
        database = make_url(url).database
        if database and database != ":memory:":
            private_file(Path(database))
            use_wal(database)
        engine = create_async_engine(url)
        configure_sqlite(engine.sync_engine)
        return engine

    def upsert(self, table: Table) -> Any:
        return sqlite.insert(table)

    def lock(self, connection: Connection, keys: Iterable[int]) -> None:
        """Nothing: the write lock, taken at ``BEGIN IMMEDIATE``, already keeps every other writer out."""

    def read_options(self) -> dict[str, Any]:
        # Deferred: reads never queue for the write lock (see ``engine.configure_sqlite``).
        return {READ_ONLY: True}

    def inline_database(self, url: URL) -> str | None:
        database = url.database
        if not database or database == ":memory:" or database.startswith("file:") or url.query.get("mode") == "memory":
            return None
        return database


# Every key's lock in one round trip, in the keys' order (the subquery's).
_LOCK_KEYS = text(
    "SELECT pg_advisory_xact_lock(key) FROM (SELECT unnest(CAST(:keys AS bigint[])) AS key ORDER BY key) AS ordered"
).bindparams(bindparam("keys", type_=ARRAY(BigInteger)))


_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


class _PostgresListening(Listening):
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def close(self) -> None:
        await self._connection.close()


class PostgreSQL(Dialect):
    name = "postgresql"
    single_writer = False
    plain_batches = False
    consecutive_keys = False  # a sequence's numbers interleave between concurrent transactions
    notifies = True

    def create_engine(self, url: str) -> AsyncEngine:
        """A pool whose connections are tested at each checkout (a PostgreSQL restarted, or a backend terminated,
        is then invisible to the caller: the pool connects again), by one simple query.

        SQLAlchemy's own ``pool_pre_ping`` on asyncpg pings inside ``BEGIN`` … ``ROLLBACK`` (for PgBouncer's
        transaction mode): three round trips and about 0.3 ms of CPU at every checkout, several times a publish
        and a delivery. A ``SELECT 1`` in the simple-query protocol (no prepared statement, so PgBouncer is fine
        with it too) finds the same dead connections in one round trip for about 0.1 ms."""
        engine = create_async_engine(url, pool_size=10, max_overflow=10)
        event.listen(engine.sync_engine, "checkout", _ping_at_checkout)
        return engine

    def upsert(self, table: Table) -> Any:
        return postgresql.insert(table)

    def lock(self, connection: Connection, keys: Iterable[int]) -> None:
        """Transaction advisory locks, released at commit or rollback."""
        ordered = sorted(set(keys))
        if ordered:
            connection.execute(_LOCK_KEYS, {"keys": ordered})

    def read_options(self) -> dict[str, Any]:
        # At READ COMMITTED every statement takes its own snapshot anyway, so a BEGIN and a ROLLBACK around reads
        # would buy nothing but two round trips.
        return {"isolation_level": "AUTOCOMMIT"}

    def notify(self, connection: Connection, channel: str, payload: str) -> None:
        # PostgreSQL queues the notice with the transaction and delivers it at commit, only then.
        connection.execute(_NOTIFY, {"channel": channel, "payload": payload})

    async def listen(self, engine: AsyncEngine, channel: str, heard: Heard) -> Listening:
        connection = await engine.connect()
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        await driver.add_listener(channel, lambda _connection, _pid, _channel, payload: heard(payload))
        return _PostgresListening(connection)


def _ping_at_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection about to be lent: one round trip, or the pool replaces it (``DisconnectionError``: it
    tries again with a new connection, up to three times)."""
    try:
        dbapi_connection.run_async(lambda driver: driver.execute("SELECT 1"))
    except Exception as error:  # closed by the server, the network, a restart: whatever it is, not usable
        raise exc.DisconnectionError(f"a pooled connection failed its check ({type(error).__name__})") from error


_BY_NAME: dict[str, Dialect] = {dialect.name: dialect for dialect in (SQLite(), PostgreSQL())}


def dialect_named(name: str) -> Dialect:
    """The dialect of an engine by SQLAlchemy's name for it."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"appinstall does not run on {name}: SQLite or PostgreSQL") from None


def dialect_of(connection: Connection | AsyncConnection | AsyncEngine) -> Dialect:
    """The dialect of the engine a connection (or an engine) belongs to."""
    return dialect_named(connection.dialect.name)


def create_engine(url: str) -> AsyncEngine:
    """An async engine for ``url``, by the dialect the URL names."""
    return dialect_named(make_url(url).get_backend_name()).create_engine(url)


__all__ = ["Dialect", "Heard", "Listening", "PostgreSQL", "SQLite", "create_engine", "dialect_named", "dialect_of"]
