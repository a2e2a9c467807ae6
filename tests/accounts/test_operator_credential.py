"""The generated operator token when several processes start on one fresh database at the same moment."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import delete

from appinstall.accounts.service import Authenticator
from appinstall.accounts.tables import operator_credentials
from appinstall.store import Keyring, Store, create_engine
from appinstall.store.migrate import upgrade
from tests.conftest import TEST_MASTER_KEY

pytestmark = pytest.mark.anyio


async def test_processes_starting_together_agree_on_one_operator_token(database_url: str) -> None:
    stores = [Store(create_engine(database_url), Keyring.parse(TEST_MASTER_KEY)) for _ in range(4)]
    try:
        await upgrade(stores[0].engine)
        for _ in range(10):
            async with stores[0].engine.begin() as connection:
                await connection.execute(delete(operator_credentials))
            started = await asyncio.gather(*[Authenticator.start(store, None) for store in stores])
            [token] = [token for _, token in started if token is not None]
            for authenticator, _ in started:
                principal = await authenticator.authenticate(token)
                assert principal is not None and principal.is_operator
    finally:
        for store in stores:
            await store.close()
