"""AppJWTs by client credentials on the platform's path and on /oauth2/token; metadata and JWKS."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
import pytest
from fastapi import FastAPI

from appinstall.app import create_app
from appinstall.settings import Settings
from appinstall.store import Store
from tests.conftest import SEED, TEST_MASTER_KEY, TEST_OPERATOR_TOKEN
from tests.database_work import counting

pytestmark = pytest.mark.anyio

ACCOUNT = "123"
INSTALLATIONS = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
SENTINEL = f"/sentinel/api/account/{ACCOUNT}/app/token?v=1.0&grant_type=client_credentials"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
async def installed(client: httpx.AsyncClient) -> dict[str, Any]:
    await client.post("/api/accounts", json={"id": ACCOUNT})
    response = await client.post(INSTALLATIONS, json=SEED)
    assert response.status_code == 201
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
async def anonymous(app: FastAPI) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://appinstall.test") as http:
        yield http


def _form(installation: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"client_id": installation["id"], "client_secret": installation["client_secret"], **extra}


async def _verify_with_jwks(http: httpx.AsyncClient, token: str, audience: str) -> dict[str, Any]:
    """Verify as an outside party would: only the published JWKS, with PyJWT."""
    keys = (await http.get("/.well-known/jwks.json")).json()["keys"]
    header = jwt.get_unverified_header(token)
    [jwk] = [key for key in keys if key["kid"] == header["kid"]]
    claims: dict[str, Any] = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]], audience=audience, issuer="Sentinel"
    )
    return claims


# --- The platform's path -------------------------------------------------------------------------------------


async def test_the_platform_path_issues_an_app_jwt(anonymous: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    before = int(time.time())
    response = await anonymous.post(SENTINEL, data=_form(installed))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    header = jwt.get_unverified_header(body["access_token"])
    assert (header["alg"], header["typ"]) == ("ES256", "JWT") and header["kid"]  # as the tests' settings say
    claims = await _verify_with_jwks(anonymous, body["access_token"], f"le{ACCOUNT}")
    assert claims["azp"] == claims["sub"] == installed["id"]
    assert (claims["scope"], claims["account_id"], claims["iss"]) == ("msg.consumer", ACCOUNT, "Sentinel")
    assert before <= claims["iat"] <= int(time.time()) and claims["exp"] - claims["iat"] == 3600
    assert len(claims["jti"]) >= 16


async def test_credentials_in_the_query_string_work_as_the_platforms_clients_send_them(
    anonymous: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    query = urlencode(_form(installed))
    response = await anonymous.post(f"{SENTINEL}&{query}")
    assert response.status_code == 200, response.text


async def test_a_wrong_secret_is_invalid_client(anonymous: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    response = await anonymous.post(SENTINEL, data=_form(installed, client_secret="wrong"))
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "www-authenticate" not in response.headers
    assert response.headers["cache-control"] == "no-store"


async def test_a_client_of_another_account_is_refused(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    await client.post("/api/accounts", json={"id": "456"})
    path = "/sentinel/api/account/456/app/token?grant_type=client_credentials"
    response = await anonymous.post(path, data=_form(installed))
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


async def test_a_disabled_app_gets_no_token(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    await client.patch(f"{INSTALLATIONS}/{installed['id']}", json={"enabled": False}, headers={"If-Match": "1"})
    response = await anonymous.post(SENTINEL, data=_form(installed))
    assert response.status_code == 401
    assert response.json()["error_description"] == "the client is disabled"


async def test_a_deleted_app_gets_no_token(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    await client.delete(f"{INSTALLATIONS}/{installed['id']}")
    response = await anonymous.post(SENTINEL, data=_form(installed))
    assert response.status_code == 401


async def test_a_rotated_secret_works_during_its_grace_and_not_after(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, installed: dict[str, Any], app: FastAPI
) -> None:
    await client.post(f"{INSTALLATIONS}/{installed['id']}/secret", params={"grace_seconds": 60})
    assert (await anonymous.post(SENTINEL, data=_form(installed))).status_code == 200
    store: Store = app.state.store
    real_clock = store.clock
    store.clock = lambda: real_clock() + 61_000
    try:
        assert (await anonymous.post(SENTINEL, data=_form(installed))).status_code == 401
    finally:
        store.clock = real_clock


async def test_a_missing_grant_type_is_invalid_request(anonymous: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    response = await anonymous.post(f"/sentinel/api/account/{ACCOUNT}/app/token", data=_form(installed))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_request")


async def test_another_grant_type_is_unsupported(anonymous: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    response = await anonymous.post("/oauth2/token", data=_form(installed, grant_type="password"))
    assert (response.status_code, response.json()["error"]) == (400, "unsupported_grant_type")


async def test_a_parameter_given_twice_with_two_values_is_invalid_request(
    anonymous: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    response = await anonymous.post(SENTINEL, data=_form(installed, grant_type="password"))
    assert response.json()["error"] == "invalid_request"


async def test_missing_credentials_are_invalid_client(anonymous: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    response = await anonymous.post(SENTINEL)
    assert (response.status_code, response.json()["error"]) == (401, "invalid_client")


# --- Standard OAuth ------------------------------------------------------------------------------------------


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def test_client_secret_basic_gets_a_token_with_its_scope(
    anonymous: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    response = await anonymous.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(installed["id"], installed["client_secret"]),
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "msg.consumer"


async def test_client_secret_post_gets_a_token(anonymous: httpx.AsyncClient, installed: dict[str, Any]) -> None:
    response = await anonymous.post("/oauth2/token", data=_form(installed, grant_type="client_credentials"))
    assert response.status_code == 200


async def test_failed_basic_authentication_is_challenged(
    anonymous: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    response = await anonymous.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, headers=_basic(installed["id"], "wrong")
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_two_authentication_methods_at_once_are_invalid_request(
    anonymous: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    response = await anonymous.post(
        "/oauth2/token",
        data=_form(installed, grant_type="client_credentials"),
        headers=_basic(installed["id"], installed["client_secret"]),
    )
    assert response.json()["error"] == "invalid_request"


async def test_a_scope_beyond_the_registered_one_is_invalid_scope(
    anonymous: httpx.AsyncClient, installed: dict[str, Any]
) -> None:
    response = await anonymous.post(
        "/oauth2/token", data=_form(installed, grant_type="client_credentials", scope="msg.consumer admin")
    )
    assert (response.status_code, response.json()["error"]) == (400, "invalid_scope")


async def test_the_metadata_names_the_endpoints(settings: Settings, app: FastAPI, anonymous: httpx.AsyncClient) -> None:
    app.state.settings = settings.model_copy(update={"allowed_hosts": ["appinstall.test"]})
    response = await anonymous.get("/.well-known/oauth-authorization-server")
    metadata = response.json()
    assert metadata["issuer"] == "http://appinstall.test"
    assert metadata["token_endpoint"] == "http://appinstall.test/oauth2/token"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert (response.headers["cache-control"], response.headers["vary"]) == ("private, no-cache", "Host")


async def test_the_metadata_refuses_a_host_that_is_not_this_servers(app: FastAPI) -> None:
    """Host: attacker.example made the token_endpoint point there."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://attacker.example") as attacker:
        response = await attacker.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "APPINSTALL_PUBLIC_URL" in response.json()["detail"]


async def test_the_metadata_is_built_on_the_public_url_when_set(
    settings: Settings, app: FastAPI, anonymous: httpx.AsyncClient
) -> None:
    app.state.settings = settings.model_copy(update={"public_url": "https://auth.example.com/"})
    response = await anonymous.get("/.well-known/oauth-authorization-server", headers={"Host": "attacker.example"})
    assert response.json()["token_endpoint"] == "https://auth.example.com/oauth2/token"
    assert response.headers["cache-control"] == "public, max-age=300"


async def test_the_jwks_holds_public_keys_only(anonymous: httpx.AsyncClient) -> None:
    [key] = (await anonymous.get("/.well-known/jwks.json")).json()["keys"]
    assert (key["kty"], key["alg"], key["use"]) == ("EC", "ES256", "sig")
    assert "d" not in key and "p" not in key


async def test_by_default_tokens_are_signed_with_rs256_and_the_jwks_holds_an_rsa_public_key(tmp_path: Path) -> None:
    defaults = Settings(data_dir=tmp_path, master_key=TEST_MASTER_KEY, operator_token=TEST_OPERATOR_TOKEN, worker=False)
    app = create_app(defaults)
    operator = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=operator) as http,
    ):
        await http.post("/api/accounts", json={"id": ACCOUNT})
        installed = (await http.post(INSTALLATIONS, json=SEED)).json()
        del http.headers["Authorization"]  # the connector asks with its client credentials only
        token = (await http.post(SENTINEL, data=_form(installed))).json()
        [key] = (await http.get("/.well-known/jwks.json")).json()["keys"]
    assert jwt.get_unverified_header(token["access_token"])["alg"] == "RS256"
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in key and "p" not in key


# --- What a token costs the store ----------------------------------------------------------------------------


async def test_a_token_request_reads_the_store_once(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, installed: dict[str, Any], app: FastAPI
) -> None:
    """One statement: the client, all its secrets and the rate limit's check, joined. On SQLite it runs on the
    inline reader, with no pool checkout; on PostgreSQL on one pooled connection."""
    store: Store = app.state.store
    rotated = (await client.post(f"{INSTALLATIONS}/{installed['id']}/secret", params={"grace_seconds": 60})).json()
    for credentials in (installed, rotated):
        with counting(store) as work:
            assert (await anonymous.post(SENTINEL, data=_form(credentials))).status_code == 200
        assert (work.checkouts, work.queries) == (0 if store.dialect.name == "sqlite" else 1, 1)
