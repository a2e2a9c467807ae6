"""The account dependency answers who may act on the path's account, and adds nothing to the API's parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from appinstall.accounts import credentials, service
from appinstall.accounts.service import Authenticator
from appinstall.http.deps import AccountDep, AppState
from appinstall.http.domain_errors import DOMAIN_EXCEPTION_HANDLERS
from appinstall.store import Store

pytestmark = pytest.mark.anyio

OPERATOR_TOKEN = "operator-token-for-the-dependency-tests"
THINGS = "/api/account/{account_id}/things"


def _app(store: Store) -> FastAPI:
    app = FastAPI(exception_handlers=DOMAIN_EXCEPTION_HANDLERS)
    app.state = state = AppState()
    state.store = store
    state.authenticator = Authenticator(store, credentials.token_hash(OPERATOR_TOKEN))

    @app.get(THINGS)
    async def things(account_id: str, account: AccountDep) -> dict[str, str]:
        return {"account": account.account_id, "actor": account.actor}

    return app


@pytest.fixture
async def http(sqlite_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    await service.create_account(sqlite_store, "acme")
    await service.create_account(sqlite_store, "globex")
    transport = httpx.ASGITransport(app=_app(sqlite_store))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def _key(store: Store, account_id: str) -> dict[str, str]:
    created = await service.create_key(store, account_id, "test")
    return {"Authorization": f"Bearer {created.key}"}


async def test_an_admin_key_acts_on_its_own_account(http: httpx.AsyncClient, sqlite_store: Store) -> None:
    answer = await http.get("/api/account/acme/things", headers=await _key(sqlite_store, "acme"))
    assert answer.status_code == 200
    assert answer.json()["account"] == "acme"
    assert answer.json()["actor"].startswith("key:")


async def test_an_admin_key_finds_another_account_missing(http: httpx.AsyncClient, sqlite_store: Store) -> None:
    answer = await http.get("/api/account/globex/things", headers=await _key(sqlite_store, "acme"))
    assert answer.status_code == 404
    assert answer.json()["type"].endswith("/account-not-found")


async def test_the_operator_acts_on_any_existing_account(http: httpx.AsyncClient) -> None:
    answer = await http.get("/api/account/globex/things", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert answer.json() == {"account": "globex", "actor": "operator"}


async def test_the_operator_finds_a_missing_account_missing(http: httpx.AsyncClient) -> None:
    answer = await http.get("/api/account/initech/things", headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})
    assert answer.status_code == 404


async def test_a_caller_without_a_credential_is_challenged(http: httpx.AsyncClient) -> None:
    answer = await http.get("/api/account/acme/things")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == 'Bearer realm="appinstall"'


async def test_the_dependency_adds_no_parameter_to_the_operation(sqlite_store: Store) -> None:
    operation = _app(sqlite_store).openapi()["paths"][THINGS]["get"]
    assert [(parameter["name"], parameter["in"]) for parameter in operation["parameters"]] == [("account_id", "path")]
