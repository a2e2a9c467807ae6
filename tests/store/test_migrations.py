"""The migrations build exactly ``appinstall.store.schema``, idempotently and safely in parallel."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from appinstall.accounts.tables import accounts
from appinstall.registry.header_values import open_values
from appinstall.registry.names import name_key
from appinstall.registry.tables import installations
from appinstall.store import create_engine, is_sqlite
from appinstall.store.keyring import Keyring
from appinstall.store.migrate import alembic_config, upgrade
from appinstall.store.schema import metadata
from tests.conftest import TEST_MASTER_KEY

pytestmark = pytest.mark.anyio


@pytest.fixture
async def empty_database_url(database_url: str) -> AsyncIterator[str]:
    """A database with no tables at all, on the engine of ``database_url``.

    The SQLite file of ``database_url`` is new for each test. The PostgreSQL database is shared by the session
    (and other tests may have migrated it), so a new one is created next to it and dropped afterwards.
    """
    if is_sqlite(database_url):
        yield database_url
        return
    # database_url's teardown truncates the shared database's tables, so they must exist even when no other
    # test has migrated it yet (this file run alone).
    shared = create_engine(database_url)
    try:
        await upgrade(shared)
    finally:
        await shared.dispose()
    url = make_url(database_url)
    name = f"{url.database}_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture
async def engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(empty_database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def _schema_differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


def _revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def _differences(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as connection:
        return await connection.run_sync(_schema_differences)


async def _current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_revision)


HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_an_empty_database_differs_from_the_tables(engine: AsyncEngine) -> None:
    assert await _differences(engine) != []


async def test_after_upgrade_the_schema_matches_the_tables(engine: AsyncEngine) -> None:
    await upgrade(engine)
    assert await _differences(engine) == []


async def test_upgrade_brings_the_database_to_the_newest_revision(engine: AsyncEngine) -> None:
    await upgrade(engine)
    assert HEAD is not None
    assert await _current_revision(engine) == HEAD


async def test_upgrading_twice_leaves_the_schema_as_it_was(engine: AsyncEngine) -> None:
    await upgrade(engine)
    await upgrade(engine)
    assert await _differences(engine) == []
    assert await _current_revision(engine) == HEAD


async def test_upgrading_twice_keeps_the_data(engine: AsyncEngine) -> None:
    await upgrade(engine)
    async with engine.begin() as connection:
        await connection.execute(insert(accounts).values(id="acme", created_at=1))
    await upgrade(engine)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(accounts.c.id, accounts.c.created_at))).all()
    assert [tuple(row) for row in rows] == [("acme", 1)]


async def test_two_concurrent_upgrades_both_succeed(empty_database_url: str) -> None:
    engines = [create_engine(empty_database_url), create_engine(empty_database_url)]
    try:
        # Unserialised, two migrations in one process can wait on each other for ever: fail instead of hanging.
        async with asyncio.timeout(30):
            await asyncio.gather(*(upgrade(engine) for engine in engines))
        assert await _differences(engines[0]) == []
        assert await _current_revision(engines[1]) == HEAD
    finally:
        for engine in engines:
            await engine.dispose()


def _upgrade_to(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


def _manifest(retention: int | None, **max_retries: int) -> dict[str, Any]:
    webhooks: dict[str, Any] = {
        f"ms.MessagingEventNotification.{event}": {"endpoint": "https://example.com/hook", "max_retries": count}
        for event, count in max_retries.items()
    }
    if retention is not None:
        webhooks["retry"] = {"retention_time": retention}
    return {"client_name": "app", "capabilities": {"webhooks": webhooks}}


async def test_revision_0008_drops_the_zero_retries_written_for_absent_ones_in_retention_mode(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_to, "0007")
        await connection.execute(insert(accounts).values(id="acme", created_at=1))
        stored = {
            "retention": _manifest(3600, ContentEvent=0, ChatStateEvent=3),
            "count": _manifest(None, ContentEvent=0),
        }
        for key, manifest in stored.items():
            await connection.execute(
                insert(installations).values(
                    id=key,
                    account_id="acme",
                    client_name=key,
                    client_name_key=key,
                    manifest=manifest,
                    enabled=True,
                    deleted=False,
                    revision=1,
                    client_id_issued_at=1,
                    created_at=1,
                    updated_at=1,
                )
            )
    await upgrade(engine)
    async with engine.connect() as connection:
        found = {row.id: row.manifest for row in await connection.execute(select(installations))}
    retention_hooks = found["retention"]["capabilities"]["webhooks"]
    assert "max_retries" not in retention_hooks["ms.MessagingEventNotification.ContentEvent"]
    assert retention_hooks["ms.MessagingEventNotification.ChatStateEvent"]["max_retries"] == 3
    assert found["count"] == stored["count"]


async def test_revision_0010_keys_names_by_their_folded_form_and_keeps_existing_look_alikes_apart(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_to, "0009")
        await connection.execute(insert(accounts).values(id="acme", created_at=1))
        for number, (key, name, deleted) in enumerate(
            [
                ("old", "Straße", False),
                ("young", "STRASSE", False),
                ("gone", "strasse", True),
                ("wide", "\uff21\uff43\uff4d\uff45", False),
            ]
        ):
            await connection.execute(
                insert(installations).values(
                    id=key,
                    account_id="acme",
                    client_name=name,
                    client_name_key=name.lower(),
                    manifest={"client_name": name},
                    enabled=True,
                    deleted=deleted,
                    revision=1,
                    client_id_issued_at=1,
                    created_at=number,
                    updated_at=number,
                )
            )
    await upgrade(engine)
    async with engine.connect() as connection:
        keys = {row.id: row.client_name_key for row in await connection.execute(select(installations))}
    assert keys["old"] == keys["gone"] == name_key("strasse")
    assert keys["young"] not in (keys["old"], name_key("STRASSE"))
    assert keys["wide"] == name_key("acme")


async def _install_at_0010(engine: AsyncEngine, manifest: dict[str, Any]) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_to, "0010")
        await connection.execute(insert(accounts).values(id="acme", created_at=1))
        await connection.execute(
            insert(installations).values(
                id="inst",
                account_id="acme",
                client_name="app",
                client_name_key=name_key("app"),
                manifest=manifest,
                enabled=True,
                deleted=False,
                revision=1,
                client_id_issued_at=1,
                created_at=1,
                updated_at=1,
            )
        )


def _with_header(value: str) -> dict[str, Any]:
    hook = {
        "endpoint": "https://example.com/hook",
        "headers": [{"header_name": "Authorization", "header_value": value}],
    }
    return {"client_name": "app", "capabilities": {"webhooks": {"ms.MessagingEventNotification.ContentEvent": hook}}}


async def test_revision_0011_seals_the_header_values_stored_in_plain_text(engine: AsyncEngine) -> None:
    await _install_at_0010(engine, _with_header("Bearer plain"))
    keyring = Keyring.parse(TEST_MASTER_KEY)
    await upgrade(engine, keyring)
    async with engine.connect() as connection:
        [stored] = [row.manifest for row in await connection.execute(select(installations))]
    assert "Bearer plain" not in str(stored)
    assert open_values(stored, keyring, "inst") == _with_header("Bearer plain")


async def test_revision_0011_without_the_master_key_refuses_rather_than_leave_values_plain(engine: AsyncEngine) -> None:
    await _install_at_0010(engine, _with_header("Bearer plain"))
    with pytest.raises(RuntimeError, match="needs the master key"):
        await upgrade(engine)
