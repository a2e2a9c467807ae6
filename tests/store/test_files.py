"""The data folder, the SQLite database (with its WAL files) and the master key file are private to their owner."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from appinstall.app import open_store
from appinstall.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
async def test_a_new_data_folder_database_and_key_file_are_the_owners_alone(tmp_path: Path) -> None:
    data = tmp_path / "deep" / "data"
    store = await open_store(Settings(data_dir=data, database_url=None, master_key=None))
    try:
        assert _mode(data) == 0o700
        assert _mode(data / "appinstall.db") == 0o600
        assert _mode(data / "master.key") == 0o600
        wal_files = list(data.glob("appinstall.db-*"))
        assert wal_files  # -wal and -shm, while the store is open
        for wal_file in wal_files:
            assert _mode(wal_file) == 0o600, wal_file.name
    finally:
        await store.close()


@pytest.mark.usefixtures("permissive_umask")
async def test_an_existing_data_folder_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o750)
    data.chmod(0o750)
    store = await open_store(Settings(data_dir=data, database_url=None, master_key=None))
    await store.close()
    assert _mode(data) == 0o750
    assert _mode(data / "appinstall.db") == 0o600
