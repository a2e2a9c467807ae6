"""Domain discovery: a connector asks where sentinel, idp and the Send API are, and is told "here"."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from appinstall.sandbox.service import host_of
from appinstall.settings import Settings

pytestmark = pytest.mark.anyio

DISCOVERY = "/api/account/{account}/service/baseURI.json"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Not in dev mode (the sandbox's tests are, for their webhooks), with the tests' host listed."""
    return settings.model_copy(update={"allowed_hosts": ["appinstall.test"], "dev": False})


@pytest.fixture
async def account(client: httpx.AsyncClient) -> str:
    (await client.post("/api/accounts", json={"id": "123"})).raise_for_status()
    return "123"


async def _discover(app: FastAPI, account: str, host: str = "appinstall.test") -> httpx.Response:
    """An anonymous request, as a connector makes it, to ``host``."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}") as anonymous:
        return await anonymous.get(DISCOVERY.format(account=account), params={"version": "1.0"})


async def test_every_service_a_connector_looks_up_is_on_this_server(app: FastAPI, account: str) -> None:
    response = await _discover(app, account)
    assert response.status_code == 200
    found = {entry["service"]: entry for entry in response.json()["baseURIs"]}
    assert {"sentinel", "idp", "asyncMessagingEnt", "accountConfigReadWrite"} <= set(found)
    assert found["sentinel"] == {"service": "sentinel", "account": "123", "baseURI": "appinstall.test"}


async def test_an_unknown_account_is_answered_as_a_known_one(app: FastAPI, account: str) -> None:
    """Without credentials, discovery must not tell which account ids exist."""
    known, unknown = await _discover(app, account), await _discover(app, "999")
    assert unknown.status_code == known.status_code == 200
    assert unknown.json() == {
        "baseURIs": [{**entry, "account": "999"} for entry in known.json()["baseURIs"]],
    }
    assert unknown.headers["cache-control"] == known.headers["cache-control"]


async def test_a_malformed_account_id_is_a_bad_request(app: FastAPI) -> None:
    response = await _discover(app, "no.such!id")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "is not an account id" in response.json()["detail"]


async def test_an_unlisted_host_is_refused_not_announced(app: FastAPI, account: str) -> None:
    """Host: attacker.example made every baseURI point there."""
    response = await _discover(app, account, host="attacker.example")
    assert response.status_code == 400
    assert response.json()["type"].endswith("/unknown-host")
    assert "APPINSTALL_PUBLIC_URL" in response.json()["detail"]
    assert "APPINSTALL_ALLOWED_HOSTS" in response.json()["detail"]
    assert "attacker.example" not in response.text.replace("'attacker.example' is not", "")


async def test_outside_dev_mode_a_loopback_host_must_be_listed_too(app: FastAPI, account: str) -> None:
    assert (await _discover(app, account, host="localhost:8080")).status_code == 400


async def test_in_dev_mode_a_loopback_host_is_announced(settings: Settings, app: FastAPI, account: str) -> None:
    app.state.settings = settings.model_copy(update={"dev": True, "allowed_hosts": []})
    for host in ("localhost:8080", "127.0.0.1:8080", "[::1]:8080"):
        response = await _discover(app, account, host=host)
        assert {entry["baseURI"] for entry in response.json()["baseURIs"]} == {host}
    assert (await _discover(app, account, host="attacker.example")).status_code == 400


async def test_an_answer_built_from_the_host_is_not_shared_by_caches(app: FastAPI, account: str) -> None:
    response = await _discover(app, account)
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["vary"] == "Host"


async def test_the_configured_public_url_is_announced_whatever_the_host(
    settings: Settings, account: str, app: FastAPI
) -> None:
    app.state.settings = settings.model_copy(update={"public_url": "https://sandbox.example.com:8443/"})
    response = await _discover(app, account, host="attacker.example")
    assert {entry["baseURI"] for entry in response.json()["baseURIs"]} == {"sandbox.example.com:8443"}
    assert response.headers["cache-control"] == "public, max-age=300"


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
