"""Which errors mean "the store is out of reach" (503, send again) and which are bugs (500); trying work again
while the store is out of reach."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from appinstall.store.outage import is_store_outage, retried_while_out_of_reach


class _DriverError(Exception):
    pass


def test_a_lost_connection_is_an_outage() -> None:
    error = DBAPIError("SELECT 1", {}, _DriverError("connection was closed"), connection_invalidated=True)
    assert is_store_outage(error)


def test_operational_and_interface_errors_are_outages() -> None:
    assert is_store_outage(OperationalError("BEGIN", {}, _DriverError("database is locked")))
    assert is_store_outage(InterfaceError("SELECT 1", {}, _DriverError("connection is closed")))


def test_an_exhausted_pool_and_a_refused_connection_are_outages() -> None:
    assert is_store_outage(PoolTimeoutError("QueuePool limit reached"))
    assert is_store_outage(ConnectionRefusedError(111, "refused"))


def test_a_wrong_statement_or_a_broken_constraint_is_a_bug_not_an_outage() -> None:
    assert not is_store_outage(ProgrammingError("SELEC 1", {}, _DriverError("syntax error")))
    assert not is_store_outage(IntegrityError("INSERT", {}, _DriverError("duplicate key")))
    assert not is_store_outage(ValueError("not a store error"))


def test_work_is_tried_again_while_the_store_is_out_of_reach_then_its_answer_is_returned() -> None:
    failures = [OperationalError("BEGIN", {}, _DriverError("connection refused"))] * 2
    waited: list[float] = []

    async def work() -> str:
        if failures:
            raise failures.pop()
        return "done"

    assert asyncio.run(retried_while_out_of_reach(work, [0.0, 0.0, 0.0], waiting=waited.append)) == "done"
    assert waited == [0.0, 0.0]


def test_a_bug_is_raised_at_once_and_an_outage_after_the_last_try() -> None:
    tries = 0

    async def bug() -> None:
        nonlocal tries
        tries += 1
        raise ValueError("not the store's")

    async def outage() -> None:
        raise OperationalError("BEGIN", {}, _DriverError("database is locked"))

    with pytest.raises(ValueError):
        asyncio.run(retried_while_out_of_reach(bug, [0.0, 0.0]))
    assert tries == 1
    with pytest.raises(OperationalError):
        asyncio.run(retried_while_out_of_reach(outage, [0.0, 0.0]))
