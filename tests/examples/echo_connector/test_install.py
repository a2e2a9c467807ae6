"""The example installs itself idempotently, through the registry that domain discovery names."""

from __future__ import annotations

import asyncio

import httpx

from examples.echo_connector.install import discover
from tests.examples.echo_connector.tenants import Tenant, install_the_example


def test_discovery_names_this_server_with_its_scheme(tenant: Tenant) -> None:
    async def run() -> dict[str, str]:
        async with httpx.AsyncClient() as http:
            return await discover(http, tenant.server.url, tenant.account)

    services = asyncio.run(run())
    assert {services[name] for name in ("sentinel", "idp", "asyncMessagingEnt")} == {tenant.server.url}


def test_installing_again_keeps_one_installation_and_its_credentials(tenant: Tenant) -> None:
    first = install_the_example(tenant, "http://127.0.0.1:9000/webhooks")
    second = install_the_example(tenant, "http://127.0.0.1:9001/webhooks")
    assert second == first
    listed = httpx.get(
        f"{tenant.server.url}/api/account/{tenant.account}/configuration/app-install/installations",
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    ).json()
    assert [item["id"] for item in listed] == [first.client_id]


def test_installing_again_points_the_webhooks_at_the_new_endpoint(tenant: Tenant) -> None:
    install_the_example(tenant, "http://127.0.0.1:9000/webhooks")
    installed = install_the_example(tenant, "http://127.0.0.1:9001/webhooks")
    current = httpx.get(
        f"{tenant.server.url}/api/account/{tenant.account}/configuration/app-install/installations/{installed.client_id}",
        headers={"Authorization": f"Bearer {tenant.admin_key}"},
    ).json()
    endpoints = {webhook["endpoint"] for webhook in current["capabilities"]["webhooks"].values()}
    assert endpoints == {"http://127.0.0.1:9001/webhooks"}
