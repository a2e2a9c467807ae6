"""execute_many: one statement for many rows, the rows' values and the statement's own; insert_many: rows as tuples;
insert_keyed: many rows and the keys they were given, in order; on both engines."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, bindparam, func, insert, select, update

from appinstall.accounts.tables import accounts
from appinstall.store import Store
from appinstall.store.batch import execute_many, insert_keyed, insert_many
from appinstall.tokens.tables import auth_failures
from appinstall.webhooks.tables import notifications
from tests.database_work import counting

pytestmark = pytest.mark.anyio

# The statement's own values (a literal, and a parameter used twice) beside the rows' parameters.
BUMP = (
    update(auth_failures)
    .where(auth_failures.c.bucket == bindparam("b_bucket"))
    .values(count=auth_failures.c.count + bindparam("b_by") + bindparam("b_by"), window_start=7)
)
ADD_ACCOUNT = insert(accounts)


@pytest.fixture
def store(store_on_both_engines: Store) -> Store:
    """Here on both engines (this replaces the SQLite-only ``store`` of ``tests/store/conftest.py``)."""
    return store_on_both_engines


def _seed_and_bump(connection: Connection) -> None:
    execute_many(connection, ADD_ACCOUNT, [{"id": "a", "created_at": 1}, {"id": "b", "created_at": 2}])
    connection.execute(
        insert(auth_failures), [{"bucket": name, "window_start": 0, "count": 1} for name in ("x", "y", "z")]
    )
    execute_many(connection, BUMP, [{"b_bucket": "x", "b_by": 1}, {"b_bucket": "y", "b_by": 10}])


async def test_every_row_is_executed_with_its_values_and_the_statements_own(store: Store) -> None:
    await store.run_transaction(_seed_and_bump)
    async with store.read() as connection:
        found = (await connection.execute(select(auth_failures).order_by(auth_failures.c.bucket))).all()
        account_rows = (await connection.execute(select(accounts.c.id, accounts.c.created_at))).all()
    assert [(row.bucket, row.count, row.window_start) for row in found] == [("x", 3, 7), ("y", 21, 7), ("z", 1, 0)]
    assert sorted(account_rows) == [("a", 1), ("b", 2)]


def _seed_and_reset(connection: Connection) -> None:
    connection.execute(
        insert(auth_failures), [{"bucket": name, "window_start": 5, "count": 4} for name in ("x", "y", "z")]
    )
    reset = update(auth_failures).where(auth_failures.c.bucket == bindparam("b_bucket")).values(count=0)
    execute_many(connection, reset, [{"b_bucket": "x"}, {"b_bucket": "z"}])


async def test_a_statement_with_one_parameter_takes_each_rows_value(store: Store) -> None:
    await store.run_transaction(_seed_and_reset)
    async with store.read() as connection:
        found = (await connection.execute(select(auth_failures.c.bucket, auth_failures.c.count))).all()
    assert sorted(found) == [("x", 0), ("y", 4), ("z", 0)]


def _bump_nothing(connection: Connection) -> None:
    execute_many(connection, BUMP, [])


async def test_no_rows_is_no_statement(store: Store) -> None:
    with counting(store) as work:
        await store.run_transaction(_bump_nothing)
    assert work.queries == 0


NOTE_COLUMNS = ("account_id", "event_type", "conversation_id", "body", "created_at")


def _note(index: int) -> tuple[object, ...]:
    return ("a", "ms.MessagingEventNotification.ContentEvent", f"c{index}", f"body {index}".encode(), index)


async def test_rows_given_as_tuples_are_stored_under_their_columns(store: Store) -> None:
    await store.run_transaction(insert_many, notifications, NOTE_COLUMNS, [_note(1), _note(2)])
    async with store.read() as connection:
        rows = (await connection.execute(select(notifications).order_by(notifications.c.created_at))).all()
    assert [(row.conversation_id, row.body, row.created_at) for row in rows] == [
        ("c1", b"body 1", 1),
        ("c2", b"body 2", 2),
    ]


async def test_keyed_rows_get_their_keys_in_the_order_given(store: Store) -> None:
    first = await store.run_transaction(insert_keyed, notifications, NOTE_COLUMNS, [_note(0)])
    keys = await store.run_transaction(
        insert_keyed, notifications, NOTE_COLUMNS, [_note(index) for index in range(1, 40)]
    )
    async with store.read() as connection:
        stored = dict((await connection.execute(select(notifications.c.id, notifications.c.conversation_id))).all())
    assert len(set(first + keys)) == 40
    assert [stored[key] for key in first + keys] == [f"c{index}" for index in range(40)]


async def test_keyed_rows_take_one_statement_for_many_rows(store: Store) -> None:
    with counting(store) as work:
        await store.run_transaction(insert_keyed, notifications, NOTE_COLUMNS, [_note(index) for index in range(500)])
    assert work.queries <= 3  # the insert, and on SQLite the largest key before it and the check after it


def _insert_at_the_largest_key(connection: Connection) -> None:
    connection.execute(insert(notifications), [{**dict(zip(NOTE_COLUMNS, _note(0), strict=True)), "id": 2**63 - 1}])


async def test_keys_that_are_not_consecutive_are_refused_rather_than_guessed(sqlite_store: Store) -> None:
    # Past the largest possible rowid SQLite picks free ones at random: the keys cannot be read off the largest.
    await sqlite_store.run_transaction(_insert_at_the_largest_key)
    with pytest.raises(RuntimeError, match="notifications: 3 rows inserted above key"):
        await sqlite_store.run_transaction(
            insert_keyed, notifications, NOTE_COLUMNS, [_note(index) for index in range(3)]
        )
    async with sqlite_store.read() as connection:
        assert (await connection.execute(select(func.count()).select_from(notifications))).scalar_one() == 1
