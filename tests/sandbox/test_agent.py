"""The agent side of the sandbox: accept, reply, type, read and close, heard by the connector as the platform's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from appinstall.connector import verify
from tests.sandbox.conversation import (
    ACCOUNT,
    arrivals,
    consumer_headers,
    open_conversation,
    publish_event,
)
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio

AGENT = f"/api/account/{ACCOUNT}/sandbox/conversations"
SEND = f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3"


async def test_an_agents_replies_reach_the_connector_as_the_assigned_agent(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    await client.post(
        SEND, json=publish_event(conversation_id, {"type": "ContentEvent", "message": "hi"}), headers=headers
    )
    accepted = await client.post(f"{AGENT}/{conversation_id}/accept", json={"agent_id": "agent-7"})
    assert accepted.status_code == 200, accepted.text
    typing = await client.post(
        f"{AGENT}/{conversation_id}/events", json={"event": {"type": "ChatStateEvent", "chatState": "COMPOSING"}}
    )
    assert typing.json() == {"sequence": None}
    reply = await client.post(
        f"{AGENT}/{conversation_id}/events", json={"event": {"type": "ContentEvent", "message": "hello, John"}}
    )
    assert reply.json() == {"sequence": 1}
    read = await client.post(
        f"{AGENT}/{conversation_id}/events",
        json={"event": {"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0]}},
    )
    assert read.json() == {"sequence": 2}
    assert (await client.post(f"{AGENT}/{conversation_id}/close")).status_code == 200

    notifications = [verify(r.body, r.headers, connector["client_secret"]) for r in await arrivals(receiver, 7)]
    assert [n.event_type.rsplit(".", 1)[-1] for n in notifications] == [
        "ExConversationChangeNotification",
        "ContentEvent",
        "ExConversationChangeNotification",
        "ChatStateEvent",
        "ContentEvent",
        "AcceptStatusEvent",
        "ExConversationChangeNotification",
    ]
    assigned = notifications[2].changes[0].result.conversation_details  # type: ignore[union-attr]
    assert {"id": "agent-7", "role": "ASSIGNED_AGENT"} in [p.model_dump() for p in assigned.participants]
    reply_change = notifications[4].changes[0]
    assert (reply_change.role, reply_change.event.message) == ("ASSIGNED_AGENT", "hello, John")  # type: ignore[union-attr]
    closed = notifications[-1].changes[0].result.conversation_details  # type: ignore[union-attr]
    assert (closed.state, closed.close_reason) == ("CLOSE", "AGENT")


async def test_an_agent_must_accept_before_it_speaks(client: httpx.AsyncClient, connector: dict[str, Any]) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    response = await client.post(
        f"{AGENT}/{conversation_id}/events", json={"event": {"type": "ContentEvent", "message": "x"}}
    )
    assert response.status_code == 409


async def test_another_accounts_key_cannot_act_as_the_agent(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    await client.post("/api/accounts", json={"id": "other"})
    key = (await client.post("/api/accounts/other/keys", json={})).json()["key"]
    response = await client.post(f"{AGENT}/{conversation_id}/accept", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 404


async def test_a_consumer_cannot_use_the_agent_api(client: httpx.AsyncClient, connector: dict[str, Any]) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    response = await client.post(f"{AGENT}/{conversation_id}/accept", headers=headers)
    assert response.status_code == 401


async def test_the_agent_api_answers_an_unknown_conversation_with_a_problem(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    response = await client.post(f"{AGENT}/no-such-conversation/close")
    assert (response.status_code, response.headers["content-type"]) == (404, "application/problem+json")
    assert response.json()["type"].endswith("/conversation-not-found")


async def test_the_agent_api_answers_a_closed_conversation_with_a_problem(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    assert (await client.post(f"{AGENT}/{conversation_id}/close")).status_code == 200
    response = await client.post(f"{AGENT}/{conversation_id}/accept")
    assert (response.status_code, response.headers["content-type"]) == (400, "application/problem+json")
    assert response.json()["type"].endswith("/conversation-closed")
