"""The operator's signing-key routes: rotation as the server will do it, and revocation that takes effect at once."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt
import pytest

from appinstall.settings import Settings
from tests.conftest import SEED

pytestmark = pytest.mark.anyio

ACCOUNT = "123"
KEYS = "/api/signing-keys"


@pytest.fixture
async def installed(client: httpx.AsyncClient) -> dict[str, Any]:
    await client.post("/api/accounts", json={"id": ACCOUNT})
    response = await client.post(f"/api/account/{ACCOUNT}/configuration/app-install/installations", json=SEED)
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


async def app_jwt(client: httpx.AsyncClient, installation: dict[str, Any]) -> str:
    response = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(installation["client_id"], installation["client_secret"]),
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


async def consumer_token_status(client: httpx.AsyncClient, token: str) -> int:
    """Whether the server takes ``token`` as an AppJWT: the status of asking it for a ConsumerJWS."""
    response = await client.post(
        f"/api/account/{ACCOUNT}/consumer", json={"ext_consumer_id": "c1"}, headers={"Authorization": token}
    )
    return response.status_code


async def jwks_kids(client: httpx.AsyncClient) -> set[str]:
    return {key["kid"] for key in (await client.get("/.well-known/jwks.json")).json()["keys"]}


async def test_a_fresh_server_lists_the_one_key_that_signs(client: httpx.AsyncClient) -> None:
    listed = (await client.get(KEYS)).json()
    assert [key["state"] for key in listed["keys"]] == ["signing"]
    assert listed["jwks_refresh_seconds"] == 30


async def test_a_rotation_answers_when_the_new_key_signs_and_the_old_one_retires_by_the_servers_lifetime(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    [old] = (await client.get(KEYS)).json()["keys"]
    before = int(time.time() * 1000)

    rotated = await client.post(KEYS, json={"activate_in": 600})

    assert rotated.status_code == 201, rotated.text
    added = rotated.json()["added"]
    assert added["state"] == "next"
    assert before + 600_000 <= added["activates_at"] <= int(time.time() * 1000) + 600_000
    [still] = [key for key in rotated.json()["keys"] if key["kid"] == old["kid"]]
    assert still["retires_at"] == added["activates_at"] + settings.token_ttl_seconds * 1000


async def test_the_jwks_publishes_a_rotated_key_at_once(client: httpx.AsyncClient) -> None:
    added = (await client.post(KEYS, json={"activate_in": 600})).json()["added"]
    assert added["kid"] in await jwks_kids(client)


async def test_a_revoked_key_leaves_the_jwks_and_its_tokens_stop_verifying_at_once(
    client: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    token = await app_jwt(client, installed)
    kid = jwt.get_unverified_header(token)["kid"]
    assert await consumer_token_status(client, token) == 201

    revoked = await client.delete(f"{KEYS}/{kid}")

    assert revoked.status_code == 200, revoked.text
    assert kid not in await jwks_kids(client)
    assert await consumer_token_status(client, token) == 401


async def test_revoking_the_key_that_signs_puts_a_new_one_in_its_place_at_once(
    client: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    [signing] = (await client.get(KEYS)).json()["keys"]

    replacement = (await client.delete(f"{KEYS}/{signing['kid']}")).json()["replacement"]

    assert replacement["state"] == "signing"
    fresh = await app_jwt(client, installed)
    assert jwt.get_unverified_header(fresh)["kid"] == replacement["kid"]
    assert await consumer_token_status(client, fresh) == 201


async def test_revoking_a_key_that_does_not_sign_keeps_the_signer(client: httpx.AsyncClient) -> None:
    added = (await client.post(KEYS, json={"activate_in": 600})).json()["added"]
    revoked = (await client.delete(f"{KEYS}/{added['kid']}")).json()
    assert revoked["replacement"] is None
    assert [key["state"] for key in revoked["keys"]] == ["signing"]


async def test_an_unknown_kid_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{KEYS}/nope")
    assert response.status_code == 404
    assert response.json()["type"].endswith("/signing-key-not-found")


@pytest.mark.parametrize("body", [{"activate_in": -1}, {"activate_in": "soon"}, {"algorithm": "HS256"}, {"x": 1}])
async def test_a_bad_rotation_is_a_400_problem(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    response = await client.post(KEYS, json=body)
    assert response.status_code == 400, response.text


async def test_an_admin_key_may_not_touch_signing_keys(client: httpx.AsyncClient) -> None:
    await client.post("/api/accounts", json={"id": ACCOUNT})
    key = (await client.post(f"/api/accounts/{ACCOUNT}/keys", json={"name": "k"})).json()["key"]
    admin = {"Authorization": f"Bearer {key}"}
    assert (await client.get(KEYS, headers=admin)).status_code == 403
    assert (await client.post(KEYS, json={}, headers=admin)).status_code == 403
