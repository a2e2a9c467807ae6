"""A real ``appinstall serve --dev`` process for the example connector, and an account with an admin key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.examples.echo_connector.tenants import Server, Tenant
from tests.live_server import OPERATOR_TOKEN, live_server
from tests.webhooks.receiver import ReceiverThread, make_tls_files


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
