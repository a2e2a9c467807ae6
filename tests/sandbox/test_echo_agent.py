"""The echo agent end to end: a consumer writes, and the connector hears the agent accept, read, type and answer,
as signed notifications in order."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from appinstall.app import create_app
from appinstall.connector import ContentEvent, ConversationChange, MessagingChange, Notification, verify
from appinstall.sandbox.tables import conversation_events
from appinstall.settings import Settings
from appinstall.store import create_engine
from tests.sandbox.conversation import ACCOUNT, arrivals, consumer_headers, open_conversation, publish_event
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio

SEND = f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3"
AGENT_SETTING = f"/api/account/{ACCOUNT}/sandbox/agent"
AGENT = f"/api/account/{ACCOUNT}/sandbox/conversations"
INSTALLATIONS = f"/api/account/{ACCOUNT}/configuration/app-install/installations"


def text(message: str) -> dict[str, Any]:
    return {"type": "ContentEvent", "contentType": "text/plain", "message": message}


async def say(client: httpx.AsyncClient, headers: dict[str, str], conversation_id: str, event: dict[str, Any]) -> Any:
    response = await client.post(SEND, json=publish_event(conversation_id, event), headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def heard(receiver: Receiver, connector: dict[str, Any], count: int) -> list[Notification]:
    return [verify(r.body, r.headers, connector["client_secret"]) for r in await arrivals(receiver, count)]


def summary(notification: Notification) -> tuple[str, ...]:
    """(event type, role, what) of a notification's one change, to compare whole sequences at a glance."""
    change = notification.changes[0]
    if isinstance(change, ConversationChange):
        details = change.result.conversation_details
        assert details is not None
        roles = sorted(p.role or "" for p in details.participants)
        return ("ConversationChange", details.state or "", ",".join(roles))
    assert isinstance(change, MessagingChange)
    event = change.event.model_dump(by_alias=True, exclude={"type"})
    what = str(event.get("message") or event.get("chatState") or (event.get("status"), event.get("sequenceList")))
    return (change.event.type, change.role or "", what)


async def all_delivered(client: httpx.AsyncClient, installation_id: str, timeout: float = 15) -> list[Any]:
    """The installation's deliveries, once none is waiting or in flight: what it was ever going to receive."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"{INSTALLATIONS}/{installation_id}/deliveries", params={"limit": 200})
        items: list[Any] = response.json()["items"]
        if all(item["status"] in ("succeeded", "failed") for item in items):
            return items
        assert time.monotonic() < deadline, f"deliveries still unfinished: {items}"
        await asyncio.sleep(0.05)


def agent_texts(notifications: list[Notification]) -> list[str]:
    return [
        str(change.event.message)
        for n in notifications
        for change in n.changes
        if isinstance(change, MessagingChange)
        and change.role == "ASSIGNED_AGENT"
        and isinstance(change.event, ContentEvent)
    ]


async def test_the_echo_agent_accepts_reads_types_and_repeats_the_consumers_text(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    await client.put(AGENT_SETTING, json={"mode": "echo"})
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    assert await say(client, headers, conversation_id, text("hello")) == {
        "reqId": "1",
        "code": "OK",
        "body": {"sequence": 0},
    }

    notifications = await heard(receiver, connector, 6)
    assert [summary(n) for n in notifications] == [
        ("ConversationChange", "OPEN", "CONSUMER,CONTROLLER"),
        ("ContentEvent", "CONSUMER", "hello"),
        ("ConversationChange", "OPEN", "ASSIGNED_AGENT,CONSUMER,CONTROLLER"),
        ("AcceptStatusEvent", "ASSIGNED_AGENT", "('READ', [0])"),
        ("ChatStateEvent", "ASSIGNED_AGENT", "COMPOSING"),
        ("ContentEvent", "ASSIGNED_AGENT", "hello"),
    ]
    assert {n.conversation_id for n in notifications} == {conversation_id}


async def test_the_echo_agent_joins_under_its_own_name(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    await client.put(AGENT_SETTING, json={"mode": "echo"})
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    await say(client, headers, await open_conversation(client, headers), text("hello"))
    accepted = (await heard(receiver, connector, 3))[2].changes[0]
    assert isinstance(accepted, ConversationChange) and accepted.result.conversation_details is not None
    assert {"id": "echo-agent", "role": "ASSIGNED_AGENT"} in [
        p.model_dump() for p in accepted.result.conversation_details.participants
    ]


async def test_each_message_gets_its_own_answer_in_order(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    await client.put(AGENT_SETTING, json={"mode": "echo"})
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    for message in ("one", "two", "three"):
        await say(client, headers, conversation_id, text(message))
    # open, 3 messages, 1 accept, 3 times (read, typing, reply)
    notifications = await heard(receiver, connector, 1 + 3 + 1 + 9)
    assert agent_texts(notifications) == ["one", "two", "three"]
    upserts = [n for n in notifications if isinstance(n.changes[0], ConversationChange)]
    assert len(upserts) == 2


async def test_with_the_agent_off_a_message_gets_no_answer(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    await say(client, headers, conversation_id, text("anyone?"))
    # Turning the agent on and writing again is the barrier: answers of one conversation come in order, so an
    # answer to the first message would arrive before the answer to the second.
    await client.put(AGENT_SETTING, json={"mode": "echo"})
    await say(client, headers, conversation_id, text("hello?"))
    notifications = await heard(receiver, connector, 7)
    assert agent_texts(notifications) == ["hello?"]
    read = notifications[4].changes[0]
    assert isinstance(read, MessagingChange) and read.event.model_dump(by_alias=True)["sequenceList"] == [1]


async def test_the_echo_agent_does_not_answer_other_kinds_of_event(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    await client.put(AGENT_SETTING, json={"mode": "echo"})
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    for event in (
        {"type": "ChatStateEvent", "chatState": "COMPOSING"},
        {"type": "RichContentEvent", "content": {"type": "vertical", "elements": []}},
        {"type": "ContentEvent", "contentType": "hosted/file", "message": {"caption": "invoice"}},
        {"type": "AcceptStatusEvent", "status": "ACCEPT", "sequenceList": [0]},
        text("and this?"),
    ):
        await say(client, headers, conversation_id, event)
    notifications = await heard(receiver, connector, 1 + 5 + 4)
    assert [summary(n)[:2] for n in notifications[6:]] == [
        ("ConversationChange", "OPEN"),
        ("AcceptStatusEvent", "ASSIGNED_AGENT"),
        ("ChatStateEvent", "ASSIGNED_AGENT"),
        ("ContentEvent", "ASSIGNED_AGENT"),
    ]
    assert agent_texts(notifications) == ["and this?"]


async def test_the_echo_agent_does_not_answer_an_agents_message(
    app: FastAPI, client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    await client.put(AGENT_SETTING, json={"mode": "echo"})
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    await say(client, headers, conversation_id, text("ping"))
    # open, the consumer's text, then the echo: accept, read, typing, reply
    assert agent_texts(await heard(receiver, connector, 6)) == ["ping"]
    await client.post(f"{AGENT}/{conversation_id}/events", json={"event": text("how can I help?")})
    await app.state.agents.stop()  # whatever the echo agent was going to say has been said
    assert len(await all_delivered(client, connector["id"])) == 7
    assert agent_texts(await heard(receiver, connector, 7)) == ["ping", "how can I help?"]


async def test_the_echo_agent_leaves_alone_a_conversation_another_agent_accepted(
    app: FastAPI, client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    await client.put(AGENT_SETTING, json={"mode": "echo"})
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    await client.post(f"{AGENT}/{conversation_id}/accept", json={"agent_id": "agent-7"})
    await say(client, headers, conversation_id, text("ping"))
    await app.state.agents.stop()  # whatever the echo agent was going to say has been said
    assert len(await all_delivered(client, connector["id"])) == 3
    assert [summary(n) for n in await heard(receiver, connector, 3)] == [
        ("ConversationChange", "OPEN", "CONSUMER,CONTROLLER"),
        ("ConversationChange", "OPEN", "ASSIGNED_AGENT,CONSUMER,CONTROLLER"),
        ("ContentEvent", "CONSUMER", "ping"),
    ]


async def test_a_graceful_stop_lets_an_answer_in_progress_finish(
    settings: Settings, client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    await client.put(AGENT_SETTING, json={"mode": "echo"})
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    stopping = create_app(settings)
    async with stopping.router.lifespan_context(stopping):
        transport = httpx.ASGITransport(app=stopping)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as consumer:
            conversation_id = await open_conversation(consumer, headers)
            await say(consumer, headers, conversation_id, text("bye"))
    engine = create_engine(settings.resolved_database_url())
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(conversation_events.c.role, conversation_events.c.event)
                .where(conversation_events.c.conversation_id == conversation_id)
                .order_by(conversation_events.c.id)
            )
            stored = [(row.role, row.event["type"]) for row in rows]
    finally:
        await engine.dispose()
    assert stored == [
        ("CONSUMER", "ContentEvent"),
        ("ASSIGNED_AGENT", "AcceptStatusEvent"),
        ("ASSIGNED_AGENT", "ChatStateEvent"),
        ("ASSIGNED_AGENT", "ContentEvent"),
    ]


class TestWithTheEchoAgentOnForTheWholeServer:
    """``appinstall serve --agent echo`` (APPINSTALL_SANDBOX_AGENT=echo)."""

    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"sandbox_agent": "echo"})

    async def test_an_account_without_a_choice_gets_answers(
        self, client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
    ) -> None:
        headers = await consumer_headers(client, connector["app_jwt"], "john")
        await say(client, headers, await open_conversation(client, headers), text("hi"))
        assert agent_texts(await heard(receiver, connector, 6)) == ["hi"]

    async def test_an_account_that_turned_it_off_gets_no_answer(
        self, client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
    ) -> None:
        await client.put(AGENT_SETTING, json={"mode": "off"})
        headers = await consumer_headers(client, connector["app_jwt"], "john")
        conversation_id = await open_conversation(client, headers)
        await say(client, headers, conversation_id, text("quiet"))
        await client.delete(AGENT_SETTING)  # the server's echo applies again; its answer is the barrier
        await say(client, headers, conversation_id, text("loud"))
        assert agent_texts(await heard(receiver, connector, 7)) == ["loud"]
