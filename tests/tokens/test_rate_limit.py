"""Failed client authentication is rate limited per client and per address, across processes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from appinstall.settings import Settings
from appinstall.store.tables import auth_failures
from appinstall.tokens.ratelimit import retry_after_seconds, window_start
from tests.conftest import SEED
from tests.live_server import OPERATOR_TOKEN, live_server

pytestmark = pytest.mark.anyio

SENTINEL = "/sentinel/api/account/{account}/app/token?grant_type=client_credentials"


def test_windows_are_fixed_and_retry_after_counts_to_their_end() -> None:
    assert window_start(125_500, 60_000) == 120_000
    assert retry_after_seconds(125_500, 60_000) == 55
    assert retry_after_seconds(179_999, 60_000) == 1


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"auth_failures_per_client": 3, "auth_failures_per_address": 5})


@pytest.fixture
async def installed(client: httpx.AsyncClient) -> dict[str, Any]:
    await client.post("/api/accounts", json={"id": "1"})
    body: dict[str, Any] = (await client.post(INSTALLATIONS, json=SEED)).json()
    return body


INSTALLATIONS = "/api/account/1/configuration/app-install/installations"


async def _token(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await http.post(SENTINEL.format(account="1"), data={"client_id": client_id, "client_secret": secret})


async def test_a_client_is_refused_after_its_failures_even_with_the_right_secret(
    app: FastAPI, installed: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        statuses = [(await _token(http, installed["id"], "wrong")).status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        refused = await _token(http, installed["id"], installed["client_secret"])
    assert refused.status_code == 429
    assert refused.json()["error"] == "temporarily_unavailable"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_an_address_is_refused_after_failures_spread_over_clients(
    app: FastAPI, installed: dict[str, Any]
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for _ in range(5):
            assert (await _token(http, str(uuid.uuid4()), "wrong")).status_code == 401
        assert (await _token(http, installed["id"], installed["client_secret"])).status_code == 429


async def test_an_exhausted_address_is_refused_for_unknown_clients_and_missing_credentials_too(
    app: FastAPI, installed: dict[str, Any]
) -> None:
    """Without a client row to carry the check, it is still made (on its own) before anything else."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for _ in range(5):
            assert (await _token(http, str(uuid.uuid4()), "wrong")).status_code == 401
        assert (await _token(http, str(uuid.uuid4()), "wrong")).status_code == 429
        assert (await http.post(SENTINEL.format(account="1"), data={})).status_code == 429


async def test_a_refusal_is_not_counted_as_a_failure(app: FastAPI, installed: dict[str, Any]) -> None:
    """429s are answered before authentication, so they do not add to the counts they were refused by."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for _ in range(3):
            assert (await _token(http, installed["id"], "wrong")).status_code == 401
        for _ in range(4):
            assert (await _token(http, installed["id"], "wrong")).status_code == 429
    async with app.state.store.read() as connection:
        counts = (await connection.execute(select(auth_failures.c.bucket, auth_failures.c.count))).all()
    assert sorted(count for _, count in counts) == [3, 3]


async def test_the_limit_ends_with_its_window(app: FastAPI, installed: dict[str, Any]) -> None:
    store = app.state.store
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        for _ in range(3):
            await _token(http, installed["id"], "wrong")
        real_clock = store.clock
        store.clock = lambda: real_clock() + 61_000
        try:
            assert (await _token(http, installed["id"], installed["client_secret"])).status_code == 200
        finally:
            store.clock = real_clock


def test_the_limit_holds_across_two_processes_sharing_postgresql(postgres_database: str, tmp_path: Path) -> None:
    environment = {"APPINSTALL_DATABASE_URL": postgres_database, "APPINSTALL_AUTH_FAILURES_PER_CLIENT": "4"}
    account = f"rl{uuid.uuid4().hex[:8]}"
    with (
        live_server(tmp_path / "a", **environment) as first,
        live_server(tmp_path / "b", **environment) as second,
    ):
        admin = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        httpx.post(f"{first.url}/api/accounts", json={"id": account}, headers=admin).raise_for_status()
        installation = httpx.post(
            f"{first.url}/api/account/{account}/configuration/app-install/installations", json=SEED, headers=admin
        ).json()
        path = SENTINEL.format(account=account)
        wrong = {"client_id": installation["id"], "client_secret": "wrong"}
        for server in (first, second, first, second):
            assert httpx.post(f"{server.url}{path}", data=wrong).status_code == 401
        right = {"client_id": installation["id"], "client_secret": installation["client_secret"]}
        assert httpx.post(f"{first.url}{path}", data=right).status_code == 429
        assert httpx.post(f"{second.url}{path}", data=right).status_code == 429
