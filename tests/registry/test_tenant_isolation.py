"""Tenant isolation: an admin key of one account can neither see nor change anything of another.

Every route is called with account A's key against account B's data. Each must answer 404 (a foreign account,
key or installation looks exactly like one that does not exist), and B's data must be untouched afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import SEED

pytestmark = pytest.mark.anyio

PROBLEM_JSON = "application/problem+json"
INSTALLATIONS = "/api/account/{account}/configuration/app-install/installations"
ONE = INSTALLATIONS + "/{installation}"


@dataclass(frozen=True)
class Tenant:
    account: str
    key: str
    key_id: str
    installation: str
    secret: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def url(self, account: str, installation: str, key_id: str) -> str:
        return self.path.format(account=account, installation=installation, key_id=key_id)


def _json(document: Any) -> bytes:
    return json.dumps(document).encode()


JSON = ("Content-Type", "application/json")
MERGE_PATCH = ("Content-Type", "application/merge-patch+json")
IF_MATCH = ("If-Match", '"1"')

# Bodies that would succeed on B's installation if the account check were missing, so a leak would show.
INTRUDER_MANIFEST = _json({**SEED, "client_name": "Intruder"})
INTRUDER_REPLACEMENT = _json({**SEED, "description": "replaced by another account"})
INTRUDER_PATCH = _json({"description": "patched by another account"})

INSTALLATION_ROUTES = {
    "get-installation": Route("GET", ONE),
    "replace-installation": Route("PUT", ONE, INTRUDER_REPLACEMENT, (JSON, IF_MATCH)),
    "patch-installation": Route("PATCH", ONE, INTRUDER_PATCH, (MERGE_PATCH, IF_MATCH)),
    "delete-installation": Route("DELETE", ONE, None, (IF_MATCH,)),
    "rotate-secret": Route("POST", ONE + "/secret"),
    "read-audit": Route("GET", ONE + "/audit"),
}
ACCOUNT_ROUTES = {
    "create-installation": Route("POST", INSTALLATIONS, INTRUDER_MANIFEST, (JSON,)),
    "list-installations": Route("GET", INSTALLATIONS),
    **INSTALLATION_ROUTES,
    "get-account": Route("GET", "/api/accounts/{account}"),
    "create-key": Route("POST", "/api/accounts/{account}/keys", _json({"name": "intruder"}), (JSON,)),
    "list-keys": Route("GET", "/api/accounts/{account}/keys"),
    "revoke-key": Route("DELETE", "/api/accounts/{account}/keys/{key_id}"),
}
# Routes that name an object inside the account: A's own account path with B's object id.
OBJECT_ROUTES = {**INSTALLATION_ROUTES, "revoke-key": ACCOUNT_ROUTES["revoke-key"]}


async def _tenant(client: httpx.AsyncClient, account: str) -> Tenant:
    """An account with one admin key and one installation (created by that key), as the operator sets it up."""
    assert (await client.post("/api/accounts", json={"id": account})).status_code == 201
    key = (await client.post(f"/api/accounts/{account}/keys", json={"name": "admin"})).json()
    created = await client.post(
        INSTALLATIONS.format(account=account),
        content=_json(SEED),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {key['key']}"},
    )
    assert created.status_code == 201, created.text
    installation = created.json()
    return Tenant(account, key["key"], key["id"], installation["id"], installation["client_secret"])


@pytest.fixture
async def tenant_a(client: httpx.AsyncClient) -> Tenant:
    return await _tenant(client, "tenant-a")


@pytest.fixture
async def tenant_b(client: httpx.AsyncClient) -> Tenant:
    return await _tenant(client, "tenant-b")


async def _snapshot(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    """Everything the operator can see of a tenant's data."""
    one = ONE.format(account=tenant.account, installation=tenant.installation)
    installation = await client.get(one)
    return {
        "installation": installation.json(),
        "revision": installation.headers.get("ETag"),
        "installations": (
            await client.get(INSTALLATIONS.format(account=tenant.account), params={"include_deleted": "true"})
        ).json(),
        "audit": (await client.get(one + "/audit")).json(),
        "keys": (await client.get(f"/api/accounts/{tenant.account}/keys")).json(),
    }


async def _call(client: httpx.AsyncClient, route: Route, url: str, caller: Tenant) -> httpx.Response:
    headers = {**dict(route.headers), **caller.auth}
    return await client.request(route.method, url, content=route.body, headers=headers)


async def _assert_untouched(client: httpx.AsyncClient, tenant: Tenant, before: dict[str, Any]) -> None:
    after = await _snapshot(client, tenant)
    installation = after["installation"]
    assert after["revision"] == '"1"'
    assert installation["deleted"] is False
    assert installation["client_secret"] == tenant.secret
    assert [item["id"] for item in after["installations"]] == [tenant.installation]
    assert [(key["id"], key["revoked_at"]) for key in after["keys"]] == [(tenant.key_id, None)]
    assert after == before
    own = await client.get(f"/api/accounts/{tenant.account}", headers=tenant.auth)
    assert own.status_code == 200


@pytest.mark.parametrize("route", ACCOUNT_ROUTES.values(), ids=ACCOUNT_ROUTES.keys())
async def test_a_key_gets_not_found_on_every_route_of_another_account(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, route: Route
) -> None:
    before = await _snapshot(client, tenant_b)
    url = route.url(tenant_b.account, tenant_b.installation, tenant_b.key_id)
    response = await _call(client, route, url, tenant_a)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"].endswith("/account-not-found")
    await _assert_untouched(client, tenant_b, before)


@pytest.mark.parametrize("route", OBJECT_ROUTES.values(), ids=OBJECT_ROUTES.keys())
async def test_a_key_gets_not_found_for_another_accounts_object_under_its_own_account(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant, route: Route
) -> None:
    before = await _snapshot(client, tenant_b)
    url = route.url(tenant_a.account, tenant_b.installation, tenant_b.key_id)
    response = await _call(client, route, url, tenant_a)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    await _assert_untouched(client, tenant_b, before)


async def test_a_key_lists_only_its_own_accounts_installations(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    response = await client.get(INSTALLATIONS.format(account=tenant_a.account), headers=tenant_a.auth)
    assert response.status_code == 200
    assert [item["id"] for item in response.json()] == [tenant_a.installation]


async def test_a_key_cannot_use_the_operators_discovery_across_accounts(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    response = await client.get("/api/installations", headers=tenant_a.auth)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_the_operator_discovers_installations_of_every_account(
    client: httpx.AsyncClient, tenant_a: Tenant, tenant_b: Tenant
) -> None:
    response = await client.get("/api/installations")
    assert response.status_code == 200
    assert sorted(item["id"] for item in response.json()) == sorted([tenant_a.installation, tenant_b.installation])
