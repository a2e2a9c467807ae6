"""A real ``appinstall serve --dev`` process for the example connector, and an account with an admin key."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from examples.echo_connector.__main__ import MANIFEST
from examples.echo_connector.install import Credentials, discover, install
from tests.live_server import OPERATOR_TOKEN, live_server
from tests.webhooks.receiver import Receiver, ReceiverThread, make_tls_files


@dataclass(frozen=True)
class Server:
    url: str
    observer: Receiver  # another app's webhook endpoint in the same accounts: it hears what the connector says


@dataclass(frozen=True)
class Tenant:
    server: Server
    account: str
    admin_key: str


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Dev mode, so that webhooks may go to http://127.0.0.1 (the connector's receiver)."""
    ca, cert, key = make_tls_files(tmp_path_factory.mktemp("tls"))
    environment = {"APPINSTALL_DEV": "true", "APPINSTALL_WEBHOOK_CA_FILE": str(ca)}
    with ReceiverThread(cert, key) as observer, live_server(tmp_path_factory.mktemp("server"), **environment) as live:
        yield Server(live.url, observer)


@pytest.fixture
def tenant(server: Server) -> Tenant:
    """A new account (tests share the server, not their accounts) and its admin key."""
    account = f"ex{uuid.uuid4().hex[:8]}"
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    httpx.post(f"{server.url}/api/accounts", json={"id": account}, headers=operator).raise_for_status()
    key = httpx.post(f"{server.url}/api/accounts/{account}/keys", json={"name": "example"}, headers=operator)
    key.raise_for_status()
    return Tenant(server, account, key.json()["key"])


def install_the_example(tenant: Tenant, endpoint: str) -> Credentials:
    """The example's own installation step, with its webhooks pointed at ``endpoint``."""
    manifest = json.loads(MANIFEST.read_text())
    for webhook in manifest["capabilities"]["webhooks"].values():
        webhook["endpoint"] = endpoint

    async def run() -> Credentials:
        async with httpx.AsyncClient() as http:
            services = await discover(http, tenant.server.url, tenant.account)
            return await install(http, services["accountConfigReadWrite"], tenant.account, tenant.admin_key, manifest)

    return asyncio.run(run())
