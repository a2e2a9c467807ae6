"""Choosing an account's scripted agent: GET, PUT and DELETE of ``/sandbox/agent``, and the server's default."""

from __future__ import annotations

import httpx
import pytest

from appinstall.app import create_app
from appinstall.settings import Settings
from tests.conftest import TEST_OPERATOR_TOKEN

pytestmark = pytest.mark.anyio

ACCOUNT = "123"
AGENT = f"/api/account/{ACCOUNT}/sandbox/agent"


@pytest.fixture
async def account(client: httpx.AsyncClient) -> str:
    assert (await client.post("/api/accounts", json={"id": ACCOUNT})).status_code == 201
    return ACCOUNT


async def test_an_account_follows_the_servers_default_until_it_chooses(client: httpx.AsyncClient, account: str) -> None:
    response = await client.get(AGENT)
    assert response.status_code == 200
    assert response.json() == {"mode": "off", "source": "server"}


async def test_an_account_turns_the_echo_agent_on(client: httpx.AsyncClient, account: str) -> None:
    put = await client.put(AGENT, json={"mode": "echo"})
    assert (put.status_code, put.json()) == (200, {"mode": "echo", "source": "account"})
    assert (await client.get(AGENT)).json() == {"mode": "echo", "source": "account"}


async def test_an_account_turns_it_off_again(client: httpx.AsyncClient, account: str) -> None:
    await client.put(AGENT, json={"mode": "echo"})
    await client.put(AGENT, json={"mode": "off"})
    assert (await client.get(AGENT)).json() == {"mode": "off", "source": "account"}


async def test_deleting_the_choice_returns_the_account_to_the_servers_default(
    client: httpx.AsyncClient, account: str
) -> None:
    await client.put(AGENT, json={"mode": "echo"})
    assert (await client.delete(AGENT)).status_code == 204
    assert (await client.get(AGENT)).json() == {"mode": "off", "source": "server"}


async def test_the_choice_survives_a_restart(client: httpx.AsyncClient, account: str, settings: Settings) -> None:
    await client.put(AGENT, json={"mode": "echo"})
    restarted = create_app(settings)
    async with (
        restarted.router.lifespan_context(restarted),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=restarted),
            base_url="http://t",
            headers={"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"},
        ) as again,
    ):
        assert (await again.get(AGENT)).json() == {"mode": "echo", "source": "account"}


@pytest.mark.parametrize("body", [{"mode": "parrot"}, {}, {"mode": "echo", "delay": 1}, {"mode": None}])
async def test_a_bad_setting_is_a_problem_document(client: httpx.AsyncClient, account: str, body: object) -> None:
    response = await client.put(AGENT, json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/invalid-request")
    assert response.json()["errors"]


async def test_a_bad_setting_changes_nothing(client: httpx.AsyncClient, account: str) -> None:
    await client.put(AGENT, json={"mode": "echo"})
    await client.put(AGENT, json={"mode": "parrot"})
    assert (await client.get(AGENT)).json() == {"mode": "echo", "source": "account"}


async def test_an_unknown_account_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/account/nobody/sandbox/agent", json={"mode": "echo"})
    assert response.status_code == 404
    assert response.json()["type"].endswith("/account-not-found")


async def test_an_accounts_own_admin_key_may_choose(client: httpx.AsyncClient, account: str) -> None:
    key = (await client.post(f"/api/accounts/{ACCOUNT}/keys", json={})).json()["key"]
    response = await client.put(AGENT, json={"mode": "echo"}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


async def test_another_accounts_key_sees_no_setting(client: httpx.AsyncClient, account: str) -> None:
    await client.post("/api/accounts", json={"id": "other"})
    key = (await client.post("/api/accounts/other/keys", json={})).json()["key"]
    response = await client.get(AGENT, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404
    assert response.json()["type"].endswith("/account-not-found")


async def test_another_accounts_key_cannot_choose(client: httpx.AsyncClient, account: str) -> None:
    await client.post("/api/accounts", json={"id": "other"})
    key = (await client.post("/api/accounts/other/keys", json={})).json()["key"]
    response = await client.put(AGENT, json={"mode": "echo"}, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404
    assert (await client.get(AGENT)).json() == {"mode": "off", "source": "server"}


async def test_without_a_key_the_setting_is_unauthorized(client: httpx.AsyncClient, account: str) -> None:
    response = await client.get(AGENT, headers={"Authorization": ""})
    assert response.status_code == 401


class TestAServerWithTheEchoAgentOn:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"sandbox_agent": "echo"})

    async def test_an_account_without_a_choice_has_the_echo_agent(
        self, client: httpx.AsyncClient, account: str
    ) -> None:
        assert (await client.get(AGENT)).json() == {"mode": "echo", "source": "server"}

    async def test_an_account_may_turn_it_off_for_itself(self, client: httpx.AsyncClient, account: str) -> None:
        await client.put(AGENT, json={"mode": "off"})
        assert (await client.get(AGENT)).json() == {"mode": "off", "source": "account"}
