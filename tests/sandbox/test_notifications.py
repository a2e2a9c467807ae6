"""What the conversation-change notifications say about the participants and the TTR, without a server."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from appinstall.sandbox.notifications import Conversation, controller_id, conversation_upsert, ttr_type


def details(**changes: Any) -> Any:
    conversation = Conversation(
        id="conv-1", account_id="123", consumer_id="c" * 64, state="OPEN", skill_id="-1", created_at=1, updated_at=1
    )
    document = conversation_upsert(replace(conversation, **changes))
    return document["body"]["changes"][0]["result"]["conversationDetails"]


def test_every_conversation_lists_the_accounts_controller_beside_the_consumer() -> None:
    assert [p["role"] for p in details()["participants"]] == ["CONTROLLER", "CONSUMER"]


def test_an_assigned_agent_comes_last_in_both_participant_lists() -> None:
    found = details(agent_id="agent-7")
    assert found["participants"][-1] == {"id": "agent-7", "role": "ASSIGNED_AGENT"}
    assert found["dialogs"][0]["participantsDetails"][-1] == {"id": "agent-7", "role": "ASSIGNED_AGENT"}


def test_the_controller_is_the_same_in_every_conversation_of_an_account_and_differs_between_accounts() -> None:
    assert controller_id("123") == controller_id("123") != controller_id("124")


def test_the_requested_ttr_type_is_reported() -> None:
    assert details(ttr_type=ttr_type("URGENT"))["ttr"]["ttrType"] == "URGENT"


def test_an_absent_or_unknown_ttr_type_is_normal() -> None:
    assert (ttr_type(None), ttr_type("WHENEVER"), ttr_type(3)) == ("NORMAL", "NORMAL", "NORMAL")
