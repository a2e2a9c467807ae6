"""Console fixtures: a browser-less client that signs in like a browser (the Chromium ones are in tests/browser.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.browser import ConsoleServer as ConsoleServer
from tests.browser import Tenant as Tenant
from tests.browser import browser_sign_in as browser_sign_in
from tests.conftest import TEST_OPERATOR_TOKEN

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, "the page has no CSRF token"
    return found.group(1)


async def make_tenant(client: httpx.AsyncClient, account_id: str) -> Tenant:
    """An account and one admin key of it, made by the operator through the API."""
    operator = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    assert (await client.post("/api/accounts", json={"id": account_id}, headers=operator)).status_code == 201
    made = await client.post(f"/api/accounts/{account_id}/keys", json={}, headers=operator)
    assert made.status_code == 201
    return Tenant(account_id, made.json()["key"], made.json()["id"])


async def sign_in(client: httpx.AsyncClient, credential: str) -> httpx.Response:
    """Sign in as a browser does: open the form (which sets its CSRF cookie), post it with the token."""
    form = await client.get("/console/sign-in")
    return await client.post(
        "/console/sign-in",
        data={"key": credential, "csrf_token": csrf_of(form.text)},
        headers={"Origin": "http://appinstall.test", "Sec-Fetch-Site": "same-origin"},
    )


@pytest.fixture
async def browserless(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie-keeping client on the app with no credential of its own."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://appinstall.test") as http:
        yield http


@pytest.fixture
async def tenant(browserless: httpx.AsyncClient) -> Tenant:
    return await make_tenant(browserless, "acme")
