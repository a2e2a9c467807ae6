"""The store on a SQLite file, migrated: where the inline reader and writer exist."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from appinstall.store import Keyring, Store, create_engine
from appinstall.store.migrate import upgrade
from tests.conftest import TEST_MASTER_KEY


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = Store(create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"), Keyring.parse(TEST_MASTER_KEY))
    await upgrade(store.engine)
    yield store
    await store.close()
