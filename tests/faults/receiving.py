"""What the fault tests share: an app installed to receive text messages at the test receiver, what arrived, the
settings that make real processes retry quickly, and waiting for their deliveries to settle."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import SEED
from tests.live_server import OPERATOR_TOKEN
from tests.webhooks.flow import CONTENT
from tests.webhooks.receiver import Receiver

ADMIN = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def install_receiving_app(
    api: str, account: str, receiver: Receiver, *, path: str = "/hook", **fields: str
) -> dict[str, Any]:
    """Install in ``account`` (created unless it exists) the seed app with its text messages sent to ``receiver``
    at ``path`` (5 retries)."""
    created = httpx.post(f"{api}/api/accounts", json={"id": account}, headers=ADMIN)
    assert created.status_code in (201, 409), created.text
    manifest = json.loads(json.dumps(SEED)) | fields
    manifest["capabilities"]["webhooks"] = {CONTENT: {"endpoint": receiver.url(path), "max_retries": 5}}
    installed = httpx.post(
        f"{api}/api/account/{account}/configuration/app-install/installations", json=manifest, headers=ADMIN
    )
    assert installed.status_code == 201, installed.text
    body: dict[str, Any] = installed.json()
    return body


def delivered_ids(receiver: Receiver) -> set[str]:
    """The ``webhook-id`` of every request the receiver got (a repeat counts once)."""
    return {request.headers["webhook-id"] for request in list(receiver.received)}


def fast_webhooks(ca_file: Path) -> dict[str, str]:
    """Settings for a real process: trust the test CA, time out and retry quickly, let a dead worker's leases run
    out in 3 s."""
    return {
        "APPINSTALL_DEV": "true",
        "APPINSTALL_WEBHOOK_CA_FILE": str(ca_file),
        "APPINSTALL_WEBHOOK_TIMEOUT_SECONDS": "1",
        "APPINSTALL_WEBHOOK_LEASE_SECONDS": "3",
        "APPINSTALL_WEBHOOK_RETRY_FIRST_DELAY_SECONDS": "0.05",
    }


def wait_for(condition: Callable[[], bool], timeout: float, what: str, *, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def deliveries_of(api: str, account: str, installation_id: str) -> list[dict[str, Any]]:
    """Every delivery of an installation, as the API lists them (all pages)."""
    base = f"/api/account/{account}/configuration/app-install/installations"
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = httpx.get(f"{api}{base}/{installation_id}/deliveries", params=params, headers=ADMIN).json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def statuses(api: str, account: str, installation_id: str) -> list[str]:
    return [item["status"] for item in deliveries_of(api, account, installation_id)]
