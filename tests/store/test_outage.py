"""Which errors mean "the store is out of reach" (503, send again) and which are bugs (500)."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from appinstall.store.outage import is_store_outage


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
