"""PostgreSQL's pooled connections are checked as they are lent (one ``SELECT 1``, where SQLAlchemy's pre-ping takes
three round trips): a connection whose server side is gone is replaced before the caller sees it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from appinstall.store.dialect import create_engine

pytestmark = pytest.mark.anyio


@pytest.fixture
async def engine(postgres_database: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(postgres_database)
    yield engine
    await engine.dispose()


async def _backend(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        pid: int = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        return pid


async def _terminate(postgres_database: str, pid: int) -> None:
    admin = await asyncpg.connect(postgres_database.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_connection_whose_backend_was_terminated_is_replaced_unseen(
    engine: AsyncEngine, postgres_database: str
) -> None:
    first = await _backend(engine)
    await _terminate(postgres_database, first)
    assert await _backend(engine) != first  # no error: the check failed, the pool connected again
