"""Here ``store`` is the store on a SQLite file (``sqlite_store``), unless a module says otherwise."""

from __future__ import annotations

import pytest

from appinstall.store import Store


@pytest.fixture
def store(sqlite_store: Store) -> Store:
    return sqlite_store
