"""A worker with nothing to deliver waits: it claims again when woken or once a poll interval has passed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from appinstall.settings import Settings
from appinstall.store import Store
from appinstall.webhooks import claims
from appinstall.webhooks.worker import POLL_SECONDS, Worker
from tests.conftest import TEST_MASTER_KEY

pytestmark = pytest.mark.anyio


async def test_an_idle_worker_claims_about_once_a_poll_interval(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    claim = claims.claim_fairly

    async def counted(*args: object, **options: object) -> claims.Claimed:
        nonlocal calls
        calls += 1
        return await claim(*args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(claims, "claim_fairly", counted)
    worker = Worker(sqlite_store, Settings(data_dir=tmp_path, master_key=TEST_MASTER_KEY))
    await worker.start()
    try:
        await asyncio.sleep(2 * POLL_SECONDS)
    finally:
        await worker.stop()
    assert 1 <= calls <= 4, f"{calls} claims in {2 * POLL_SECONDS} s with nothing pending"
