"""A token service on its own store, with a clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from appinstall.settings import Settings
from appinstall.store import Keyring, Store, create_engine
from appinstall.store.migrate import upgrade
from appinstall.tokens.service import TokenService
from tests.conftest import TEST_MASTER_KEY


class Clock:
    """The store's clock, in milliseconds, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
async def tokens(database_url: str) -> AsyncIterator[tuple[TokenService, Clock]]:
    clock = Clock()
    store = Store(create_engine(database_url), Keyring.parse(TEST_MASTER_KEY), clock=clock)
    await upgrade(store.engine)
    service = TokenService(store, Settings(master_key=TEST_MASTER_KEY))
    await service.start()
    yield service, clock
    await store.close()
