"""The whole loop over the platform's paths: install → AppJWT → ConsumerJWS → conversation → webhooks verified."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from appinstall.connector import verify
from tests.sandbox.conversation import (
    ACCOUNT,
    CONVERSATION,
    OPEN,
    arrivals,
    consumer_headers,
    open_conversation,
    publish_event,
)
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio


async def test_a_consumers_conversation_reaches_the_connector_as_signed_notifications_in_order(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "John_Doe_facebook12345")
    conversation_id = await open_conversation(client, headers)
    send = f"{CONVERSATION.replace('?v=3', '')}/send?v=3"
    text = {"type": "ContentEvent", "contentType": "text/plain", "message": "hello"}
    answers = [
        (await client.post(send, json=publish_event(conversation_id, event), headers=headers)).json()
        for event in (
            text,
            {"type": "ChatStateEvent", "chatState": "COMPOSING"},
            {"type": "RichContentEvent", "content": {"type": "vertical", "elements": []}},
            {"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0]},
        )
    ]
    assert answers[0] == {"reqId": "1", "code": "OK", "body": {"sequence": 0}}
    assert answers[1] == {"reqId": "1", "code": "OK", "body": {}}
    assert [answer["body"].get("sequence") for answer in answers[2:]] == [1, 2]
    close = {
        "kind": "req",
        "id": 1,
        "type": "cm.UpdateConversationField",
        "body": {
            "conversationId": conversation_id,
            "conversationField": {"field": "ConversationStateField", "conversationState": "CLOSE"},
        },
    }
    assert (await client.post(send, json=close, headers=headers)).json()["code"] == "OK"

    received = await arrivals(receiver, 6)
    notifications = [verify(r.body, r.headers, connector["client_secret"]) for r in received]
    kinds = [n.event_type for n in notifications]
    assert kinds == [
        "cqm.ExConversationChangeNotification",
        "ms.MessagingEventNotification.ContentEvent",
        "ms.MessagingEventNotification.ChatStateEvent",
        "ms.MessagingEventNotification.RichContentEvent",
        "ms.MessagingEventNotification.AcceptStatusEvent",
        "cqm.ExConversationChangeNotification",
    ]
    assert {n.conversation_id for n in notifications} == {conversation_id}
    message = notifications[1].changes[0]
    assert message.role == "CONSUMER"  # type: ignore[union-attr]
    closed = notifications[-1].changes[0].result.conversation_details  # type: ignore[union-attr]
    assert (closed.state, closed.close_reason) == ("CLOSE", "CONSUMER")


async def test_a_consumer_cannot_write_to_another_consumers_conversation(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    john = await consumer_headers(client, connector["app_jwt"], "john")
    jane = await consumer_headers(client, connector["app_jwt"], "jane")
    conversation_id = await open_conversation(client, john)
    event = {"type": "ContentEvent", "message": "not yours"}
    send = f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3"
    response = await client.post(send, json=publish_event(conversation_id, event), headers=jane)
    assert response.status_code == 404
    assert response.json()["type"] == ".ReqBody$ErrorResp"


async def test_without_a_consumer_jws_the_platforms_40104_is_answered(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    response = await client.post(CONVERSATION, json=OPEN, headers={"Authorization": connector["app_jwt"]})
    assert response.status_code == 401
    assert response.json()["body"]["errorCode"] == 40104


async def test_without_an_app_jwt_the_platforms_40105_is_answered(
    app: FastAPI, client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as anonymous:
        response = await anonymous.post(CONVERSATION, json=OPEN, headers={"X-LP-ON-BEHALF": headers["X-LP-ON-BEHALF"]})
    assert response.status_code == 401
    assert response.json()["body"]["errorCode"] == 40105


@pytest.mark.parametrize(
    "event",
    [
        {"type": "ChatStateEvent", "chatState": "SHOUTING"},
        {"type": "AcceptStatusEvent", "status": "READ", "sequenceList": []},
        {"type": "TeleportEvent"},
        {"type": "ContentEvent"},
    ],
)
async def test_a_malformed_event_is_a_platform_400(
    client: httpx.AsyncClient, connector: dict[str, Any], event: dict[str, Any]
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    send = f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3"
    response = await client.post(send, json=publish_event(conversation_id, event), headers=headers)
    assert response.status_code == 400
    assert response.json()["body"]["errorCode"] == 40001


async def test_a_closed_conversation_takes_no_more_messages(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    send = f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3"
    close = {
        "kind": "req",
        "id": 1,
        "type": "cm.UpdateConversationField",
        "body": {
            "conversationId": conversation_id,
            "conversationField": {"field": "ConversationStateField", "conversationState": "CLOSE"},
        },
    }
    await client.post(send, json=close, headers=headers)
    event = {"type": "ContentEvent", "message": "late"}
    response = await client.post(send, json=publish_event(conversation_id, event), headers=headers)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("raw", "pointer", "code"),
    [
        ('"\\ud800"', "/body/body/event/message", "lone_surrogate"),
        ('"a\\u0000"', "/body/body/event/message", "nul_character"),
        ("[" * 5000 + "]" * 5000, "/body", "too_deep"),
        ("9" * 5000, "/body/body/event/message", "number_out_of_range"),
    ],
    ids=["lone surrogate", "nul", "deep nesting", "5,000 digits"],
)
async def test_a_message_no_store_can_hold_is_a_400_that_says_where(
    client: httpx.AsyncClient, connector: dict[str, Any], raw: str, pointer: str, code: str
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, headers)
    send = f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3"
    event = {"type": "ContentEvent", "contentType": "text/plain", "message": "PLACE"}
    body = json.dumps(publish_event(conversation_id, event)).replace('"PLACE"', raw).encode()
    response = await client.post(send, content=body, headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert (error["pointer"], error["code"]) == (pointer, code)
