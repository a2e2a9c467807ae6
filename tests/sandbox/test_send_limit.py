"""A consumer who sends too fast gets the platform's 429, with Retry-After; other consumers are unaffected."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from appinstall.settings import Settings
from tests.sandbox.conversation import ACCOUNT, consumer_headers, open_conversation, publish_event

pytestmark = pytest.mark.anyio

SEND = f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3"
BURST = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A burst of three Send API requests, then one every 100 s: the fourth is refused within the test."""
    return settings.model_copy(update={"sandbox_send_burst": BURST, "sandbox_send_per_second": 0.01})


async def test_past_its_burst_a_consumer_gets_429_in_the_platforms_shape(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    john = await consumer_headers(client, connector["app_jwt"], "john")
    conversation_id = await open_conversation(client, john)  # the first request of the burst
    hello = publish_event(conversation_id, {"type": "ContentEvent", "contentType": "text/plain", "message": "hi"})
    statuses = [(await client.post(SEND, json=hello, headers=john)).status_code for _ in range(BURST - 1)]
    refused = await client.post(SEND, json=hello, headers=john)
    assert statuses == [200] * (BURST - 1)
    assert refused.status_code == 429
    assert 95 <= int(refused.headers["Retry-After"]) <= 100  # one token takes 100 s; a slow test took some
    assert refused.json()["type"] == ".ReqBody$ErrorResp"
    assert (refused.json()["code"], refused.json()["body"]["errorCode"]) == (429, 42901)


async def test_another_consumer_is_not_held_back_by_one_who_sends_too_fast(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    john = await consumer_headers(client, connector["app_jwt"], "john")
    jane = await consumer_headers(client, connector["app_jwt"], "jane")
    await open_conversation(client, john)
    for _ in range(BURST):
        await client.post(
            SEND, json=publish_event("nowhere", {"type": "ChatStateEvent", "chatState": "ACTIVE"}), headers=john
        )
    assert (await client.post(SEND, json={}, headers=john)).status_code == 429
    assert await open_conversation(client, jane)
