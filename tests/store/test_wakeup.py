"""The store's wakeup: what a transaction asks for runs once it has committed, never when it rolls back."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from appinstall.store import Keyring, Store, create_engine, wake_sockets
from appinstall.store.wake_sockets import wake_folder
from appinstall.store.wakeup import LocalWakeup, SocketWakeup, wake_after_commit
from tests.conftest import TEST_MASTER_KEY

pytestmark = pytest.mark.anyio


class Counter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def _wake(connection: Connection) -> None:
    wake_after_commit(connection)


def _wake_and_fail(connection: Connection) -> None:
    wake_after_commit(connection)
    raise RuntimeError("the work failed")


@pytest.fixture
async def other_process(store: Store) -> AsyncIterator[Store]:
    """A second store on the same SQLite file, as another process (``appinstall worker``) would open it."""
    other = Store(create_engine(str(store.engine.url)), Keyring.parse(TEST_MASTER_KEY))
    yield other
    await other.close()


class Heard:
    def __init__(self) -> None:
        self.count = 0
        self.event = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self.event.set()


def _database(store: Store) -> str:
    database = store.engine.url.database
    assert database is not None
    return database


async def test_a_sqlite_file_store_also_wakes_the_other_processes_on_the_file(store: Store) -> None:
    assert type(store.wakeup) is SocketWakeup


async def test_a_sqlite_store_in_memory_wakes_its_own_process_only() -> None:
    in_memory = Store(create_engine("sqlite+aiosqlite:///:memory:"), Keyring.parse(TEST_MASTER_KEY))
    try:
        assert type(in_memory.wakeup) is LocalWakeup
    finally:
        await in_memory.close()


async def test_a_commit_wakes_a_worker_of_another_process_on_the_same_file(store: Store, other_process: Store) -> None:
    heard = Heard()
    await other_process.wakeup.subscribe(heard)
    await store.run_transaction(_wake)
    await asyncio.wait_for(heard.event.wait(), timeout=5)
    assert heard.count == 1


async def test_a_listener_bound_without_the_folders_time_moving_is_found_all_the_same(
    store: Store, other_process: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wake_sockets, "RELIST_SECONDS", 0.05)
    first = Heard()
    await other_process.wakeup.subscribe(first)
    await store.run_transaction(_wake)  # the folder listed: one listener
    await asyncio.wait_for(first.event.wait(), timeout=5)
    folder = wake_folder(_database(store))
    listed = folder.stat().st_mtime_ns
    third = Store(create_engine(str(store.engine.url)), Keyring.parse(TEST_MASTER_KEY))
    try:
        heard = Heard()
        await third.wakeup.subscribe(heard)
        os.utime(folder, ns=(listed, listed))  # as when both fall in one tick of the file system's clock
        await asyncio.sleep(0.1)
        await store.run_transaction(_wake)
        await asyncio.wait_for(heard.event.wait(), timeout=5)
    finally:
        await third.close()


async def test_a_rolled_back_transaction_wakes_no_other_process(store: Store, other_process: Store) -> None:
    heard = Heard()
    await other_process.wakeup.subscribe(heard)
    with pytest.raises(RuntimeError, match="the work failed"):
        await store.run_transaction(_wake_and_fail)
    await store.run_transaction(lambda connection: None)  # a commit that made nothing due
    await asyncio.sleep(0.2)
    assert heard.count == 0


async def test_a_process_hears_its_own_commit_once_not_again_by_datagram(store: Store) -> None:
    heard = Heard()
    await store.wakeup.subscribe(heard)
    await store.run_transaction(_wake)
    await asyncio.sleep(0.2)
    assert heard.count == 1


async def test_the_last_closed_subscription_leaves_neither_socket_nor_folder_behind(
    store: Store, other_process: Store
) -> None:
    first = await store.wakeup.subscribe(Heard())
    second = await other_process.wakeup.subscribe(Heard())
    folder = wake_folder(_database(store))
    assert len(list(folder.glob("*.sock"))) == 2
    await first.close()
    assert len(list(folder.glob("*.sock"))) == 1  # the other process's socket keeps the folder
    await second.close()
    assert not folder.exists()


async def test_the_socket_of_a_process_killed_while_listening_is_removed_by_the_next_commit(store: Store) -> None:
    folder = wake_folder(_database(store))
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stale = folder / "999999-dead.sock"
    killed = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    killed.bind(str(stale))
    killed.close()  # as the kernel closes it for a killed process: the file stays
    await store.run_transaction(_wake)
    assert not stale.exists()


async def test_a_closed_store_leaves_no_socket_of_its_listeners_behind(store: Store, other_process: Store) -> None:
    await other_process.wakeup.subscribe(Heard())  # never closed by its subscriber
    folder = wake_folder(_database(store))
    assert len(list(folder.glob("*.sock"))) == 1
    await other_process.close()
    assert not folder.exists()


async def test_a_wake_folder_others_may_write_to_is_not_used(store: Store, other_process: Store) -> None:
    folder = wake_folder(_database(store))
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)  # as a folder another user made first would be
    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    squatter.bind(str(folder / "1-squatter.sock"))
    squatter.setblocking(False)
    heard = Heard()
    await other_process.wakeup.subscribe(heard)  # hears its own process only, and polls for the rest
    assert [path.name for path in folder.iterdir()] == ["1-squatter.sock"]
    await store.run_transaction(_wake)
    await asyncio.sleep(0.2)
    assert heard.count == 0
    with pytest.raises(BlockingIOError):
        squatter.recv(64)  # nothing was sent into the folder either
    squatter.close()
    shutil.rmtree(folder)


async def test_a_wake_folder_that_cannot_be_read_is_said_once_and_the_commits_go_on(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def unreadable() -> int:
        raise PermissionError("permission denied")

    assert isinstance(store.wakeup, SocketWakeup)
    monkeypatch.setattr(store.wakeup.sender, "send", unreadable)
    heard = Heard()
    await store.wakeup.subscribe(heard)
    for _ in range(3):
        await store.run_transaction(_wake)
    assert heard.count == 3  # this process's workers hear all the same
    assert [record.getMessage() for record in caplog.records].count(
        f"cannot wake the other processes on {_database(store)} (permission denied); their workers will poll"
    ) == 1


def test_processes_meet_beside_the_database_file_when_its_path_is_short() -> None:
    database = "/srv/appinstall/appinstall.db"
    assert wake_folder(database) == Path("/srv/appinstall/appinstall.db-wake")


def test_a_path_too_long_for_a_socket_meets_in_the_temporary_directory_the_same_for_every_process() -> None:
    database = "/srv/" + "a" * 90 + "/appinstall.db"
    folder = wake_folder(database)
    assert folder.parent == Path(tempfile.gettempdir())
    assert folder == wake_folder(database)
    assert folder != wake_folder(database + "2")


async def test_a_unit_of_work_that_commits_wakes_each_subscriber_once(store: Store) -> None:
    first, second = Counter(), Counter()
    await store.wakeup.subscribe(first)
    await store.wakeup.subscribe(second)
    await store.run_transaction(_wake)
    assert (first.count, second.count) == (1, 1)


async def test_a_unit_of_work_that_fails_wakes_nobody(store: Store) -> None:
    counter = Counter()
    await store.wakeup.subscribe(counter)
    with pytest.raises(RuntimeError, match="the work failed"):
        await store.run_transaction(_wake_and_fail)
    assert counter.count == 0


async def test_the_mark_of_a_failed_transaction_does_not_leak_into_the_next(store: Store) -> None:
    counter = Counter()
    await store.wakeup.subscribe(counter)
    with pytest.raises(RuntimeError):
        async with store.transaction() as connection:
            await connection.run_sync(_wake)
            raise RuntimeError("rolled back")
    async with store.transaction():
        pass
    assert counter.count == 0


async def test_waking_outside_a_store_transaction_is_a_mistake_said_at_once(store: Store) -> None:
    async with store.engine.begin() as connection:
        with pytest.raises(RuntimeError, match="outside a store transaction"):
            await connection.run_sync(_wake)


async def test_a_failing_subscriber_neither_stops_the_others_nor_fails_the_commit(store: Store) -> None:
    def broken() -> None:
        raise ValueError("broken")

    counter = Counter()
    await store.wakeup.subscribe(broken)
    await store.wakeup.subscribe(counter)
    await store.run_transaction(_wake)
    assert counter.count == 1


async def test_a_closed_subscription_hears_nothing_more(store: Store) -> None:
    counter = Counter()
    subscription = await store.wakeup.subscribe(counter)
    await subscription.close()
    await store.run_transaction(_wake)
    assert counter.count == 0
