"""Webhook header values through the API, on SQLite and PostgreSQL: sealed in the store, shown or masked on read."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from appinstall.app import create_app
from appinstall.registry import service as registry
from appinstall.registry.header_values import MASK, SEALED
from appinstall.registry.tables import installations
from appinstall.settings import Settings
from appinstall.store import Store
from tests.conftest import SEED, TEST_OPERATOR_TOKEN

pytestmark = pytest.mark.anyio

ACCOUNT = "77"
BASE = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
CONTENT = "ms.MessagingEventNotification.ContentEvent"
TOKEN = "Bearer receiver-token-0123"


def _manifest() -> dict[str, Any]:
    document = copy.deepcopy(SEED)
    hook = {
        "endpoint": "https://example.com/hook",
        "headers": [{"header_name": "Authorization", "header_value": TOKEN}],
    }
    document["capabilities"] = {"webhooks": {CONTENT: hook}}
    return document


def _header_values(installation: dict[str, Any]) -> list[str]:
    hook = installation["capabilities"]["webhooks"][CONTENT]
    return [header["header_value"] for header in hook["headers"]]


@pytest.fixture
async def masking(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Store]]:
    """A client of an app that masks secrets, and its store."""
    application: FastAPI = create_app(settings.model_copy(update={"mask_client_secret": True}))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        headers = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            assert (await client.post("/api/accounts", json={"id": ACCOUNT})).status_code == 201
            yield client, application.state.store


async def _stored_manifest(store: Store, installation_id: str) -> dict[str, Any]:
    async with store.read() as connection:
        manifest: dict[str, Any] = (
            await connection.execute(select(installations.c.manifest).where(installations.c.id == installation_id))
        ).scalar_one()
    return manifest


async def test_a_header_value_is_sealed_in_the_store_and_shown_when_secrets_are_not_masked(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await client.post("/api/accounts", json={"id": ACCOUNT})
    created = (await client.post(BASE, json=_manifest())).json()
    [stored] = _header_values(await _stored_manifest(app.state.store, created["id"]))
    assert stored.startswith(SEALED) and "receiver-token" not in stored
    assert _header_values((await client.get(f"{BASE}/{created['id']}")).json()) == [TOKEN]
    assert _header_values((await client.get(BASE)).json()[0]) == [TOKEN]


async def test_masked_reads_show_the_mask_and_a_get_then_put_keeps_the_value(
    masking: tuple[httpx.AsyncClient, Store],
) -> None:
    client, store = masking
    created = (await client.post(BASE, json=_manifest())).json()
    read = (await client.get(f"{BASE}/{created['id']}")).json()
    assert _header_values(read) == [MASK]
    assert _header_values((await client.get(BASE)).json()[0]) == [MASK]
    read["description"] = "changed"
    put = await client.put(f"{BASE}/{created['id']}", json=read, headers={"If-Match": "1"})
    assert put.status_code == 200, put.text
    assert _header_values(put.json()) == [MASK]
    patched = await client.patch(f"{BASE}/{created['id']}", json={"description": "again"}, headers={"If-Match": "2"})
    assert patched.status_code == 200, patched.text
    kept = await registry.get(store, ACCOUNT, created["id"])
    assert _header_values(kept.manifest) == [TOKEN]


async def test_a_mask_sent_for_a_header_with_no_stored_value_is_refused(
    masking: tuple[httpx.AsyncClient, Store],
) -> None:
    client, _ = masking
    created = (await client.post(BASE, json=_manifest())).json()
    read = (await client.get(f"{BASE}/{created['id']}")).json()
    read["capabilities"]["webhooks"][CONTENT]["headers"].append({"header_name": "X-New", "header_value": MASK})
    response = await client.put(f"{BASE}/{created['id']}", json=read, headers={"If-Match": "1"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "masked_value"
