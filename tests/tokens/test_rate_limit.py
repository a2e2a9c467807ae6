"""Failed client authentication is rate limited per address and per client at that address, across processes,
without locking a client out for everyone, and without a race."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from appinstall.http.client_address import parse_networks
from appinstall.registry import clients
from appinstall.settings import Settings
from appinstall.tokens.ratelimit import retry_after_seconds, window_start
from appinstall.tokens.tables import auth_failures
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


async def _token(
    http: httpx.AsyncClient, client_id: str, secret: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    data = {"client_id": client_id, "client_secret": secret}
    return await http.post(SENTINEL.format(account="1"), data=data, headers=headers)


@pytest.fixture
def mid_window(app: FastAPI) -> None:
    """The store's clock stopped 10 s into a window, so that a burst cannot straddle two windows."""
    now = app.state.store.clock()
    app.state.store.clock = lambda: now - now % 60_000 + 10_000


def _from(app: FastAPI, address: str) -> httpx.AsyncClient:
    """A client whose requests come from ``address`` (the peer the server sees)."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://t")


async def test_an_address_is_refused_after_its_failures_for_a_client_even_with_the_right_secret(
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


async def test_the_right_secret_from_another_address_works_while_one_address_is_limited(
    app: FastAPI, installed: dict[str, Any]
) -> None:
    """The client id travels in webhook headers: anyone's failures must not lock the connector out."""
    async with _from(app, "192.0.2.66") as attacker, _from(app, "198.51.100.7") as connector:
        for _ in range(3):
            assert (await _token(attacker, installed["id"], "wrong")).status_code == 401
        assert (await _token(attacker, installed["id"], installed["client_secret"])).status_code == 429
        assert (await _token(connector, installed["id"], installed["client_secret"])).status_code == 200
        assert (await _token(connector, installed["id"], "wrong")).status_code == 401  # its own count starts at 0


async def test_failures_from_many_addresses_do_not_lock_a_client_out(app: FastAPI, installed: dict[str, Any]) -> None:
    for octet in range(1, 11):
        async with _from(app, f"192.0.2.{octet}") as attacker:
            assert (await _token(attacker, installed["id"], "wrong")).status_code == 401
    async with _from(app, "198.51.100.7") as connector:
        assert (await _token(connector, installed["id"], installed["client_secret"])).status_code == 200


async def test_simultaneous_wrong_guesses_are_compared_at_most_up_to_the_limit(
    app: FastAPI, installed: dict[str, Any], monkeypatch: pytest.MonkeyPatch, mid_window: None
) -> None:
    """Each attempt takes its place before the comparison, so 200 at once cannot all pass a check that no failure
    has filled yet (all 200 were compared before, against a limit of 10)."""
    compared = 0
    real_match = clients.match_client_secret

    def counting_match(*args: Any) -> Any:
        nonlocal compared
        compared += 1
        return real_match(*args)

    monkeypatch.setattr(clients, "match_client_secret", counting_match)
    guess = {"grant_type": "client_credentials", "client_id": installed["id"], "client_secret": "wrong"}
    async with _from(app, "192.0.2.66") as attacker:
        answers = await asyncio.gather(*(attacker.post("/oauth2/token", data=guess) for _ in range(200)))
    statuses = [answer.status_code for answer in answers]
    assert 1 <= statuses.count(401) <= 3
    assert statuses.count(401) + statuses.count(429) == 200
    assert compared <= 3
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.json()["error"] == "temporarily_unavailable"
    assert refused.headers["Cache-Control"] == "no-store"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_a_burst_of_right_secrets_from_one_address_waits_for_room_instead_of_being_refused(
    app: FastAPI, installed: dict[str, Any], mid_window: None
) -> None:
    """Attempts in flight take room until they end; right secrets end without a failure, so the rest get in."""
    right = {
        "grant_type": "client_credentials",
        "client_id": installed["id"],
        "client_secret": installed["client_secret"],
    }
    async with _from(app, "198.51.100.7") as connector:
        answers = await asyncio.gather(*(connector.post("/oauth2/token", data=right) for _ in range(20)))
    assert [answer.status_code for answer in answers] == [200] * 20


async def test_wrong_guesses_waiting_for_room_are_refused_once_the_failures_fill_it(
    app: FastAPI, installed: dict[str, Any], mid_window: None
) -> None:
    guess = {"grant_type": "client_credentials", "client_id": installed["id"], "client_secret": "wrong"}
    async with _from(app, "192.0.2.66") as attacker:
        answers = await asyncio.gather(*(attacker.post("/oauth2/token", data=guess) for _ in range(20)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [401] * 3 + [429] * 17


async def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    app: FastAPI, installed: dict[str, Any]
) -> None:
    async with _from(app, "192.0.2.66") as attacker:
        for octet in range(1, 4):
            spoofed = {"X-Forwarded-For": f"203.0.113.{octet}"}
            assert (await _token(attacker, installed["id"], "wrong", spoofed)).status_code == 401
        spoofed = {"X-Forwarded-For": "203.0.113.99"}
        assert (await _token(attacker, installed["id"], installed["client_secret"], spoofed)).status_code == 429


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(
    settings: Settings, app: FastAPI, installed: dict[str, Any]
) -> None:
    app.state.tokens.trusted_proxies = parse_networks(["10.0.0.0/8"])
    async with _from(app, "10.1.2.3") as proxy:
        for _ in range(3):
            forwarded = {"X-Forwarded-For": "198.51.100.1, 203.0.113.5"}  # the first hop is the client's own claim
            assert (await _token(proxy, installed["id"], "wrong", forwarded)).status_code == 401
        limited = {"X-Forwarded-For": "203.0.113.5"}
        assert (await _token(proxy, installed["id"], installed["client_secret"], limited)).status_code == 429
        other = {"X-Forwarded-For": "203.0.113.6"}
        assert (await _token(proxy, installed["id"], installed["client_secret"], other)).status_code == 200


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


def test_the_served_app_ignores_x_forwarded_for_from_loopback_unless_configured(tmp_path: Path) -> None:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 by default; `appinstall serve` must not."""
    with live_server(tmp_path, APPINSTALL_AUTH_FAILURES_PER_CLIENT="3") as server:
        admin = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        httpx.post(f"{server.url}/api/accounts", json={"id": "1"}, headers=admin).raise_for_status()
        installation = httpx.post(f"{server.url}{INSTALLATIONS}", json=SEED, headers=admin).json()
        path = f"{server.url}{SENTINEL.format(account='1')}"
        for octet in range(1, 4):
            wrong = {"client_id": installation["id"], "client_secret": "wrong"}
            spoofed = {"X-Forwarded-For": f"203.0.113.{octet}"}
            assert httpx.post(path, data=wrong, headers=spoofed).status_code == 401
        right = {"client_id": installation["id"], "client_secret": installation["client_secret"]}
        assert httpx.post(path, data=right, headers={"X-Forwarded-For": "203.0.113.99"}).status_code == 429


@pytest.mark.usefixtures("mid_window")
async def test_tripping_the_limit_is_logged_once_with_the_client_and_the_address(
    app: FastAPI, installed: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    async with _from(app, "203.0.113.9") as http:
        for _ in range(8):
            await _token(http, installed["id"], "wrong")
    [tripped] = [r for r in caplog.records if r.getMessage() == "client authentication limited: too many failures"]
    assert (tripped.__dict__["client_id"], tripped.__dict__["address"]) == (installed["id"], "203.0.113.9")
