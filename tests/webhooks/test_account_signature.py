"""An account's webhook signature setting: GET and PUT of ``/settings/webhook-signature``, who may use them, and
the problem documents of bad values. (That deliveries are signed with it is in test_delivery.)"""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.anyio

ACCOUNT = "123"
SETTING = f"/api/account/{ACCOUNT}/settings/webhook-signature"


@pytest.fixture
async def account(client: httpx.AsyncClient) -> str:
    assert (await client.post("/api/accounts", json={"id": ACCOUNT})).status_code == 201
    return ACCOUNT


async def _key_of(client: httpx.AsyncClient, account_id: str) -> dict[str, str]:
    key = (await client.post(f"/api/accounts/{account_id}/keys", json={})).json()["key"]
    return {"Authorization": f"Bearer {key}"}


async def test_an_account_signs_with_sha1_in_base64_until_it_chooses(client: httpx.AsyncClient, account: str) -> None:
    response = await client.get(SETTING)
    assert (response.status_code, response.json()) == (200, {"algorithm": "sha1", "encoding": "base64"})


async def test_an_account_chooses_sha256_in_hex(client: httpx.AsyncClient, account: str) -> None:
    put = await client.put(SETTING, json={"algorithm": "sha256", "encoding": "hex"})
    assert (put.status_code, put.json()) == (200, {"algorithm": "sha256", "encoding": "hex"})
    assert (await client.get(SETTING)).json() == {"algorithm": "sha256", "encoding": "hex"}


async def test_the_choice_is_the_accounts_alone(client: httpx.AsyncClient, account: str) -> None:
    await client.post("/api/accounts", json={"id": "other"})
    await client.put(SETTING, json={"algorithm": "sha256", "encoding": "hex"})
    other = await client.get("/api/account/other/settings/webhook-signature")
    assert other.json() == {"algorithm": "sha1", "encoding": "base64"}


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"algorithm": "md5", "encoding": "hex"}, "/body/algorithm"),
        ({"algorithm": "sha256", "encoding": "base32"}, "/body/encoding"),
        ({"algorithm": "sha256"}, "/body/encoding"),
        ({"algorithm": "sha256", "encoding": "hex", "salt": "x"}, "/body/salt"),
    ],
)
async def test_a_bad_value_is_a_400_problem_pointing_at_it(
    client: httpx.AsyncClient, account: str, body: dict[str, str], pointer: str
) -> None:
    response = await client.put(SETTING, json=body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["pointer"] for error in response.json()["errors"]] == [pointer]


async def test_a_bad_value_changes_nothing(client: httpx.AsyncClient, account: str) -> None:
    await client.put(SETTING, json={"algorithm": "sha256", "encoding": "hex"})
    await client.put(SETTING, json={"algorithm": "sha512", "encoding": "hex"})
    assert (await client.get(SETTING)).json() == {"algorithm": "sha256", "encoding": "hex"}


async def test_an_unknown_account_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/api/account/nobody/settings/webhook-signature", json={"algorithm": "sha256", "encoding": "hex"}
    )
    assert response.status_code == 404
    assert response.json()["type"].endswith("/account-not-found")


async def test_the_accounts_own_admin_key_may_choose(client: httpx.AsyncClient, account: str) -> None:
    headers = await _key_of(client, ACCOUNT)
    response = await client.put(SETTING, json={"algorithm": "sha256", "encoding": "base64"}, headers=headers)
    assert (response.status_code, (await client.get(SETTING, headers=headers)).status_code) == (200, 200)


async def test_another_accounts_key_sees_no_setting(client: httpx.AsyncClient, account: str) -> None:
    await client.post("/api/accounts", json={"id": "other"})
    response = await client.get(SETTING, headers=await _key_of(client, "other"))
    assert response.status_code == 404
    assert response.json()["type"].endswith("/account-not-found")


async def test_another_accounts_key_cannot_choose(client: httpx.AsyncClient, account: str) -> None:
    await client.post("/api/accounts", json={"id": "other"})
    headers = await _key_of(client, "other")
    response = await client.put(SETTING, json={"algorithm": "sha256", "encoding": "hex"}, headers=headers)
    assert response.status_code == 404
    assert (await client.get(SETTING)).json() == {"algorithm": "sha1", "encoding": "base64"}


async def test_without_a_key_the_setting_is_unauthorized(client: httpx.AsyncClient, account: str) -> None:
    response = await client.get(SETTING, headers={"Authorization": ""})
    assert response.status_code == 401
