"""A consumer's conversation through the sandbox, as the sandbox tests drive it: the installed app's account, the
Send API's requests, and waiting for the notifications the connector hears."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from tests.webhooks.receiver import Receiver

ACCOUNT = "123"
BASE = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
CONVERSATION = f"/api/account/{ACCOUNT}/messaging/consumer/conversation?v=3"
EVENTS = (
    "ms.MessagingEventNotification.ContentEvent",
    "ms.MessagingEventNotification.RichContentEvent",
    "ms.MessagingEventNotification.AcceptStatusEvent",
    "ms.MessagingEventNotification.ChatStateEvent",
    "cqm.ExConversationChangeNotification",
)


def open_requests(account: str) -> list[dict[str, Any]]:
    """The two requests a consumer sends to open a conversation with ``account``: its profile, then the request."""
    return [
        {
            "kind": "req",
            "id": "1,",
            "type": "userprofile.SetUserProfile",
            "body": {"authenticatedData": {"lp_sdes": [{"type": "ctmrinfo", "info": {"socialId": "1234567890"}}]}},
        },
        {
            "kind": "req",
            "id": "2,",
            "type": "cm.ConsumerRequestConversation",
            "body": {"ttrDefName": "NORMAL", "channelType": "MESSAGING", "brandId": account, "skillId": "-1"},
        },
    ]


OPEN = open_requests(ACCOUNT)


async def consumer_headers(client: httpx.AsyncClient, app_jwt: str, ext_id: str) -> dict[str, str]:
    response = await client.post(
        f"/api/account/{ACCOUNT}/consumer?v=1.0", json={"ext_consumer_id": ext_id}, headers={"Authorization": app_jwt}
    )
    assert response.status_code == 201, response.text
    return {"Authorization": app_jwt, "X-LP-ON-BEHALF": response.json()["token"]}


def publish_event(conversation_id: str, event: dict[str, Any], request_id: str = "1") -> dict[str, Any]:
    return {
        "kind": "req",
        "id": request_id,
        "type": "ms.PublishEvent",
        "body": {"dialogId": conversation_id, "event": event},
    }


async def open_conversation(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post(CONVERSATION, json=OPEN, headers=headers)
    assert response.status_code == 200, response.text
    answers = response.json()
    assert answers[0] == {"code": "OK", "body": {"msg": "OK User Profile set successfully"}, "reqId": "1,"}
    assert answers[1]["code"] == "OK" and answers[1]["reqId"] == "2,"
    conversation_id: str = answers[1]["body"]["conversationId"]
    return conversation_id


async def arrivals(receiver: Receiver, count: int, timeout: float = 15) -> list[Any]:
    deadline = time.monotonic() + timeout
    while len(receiver.received) < count:
        assert time.monotonic() < deadline, f"only {len(receiver.received)} of {count} notifications arrived"
        await asyncio.sleep(0.05)
    return list(receiver.received)
