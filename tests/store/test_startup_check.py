"""Opening the store: the master keys must open what it sealed, counted per key, and resealing covers it all."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from appinstall.settings import Settings
from appinstall.store import Keyring
from appinstall.store.keyring import generate_key, key_label
from appinstall.store.sealed import census, reseal
from appinstall.store.startup_check import ConfigurationError, open_keyring, open_store
from appinstall.tokens.keys import add_key

pytestmark = pytest.mark.anyio


def _settings(database_url: str, tmp_path: Path, master_key: str) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, master_key=master_key)


def test_postgresql_without_a_shared_master_key_is_refused() -> None:
    settings = Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1/test", master_key=None)
    with pytest.raises(ConfigurationError, match="APPINSTALL_MASTER_KEY"):
        open_keyring(settings)


async def _seal_signing_keys(settings: Settings, count: int) -> None:
    store = await open_store(settings)
    try:
        for _ in range(count):
            await add_key(store, "EdDSA", activates_at=0)
    finally:
        await store.close()


async def test_the_census_counts_what_each_master_key_sealed(database_url: str, tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    await _seal_signing_keys(_settings(database_url, tmp_path, old), 2)
    await _seal_signing_keys(_settings(database_url, tmp_path, f"{new},{old}"), 1)
    store = await open_store(_settings(database_url, tmp_path, f"{new},{old}"))
    try:
        found = await census(store)
    finally:
        await store.close()
    [new_id, old_id] = Keyring.parse(f"{new},{old}").key_ids
    assert found == {old_id: Counter({"signing key": 2}), new_id: Counter({"signing key": 1})}


async def test_a_keyring_without_the_key_that_sealed_something_is_refused_naming_it(
    database_url: str, tmp_path: Path
) -> None:
    old = generate_key()
    await _seal_signing_keys(_settings(database_url, tmp_path, old), 1)
    [old_id] = Keyring.parse(old).key_ids
    with pytest.raises(ConfigurationError, match=f"master key {key_label(old_id)} sealed 1 signing key"):
        await open_store(_settings(database_url, tmp_path, generate_key()))


async def test_reseal_in_small_batches_leaves_nothing_for_the_old_key_and_a_second_run_reseals_nothing(
    database_url: str, tmp_path: Path
) -> None:
    old, new = generate_key(), generate_key()
    await _seal_signing_keys(_settings(database_url, tmp_path, old), 5)
    store = await open_store(_settings(database_url, tmp_path, f"{new},{old}"))
    try:
        assert await reseal(store, batch_size=2) == Counter({"signing key": 5})
        assert await reseal(store, batch_size=2) == Counter()
        assert set(await census(store)) == {store.keyring.current_key_id}
    finally:
        await store.close()
    store = await open_store(_settings(database_url, tmp_path, new))  # the old key can go now
    await store.close()
