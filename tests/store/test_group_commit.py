"""Group commit as policy, without a database: a fake transaction stages writes and keeps them only on commit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from appinstall.store.group_commit import Batched, GroupCommit

pytestmark = pytest.mark.anyio


class DeliberateError(Exception):
    pass


@dataclass
class FakeDatabase:
    """What committed, and each transaction's staged writes; ``fail_commits`` makes the next commits fail."""

    committed: list[Any] = field(default_factory=list)
    transactions: int = 0
    fail_commits: int = 0

    async def execute(self, unit: Callable[[Any], None]) -> None:
        staged: list[Any] = []
        unit(staged)  # the "connection" is the transaction's list of writes
        await asyncio.sleep(0)  # a commit takes a moment, in which more callers queue
        if self.fail_commits:
            self.fail_commits -= 1
            raise OSError("disk I/O error")
        self.transactions += 1
        self.committed.extend(staged)


def write(staged: list[Any], value: Any) -> Any:
    staged.append(value)
    return f"wrote {value}"


def write_then_fail(staged: list[Any], value: Any) -> None:
    staged.append(value)
    raise DeliberateError(value)


def _write_all(staged: list[Any], items: list[Any]) -> list[Any]:
    if "poison" in items:
        staged.extend(items[: items.index("poison")])
        raise DeliberateError("poison")
    staged.extend(items)
    return [f"batched {item}" for item in items]


WRITE_ALL = Batched(_write_all, "write all")
batch_calls: list[list[Any]] = []


def _write_all_counted(staged: list[Any], items: list[Any]) -> list[Any]:
    batch_calls.append(list(items))
    return _write_all(staged, items)


WRITE_ALL_COUNTED = Batched(_write_all_counted, "write all, counted")


async def test_concurrent_units_share_one_transaction() -> None:
    database = FakeDatabase()
    group = GroupCommit(database.execute)
    results = await asyncio.gather(*(group.run(write, n) for n in range(20)))
    assert results == [f"wrote {n}" for n in range(20)]
    assert database.transactions == 1
    assert database.committed == list(range(20))  # in the order they were queued


async def test_a_group_holds_at_most_max_group_units() -> None:
    database = FakeDatabase()
    group = GroupCommit(database.execute, max_group=8)
    await asyncio.gather(*(group.run(write, n) for n in range(20)))
    assert database.transactions == 3
    assert database.committed == list(range(20))


async def test_a_unit_that_raises_fails_alone_and_leaves_nothing_behind() -> None:
    database = FakeDatabase()
    group = GroupCommit(database.execute)
    outcomes = await asyncio.gather(
        group.run(write, "a"), group.run(write_then_fail, "bad"), group.run(write, "b"), return_exceptions=True
    )
    assert outcomes[0] == "wrote a" and outcomes[2] == "wrote b"
    assert isinstance(outcomes[1], DeliberateError)
    assert database.committed == ["a", "b"]  # the failing unit's write rolled back with its first group


async def test_nothing_is_answered_before_the_commit() -> None:
    database = FakeDatabase(fail_commits=1)
    group = GroupCommit(database.execute)
    outcomes = await asyncio.gather(group.run(write, "a"), group.run(write, "b"), return_exceptions=True)
    assert all(isinstance(outcome, OSError) for outcome in outcomes)
    assert database.committed == []


async def test_a_batched_function_gets_every_queued_item_in_one_call() -> None:
    database = FakeDatabase()
    group = GroupCommit(database.execute)
    batch_calls.clear()
    results = await asyncio.gather(*(group.run_batched(WRITE_ALL_COUNTED, n) for n in range(10)))
    assert results == [f"batched {n}" for n in range(10)]
    assert batch_calls == [list(range(10))]
    assert database.committed == list(range(10))


async def test_a_batch_that_raises_is_run_item_by_item_and_only_the_faulty_item_fails() -> None:
    database = FakeDatabase()
    group = GroupCommit(database.execute)
    items = ["a", "b", "poison", "c"]
    outcomes = await asyncio.gather(*(group.run_batched(WRITE_ALL, item) for item in items), return_exceptions=True)
    assert outcomes[:2] == ["batched a", "batched b"] and outcomes[3] == "batched c"
    assert isinstance(outcomes[2], DeliberateError)
    assert database.committed == ["a", "b", "c"]


async def test_plain_units_and_batched_items_keep_their_results_apart() -> None:
    database = FakeDatabase()
    group = GroupCommit(database.execute)
    outcomes = await asyncio.gather(
        group.run_batched(WRITE_ALL, "x"), group.run(write, 1), group.run_batched(WRITE_ALL, "y"), group.run(write, 2)
    )
    assert outcomes == ["batched x", "wrote 1", "batched y", "wrote 2"]
    assert database.transactions == 1
    assert database.committed == ["x", "y", 1, 2]  # a batch runs at its first item's place


async def test_a_caller_that_stops_waiting_does_not_stop_its_unit() -> None:
    database = FakeDatabase()
    group = GroupCommit(database.execute)
    waiting = asyncio.ensure_future(group.run(write, "kept"))
    await asyncio.sleep(0)
    waiting.cancel()
    await group.wait_idle()
    assert database.committed == ["kept"]


async def test_a_unit_queued_as_the_last_drain_ends_is_still_run() -> None:
    committed = asyncio.Event()
    database = FakeDatabase()

    async def execute(unit: Callable[[Any], None]) -> None:
        await database.execute(unit)
        committed.set()  # wakes the second caller before the drain's task has finished

    group = GroupCommit(execute)

    async def second() -> Any:
        await committed.wait()
        return await group.run(write, "second")

    waiting = asyncio.ensure_future(second())
    await asyncio.sleep(0)
    assert await group.run(write, "first") == "wrote first"
    assert await asyncio.wait_for(waiting, timeout=5) == "wrote second"
    assert database.committed == ["first", "second"]
