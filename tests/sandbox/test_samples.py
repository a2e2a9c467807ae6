"""The sample notifications ``appinstall trigger`` publishes: one of each event type, in the platform's shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appinstall.connector.receiving import ContentEvent, ConversationChange, MessagingChange, parse
from appinstall.manifest.vocabulary import (
    ACCEPT_STATUS_EVENT,
    CHAT_STATE_EVENT,
    CONTENT_EVENT,
    EVENT_TYPES,
    EX_CONVERSATION_CHANGE,
)
from appinstall.sandbox.samples import DEFAULT_TEXT, sample_notification
from appinstall.webhooks.envelope import encode, route
from tests.sandbox.shapes import MESSAGING_IDS, differences

FIXTURES = Path(__file__).parent / "fixtures"
CONVERSATION = "0cf57809-723d-441d-9654-025caafd5721"
AT = 1_790_000_000_000


def sample(event_type: str, **options: Any) -> dict[str, Any]:
    return sample_notification(event_type, conversation_id=CONVERSATION, account_id="123", at=AT, **options)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_sample_parses_as_a_notification_of_its_event_type(event_type: str) -> None:
    notification = parse(encode(sample(event_type)))
    assert (notification.event_type, notification.conversation_id) == (event_type, CONVERSATION)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_sample_is_routed_to_its_event_types_subscribers_in_its_conversation(event_type: str) -> None:
    [routed] = route(sample(event_type))
    assert (routed.event_type, routed.conversation_id) == (event_type, CONVERSATION)


@pytest.mark.parametrize(
    ("event_type", "example"),
    [
        (CONTENT_EVENT, "content_event_agent.json"),
        (ACCEPT_STATUS_EVENT, "accept_status_event.json"),
        (CHAT_STATE_EVENT, "chat_state_event.json"),
    ],
)
def test_a_messaging_sample_has_the_shape_of_the_platforms_example(event_type: str, example: str) -> None:
    expected = json.loads((FIXTURES / example).read_text())
    volatile = MESSAGING_IDS | {"/body/changes/*/event/message"}
    assert differences(sample(event_type), expected, volatile) == []


def test_the_text_given_is_what_the_content_event_says() -> None:
    [change] = parse(encode(sample(CONTENT_EVENT, text="where is my order?"))).changes
    assert isinstance(change, MessagingChange) and isinstance(change.event, ContentEvent)
    assert change.event.message == "where is my order?"


def test_without_a_text_the_content_event_says_the_default() -> None:
    assert sample(CONTENT_EVENT)["body"]["changes"][0]["event"]["message"] == DEFAULT_TEXT


def test_the_conversation_change_is_an_open_conversation_with_its_agent() -> None:
    [change] = parse(encode(sample(EX_CONVERSATION_CHANGE))).changes
    assert isinstance(change, ConversationChange) and change.result.conversation_details is not None
    details = change.result.conversation_details
    assert (change.type, details.state) == ("UPSERT", "OPEN")
    assert "ASSIGNED_AGENT" in [participant.role for participant in details.participants]


def test_an_event_type_that_is_not_one_of_the_five_has_no_sample() -> None:
    with pytest.raises(ValueError, match="no sample"):
        sample("ms.MessagingEventNotification.HologramEvent")
