"""The example's receiver: what it queues for the connector, from the platform's published notifications."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest

from appinstall.connector.signing import platform_signature, signature_headers
from appinstall.webhooks.envelope import encode
from examples.echo_connector.webhooks import PATH, AgentMessage, Closed, Heard, receiver

pytestmark = pytest.mark.anyio

SECRET = "connector-secret"
PUBLISHED = Path(__file__).parents[2] / "sandbox" / "fixtures"


def published(name: str) -> bytes:
    """A published notification as the platform sends it: compact JSON."""
    return encode(json.loads((PUBLISHED / name).read_text()))


def appinstall_signed(body: bytes, message_id: str = "msg_1") -> dict[str, str]:
    """The headers appinstall sends: both signatures, the standard one with a fresh timestamp."""
    return signature_headers(
        account_id="123", client_id="c", secrets=[SECRET], message_id=message_id, timestamp=int(time.time()), body=body
    )


async def deliver(
    body: bytes, *, headers: dict[str, str] | None = None, times: int = 1, platform_signature_only: bool = False
) -> tuple[list[int], list[Heard]]:
    """POST ``body`` to a fresh receiver (signed as appinstall signs, unless ``headers`` are given); the statuses
    and what was queued."""
    inbox: asyncio.Queue[Heard] = asyncio.Queue()
    signed = headers if headers is not None else appinstall_signed(body)
    app = receiver(SECRET, inbox, platform_signature_only=platform_signature_only)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://connector") as http:
        statuses = [(await http.post(PATH, content=body, headers=signed)).status_code for _ in range(times)]
    return statuses, [inbox.get_nowait() for _ in range(inbox.qsize())]


async def test_an_agents_message_is_queued_for_an_answer() -> None:
    statuses, heard = await deliver(published("content_event_agent.json"))
    assert statuses == [200]
    assert heard == [AgentMessage("5491244f-4b2c-4b8a-9d47-1e9b3c1f2a7e", "Hello from Agent")]


async def test_the_consumers_own_message_is_not_queued() -> None:
    assert await deliver(published("content_event_consumer.json")) == ([200], [])


@pytest.mark.parametrize("name", ["chat_state_event.json", "accept_status_event.json"])
async def test_the_agent_typing_or_reading_is_not_queued(name: str) -> None:
    assert await deliver(published(name)) == ([200], [])


async def test_a_closed_conversation_is_queued_with_who_closed_it() -> None:
    _, heard = await deliver(published("conversation_close.json"))
    assert heard == [Closed("b8b83fe9-75f0-46f2-baaa-2930f7192cfb", "CONSUMER")]


async def test_a_request_signed_with_another_secret_is_refused_and_not_queued() -> None:
    body = published("content_event_agent.json")
    forged = {**appinstall_signed(body), "x-liveperson-signature": platform_signature("another-secret", body)}
    assert await deliver(body, headers=forged) == ([401], [])


async def test_a_delivery_repeated_with_the_same_webhook_id_is_queued_once() -> None:
    statuses, heard = await deliver(published("content_event_agent.json"), times=2)
    assert statuses == [200, 200]
    assert len(heard) == 1


async def test_a_request_signed_only_as_the_platform_signs_is_refused_by_default() -> None:
    """Without a timestamp a captured request could be replayed for ever."""
    body = published("content_event_agent.json")
    platform_only = {"x-liveperson-signature": platform_signature(SECRET, body)}
    assert await deliver(body, headers=platform_only) == ([401], [])


async def test_platform_signed_requests_are_accepted_when_asked_for_and_a_replay_is_queued_once() -> None:
    body = published("content_event_agent.json")
    platform_only = {"x-liveperson-signature": platform_signature(SECRET, body)}
    statuses, heard = await deliver(body, headers=platform_only, times=2, platform_signature_only=True)
    assert statuses == [200, 200]
    assert heard == [AgentMessage("5491244f-4b2c-4b8a-9d47-1e9b3c1f2a7e", "Hello from Agent")]
