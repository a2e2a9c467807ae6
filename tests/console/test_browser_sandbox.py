"""The sandbox in real Chromium: a message typed and sent, the echo agent's reply and the step's delivery appear
without a reload."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.console.conftest import ConsoleServer, browser_sign_in
from tests.live_server import OPERATOR_TOKEN

WAIT_MS = 15_000


class _Accepting(BaseHTTPRequestHandler):
    """A webhook receiver that takes every notification (the test reads what the console says of it)."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Accepting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def _install_listener(console_server: ConsoleServer, account_id: str, endpoint: str) -> None:
    manifest = {
        "client_name": "listener",
        "grant_types": ["client_credentials"],
        "scope": "msg.consumer",
        "capabilities": {"webhooks": {"ms.MessagingEventNotification.ContentEvent": {"endpoint": endpoint}}},
    }
    installed = httpx.post(
        f"{console_server.url}/api/account/{account_id}/configuration/app-install/installations",
        json=manifest,
        headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"},
    )
    assert installed.status_code == 201, installed.text


def test_a_message_and_the_echo_agents_reply_appear_without_a_reload(
    console_server: ConsoleServer, page: Any, receiver_url: str
) -> None:
    tenant = console_server.tenant("browser-sandbox")
    _install_listener(console_server, tenant.account_id, receiver_url)
    browser_sign_in(page, console_server.url, tenant.key)
    page.wait_for_url("**/installations")
    page.get_by_role("link", name="Sandbox").click()
    page.get_by_role("button", name="Open a new conversation").click()
    page.wait_for_url(re.compile(r"/sandbox\?conversation=[0-9a-f-]{36}$"))
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Message as the consumer").fill("hello from Chromium")
    page.get_by_role("button", name="Send", exact=True).click()

    chat = page.get_by_role("log", name="Messages")
    chat.locator(".line.consumer .bubble", has_text="hello from Chromium").wait_for(timeout=WAIT_MS)
    chat.locator(".line.agent .bubble", has_text="hello from Chromium").wait_for(timeout=WAIT_MS)
    assert page.get_by_label("Message as the consumer").input_value() == ""
    page.locator("#conversation-state", has_text="agent: echo-agent").wait_for(timeout=WAIT_MS)
    deliveries = page.locator("#deliveries")
    deliveries.locator("tr", has_text="consumer: ContentEvent #0").filter(has_text="succeeded").wait_for(
        timeout=WAIT_MS
    )
    deliveries.locator("tr", has_text="echo-agent: ContentEvent").filter(has_text="succeeded").wait_for(timeout=WAIT_MS)
    assert page.evaluate("window.notReloaded") is True


def test_a_user_answers_as_the_agent_when_the_echo_agent_is_off(console_server: ConsoleServer, page: Any) -> None:
    tenant = console_server.tenant("browser-agent")
    browser_sign_in(page, console_server.url, tenant.key)
    page.wait_for_url("**/installations")
    page.goto(f"{console_server.url}/console/accounts/browser-agent/sandbox")
    page.get_by_label("Agent for this account").select_option("off")
    page.get_by_role("button", name="Set agent").click()
    assert page.locator("#agent-mode").inner_text().startswith("Now: off")
    page.get_by_role("button", name="Open a new conversation").click()
    page.wait_for_url(re.compile(r"/sandbox\?conversation=[0-9a-f-]{36}$"))
    page.evaluate("window.notReloaded = true")

    page.get_by_label("Message as the consumer").fill("anyone there?")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Accept as the agent").click()
    page.get_by_label("Answer as the agent").fill("yes, how can I help?")
    page.get_by_role("button", name="Send as the agent").click()

    chat = page.get_by_role("log", name="Messages")
    chat.locator(".line.consumer .bubble", has_text="anyone there?").wait_for(timeout=WAIT_MS)
    chat.locator(".line.agent .bubble", has_text="yes, how can I help?").wait_for(timeout=WAIT_MS)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close the conversation").click()
    page.locator("#conversation-state", has_text="Closed by the agent").wait_for(timeout=WAIT_MS)
    assert page.get_by_label("Message as the consumer").is_hidden()
    listed = page.locator("tr[data-conversation-id]")  # the conversations list, drawn with the page, follows
    listed.locator("td.conversation-state", has_text="closed").wait_for(timeout=WAIT_MS)
    assert listed.locator("td.conversation-agent").inner_text() == "sandbox-agent"
    assert page.evaluate("window.notReloaded") is True
