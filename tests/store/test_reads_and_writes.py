"""On SQLite, reads run beside a writer (WAL, deferred BEGIN) while writers queue for the lock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from appinstall.accounts.tables import accounts
from appinstall.store import Keyring, Store, create_engine
from appinstall.store.migrate import upgrade
from tests.conftest import TEST_MASTER_KEY

pytestmark = pytest.mark.anyio


async def test_a_read_does_not_wait_for_an_open_write_transaction(tmp_path: Path) -> None:
    store = Store(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"), Keyring.parse(TEST_MASTER_KEY))
    try:
        await upgrade(store.engine)
        async with store.transaction() as writer:
            await writer.execute(insert(accounts).values(id="pending", created_at=1))

            async def read_accounts() -> list[str]:
                async with store.read() as reader:
                    return list((await reader.execute(select(accounts.c.id))).scalars())

            assert await asyncio.wait_for(read_accounts(), timeout=2) == []  # the uncommitted row is not seen
        async with store.read() as reader:
            assert list((await reader.execute(select(accounts.c.id))).scalars()) == ["pending"]
    finally:
        await store.close()
