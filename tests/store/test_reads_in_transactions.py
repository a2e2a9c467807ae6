"""fetch_in: a unit of work's reads, on the writer's own connection on SQLite, through SQLAlchemy elsewhere; on both
engines they see what the transaction wrote before them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Connection, MetaData, String, Table, bindparam, insert, select
from sqlalchemy.exc import DBAPIError

from appinstall.accounts.tables import accounts
from appinstall.store import Store, fetch_in
from tests.database_work import counting

pytestmark = pytest.mark.anyio

SINCE = (
    select(accounts.c.id, accounts.c.created_at)
    .where(accounts.c.id.in_(bindparam("ids", expanding=True)), accounts.c.created_at >= bindparam("since"))
    .order_by(accounts.c.id)
)


@pytest.fixture
def store(store_on_both_engines: Store) -> Store:
    """Here on both engines."""
    return store_on_both_engines


def _write_then_read(connection: Connection) -> list[Any]:
    connection.execute(insert(accounts), [{"id": "a", "created_at": 1}, {"id": "b", "created_at": 5}])
    return list(fetch_in(connection, SINCE, {"ids": ["a", "b", "c"], "since": 2}))


async def test_a_read_sees_what_its_transaction_wrote_before_it(store: Store) -> None:
    [row] = await store.run_transaction(_write_then_read)
    assert (row.id, row.created_at) == ("b", 5)  # by name
    assert tuple(row) == ("b", 5)  # and by position


NOWHERE = Table("no_such_table", MetaData(), Column("id", String))


def _read_a_missing_table(connection: Connection) -> None:
    fetch_in(connection, select(NOWHERE.c.id), {})


async def test_a_failing_read_raises_sqlalchemys_error_naming_the_statement(store: Store) -> None:
    with pytest.raises(DBAPIError, match="no_such_table"):
        await store.run_transaction(_read_a_missing_table)


async def test_reads_are_counted_by_whoever_watches_the_engine(store: Store) -> None:
    with counting(store) as work:
        await store.run_transaction(_write_then_read)
    assert work.queries == 2  # the insert and the read


def _accounts_then_reads(connection: Connection) -> list[list[str]]:
    connection.execute(insert(accounts), [{"id": name, "created_at": 9} for name in "abcdef"])
    asked = [["a", "b", "c"], ["d", "e", "f"], ["a", "f", "x"], ["b"], ["c", "d"]]
    return [[row.id for row in fetch_in(connection, SINCE, {"ids": ids, "since": 0})] for ids in asked]


async def test_reads_of_one_shape_with_other_values_find_those_values(store: Store) -> None:
    # The SQL for a shape of the lists is kept: the values must be each call's own.
    found = await store.run_transaction(_accounts_then_reads)
    assert found == [["a", "b", "c"], ["d", "e", "f"], ["a", "f"], ["b"], ["c", "d"]]


async def test_inline_reads_of_one_shape_with_other_values_find_those_values(store: Store) -> None:
    await store.run_transaction(_write_then_read)
    first = await store.fetch_all(SINCE, {"ids": ["a", "b"], "since": 0})
    second = await store.fetch_all(SINCE, {"ids": ["b", "zz"], "since": 2})
    assert ([row.id for row in first], [row.id for row in second]) == (["a", "b"], ["b"])


LITERAL = (
    select(accounts.c.id)
    .where(
        accounts.c.id.in_(bindparam("ids", expanding=True)),
        accounts.c.created_at > bindparam("after", literal_execute=True),
    )
    .order_by(accounts.c.id)
)


def _reads_with_a_literal_and_a_set(connection: Connection) -> list[list[str]]:
    connection.execute(insert(accounts), [{"id": "a", "created_at": 1}, {"id": "b", "created_at": 5}])
    ids = ["a", "b"]
    return [
        [row.id for row in fetch_in(connection, LITERAL, {"ids": ids, "after": 0})],
        [row.id for row in fetch_in(connection, LITERAL, {"ids": ids, "after": 2})],  # the value written into the SQL
        [row.id for row in fetch_in(connection, SINCE, {"ids": {"a", "b"}, "since": 0})],  # a set, not a list
        [row.id for row in fetch_in(connection, SINCE, {"ids": {"b", "c"}, "since": 0})],
    ]


async def test_values_written_into_the_sql_and_sets_are_read_anew_each_time(store: Store) -> None:
    assert await store.run_transaction(_reads_with_a_literal_and_a_set) == [["a", "b"], ["b"], ["a", "b"], ["b"]]
