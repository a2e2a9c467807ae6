"""The connector SDK and ``appinstall token``, against a real server process."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from appinstall.cli import app
from appinstall.connector import AsyncTokenClient, TokenClient, TokenError
from tests.conftest import SEED
from tests.live_server import OPERATOR_TOKEN, live_server

ACCOUNT = "77"


@dataclass
class Installed:
    url: str
    client_id: str
    client_secret: str


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    data_dir: Path = tmp_path_factory.mktemp("client")
    with live_server(data_dir) as server:
        admin = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
        httpx.post(f"{server.url}/api/accounts", json={"id": ACCOUNT}, headers=admin).raise_for_status()
        body = httpx.post(
            f"{server.url}/api/account/{ACCOUNT}/configuration/app-install/installations", json=SEED, headers=admin
        ).json()
        yield Installed(server.url, body["client_id"], body["client_secret"])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_client_caches_the_token_until_shortly_before_it_expires(installed: Installed) -> None:
    clock = Clock()
    tokens = TokenClient(installed.url, ACCOUNT, installed.client_id, installed.client_secret, clock=clock)
    first = tokens.app_jwt()
    assert jwt.decode(first, options={"verify_signature": False})["azp"] == installed.client_id
    clock.now += 3600 - 61
    assert tokens.app_jwt() == first
    clock.now += 2  # inside the 60 s margin: renewed
    assert tokens.app_jwt() != first
    tokens.close()


def test_the_client_gets_consumer_tokens(installed: Installed) -> None:
    tokens = TokenClient(installed.url, ACCOUNT, installed.client_id, installed.client_secret)
    claims = jwt.decode(tokens.consumer_token("alice"), options={"verify_signature": False})
    assert claims["ext_consumer_id"] == "alice"
    tokens.close()


def test_with_an_idp_url_consumer_tokens_are_asked_of_that_host(installed: Installed) -> None:
    """On the platform the IDP is a host of its own: here the same server under another name."""
    hosts: list[str] = []
    noted = {"request": [lambda request: hosts.append(request.url.host)]}
    http = httpx.Client(base_url=installed.url, event_hooks=noted)
    idp = installed.url.replace("127.0.0.1", "localhost")
    tokens = TokenClient(installed.url, ACCOUNT, installed.client_id, installed.client_secret, http=http, idp_url=idp)
    claims = jwt.decode(tokens.consumer_token("alice"), options={"verify_signature": False})
    assert claims["ext_consumer_id"] == "alice"
    assert hosts == ["127.0.0.1", "localhost"]  # the AppJWT from Sentinel, then the ConsumerJWS from the IDP
    tokens.close()


def test_a_refusal_is_a_token_error_with_the_oauth_code(installed: Installed) -> None:
    tokens = TokenClient(installed.url, ACCOUNT, installed.client_id, "wrong")
    with pytest.raises(TokenError) as raised:
        tokens.app_jwt()
    assert (raised.value.status, raised.value.error) == (401, "invalid_client")
    tokens.close()


def test_concurrent_async_callers_share_one_token(installed: Installed) -> None:
    async def run() -> set[str]:
        tokens = AsyncTokenClient(installed.url, ACCOUNT, installed.client_id, installed.client_secret)
        try:
            return set(await asyncio.gather(*[tokens.app_jwt() for _ in range(10)]))
        finally:
            await tokens.aclose()

    assert len(asyncio.run(run())) == 1


def test_appinstall_token_prints_an_app_jwt(installed: Installed) -> None:
    env = {
        "APPINSTALL_SERVER": installed.url,
        "APPINSTALL_ACCOUNT": ACCOUNT,
        "APPINSTALL_CLIENT_ID": installed.client_id,
        "APPINSTALL_CLIENT_SECRET": installed.client_secret,
    }
    result = CliRunner().invoke(app, ["token"], env=env)
    assert result.exit_code == 0, result.output
    assert jwt.get_unverified_header(result.output.strip())["alg"] == "RS256"
    consumer = CliRunner().invoke(app, ["token", "--consumer", "bob"], env=env)
    assert jwt.decode(consumer.output.strip(), options={"verify_signature": False})["ext_consumer_id"] == "bob"


def test_appinstall_token_with_a_wrong_secret_exits_one(installed: Installed) -> None:
    result = CliRunner().invoke(
        app,
        ["token", "--server", installed.url, "-a", ACCOUNT, "--client-id", installed.client_id],
        env={"APPINSTALL_CLIENT_SECRET": "wrong"},
    )
    assert result.exit_code == 1
    assert "invalid_client" in result.output
