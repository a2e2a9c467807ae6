"""The sandbox's end-to-end tests deliver webhooks: they share the webhook tests' receiver and settings, and most
start from a connector installed for every notification type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from appinstall.settings import Settings
from tests.sandbox.conversation import ACCOUNT, BASE, EVENTS
from tests.webhooks.delivery_fixtures import delivering, no_errors_logged, receiver
from tests.webhooks.receiver import Receiver

__all__ = ["no_errors_logged", "receiver"]


@pytest.fixture
def settings(settings: Settings, tls_files: tuple[Path, Path, Path]) -> Settings:
    """The webhook tests' settings with a 5 s timeout: no sandbox test is about timeouts, and a busy machine (the
    suite runs two processes on two cores) must not turn a slow answer into a lost notification."""
    return delivering(settings, tls_files, timeout_seconds=5.0)


@pytest.fixture
async def connector(app: FastAPI, client: httpx.AsyncClient, receiver: Receiver) -> dict[str, Any]:
    """An installed app subscribed to every notification type, with its AppJWT."""
    await client.post("/api/accounts", json={"id": ACCOUNT})
    manifest = {
        "client_name": "connector",
        "grant_types": ["client_credentials"],
        "scope": "msg.consumer",
        "capabilities": {"webhooks": {event: {"endpoint": receiver.url()} for event in EVENTS}},
    }
    installed: dict[str, Any] = (await client.post(BASE, json=manifest)).json()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as anonymous:
        token = await anonymous.post(
            f"/sentinel/api/account/{ACCOUNT}/app/token?v=1.0&grant_type=client_credentials",
            data={"client_id": installed["client_id"], "client_secret": installed["client_secret"]},
        )
    installed["app_jwt"] = token.json()["access_token"]
    return installed
