"""On a SQLite file, the hottest reads run inline on the event loop; they see exactly what is committed."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import bindparam, insert, select, text
from sqlalchemy.exc import OperationalError

from appinstall.accounts.tables import accounts
from appinstall.store import Keyring, Store, create_engine
from appinstall.store.inline import InlineReader
from appinstall.store.migrate import upgrade
from tests.conftest import TEST_MASTER_KEY

pytestmark = pytest.mark.anyio

ACCOUNT_IDS = select(accounts.c.id).where(accounts.c.created_at >= bindparam("since")).order_by(accounts.c.id)


async def test_a_sqlite_file_store_has_an_inline_reader(store: Store) -> None:
    assert store.inline_reader is not None


async def test_an_inline_read_sees_what_was_committed_before_it(store: Store) -> None:
    async with store.transaction() as connection:
        await connection.execute(insert(accounts).values(id="first", created_at=1))
    assert [row.id for row in await store.fetch_all(ACCOUNT_IDS, {"since": 0})] == ["first"]
    async with store.transaction() as connection:
        await connection.execute(insert(accounts).values(id="second", created_at=2))
    assert [row.id for row in await store.fetch_all(ACCOUNT_IDS, {"since": 0})] == ["first", "second"]


async def test_an_inline_read_does_not_see_an_open_write_transaction(store: Store) -> None:
    async with store.transaction() as connection:
        await connection.execute(insert(accounts).values(id="pending", created_at=1))
        assert list(await store.fetch_all(ACCOUNT_IDS, {"since": 0})) == []
    assert [row.id for row in await store.fetch_all(ACCOUNT_IDS, {"since": 0})] == ["pending"]


async def test_the_inline_reader_refuses_to_write(store: Store) -> None:
    with pytest.raises(OperationalError, match="readonly"):
        await store.fetch_all(text("INSERT INTO accounts (id, created_at) VALUES ('sneaky', 1)"), {})
    async with store.read() as connection:
        assert (await connection.execute(select(accounts.c.id))).all() == []


async def test_an_in_memory_store_reads_through_the_pool_instead() -> None:
    store = Store(create_engine("sqlite+aiosqlite:///:memory:"), Keyring.parse(TEST_MASTER_KEY))
    try:
        assert store.inline_reader is None
        assert (await store.fetch_all(text("SELECT :value AS value"), {"value": 7}))[0].value == 7
    finally:
        await store.close()


def _open_files_under(folder: Path) -> list[str]:
    """Files this process holds open under ``folder`` (Linux's /proc, as on CI)."""
    descriptors = Path("/proc/self/fd")
    targets = (str(descriptor.readlink()) for descriptor in descriptors.iterdir() if descriptor.is_symlink())
    return [target for target in targets if target.startswith(str(folder))]


async def test_closing_the_store_closes_the_inline_readers_file(store: Store, tmp_path: Path) -> None:
    await store.fetch_all(ACCOUNT_IDS, {"since": 0})
    assert _open_files_under(tmp_path)
    await store.close()
    assert _open_files_under(tmp_path) == []


@contextmanager
def _locked_by_another_process(database: Path) -> Iterator[sqlite3.Connection]:
    """A connection that holds SQLite's exclusive lock, as another process's WAL recovery would: readers are busy."""
    holder = sqlite3.connect(database, isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO accounts (id, created_at) VALUES ('locked-in', 1)")
        yield holder
    finally:
        holder.close()


async def test_an_inline_read_gives_way_at_once_when_sqlite_is_busy(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    store = Store(create_engine(f"sqlite+aiosqlite:///{database}"), Keyring.parse(TEST_MASTER_KEY))
    await upgrade(store.engine)
    await store.close()
    reader = InlineReader(str(database))
    try:
        with _locked_by_another_process(database):
            started = time.monotonic()
            assert reader.fetch_all(ACCOUNT_IDS, {"since": 0}) is None
            assert time.monotonic() - started < 1  # the busy timeout is 50 ms: the loop is never held for long
        assert [row.id for row in reader.fetch_all(ACCOUNT_IDS, {"since": 0}) or []] == []
    finally:
        reader.close()


async def test_a_read_that_finds_sqlite_busy_waits_on_the_pool_instead(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    store = Store(create_engine(f"sqlite+aiosqlite:///{database}"), Keyring.parse(TEST_MASTER_KEY))
    try:
        await upgrade(store.engine)
        await store.engine.dispose()  # the exclusive lock below needs the file to itself
        with _locked_by_another_process(database) as holder:
            reading = asyncio.create_task(store.fetch_all(ACCOUNT_IDS, {"since": 0}))
            await asyncio.sleep(0.3)
            assert not reading.done()  # waiting for the lock on the pool's thread, not on the loop
            holder.execute("COMMIT")
        assert [row.id for row in await asyncio.wait_for(reading, timeout=10)] == ["locked-in"]
    finally:
        await store.close()
