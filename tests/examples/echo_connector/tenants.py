"""The example connector's world in the tests: a server with an observer app, an account on it, and the example's
own installation step (for the fixtures in conftest.py and the tests)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import httpx

from examples.echo_connector.__main__ import MANIFEST
from examples.echo_connector.install import Credentials, discover, install
from tests.webhooks.receiver import Receiver


@dataclass(frozen=True)
class Server:
    url: str
    observer: Receiver  # another app's webhook endpoint in the same accounts: it hears what the connector says


@dataclass(frozen=True)
class Tenant:
    server: Server
    account: str
    admin_key: str


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
