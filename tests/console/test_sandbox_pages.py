"""The sandbox's pages through HTTP as a browser sends them: chatting as the console's consumer, the agent's side,
and the notifications each step made."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_OPERATOR_TOKEN
from tests.console.conftest import Tenant, csrf_of, make_tenant, sign_in

pytestmark = pytest.mark.anyio

SAME_ORIGIN = {"Origin": "http://appinstall.test", "Sec-Fetch-Site": "same-origin"}
JSON = SAME_ORIGIN | {"Accept": "application/json"}
SANDBOX = "/console/accounts/acme/sandbox"
MESSAGING = "ms.MessagingEventNotification"


async def _signed_in(client: httpx.AsyncClient, tenant: Tenant) -> str:
    """Sign in and open the sandbox page; its CSRF token."""
    await sign_in(client, tenant.key)
    page = await client.get(SANDBOX)
    assert page.status_code == 200
    return csrf_of(page.text)


async def _open(client: httpx.AsyncClient, csrf: str) -> str:
    answer = await client.post(f"{SANDBOX}/conversations", data={"csrf_token": csrf}, headers=SAME_ORIGIN)
    assert answer.status_code == 303
    found = re.search(r"\?conversation=([0-9a-f-]{36})$", answer.headers["location"])
    assert found, answer.headers["location"]
    return found.group(1)


async def _updates(client: httpx.AsyncClient, conversation: str, after: int = 0) -> dict[str, Any]:
    answer = await client.get(f"{SANDBOX}/conversations/{conversation}/updates?after={after}")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    update: dict[str, Any] = answer.json()
    return update


async def _agent(client: httpx.AsyncClient, csrf: str, mode: str) -> None:
    answer = await client.post(f"{SANDBOX}/agent", data={"csrf_token": csrf, "mode": mode}, headers=SAME_ORIGIN)
    assert answer.status_code == 303


async def test_the_sandbox_page_opens_for_the_own_account(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await sign_in(browserless, tenant.key)
    page = await browserless.get(SANDBOX)
    assert page.status_code == 200
    assert "<h1>Sandbox" in page.text and "Open a new conversation" in page.text
    assert f'action="{SANDBOX}/conversations"' in page.text and f'action="{SANDBOX}/agent"' in page.text


async def test_another_tenants_sandbox_is_not_found(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    await make_tenant(browserless, "other")
    await sign_in(browserless, tenant.key)
    answer = await browserless.get("/console/accounts/other/sandbox")
    assert answer.status_code == 404 and "Not found" in answer.text


async def test_a_consumer_message_gets_the_echo_agents_reply(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    csrf = await _signed_in(browserless, tenant)
    await _agent(browserless, csrf, "echo")
    conversation = await _open(browserless, csrf)
    sent = await browserless.post(
        f"{SANDBOX}/conversations/{conversation}/messages",
        data={"message": "hello there"},
        headers=JSON | {"X-CSRF-Token": csrf},
    )
    assert sent.status_code == 200 and sent.json() == {"ok": True, "sequence": 0}
    deadline = time.monotonic() + 10
    while True:
        update = await _updates(browserless, conversation)
        replies = [line for line in update["events"] if line["side"] == "agent" and line["kind"] == "message"]
        if replies or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    messages = [(line["side"], line["text"]) for line in update["events"] if line["kind"] == "message"]
    assert messages == [("consumer", "hello there"), ("agent", "hello there")]
    assert update["conversation"]["agent_id"] == "echo-agent" and update["conversation"]["open"]


async def test_the_poll_returns_only_events_after_the_last_one_seen(
    browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    csrf = await _signed_in(browserless, tenant)
    await _agent(browserless, csrf, "off")
    conversation = await _open(browserless, csrf)
    for text in ("one", "two"):
        answer = await browserless.post(
            f"{SANDBOX}/conversations/{conversation}/messages",
            data={"csrf_token": csrf, "message": text},
            headers=SAME_ORIGIN,
        )
        assert answer.status_code == 303
    first = await _updates(browserless, conversation)
    assert [line["text"] for line in first["events"]] == ["one", "two"]
    later = await _updates(browserless, conversation, first["events"][0]["id"])
    assert [line["text"] for line in later["events"]] == ["two"]
    assert later["last_event"] == first["events"][1]["id"]


async def test_a_message_without_the_csrf_token_is_refused_and_not_sent(
    browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    csrf = await _signed_in(browserless, tenant)
    conversation = await _open(browserless, csrf)
    answer = await browserless.post(
        f"{SANDBOX}/conversations/{conversation}/messages", data={"message": "forged"}, headers=SAME_ORIGIN
    )
    assert answer.status_code == 403
    assert (await _updates(browserless, conversation))["events"] == []


async def test_the_console_answers_as_the_agent_and_closes(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    csrf = await _signed_in(browserless, tenant)
    await _agent(browserless, csrf, "off")
    conversation = await _open(browserless, csrf)
    base = f"{SANDBOX}/conversations/{conversation}"
    early = await browserless.post(
        f"{base}/agent/messages", data={"message": "too soon"}, headers=JSON | {"X-CSRF-Token": csrf}
    )
    assert early.status_code == 409 and early.json()["error"] == "not-accepted"
    for path, fields in (("/agent/accept", {}), ("/agent/messages", {"message": "how can I help?"}), ("/close", {})):
        answer = await browserless.post(base + path, data={"csrf_token": csrf, **fields}, headers=SAME_ORIGIN)
        assert answer.status_code == 303, path
    update = await _updates(browserless, conversation)
    assert [(line["side"], line["who"], line["text"]) for line in update["events"]] == [
        ("agent", "sandbox-agent", "how can I help?")
    ]
    assert update["conversation"]["state"] == "CLOSE" and update["conversation"]["close_reason"] == "AGENT"
    again = await browserless.post(f"{base}/close", data={"csrf_token": csrf}, headers=SAME_ORIGIN)
    assert again.status_code == 409 and "closed" in again.text


async def test_each_step_lists_the_deliveries_it_made(browserless: httpx.AsyncClient, tenant: Tenant) -> None:
    operator = {"Authorization": f"Bearer {TEST_OPERATOR_TOKEN}"}
    manifest = {
        "client_name": "listener",
        "grant_types": ["client_credentials"],
        "scope": "msg.consumer",
        "capabilities": {"webhooks": {f"{MESSAGING}.ContentEvent": {"endpoint": "https://hooks.example/in"}}},
    }
    installed = await browserless.post(
        "/api/account/acme/configuration/app-install/installations", json=manifest, headers=operator
    )
    assert installed.status_code == 201, installed.text
    csrf = await _signed_in(browserless, tenant)
    await _agent(browserless, csrf, "off")
    conversation = await _open(browserless, csrf)
    await browserless.post(
        f"{SANDBOX}/conversations/{conversation}/messages",
        data={"csrf_token": csrf, "message": "ping"},
        headers=SAME_ORIGIN,
    )
    update = await _updates(browserless, conversation)
    [message] = update["events"]
    [delivery] = update["deliveries"]
    assert delivery["installation"] == "listener" and delivery["event_type"] == "ContentEvent"
    assert delivery["event_id"] == message["id"] and delivery["label"] == "consumer: ContentEvent #0"
    page = await browserless.get(f"{SANDBOX}?conversation={conversation}")
    assert "→ listener: pending" in page.text
    here = f"{SANDBOX}/conversations/{conversation}"
    for action in ("/messages", "/agent/accept", "/close"):
        assert f'action="{here}{action}"' in page.text
    assert f'data-updates="{here}/updates"' in page.text


async def test_another_consumers_conversation_cannot_be_written_as_the_consumer(
    browserless: httpx.AsyncClient, tenant: Tenant
) -> None:
    csrf = await _signed_in(browserless, tenant)
    conversation = await _open(browserless, csrf)
    other = httpx.AsyncClient(transport=browserless._transport, base_url="http://appinstall.test")
    async with other:
        await sign_in(other, TEST_OPERATOR_TOKEN)
        page = await other.get(f"{SANDBOX}?conversation={conversation}")
        assert "another consumer opened it" in page.text
        answer = await other.post(
            f"{SANDBOX}/conversations/{conversation}/messages",
            data={"csrf_token": csrf_of(page.text), "message": "not mine"},
            headers=SAME_ORIGIN,
        )
    assert answer.status_code == 409
    assert (await _updates(browserless, conversation))["events"] == []


@pytest.mark.parametrize(
    "path",
    [
        "?conversation=nope",
        "?conversation=" + "x" * 300,
        "/conversations/nope/updates",
        "/conversations/" + "x" * 300 + "/updates",
        "/conversations/nope/updates?after=-1",
        "/conversations/nope/updates?after=" + "9" * 40,
    ],
)
async def test_odd_conversation_ids_and_positions_are_clear_refusals(
    browserless: httpx.AsyncClient, tenant: Tenant, path: str
) -> None:
    await sign_in(browserless, tenant.key)
    answer = await browserless.get(SANDBOX + path)
    assert answer.status_code in (400, 404), answer.text
    assert answer.headers["content-type"].startswith("text/html")


@pytest.mark.parametrize("conversation", ["%00", "%C3%A9t%C3%A9", "a%2Fb", "%20"])
async def test_strange_characters_in_a_conversation_id_are_not_found(
    browserless: httpx.AsyncClient, tenant: Tenant, conversation: str
) -> None:
    csrf = await _signed_in(browserless, tenant)
    for answer in (
        await browserless.get(f"{SANDBOX}?conversation={conversation}"),
        await browserless.get(f"{SANDBOX}/conversations/{conversation}/updates"),
        await browserless.post(
            f"{SANDBOX}/conversations/{conversation}/messages",
            data={"csrf_token": csrf, "message": "hi"},
            headers=SAME_ORIGIN,
        ),
    ):
        assert answer.status_code in (400, 404), answer.text


@pytest.mark.parametrize("message", ["", "   ", "x" * 4001, "a\x00b"])
async def test_an_empty_huge_or_odd_message_is_refused_and_not_sent(
    browserless: httpx.AsyncClient, tenant: Tenant, message: str
) -> None:
    csrf = await _signed_in(browserless, tenant)
    conversation = await _open(browserless, csrf)
    answer = await browserless.post(
        f"{SANDBOX}/conversations/{conversation}/messages",
        data={"message": message},
        headers=JSON | {"X-CSRF-Token": csrf},
    )
    assert answer.status_code == 400, answer.text
    assert (await _updates(browserless, conversation))["events"] == []
