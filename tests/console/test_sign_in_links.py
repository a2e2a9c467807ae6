"""One-time sign-in links (what ``appinstall demo`` prints): good once, for minutes, for a key still valid."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from appinstall.console import links
from appinstall.http.deps import AppState
from tests.conftest import TEST_OPERATOR_TOKEN
from tests.console.conftest import Tenant, csrf_of

pytestmark = pytest.mark.anyio

SAME_ORIGIN = {"Origin": "http://appinstall.test", "Sec-Fetch-Site": "same-origin"}


def _state(app: FastAPI) -> AppState:
    assert isinstance(app.state, AppState)
    return app.state


async def _follow(client: httpx.AsyncClient, token: str) -> httpx.Response:
    page = await client.get("/console/sign-in/link", params={"token": token})
    return await client.post(
        "/console/sign-in/link", data={"link": token, "csrf_token": csrf_of(page.text)}, headers=SAME_ORIGIN
    )


async def test_a_link_signs_in_to_its_keys_account(
    app: FastAPI, browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    token = await links.issue(_state(app).store, tenant.account_id, tenant.key_id)
    answer = await _follow(browserless, token)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/accounts/acme/installations"
    assert (await browserless.get(answer.headers["location"])).status_code == 200


async def test_opening_a_link_does_not_spend_it(app: FastAPI, browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    token = await links.issue(_state(app).store, tenant.account_id, tenant.key_id)
    for _ in range(3):
        assert (await browserless.get("/console/sign-in/link", params={"token": token})).status_code == 200
    assert (await _follow(browserless, token)).status_code == 303


async def test_a_link_works_once(app: FastAPI, browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    token = await links.issue(_state(app).store, tenant.account_id, tenant.key_id)
    await _follow(browserless, token)
    browserless.cookies.clear()
    again = await _follow(browserless, token)
    assert again.status_code == 401 and "used already" in again.text


async def test_an_expired_link_is_refused(app: FastAPI, browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    store = _state(app).store
    token = await links.issue(store, tenant.account_id, tenant.key_id, lifetime_ms=1_000)
    later = store.clock() + 1_001
    store.clock = lambda: later
    assert (await _follow(browserless, token)).status_code == 401


async def test_a_link_of_a_revoked_key_is_refused(app: FastAPI, browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    token = await links.issue(_state(app).store, tenant.account_id, tenant.key_id)
    operator = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    assert (await browserless.delete(f"/api/accounts/acme/keys/{tenant.key_id}", headers=operator)).status_code == 204
    assert (await _follow(browserless, token)).status_code == 401


async def test_a_link_posted_without_the_forms_token_is_refused_and_kept(
    app: FastAPI, browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    token = await links.issue(_state(app).store, tenant.account_id, tenant.key_id)
    await browserless.get("/console/sign-in/link", params={"token": token})
    refused = await browserless.post("/console/sign-in/link", data={"link": token}, headers=SAME_ORIGIN)
    assert refused.status_code == 403
    assert (await _follow(browserless, token)).status_code == 303


async def test_a_made_up_link_is_refused(browserless: httpx.AsyncClient) -> None:
    assert (await _follow(browserless, "made-up")).status_code == 401
