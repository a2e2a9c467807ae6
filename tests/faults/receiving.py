"""What the fault tests share: an app installed to receive text messages at the test receiver, and what arrived."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.conftest import SEED
from tests.live_server import OPERATOR_TOKEN
from tests.webhooks.flow import CONTENT
from tests.webhooks.receiver import Receiver

ADMIN = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def install_receiving_app(api: str, account: str, receiver: Receiver, **fields: str) -> dict[str, Any]:
    """Create ``account`` and install in it the seed app with its text messages sent to ``receiver`` (5 retries)."""
    httpx.post(f"{api}/api/accounts", json={"id": account}, headers=ADMIN).raise_for_status()
    manifest = json.loads(json.dumps(SEED)) | fields
    manifest["capabilities"]["webhooks"] = {CONTENT: {"endpoint": receiver.url(), "max_retries": 5}}
    installed = httpx.post(
        f"{api}/api/account/{account}/configuration/app-install/installations", json=manifest, headers=ADMIN
    )
    assert installed.status_code == 201, installed.text
    body: dict[str, Any] = installed.json()
    return body


def delivered_ids(receiver: Receiver) -> set[str]:
    """The ``webhook-id`` of every request the receiver got (a repeat counts once)."""
    return {request.headers["webhook-id"] for request in list(receiver.received)}
