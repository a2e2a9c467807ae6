"""The sandbox answers and notifies as the platform's published examples do, field for field.

Each example is a fixture (``fixtures/``, sources in its README). The requests are sent as published, with only
the ids of this run put in; what comes back, and what the connector receives by webhook, must match the example
by shape (``shapes.differences``): values may differ only where they belong to one conversation (ids, times).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.sandbox.conversation import ACCOUNT, arrivals, consumer_headers
from tests.sandbox.shapes import MESSAGING_IDS, differences
from tests.webhooks.receiver import Receiver

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parent / "fixtures"
CONVERSATION = f"/api/account/{ACCOUNT}/messaging/consumer/conversation?v=3"
SEND = f"/api/account/{ACCOUNT}/messaging/consumer/conversation/send?v=3"
AGENT = f"/api/account/{ACCOUNT}/sandbox/conversations"

DETAILS = "/body/changes/*/result/conversationDetails"
CONVERSATION_IDS = {
    "/body/changes/*/result/convId",
    f"{DETAILS}/participants/*/id",
    f"{DETAILS}/dialogs/*/dialogId",
    f"{DETAILS}/dialogs/*/participantsDetails/*/id",
    f"{DETAILS}/dialogs/*/creationTs",
    f"{DETAILS}/dialogs/*/endTs",
    f"{DETAILS}/dialogs/*/metaDataLastUpdateTs",
    f"{DETAILS}/brandId",
    f"{DETAILS}/startTs",
    f"{DETAILS}/endTs",
    f"{DETAILS}/metaDataLastUpdateTs",
    f"{DETAILS}/ttr/value",  # the account's configured response time; the sandbox has one for every type
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def open_request(ttr: str | None = None) -> list[dict[str, Any]]:
    """The published open request, for this run's account (and with another TTR type, if given)."""
    requests: list[dict[str, Any]] = fixture("open_request.json")
    requests[1]["body"]["brandId"] = ACCOUNT
    if ttr is not None:
        requests[1]["body"]["ttrDefName"] = ttr
    return requests


def event_of(name: str) -> dict[str, Any]:
    """The event a notification fixture reports: what the test publishes to cause it."""
    event: dict[str, Any] = fixture(name)["body"]["changes"][0]["event"]
    return event


def originator_of(name: str) -> str:
    originator: str = fixture(name)["body"]["changes"][0]["originatorId"]
    return originator


async def open_conversation(client: httpx.AsyncClient, headers: dict[str, str], ttr: str | None = None) -> str:
    response = await client.post(CONVERSATION, json=open_request(ttr), headers=headers)
    assert response.status_code == 200, response.text
    conversation_id: str = response.json()[1]["body"]["conversationId"]
    return conversation_id


async def agent(client: httpx.AsyncClient, conversation_id: str, action: str, body: dict[str, Any]) -> None:
    response = await client.post(f"{AGENT}/{conversation_id}/{action}", json=body)
    assert response.status_code == 200, response.text


async def play_the_published_conversation(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> list[Any]:
    """The conversation the messaging examples come from, in order: the consumer says hello (sequence 0), an agent
    accepts, reads it (1), types, and answers (2). The notifications the connector got, parsed."""
    headers = await consumer_headers(client, connector["app_jwt"], "John_Doe_facebook12345")
    conversation_id = await open_conversation(client, headers)
    body = {"dialogId": conversation_id, "event": event_of("content_event_consumer.json")}
    message = {"kind": "req", "id": "1", "type": "ms.PublishEvent", "body": body}
    assert (await client.post(SEND, json=message, headers=headers)).status_code == 200
    await agent(client, conversation_id, "accept", {"agent_id": originator_of("content_event_agent.json")})
    for name in ("accept_status_event.json", "chat_state_event.json", "content_event_agent.json"):
        await agent(client, conversation_id, "events", {"event": event_of(name)})
    return [json.loads(arrival.body) for arrival in await arrivals(receiver, 6)]


async def test_the_published_open_request_is_answered_as_published(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "John_Doe_facebook12345")
    response = await client.post(CONVERSATION, json=open_request(), headers=headers)
    assert response.status_code == 200
    assert differences(response.json(), fixture("open_response.json"), {"/*/body/conversationId"}) == []


async def test_the_published_send_request_is_answered_as_published(
    client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    headers = await consumer_headers(client, connector["app_jwt"], "John_Doe_facebook12345")
    request = fixture("send_request.json")
    request["body"]["dialogId"] = await open_conversation(client, headers)
    response = await client.post(SEND, json=request, headers=headers)
    assert response.status_code == 200
    assert differences(response.json(), fixture("send_response.json")) == []


async def test_a_request_without_an_app_jwt_gets_the_published_error_body(
    app: FastAPI, client: httpx.AsyncClient, connector: dict[str, Any]
) -> None:
    consumer = (await consumer_headers(client, connector["app_jwt"], "John_Doe_facebook12345"))["X-LP-ON-BEHALF"]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as anonymous:
        response = await anonymous.post(CONVERSATION, json=open_request(), headers={"X-LP-ON-BEHALF": consumer})
    expected = fixture("error_response.json")
    assert response.status_code == expected["code"]
    assert differences(response.json(), expected, {"/body/details"}) == []


async def test_a_consumers_message_is_notified_as_published(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    notifications = await play_the_published_conversation(client, connector, receiver)
    assert differences(notifications[1], fixture("content_event_consumer.json"), MESSAGING_IDS) == []


async def test_an_agents_read_receipt_is_notified_as_published(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    notifications = await play_the_published_conversation(client, connector, receiver)
    assert differences(notifications[3], fixture("accept_status_event.json"), MESSAGING_IDS) == []


async def test_an_agents_typing_is_notified_as_published_without_sequence_or_timestamp(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    notifications = await play_the_published_conversation(client, connector, receiver)
    assert differences(notifications[4], fixture("chat_state_event.json"), MESSAGING_IDS) == []


async def test_an_agents_message_is_notified_as_published(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    notifications = await play_the_published_conversation(client, connector, receiver)
    assert differences(notifications[5], fixture("content_event_agent.json"), MESSAGING_IDS) == []


async def test_a_conversation_closed_by_the_published_close_request_is_notified_as_published(
    client: httpx.AsyncClient, connector: dict[str, Any], receiver: Receiver
) -> None:
    expected = fixture("conversation_close.json")
    ttr = expected["body"]["changes"][0]["result"]["conversationDetails"]["ttr"]["ttrType"]
    headers = await consumer_headers(client, connector["app_jwt"], "John_Doe_facebook12345")
    close = fixture("close_request.json")
    close["body"]["conversationId"] = await open_conversation(client, headers, ttr)
    response = await client.post(SEND, json=close, headers=headers)
    assert response.status_code == 200, response.text
    closed = json.loads((await arrivals(receiver, 2))[1].body)
    assert differences(closed, expected, CONVERSATION_IDS) == []


def test_every_fixture_says_in_the_readme_where_it_came_from() -> None:
    readme = (FIXTURES / "README.md").read_text()
    assert [path.name for path in sorted(FIXTURES.glob("*.json")) if f"`{path.name}`" not in readme] == []
