"""The store's wakeup: what a transaction asks for runs once it has committed, never when it rolls back."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from appinstall.store import Store
from appinstall.store.wakeup import LocalWakeup, wake_after_commit

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


async def test_a_sqlite_store_wakes_its_own_process_only(store: Store) -> None:
    assert type(store.wakeup) is LocalWakeup


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
