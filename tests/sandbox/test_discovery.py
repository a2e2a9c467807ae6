"""Domain discovery: a connector asks where sentinel, idp and the Send API are, and is told "here"."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from appinstall.sandbox.service import host_of
from appinstall.settings import Settings

pytestmark = pytest.mark.anyio


@pytest.fixture
async def account(client: httpx.AsyncClient) -> str:
    (await client.post("/api/accounts", json={"id": "123"})).raise_for_status()
    return "123"


async def test_every_service_a_connector_looks_up_is_on_this_server(client: httpx.AsyncClient, account: str) -> None:
    response = await client.get(f"/api/account/{account}/service/baseURI.json", params={"version": "1.0"})
    assert response.status_code == 200
    found = {entry["service"]: entry for entry in response.json()["baseURIs"]}
    assert {"sentinel", "idp", "asyncMessagingEnt", "accountConfigReadWrite"} <= set(found)
    assert found["sentinel"] == {"service": "sentinel", "account": "123", "baseURI": "appinstall.test"}


async def test_discovery_needs_no_credentials(app: FastAPI, account: str) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost:8080") as anonymous:
        response = await anonymous.get(f"/api/account/{account}/service/baseURI.json?version=1.0")
    assert response.status_code == 200
    assert {entry["baseURI"] for entry in response.json()["baseURIs"]} == {"localhost:8080"}


async def test_the_configured_public_url_is_announced(settings: Settings, account: str, app: FastAPI) -> None:
    app.state.settings = settings.model_copy(update={"public_url": "https://sandbox.example.com:8443/"})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://internal") as anonymous:
        response = await anonymous.get(f"/api/account/{account}/service/baseURI.json")
    assert {entry["baseURI"] for entry in response.json()["baseURIs"]} == {"sandbox.example.com:8443"}


async def test_an_unknown_account_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/account/999/service/baseURI.json")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("https://example.com", "example.com"),
        ("example.com", "example.com"),
    ],
)
def test_a_base_url_is_written_without_its_scheme(url: str, host: str) -> None:
    assert host_of(url) == host
