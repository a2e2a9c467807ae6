"""ConsumerJWS on the platform's IDP path, and AppJWT verification with the platform's 401 codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI

from appinstall.store import Store
from appinstall.tokens.errors import PlatformError
from appinstall.tokens.service import TokenService
from tests.conftest import SEED

pytestmark = pytest.mark.anyio

ACCOUNT = "123"
INSTALLATIONS = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
CONSUMER = f"/api/account/{ACCOUNT}/consumer?v=1.0"
BODY = {"ext_consumer_id": "John_Doe_facebook12345"}


@pytest.fixture
async def installed(client: httpx.AsyncClient) -> dict[str, Any]:
    await client.post("/api/accounts", json={"id": ACCOUNT})
    body: dict[str, Any] = (await client.post(INSTALLATIONS, json=SEED)).json()
    return body


@pytest.fixture
async def anonymous(app: FastAPI) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://appinstall.test") as http:
        yield http


@pytest.fixture
async def app_jwt(anonymous: httpx.AsyncClient, installed: dict[str, Any]) -> str:
    response = await anonymous.post(
        f"/sentinel/api/account/{ACCOUNT}/app/token?v=1.0&grant_type=client_credentials",
        data={"client_id": installed["id"], "client_secret": installed["client_secret"]},
    )
    token: str = response.json()["access_token"]
    return token


def _tokens(app: FastAPI) -> TokenService:
    service: TokenService = app.state.tokens
    return service


def _error_code(response: httpx.Response) -> int:
    body = response.json()
    assert (body["kind"], body["type"], body["code"]) == ("resp", ".ReqBody$ErrorResp", response.status_code)
    assert set(body["body"]) == {"title", "details", "errorCode"}
    code: int = body["body"]["errorCode"]
    return code


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")

    def decode(part: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return value

    return decode(header), decode(payload), signature


def _encode(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")


# --- ConsumerJWS ---------------------------------------------------------------------------------------------


async def test_a_bare_app_jwt_gets_a_consumer_jws(anonymous: httpx.AsyncClient, app_jwt: str) -> None:
    response = await anonymous.post(CONSUMER, json=BODY, headers={"Authorization": app_jwt})
    assert response.status_code == 201, response.text
    _, claims, _ = _segments(response.json()["token"])
    assert claims["account_id"] == f"le{ACCOUNT}"
    assert claims["ext_consumer_id"] == BODY["ext_consumer_id"]
    assert len(claims["lp_consumer_id"]) == 64 and int(claims["lp_consumer_id"], 16) >= 0
    assert claims["exp"] > claims["iat"]


async def test_a_bearer_app_jwt_works_too(anonymous: httpx.AsyncClient, app_jwt: str) -> None:
    response = await anonymous.post(CONSUMER, json=BODY, headers={"Authorization": f"Bearer {app_jwt}"})
    assert response.status_code == 201


async def test_the_consumer_id_is_stable_for_one_external_id(anonymous: httpx.AsyncClient, app_jwt: str) -> None:
    ids = set()
    for ext_id in ["a", "a", "b"]:
        token = await anonymous.post(CONSUMER, json={"ext_consumer_id": ext_id}, headers={"Authorization": app_jwt})
        ids.add((ext_id, _segments(token.json()["token"])[1]["lp_consumer_id"]))
    assert len(ids) == 2


async def test_a_missing_app_jwt_is_40105(anonymous: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    response = await anonymous.post(CONSUMER, json=BODY)
    assert response.status_code == 401
    assert _error_code(response) == 40105


async def test_a_bad_body_is_a_400_in_the_platforms_shape(anonymous: httpx.AsyncClient, app_jwt: str) -> None:
    response = await anonymous.post(CONSUMER, json={"ext_consumer_id": ""}, headers={"Authorization": app_jwt})
    assert response.status_code == 400
    assert _error_code(response) == 40001


async def test_the_consumer_jws_verifies_and_an_app_jwt_is_not_one(
    anonymous: httpx.AsyncClient, app_jwt: str, app: FastAPI
) -> None:
    consumer = (await anonymous.post(CONSUMER, json=BODY, headers={"Authorization": app_jwt})).json()["token"]
    identity = await _tokens(app).verify_consumer_jws(consumer, ACCOUNT)
    assert identity.ext_consumer_id == BODY["ext_consumer_id"]
    with pytest.raises(PlatformError) as raised:
        await _tokens(app).verify_consumer_jws(app_jwt, ACCOUNT)
    assert raised.value.code == 40103
    with pytest.raises(PlatformError):
        await _tokens(app).verify_consumer_jws(consumer, "456")


# --- AppJWT verification: every way a token can be wrong ----------------------------------------------------


async def _consumer_status(anonymous: httpx.AsyncClient, token: str, account: str = ACCOUNT) -> tuple[int, int]:
    response = await anonymous.post(f"/api/account/{account}/consumer", json=BODY, headers={"Authorization": token})
    return response.status_code, _error_code(response)


async def test_a_tampered_payload_is_40102(anonymous: httpx.AsyncClient, app_jwt: str) -> None:
    header, claims, signature = _segments(app_jwt)
    forged = f"{_encode(header)}.{_encode({**claims, 'azp': 'someone-else'})}.{signature}"
    assert await _consumer_status(anonymous, forged) == (401, 40102)


async def test_alg_none_is_40102(anonymous: httpx.AsyncClient, app_jwt: str) -> None:
    header, claims, _ = _segments(app_jwt)
    unsigned = f"{_encode({**header, 'alg': 'none'})}.{_encode(claims)}."
    assert await _consumer_status(anonymous, unsigned) == (401, 40102)


async def test_hs256_keyed_with_the_public_key_is_40102(anonymous: httpx.AsyncClient, app_jwt: str) -> None:
    header, claims, _ = _segments(app_jwt)
    [jwk] = (await anonymous.get("/.well-known/jwks.json")).json()["keys"]
    public_pem = jwt.PyJWK(jwk).key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    signing_input = f"{_encode({**header, 'alg': 'HS256'})}.{_encode(claims)}".encode()
    mac = base64.urlsafe_b64encode(hmac.new(public_pem, signing_input, hashlib.sha256).digest()).decode().rstrip("=")
    assert await _consumer_status(anonymous, f"{signing_input.decode()}.{mac}") == (401, 40102)


async def test_an_unknown_kid_is_40102(anonymous: httpx.AsyncClient, app_jwt: str) -> None:
    _, claims, _ = _segments(app_jwt)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "not-ours"})
    assert await _consumer_status(anonymous, token) == (401, 40102)


async def test_an_expired_token_is_40102(anonymous: httpx.AsyncClient, app_jwt: str, app: FastAPI) -> None:
    store: Store = app.state.store
    real_clock = store.clock
    store.clock = lambda: real_clock() + 3_700_000
    try:
        assert await _consumer_status(anonymous, app_jwt) == (401, 40102)
    finally:
        store.clock = real_clock


async def test_another_accounts_token_is_40102(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient, app_jwt: str
) -> None:
    await client.post("/api/accounts", json={"id": "456"})
    assert await _consumer_status(anonymous, app_jwt, account="456") == (401, 40102)


async def test_a_token_of_a_disabled_app_is_refused(
    anonymous: httpx.AsyncClient, client: httpx.AsyncClient, app_jwt: str, installed: dict[str, Any]
) -> None:
    await client.patch(f"{INSTALLATIONS}/{installed['id']}", json={"enabled": False}, headers={"If-Match": "1"})
    assert await _consumer_status(anonymous, app_jwt) == (401, 40102)


async def test_garbage_is_40102(anonymous: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    assert await _consumer_status(anonymous, "not.a.jwt") == (401, 40102)
