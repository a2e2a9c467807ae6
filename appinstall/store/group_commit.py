"""Group commit: units of work from concurrent callers share one transaction, and one commit.

A publish is a few small statements, and its transaction's fixed costs (``BEGIN IMMEDIATE``, the commit, the
write lock's hand-over, the caller's turn at it) were as much as the statements. When many requests arrive at once,
each still waits for the one before it to commit; here they queue instead, and whoever runs next takes everything
queued so far into one transaction. Nothing is answered before that transaction has committed: the callers'
futures are resolved only then.

Two kinds of unit:

* a ``work(connection, *args)``, run in queue order inside the group's transaction;
* a ``Batched`` item: the items of one batched function queued together are handed to it in one call (at the first
  item's place in the order), so it can do for all of them what it would do for one — one subscriber lookup and
  one insert for many publishes, say.

A unit that raises gets its own error, and no one else does: the group's transaction rolls back, the failing unit's
caller hears the error, and the others go back to the head of the queue, to run again in the next group. (A
batched call that raises is not told apart item by item: its items run again one per call, so the one at fault
fails alone.) Units must therefore be pure units of work, as ``Store.run_transaction`` already asks: no effect
outside the connection, safe to run again from the start.

The policy here is pure and testable without a database: it is handed ``execute`` (run one function in one
transaction and commit) by the store, which knows the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - the item of a batched function
R = TypeVar("R")

MAX_GROUP: Final = 128
"""Units in one transaction at most. On SQLite the group runs on the event loop: a bound on how long it holds it."""

GATHER_TURNS: Final = 2
"""Turns of the event loop a group waits before it forms, so that requests already read (and on their way to the
queue) join it instead of starting the next one."""


@dataclass(frozen=True)
class Batched(Generic[I, R]):
    """A function that does the work of many items at once: ``run(connection, items)`` answers one result per
    item, in order. Declare one at module level (its identity groups the items)."""

    run: Callable[[Connection, list[I]], list[R]]
    name: str = ""


@dataclass(eq=False)
class _Unit:
    future: asyncio.Future[Any]
    work: Callable[..., Any] | None = None
    args: tuple[Any, ...] = ()
    batched: Batched[Any, Any] | None = None
    item: Any = None
    alone: bool = False  # a batched item whose batch failed: run in a call of its own


class UnitError(Exception):
    """A unit of the group raised ``error``: the transaction is rolled back and only that unit fails."""

    def __init__(self, units: list[_Unit], error: BaseException) -> None:
        super().__init__(str(error))
        self.units = units
        self.error = error


Execute = Callable[[Callable[[Connection], None]], Awaitable[None]]


@dataclass
class GroupCommit:
    """The queue of units and the groups that drain it; ``concurrency`` groups may be in flight at once."""

    execute: Execute
    concurrency: int = 1
    max_group: int = MAX_GROUP
    gather_turns: int = GATHER_TURNS
    _queue: deque[_Unit] = field(default_factory=deque, init=False)
    _running: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    _draining: int = field(default=0, init=False)  # drains not yet finished (a finished task leaves the set later)
    groups: int = field(default=0, init=False)  # transactions committed (tests and benchmarks read these)
    units: int = field(default=0, init=False)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(connection, *args)``'s result, once the group it ran in has committed."""
        unit = _Unit(asyncio.get_running_loop().create_future(), work=work, args=args)
        return await self._submit(unit)  # type: ignore[no-any-return]

    async def run_batched(self, batched: Batched[I, R], item: I) -> R:
        """``item``'s result from a call of ``batched`` (with other callers' items), once it has committed."""
        unit = _Unit(asyncio.get_running_loop().create_future(), batched=batched, item=item)
        return await self._submit(unit)  # type: ignore[no-any-return]

    async def _submit(self, unit: _Unit) -> Any:
        self._queue.append(unit)
        if self._draining < self.concurrency:
            self._draining += 1
            task = asyncio.get_running_loop().create_task(self._drain())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        # The unit runs to the end even if this caller is cancelled (it cannot be stopped half-way): the shield
        # keeps the future's outcome for the group, and the caller stops waiting.
        return await asyncio.shield(unit.future)

    async def wait_idle(self) -> None:
        """Until every queued unit has run (the store's ``close``)."""
        while self._running:
            await asyncio.wait(set(self._running))

    async def _drain(self) -> None:
        try:
            for _ in range(self.gather_turns):
                await asyncio.sleep(0)
            while self._queue:
                await self._run_group(self._take())
                if self._queue:
                    await asyncio.sleep(0)  # let the loop read what arrived while the group ran
        finally:
            # In the same step as the last look at the queue: a unit queued from now on starts a drain of its own.
            self._draining -= 1

    def _take(self) -> list[_Unit]:
        group: list[_Unit] = []
        while self._queue and len(group) < self.max_group:
            group.append(self._queue.popleft())
        return group

    async def _run_group(self, group: list[_Unit]) -> None:
        calls = plan(group)
        outcomes: list[Any] = []

        def unit_of_work(connection: Connection) -> None:
            outcomes.clear()  # run again from the start (the store retries when another process was writing)
            for call in calls:
                outcomes.extend(call.run(connection))

        try:
            await self.execute(unit_of_work)
        except UnitError as failed:
            if len(failed.units) == 1:  # the unit at fault: its caller hears why
                _fail(failed.units, failed.error)
            else:  # a batch that failed as a whole: its items run again one per call, to find the one at fault
                for unit in failed.units:
                    unit.alone = True
            retry = [unit for unit in group if not unit.future.done()]
            self._queue.extendleft(reversed(retry))
            return
        except BaseException as error:  # the commit itself failed, or the connection did: everyone hears it
            _fail(group, error)
            if not isinstance(error, Exception):
                raise
            return
        self.groups += 1
        self.units += len(group)
        for unit, outcome in zip(_in_call_order(calls), outcomes, strict=True):
            if not unit.future.done():
                unit.future.set_result(outcome)


@dataclass
class _Call:
    """One call in a group: a plain work (one unit) or a batched function over its units' items."""

    units: list[_Unit]

    def run(self, connection: Connection) -> list[Any]:
        first = self.units[0]
        try:
            if first.batched is None:
                assert first.work is not None
                return [first.work(connection, *first.args)]
            results = first.batched.run(connection, [unit.item for unit in self.units])
        except OperationalError:
            raise  # about the transaction, not the unit (SQLite busy, a lost connection): the store's to handle
        except Exception as error:
            raise UnitError(self.units, error) from error
        if len(results) != len(self.units):
            raise UnitError(
                self.units, RuntimeError(f"{first.batched.name or 'a batched function'} answered the wrong count")
            )
        return results


def plan(group: Sequence[_Unit]) -> list[_Call]:
    """The calls that run ``group``, in order: each plain work alone, a batched function's items together at the
    place of the first of them (alone, if their batch failed before)."""
    calls: list[_Call] = []
    batches: dict[int, _Call] = {}
    for unit in group:
        if unit.batched is None or unit.alone:
            calls.append(_Call([unit]))
            continue
        call = batches.get(id(unit.batched))
        if call is None:
            call = batches[id(unit.batched)] = _Call([unit])
            calls.append(call)
        else:
            call.units.append(unit)
    return calls


def _in_call_order(calls: list[_Call]) -> list[_Unit]:
    return [unit for call in calls for unit in call.units]


def _fail(units: list[_Unit], error: BaseException) -> None:
    for unit in units:
        if not unit.future.done():
            unit.future.set_exception(error)
            with contextlib.suppress(BaseException):
                unit.future.exception()  # retrieved: a caller that stopped waiting leaves no warning behind
