"""Here ``store`` is the store on a SQLite file (``sqlite_store``), unless a module says otherwise;
``store_on_both_engines`` is a migrated store on each engine in turn (``database_url``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from appinstall.store import Keyring, Store, create_engine
from appinstall.store.migrate import upgrade
from tests.conftest import TEST_MASTER_KEY


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store


@pytest.fixture
async def store_on_both_engines(database_url: str) -> AsyncIterator[Store]:
    store = Store(create_engine(database_url), Keyring.parse(TEST_MASTER_KEY))
    await upgrade(store.engine)
    yield store
    await store.close()
