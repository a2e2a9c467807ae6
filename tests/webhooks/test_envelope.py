"""Routing a published notification: event type, conversation, splitting, and precise errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appinstall.webhooks.envelope import EnvelopeError, encode, route

FIXTURES = Path(__file__).parent / "fixtures"


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _message(event: dict[str, Any], conversation: str = "c1") -> dict[str, Any]:
    return {"originatorId": "a", "event": event, "conversationId": conversation, "dialogId": conversation}


def _messaging(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "notification", "body": {"changes": list(changes)}, "type": "ms.MessagingEventNotification"}


def test_a_messaging_notification_is_keyed_by_its_event_type_and_conversation() -> None:
    [routed] = route(_fixture("platform_chat_state_pause.json"))
    assert routed.event_type == "ms.MessagingEventNotification.ChatStateEvent"
    assert routed.conversation_id == "b8b83fe9-75f0-46f2-baaa-2930f7192cfb"


def test_a_conversation_change_is_keyed_by_its_conv_id() -> None:
    [routed] = route(_fixture("platform_conversation_close.json"))
    assert (routed.event_type, routed.conversation_id) == (
        "cqm.ExConversationChangeNotification",
        "b8b83fe9-75f0-46f2-baaa-2930f7192cfb",
    )


def test_the_body_is_the_compact_json_of_the_envelope() -> None:
    document = _fixture("platform_conversation_close.json")
    [routed] = route(document)
    assert routed.body == encode(document)
    assert b": " not in routed.body and b", " not in routed.body


@pytest.mark.parametrize("name", ["platform_conversation_close.json", "platform_chat_state_pause.json"])
def test_the_compact_json_is_what_json_dumps_writes_for_the_platforms_payloads(name: str) -> None:
    document = _fixture(name)
    assert encode(document) == json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def test_text_beyond_ascii_and_escapes_are_written_as_json_dumps_writes_them() -> None:
    document = _messaging(_message({"type": "ContentEvent", "message": 'é ✓ 😀 "q" \\ \n \t \u001f /'}))
    assert encode(document) == json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def test_an_integer_past_64_bits_is_still_encoded() -> None:
    document = _messaging({**_message({"type": "ContentEvent", "message": "hi"}), "sequence": 2**70})
    assert json.loads(encode(document))["body"]["changes"][0]["sequence"] == 2**70


def test_the_dialog_id_stands_in_for_a_missing_conversation_id() -> None:
    change = {"event": {"type": "ContentEvent", "message": "hi"}, "dialogId": "d1"}
    [routed] = route(_messaging(change))
    assert routed.conversation_id == "d1"


def test_changes_of_different_event_types_are_split_in_order() -> None:
    text = _message({"type": "ContentEvent", "message": "hi", "contentType": "text/plain"})
    read = _message({"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0]})
    routed = route(_messaging(text, read, text))
    assert [r.event_type.rsplit(".", 1)[1] for r in routed] == ["ContentEvent", "AcceptStatusEvent", "ContentEvent"]
    assert [len(json.loads(r.body)["body"]["changes"]) for r in routed] == [1, 1, 1]


def test_consecutive_changes_of_one_type_and_conversation_stay_together() -> None:
    text = _message({"type": "ContentEvent", "message": "hi", "contentType": "text/plain"})
    [routed] = route(_messaging(text, text))
    assert len(json.loads(routed.body)["body"]["changes"]) == 2


def test_changes_of_different_conversations_are_split() -> None:
    event = {"type": "ContentEvent", "message": "hi"}
    routed = route(_messaging(_message(event, "c1"), _message(event, "c2")))
    assert [r.conversation_id for r in routed] == ["c1", "c2"]


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ([], ""),
        ({"kind": "resp", "type": "ms.MessagingEventNotification", "body": {"changes": [{}]}}, "/kind"),
        ({"kind": "notification", "type": "ms.Other", "body": {"changes": [{}]}}, "/type"),
        ({"kind": "notification", "type": "ms.MessagingEventNotification", "body": {"changes": []}}, "/body/changes"),
        ({"kind": "notification", "type": "ms.MessagingEventNotification", "body": {}}, "/body/changes"),
        (
            {"kind": "notification", "type": "ms.MessagingEventNotification", "body": {"changes": [{"event": {}}]}},
            "/body/changes/0/event/type",
        ),
        (
            {"kind": "notification", "type": "ms.MessagingEventNotification", "body": {"changes": ["x"]}},
            "/body/changes/0",
        ),
    ],
)
def test_what_is_not_a_notification_is_refused_with_a_pointer(document: Any, pointer: str) -> None:
    with pytest.raises(EnvelopeError) as raised:
        route(document)
    assert pointer in [problem.pointer for problem in raised.value.problems]
