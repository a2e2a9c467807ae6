"""The accounts and admin-keys HTTP API: who may create what, and how a caller is recognised."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from appinstall.accounts.tables import operator_credentials
from appinstall.app import create_app
from appinstall.settings import Settings
from tests.conftest import TEST_MASTER_KEY

pytestmark = pytest.mark.anyio

PROBLEM_JSON = "application/problem+json"
ACCOUNTS = "/api/accounts"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _create_account(client: httpx.AsyncClient, account_id: str) -> None:
    response = await client.post(ACCOUNTS, json={"id": account_id})
    assert response.status_code == 201, response.text


async def _create_key(client: httpx.AsyncClient, account_id: str, **headers: str) -> dict[str, Any]:
    response = await client.post(f"{ACCOUNTS}/{account_id}/keys", json={"name": "ci"}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client on the app that sends no Authorization header unless a request adds one."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://appinstall.test") as http:
        yield http


@pytest.fixture
async def acme_key(client: httpx.AsyncClient) -> str:
    """The bearer key of an admin of the account ``acme``."""
    await _create_account(client, "acme")
    key: str = (await _create_key(client, "acme"))["key"]
    return key


# --- Creating accounts ---------------------------------------------------------------------------------------


async def test_the_operator_creates_an_account(client: httpx.AsyncClient) -> None:
    response = await client.post(ACCOUNTS, json={"id": "acme"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "created_at"}
    assert body["id"] == "acme"
    assert isinstance(body["created_at"], int)
    assert response.headers["Location"] == "/api/accounts/acme"


async def test_a_created_account_can_be_read_back(client: httpx.AsyncClient) -> None:
    created = (await client.post(ACCOUNTS, json={"id": "acme"})).json()
    response = await client.get(f"{ACCOUNTS}/acme")
    assert response.status_code == 200
    assert response.json() == created


async def test_an_account_id_of_64_characters_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(ACCOUNTS, json={"id": "a" * 64})
    assert response.status_code == 201


async def test_creating_an_existing_account_again_is_a_conflict(client: httpx.AsyncClient) -> None:
    await _create_account(client, "acme")
    response = await client.post(ACCOUNTS, json={"id": "acme"})
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"].endswith("/account-exists")


@pytest.mark.parametrize(
    "account_id",
    ["", "a" * 65, "a/b", "-leading-dash", "with space", 123, None],
    ids=["empty", "too-long", "slash", "leading-dash", "space", "number", "null"],
)
async def test_an_invalid_account_id_is_rejected_as_a_problem(client: httpx.AsyncClient, account_id: object) -> None:
    response = await client.post(ACCOUNTS, json={"id": account_id})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["status"] == 400


async def test_an_account_body_with_unknown_fields_is_rejected(client: httpx.AsyncClient) -> None:
    response = await client.post(ACCOUNTS, json={"id": "acme", "plan": "gold"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_an_admin_key_cannot_create_accounts(client: httpx.AsyncClient, acme_key: str) -> None:
    response = await client.post(ACCOUNTS, json={"id": "other"}, headers=_bearer(acme_key))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert (await client.get(f"{ACCOUNTS}/other")).status_code == 404


async def test_an_admin_key_cannot_list_accounts(client: httpx.AsyncClient, acme_key: str) -> None:
    response = await client.get(ACCOUNTS, headers=_bearer(acme_key))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON


# --- Authentication ------------------------------------------------------------------------------------------


async def test_a_request_without_authorization_is_challenged(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(ACCOUNTS)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_a_non_bearer_authorization_is_challenged(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(ACCOUNTS, headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


async def test_an_unknown_token_is_unauthorized(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(ACCOUNTS, headers=_bearer("aio_not-the-operator-token"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_an_unknown_admin_key_is_unauthorized(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(f"{ACCOUNTS}/acme", headers=_bearer("aik_not-a-real-key"))
    assert response.status_code == 401


# --- Admin keys ----------------------------------------------------------------------------------------------


async def test_creating_a_key_shows_it_once(client: httpx.AsyncClient) -> None:
    await _create_account(client, "acme")
    response = await client.post(f"{ACCOUNTS}/acme/keys", json={"name": "ci"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "key", "name", "created_at", "revoked_at"}
    assert body["key"].startswith("aik_")
    assert body["name"] == "ci"
    assert isinstance(body["created_at"], int)
    assert body["revoked_at"] is None


async def test_a_key_can_be_created_without_a_body(client: httpx.AsyncClient) -> None:
    await _create_account(client, "acme")
    response = await client.post(f"{ACCOUNTS}/acme/keys")
    assert response.status_code == 201
    assert response.json()["name"] is None


async def test_creating_a_key_for_an_unknown_account_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post(f"{ACCOUNTS}/nobody/keys", json={"name": "ci"})
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_listing_keys_never_shows_the_key(client: httpx.AsyncClient) -> None:
    await _create_account(client, "acme")
    first = await _create_key(client, "acme")
    second = await _create_key(client, "acme")
    response = await client.get(f"{ACCOUNTS}/acme/keys")
    assert response.status_code == 200
    items = response.json()
    assert sorted(item["id"] for item in items) == sorted([first["id"], second["id"]])
    for item in items:
        assert "key" not in item
        assert set(item) == {"id", "name", "created_at", "revoked_at"}


async def test_a_new_key_authenticates_as_its_account(client: httpx.AsyncClient, acme_key: str) -> None:
    response = await client.get(f"{ACCOUNTS}/acme", headers=_bearer(acme_key))
    assert response.status_code == 200
    assert response.json()["id"] == "acme"


async def test_revoking_a_key_answers_no_content(client: httpx.AsyncClient) -> None:
    await _create_account(client, "acme")
    key = await _create_key(client, "acme")
    response = await client.delete(f"{ACCOUNTS}/acme/keys/{key['id']}")
    assert response.status_code == 204
    assert response.content == b""


async def test_a_revoked_key_is_unauthorized(client: httpx.AsyncClient) -> None:
    await _create_account(client, "acme")
    key = await _create_key(client, "acme")
    await client.delete(f"{ACCOUNTS}/acme/keys/{key['id']}")
    response = await client.get(f"{ACCOUNTS}/acme", headers=_bearer(key["key"]))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


async def test_a_revoked_key_is_listed_with_its_revocation_time(client: httpx.AsyncClient) -> None:
    await _create_account(client, "acme")
    key = await _create_key(client, "acme")
    await client.delete(f"{ACCOUNTS}/acme/keys/{key['id']}")
    (item,) = (await client.get(f"{ACCOUNTS}/acme/keys")).json()
    assert isinstance(item["revoked_at"], int)


async def test_revoking_a_key_twice_is_not_found(client: httpx.AsyncClient) -> None:
    await _create_account(client, "acme")
    key = await _create_key(client, "acme")
    await client.delete(f"{ACCOUNTS}/acme/keys/{key['id']}")
    response = await client.delete(f"{ACCOUNTS}/acme/keys/{key['id']}")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_revoking_an_unknown_key_is_not_found(client: httpx.AsyncClient) -> None:
    await _create_account(client, "acme")
    response = await client.delete(f"{ACCOUNTS}/acme/keys/0123456789abcdef")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


# --- An admin key on its own account -------------------------------------------------------------------------


async def test_an_admin_key_reads_its_own_account(client: httpx.AsyncClient, acme_key: str) -> None:
    response = await client.get(f"{ACCOUNTS}/acme", headers=_bearer(acme_key))
    assert response.status_code == 200


async def test_an_admin_key_creates_keys_in_its_own_account(client: httpx.AsyncClient, acme_key: str) -> None:
    response = await client.post(f"{ACCOUNTS}/acme/keys", json={"name": "second"}, headers=_bearer(acme_key))
    assert response.status_code == 201
    assert response.json()["key"].startswith("aik_")


async def test_an_admin_key_lists_keys_of_its_own_account(client: httpx.AsyncClient, acme_key: str) -> None:
    response = await client.get(f"{ACCOUNTS}/acme/keys", headers=_bearer(acme_key))
    assert response.status_code == 200
    assert len(response.json()) == 1


async def test_an_admin_key_revokes_keys_of_its_own_account(client: httpx.AsyncClient, acme_key: str) -> None:
    other = await _create_key(client, "acme")
    response = await client.delete(f"{ACCOUNTS}/acme/keys/{other['id']}", headers=_bearer(acme_key))
    assert response.status_code == 204
    assert (await client.get(f"{ACCOUNTS}/acme", headers=_bearer(other["key"]))).status_code == 401


async def test_an_admin_key_can_revoke_itself(client: httpx.AsyncClient, acme_key: str) -> None:
    (own,) = (await client.get(f"{ACCOUNTS}/acme/keys")).json()
    response = await client.delete(f"{ACCOUNTS}/acme/keys/{own['id']}", headers=_bearer(acme_key))
    assert response.status_code == 204
    assert (await client.get(f"{ACCOUNTS}/acme", headers=_bearer(acme_key))).status_code == 401


# --- An admin key on another account looks exactly like an unknown account ------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("GET", ""),
        ("POST", "/keys"),
        ("GET", "/keys"),
        ("DELETE", "/keys/{key_id}"),
    ],
    ids=["get-account", "create-key", "list-keys", "revoke-key"],
)
async def test_another_account_answers_as_an_unknown_account_would(
    client: httpx.AsyncClient, acme_key: str, method: str, suffix: str
) -> None:
    await _create_account(client, "globex")
    globex_key = await _create_key(client, "globex")
    path = suffix.format(key_id=globex_key["id"])
    foreign = await client.request(method, f"{ACCOUNTS}/globex{path}", headers=_bearer(acme_key))
    unknown = await client.request(method, f"{ACCOUNTS}/nobody{path}", headers=_bearer(acme_key))
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.headers["content-type"] == unknown.headers["content-type"] == PROBLEM_JSON
    assert foreign.json()["type"] == unknown.json()["type"]
    assert (await client.get(f"{ACCOUNTS}/globex", headers=_bearer(globex_key["key"]))).status_code == 200


# --- The operator token generated on first start -------------------------------------------------------------

GENERATED = re.compile(r"APPINSTALL_OPERATOR_TOKEN=(aio_\S+)")


@pytest.fixture
def unconfigured(database_url: str, tmp_path: Path) -> Settings:
    """Settings with no operator token, so the first start must generate one."""
    return Settings(data_dir=tmp_path, database_url=database_url, master_key=TEST_MASTER_KEY, operator_token=None)


@asynccontextmanager
async def _started(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Start a new application process on ``settings`` and give an unauthenticated client on it."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://appinstall.test") as http:
            yield http


async def _first_start(settings: Settings, capsys: pytest.CaptureFixture[str]) -> str:
    """Start once and return the token printed to stderr."""
    async with _started(settings):
        pass
    match = GENERATED.search(capsys.readouterr().err)
    assert match is not None
    return match.group(1)


async def test_the_first_start_prints_a_generated_operator_token(
    unconfigured: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with _started(unconfigured):
        pass
    captured = capsys.readouterr()
    assert "APPINSTALL_OPERATOR_TOKEN=aio_" in captured.err
    assert "APPINSTALL_OPERATOR_TOKEN" not in captured.out


async def test_the_generated_operator_token_authenticates_as_the_operator(
    unconfigured: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    async with _started(unconfigured) as http:
        match = GENERATED.search(capsys.readouterr().err)
        assert match is not None
        response = await http.post(ACCOUNTS, json={"id": "acme"}, headers=_bearer(match.group(1)))
    assert response.status_code == 201


async def test_the_second_start_prints_nothing(unconfigured: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    await _first_start(unconfigured, capsys)
    async with _started(unconfigured):
        pass
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out == ""


async def test_the_generated_operator_token_still_works_after_a_restart(
    unconfigured: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    token = await _first_start(unconfigured, capsys)
    async with _started(unconfigured) as http:
        response = await http.post(ACCOUNTS, json={"id": "acme"}, headers=_bearer(token))
    assert response.status_code == 201


async def test_the_generated_operator_token_is_stored_only_as_a_hash(
    unconfigured: Settings, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token = await _first_start(unconfigured, capsys)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(select(operator_credentials))).all()
    finally:
        await engine.dispose()
    assert len(rows) == 1
    stored = rows[0].token_hash
    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    assert token not in {str(value) for value in rows[0]}
