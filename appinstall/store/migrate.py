"""Applying the Alembic migrations: at every start, and by ``appinstall db upgrade``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from appinstall.store.dialect import dialect_of
from appinstall.store.keyring import Keyring

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any fixed number: the lock (an advisory lock on PostgreSQL) that serialises processes migrating one database.
_MIGRATION_LOCK = 0x61707069


def alembic_config(connection: Connection | None = None, keyring: Keyring | None = None) -> Config:
    """``keyring``: for the revisions that seal stored values (they refuse to run without it when there are any)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    config.attributes["keyring"] = keyring
    return config


def _upgrade(connection: Connection, keyring: Keyring | None) -> None:
    dialect_of(connection).lock(connection, [_MIGRATION_LOCK])
    command.upgrade(alembic_config(connection, keyring), "head")


async def upgrade(engine: AsyncEngine, keyring: Keyring | None = None) -> None:
    """Bring the database to the newest schema. Safe to call from many processes at once."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade, keyring)
