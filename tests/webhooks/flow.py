"""What delivery tests do as a client would: install an app whose webhooks go to the test receiver, publish
notifications, and wait for their deliveries to settle. ``max_retries=None`` leaves the key out of the manifest."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import insert, select

from appinstall.store import Store
from appinstall.webhooks.tables import deliveries
from tests.webhooks.receiver import Receiver

ACCOUNT = "42257269"
BASE = f"/api/account/{ACCOUNT}/configuration/app-install/installations"
CONTENT = "ms.MessagingEventNotification.ContentEvent"
CHAT_STATE = "ms.MessagingEventNotification.ChatStateEvent"
CONVERSATION = "cqm.ExConversationChangeNotification"
JSON_TYPE = {"Content-Type": "application/json"}


async def install(
    client: httpx.AsyncClient,
    receiver: Receiver,
    *,
    path: str = "/hook",
    events: tuple[str, ...] = (CONTENT,),
    max_retries: int | None = 0,
    headers: list[dict[str, str]] | None = None,
    retention: int | None = None,
    endpoint: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Install an app whose webhooks go to ``receiver`` at ``path`` (or to ``endpoint``, when given)."""
    webhooks: dict[str, Any] = {
        event: {"endpoint": endpoint or receiver.url(path), "headers": headers or []}
        | ({} if max_retries is None else {"max_retries": max_retries})
        for event in events
    }
    if retention is not None:
        webhooks["retry"] = {"retention_time": retention}
    manifest = {
        "client_name": f"app-{uuid.uuid4().hex[:8]}",
        "grant_types": ["client_credentials"],
        "scope": "msg.consumer",
        "capabilities": {"webhooks": webhooks},
        **fields,
    }
    response = await client.post(BASE, json=manifest)
    assert response.status_code == 201, response.text
    installed: dict[str, Any] = response.json()
    return installed


def message(conversation: str, text: str) -> dict[str, Any]:
    return {
        "kind": "notification",
        "body": {
            "changes": [
                {
                    "sequence": 0,
                    "originatorId": "consumer-1",
                    "originatorMetadata": {"id": "consumer-1", "role": "CONSUMER"},
                    "serverTimestamp": 1528371161893,
                    "event": {"type": "ContentEvent", "message": text, "contentType": "text/plain"},
                    "conversationId": conversation,
                    "dialogId": conversation,
                }
            ]
        },
        "type": "ms.MessagingEventNotification",
    }


async def publish(client: httpx.AsyncClient, document: Any, account: str = ACCOUNT) -> list[dict[str, Any]]:
    response = await client.post(
        f"/api/account/{account}/notifications", content=json.dumps(document), headers=JSON_TYPE
    )
    assert response.status_code == 202, response.text
    created: list[dict[str, Any]] = response.json()["deliveries"]
    return created


async def settled(client: httpx.AsyncClient, installation_id: str, count: int, timeout: float = 15.0) -> list[Any]:
    """The installation's deliveries, oldest first, once ``count`` of them are finished."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get(f"{BASE}/{installation_id}/deliveries", params={"limit": 200})
        items = response.json()["items"]
        done = [item for item in items if item["status"] in ("succeeded", "failed")]
        if len(done) >= count:
            return list(reversed(items))
        if time.monotonic() > deadline:
            raise AssertionError(f"deliveries did not settle: {items}")
        await asyncio.sleep(0.05)


async def queue_copies(store: Store, installation_id: str, count: int) -> None:
    """``count`` more due deliveries like the installation's one (it must have exactly one), each outside any
    conversation, so only the engine's fairness, not ordering, decides when they go: what a burst of notifications
    to one installation leaves queued, written straight to the store because publishing thousands takes long."""
    async with store.transaction() as connection:
        [template] = (
            await connection.execute(select(deliveries).where(deliveries.c.installation_id == installation_id))
        ).mappings()
        row = {key: value for key, value in template.items() if key != "seq"} | {
            "conversation_id": None,
            "status": "pending",
            "lease_owner": None,
            "lease_expires_at": None,
            "attempts": 0,
            "round_attempts": 0,
            "next_attempt_at": template["created_at"],
            "last_status_code": None,
            "last_error": None,
        }
        await connection.execute(insert(deliveries), [row | {"id": f"msg_{uuid.uuid4().hex}"} for _ in range(count)])
