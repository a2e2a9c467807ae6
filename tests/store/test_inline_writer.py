"""Units of work run whole in one transaction: inline on a SQLite file, waiting off the loop when another process
writes, and through the async driver elsewhere."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, select

from appinstall.accounts.tables import accounts
from appinstall.store import Keyring, Store, create_engine
from appinstall.store.migrate import upgrade
from appinstall.store.writer import CHECKPOINT_INTERVAL_SECONDS, WRITER_CACHE_KIB, InlineWriter
from tests.conftest import TEST_MASTER_KEY

pytestmark = pytest.mark.anyio


class DeliberateError(Exception):
    pass


def _add_accounts(connection: Connection, *ids: str) -> int:
    connection.execute(insert(accounts), [{"id": account_id, "created_at": 1} for account_id in ids])
    return len(ids)


def _add_then_fail(connection: Connection, account_id: str) -> None:
    _add_accounts(connection, account_id)
    raise DeliberateError


async def _account_ids(store: Store) -> list[str]:
    async with store.read() as connection:
        return list((await connection.execute(select(accounts.c.id).order_by(accounts.c.id))).scalars())


async def test_a_sqlite_file_store_writes_units_of_work_inline(store: Store) -> None:
    assert store.writer_engine is not None


async def test_a_unit_of_work_commits_and_returns_its_result(store: Store) -> None:
    assert await store.run_transaction(_add_accounts, "first", "second") == 2
    assert await _account_ids(store) == ["first", "second"]


async def test_a_unit_of_work_that_raises_leaves_nothing_behind(store: Store) -> None:
    with pytest.raises(DeliberateError):
        await store.run_transaction(_add_then_fail, "doomed")
    assert await _account_ids(store) == []
    assert await store.run_transaction(_add_accounts, "after") == 1  # the connection is usable again
    assert await _account_ids(store) == ["after"]


async def test_another_processs_write_lock_is_waited_for_off_the_loop(store: Store, tmp_path: Path) -> None:
    holder = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("INSERT INTO accounts (id, created_at) VALUES ('theirs', 1)")
        started = time.monotonic()
        writing = asyncio.create_task(store.run_transaction(_add_accounts, "ours"))
        await asyncio.sleep(0.3)
        assert time.monotonic() - started < 1  # the loop ran meanwhile: the wait is on the writer's thread
        assert not writing.done()
        holder.execute("COMMIT")
        assert await asyncio.wait_for(writing, timeout=10) == 1
    finally:
        holder.close()
    assert await _account_ids(store) == ["ours", "theirs"]
    assert store.writer_waits == 1


async def test_after_waiting_once_the_next_unit_of_work_runs_inline_again(store: Store, tmp_path: Path) -> None:
    holder = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        writing = asyncio.create_task(store.run_transaction(_add_accounts, "waited"))
        await asyncio.sleep(0.1)
        holder.execute("COMMIT")
        await asyncio.wait_for(writing, timeout=10)
    finally:
        holder.close()
    await store.run_transaction(_add_accounts, "inline")
    assert store.writer_waits == 1


async def test_an_in_memory_store_runs_units_of_work_through_the_async_driver() -> None:
    store = Store(create_engine("sqlite+aiosqlite:///:memory:"), Keyring.parse(TEST_MASTER_KEY))
    try:
        await upgrade(store.engine)
        assert store.writer_engine is None
        assert await store.run_transaction(_add_accounts, "in-memory") == 1
        assert await _account_ids(store) == ["in-memory"]
    finally:
        await store.close()


async def test_a_cancelled_caller_stops_waiting_but_its_unit_of_work_still_commits(
    store: Store, tmp_path: Path
) -> None:
    holder = sqlite3.connect(tmp_path / "db.sqlite", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        writing = asyncio.create_task(store.run_transaction(_add_accounts, "started"))
        await asyncio.sleep(0.1)
        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(writing, timeout=10)  # the group, not the caller, holds the write lock
        assert await _account_ids(store) == []  # still waiting for the other process, on the writer's thread
        holder.execute("COMMIT")
    finally:
        holder.close()
    await store.close()  # waits for the group
    async with store.read() as connection:
        rows = (await connection.execute(select(accounts.c.id))).scalars().all()
    assert rows == ["started"]  # the transaction could not be stopped half-way: it committed


async def _writer_on_a_migrated_file(database: Path) -> InlineWriter:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    await upgrade(engine)
    await engine.dispose()
    return InlineWriter(str(database))


async def test_the_inline_connection_leaves_checkpoints_to_the_writers_thread(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    writer = await _writer_on_a_migrated_file(database)
    try:
        for number in range(5):
            await writer.run(_add_accounts, f"account-{number}")
            await asyncio.sleep(CHECKPOINT_INTERVAL_SECONDS)
        await asyncio.sleep(0.2)
        assert writer.checkpoints >= 1
        with writer.engine.connect() as inline:  # (the writer's one connection: its pool holds just that)
            assert inline.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    finally:
        writer.close()
    with sqlite3.connect(database) as reader:  # everything reached the database file (and the WAL)
        assert reader.execute("SELECT count(*) FROM accounts").fetchone()[0] == 5


async def test_the_inline_connection_keeps_a_larger_page_cache(tmp_path: Path) -> None:
    writer = await _writer_on_a_migrated_file(tmp_path / "db.sqlite")
    try:
        await writer.run(_add_accounts, "account")
        with writer.engine.connect() as inline:  # (the writer's one connection: its pool holds just that)
            assert inline.exec_driver_sql("PRAGMA cache_size").scalar() == -WRITER_CACHE_KIB
    finally:
        writer.close()


async def test_concurrent_units_of_work_on_a_sqlite_file_share_transactions(store: Store) -> None:
    results = await asyncio.gather(*(store.run_transaction(_add_accounts, f"account-{n:02}") for n in range(20)))
    assert results == [1] * 20
    assert await _account_ids(store) == [f"account-{n:02}" for n in range(20)]
    groups, units = store.group_commits
    assert units == 20 and groups < 20  # queued together, committed together
