"""The delivery pages in real Chromium: the list shows a new delivery without a reload, and a failed delivery is
opened, read and retried."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.console.conftest import ConsoleServer, Tenant, browser_sign_in
from tests.live_server import free_port
from tests.webhooks.flow import CONTENT, message

WAIT_MS = 15_000


def install_refused(server: ConsoleServer, tenant: Tenant) -> dict[str, Any]:
    """An app whose webhook goes to a loopback port nothing listens on: each delivery fails at once, unretried."""
    manifest = {
        "client_name": f"refused-{uuid.uuid4().hex[:6]}",
        "grant_types": ["client_credentials"],
        "scope": "msg.consumer",
        "capabilities": {"webhooks": {CONTENT: {"endpoint": f"http://127.0.0.1:{free_port()}/hook", "max_retries": 0}}},
    }
    made = httpx.post(
        f"{server.url}/api/account/{tenant.account_id}/configuration/app-install/installations",
        json=manifest,
        headers={"Authorization": f"Bearer {tenant.key}"},
    )
    assert made.status_code == 201, made.text
    installed: dict[str, Any] = made.json()
    return installed


def publish(server: ConsoleServer, tenant: Tenant, conversation: str) -> str:
    answer = httpx.post(
        f"{server.url}/api/account/{tenant.account_id}/notifications",
        content=json.dumps(message(conversation, "hello")),
        headers={"Authorization": f"Bearer {tenant.key}", "Content-Type": "application/json"},
    )
    assert answer.status_code == 202, answer.text
    delivery_id: str = answer.json()["deliveries"][0]["id"]
    return delivery_id


def wait_until_failed(server: ConsoleServer, tenant: Tenant, installation_id: str, delivery_id: str) -> None:
    url = (
        f"{server.url}/api/account/{tenant.account_id}/configuration/app-install/installations/"
        f"{installation_id}/deliveries/{delivery_id}"
    )
    deadline = time.monotonic() + WAIT_MS / 1000
    while httpx.get(url, headers={"Authorization": f"Bearer {tenant.key}"}).json()["status"] != "failed":
        assert time.monotonic() < deadline, "the delivery did not fail in time"
        time.sleep(0.1)


def test_a_delivery_published_while_the_list_is_open_appears_on_top_without_a_reload(
    console_server: ConsoleServer, page: Any
) -> None:
    tenant = console_server.tenant("browser-live")
    install_refused(console_server, tenant)
    publish(console_server, tenant, "conv-before")
    browser_sign_in(page, console_server.url, tenant.key)
    page.wait_for_url("**/installations")
    page.goto(f"{console_server.url}/console/accounts/browser-live/deliveries")
    rows = page.locator("#delivery-rows tr")
    expect(rows).to_have_count(1)
    page.evaluate("window.sameDocument = true")

    delivery_id = publish(console_server, tenant, "conv-live")

    expect(rows).to_have_count(2, timeout=WAIT_MS)
    expect(rows.first).to_contain_text("conv-live")
    expect(rows.first).to_have_attribute("data-id", delivery_id)
    expect(page.locator("#live-status")).to_have_text("1 new delivery since the page was opened.")
    expect(rows.first.locator("td.status")).to_have_text("failed", timeout=WAIT_MS)  # nothing listens at its endpoint
    assert page.evaluate("window.sameDocument") is True


def test_a_failed_delivery_shows_its_attempts_and_is_retried_from_its_page(
    console_server: ConsoleServer, page: Any
) -> None:
    tenant = console_server.tenant("browser-retry")
    installation = install_refused(console_server, tenant)
    delivery_id = publish(console_server, tenant, "conv-retry")
    wait_until_failed(console_server, tenant, installation["id"], delivery_id)
    browser_sign_in(page, console_server.url, tenant.key)
    page.wait_for_url("**/installations")
    page.goto(f"{console_server.url}/console/accounts/browser-retry/deliveries?status=failed")
    page.locator(f'#delivery-rows tr[data-id="{delivery_id}"] a').click()
    page.wait_for_url(f"**/deliveries/{delivery_id}")
    expect(page.get_by_role("heading", name="Attempts")).to_be_visible()
    expect(page.locator("table").first).to_contain_text("no answer")
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_role("status").first).to_contain_text("Queued again")
    page.wait_for_url(f"**/deliveries/{delivery_id}")  # the notice leaves the address: a reload drops it
    # Refused again: the page shows the second attempt (at once, or once live.js sees it end).
    expect(page.locator("table").first.locator("tbody tr")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#delivery-status")).to_have_text("failed")
    page.reload()
    expect(page.get_by_text("Queued again")).to_have_count(0)
