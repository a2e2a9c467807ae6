"""What the registry answers the webhooks domain: the subscribers of an event type, and what sending needs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from appinstall.registry import service as registry
from appinstall.store import Store
from tests.conftest import SEED

pytestmark = pytest.mark.anyio

ACCOUNT = "12345678"
BASE = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
CONTENT = "ms.MessagingEventNotification.ContentEvent"


@pytest.fixture
async def account(client: httpx.AsyncClient) -> str:
    (await client.post("/api/accounts", json={"id": ACCOUNT})).raise_for_status()
    return ACCOUNT


async def _install(client: httpx.AsyncClient, name: str, **changes: Any) -> str:
    response = await client.post(BASE, json={**SEED, "client_name": name, **changes})
    assert response.status_code == 201, response.text
    installation_id: str = response.json()["id"]
    return installation_id


async def _subscribers(store: Store, event_types: set[str], only: str | None = None) -> dict[str, list[str]]:
    async with store.read() as connection:
        return await connection.run_sync(registry.subscribers, ACCOUNT, event_types, only)


async def test_subscribers_are_the_enabled_live_installations_oldest_first(
    app: FastAPI, client: httpx.AsyncClient, account: str
) -> None:
    first = await _install(client, "first")
    await _install(client, "disabled", enabled=False)
    gone = await _install(client, "deleted")
    assert (await client.delete(f"{BASE}/{gone}")).status_code == 204
    second = await _install(client, "second")
    found = await _subscribers(app.state.store, {CONTENT, "not.an.event"})
    assert found == {CONTENT: [first, second]}


async def test_subscribers_can_be_narrowed_to_one_installation(
    app: FastAPI, client: httpx.AsyncClient, account: str
) -> None:
    await _install(client, "first")
    second = await _install(client, "second")
    assert await _subscribers(app.state.store, {CONTENT}, only=second) == {CONTENT: [second]}


async def test_a_target_has_its_live_secrets_the_current_one_first(
    app: FastAPI, client: httpx.AsyncClient, account: str
) -> None:
    store: Store = app.state.store
    created = (await client.post(BASE, json=SEED)).json()
    rotated = (await client.post(f"{BASE}/{created['id']}/secret", params={"grace_seconds": 60})).json()
    async with store.reading() as reading:
        found = await registry.targets(reading, [created["id"], "no-such-installation"], store.clock())
    assert list(found) == [created["id"]]
    target = found[created["id"]]
    assert (target.enabled, target.deleted) == (True, False)
    assert target.secrets == [rotated["client_secret"], created["client_secret"]]
