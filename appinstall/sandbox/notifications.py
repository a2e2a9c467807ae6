"""The notifications a conversation produces, in the platform's envelope, field for field (pure functions).

Shapes follow the platform's published examples (``../shared/reference/wire-format.md``): messaging events carry
``sequence`` and ``serverTimestamp`` except chat states, which the platform does not number; conversation
changes are ``UPSERT``s of the whole conversation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MESSAGING = "ms.MessagingEventNotification"
CONVERSATION_CHANGE = "cqm.ExConversationChangeNotification"
TTR = {"ttrType": "NORMAL", "value": 3600}


@dataclass(frozen=True)
class Conversation:
    """What a conversation-change notification says about a conversation."""

    id: str
    account_id: str
    consumer_id: str
    state: str  # OPEN or CLOSE
    skill_id: str
    created_at: int
    updated_at: int
    ended_at: int | None = None
    close_reason: str | None = None
    agent_id: str | None = None


def messaging(
    conversation_id: str, originator_id: str, role: str, event: dict[str, Any], sequence: int | None, at: int
) -> dict[str, Any]:
    """One messaging event (text, rich content, accept status, chat state) as the platform notifies it."""
    change: dict[str, Any] = {}
    if sequence is not None:
        change["sequence"] = sequence
    change["originatorId"] = originator_id
    change["originatorMetadata"] = {"id": originator_id, "role": role}
    if sequence is not None:
        change["serverTimestamp"] = at
    change["event"] = event
    change["conversationId"] = conversation_id
    change["dialogId"] = conversation_id
    return {"kind": "notification", "body": {"changes": [change]}, "type": MESSAGING}


def conversation_upsert(conversation: Conversation) -> dict[str, Any]:
    """The whole conversation, as the platform's conversation-change UPSERT shows it."""
    participants = [{"id": conversation.consumer_id, "role": "CONSUMER"}]
    if conversation.agent_id is not None:
        participants.append({"id": conversation.agent_id, "role": "ASSIGNED_AGENT"})
    dialog: dict[str, Any] = {
        "dialogId": conversation.id,
        "participantsDetails": participants,
        "dialogType": "MAIN",
        "channelType": "MESSAGING",
        "state": conversation.state,
        "creationTs": conversation.created_at,
    }
    details: dict[str, Any] = {
        "skillId": conversation.skill_id,
        "participants": participants,
        "dialogs": [dialog],
        "brandId": conversation.account_id,
        "state": conversation.state,
        "stage": conversation.state,
    }
    if conversation.ended_at is not None:
        dialog["endTs"] = conversation.ended_at
    dialog["metaDataLastUpdateTs"] = conversation.updated_at
    if conversation.close_reason is not None:
        dialog["closedBy"] = conversation.close_reason
        details["closeReason"] = conversation.close_reason
    details["startTs"] = conversation.created_at
    if conversation.ended_at is not None:
        details["endTs"] = conversation.ended_at
    details["metaDataLastUpdateTs"] = conversation.updated_at
    details["ttr"] = TTR
    result = {"convId": conversation.id, "effectiveTTR": -1, "conversationDetails": details}
    return {
        "kind": "notification",
        "body": {"changes": [{"type": "UPSERT", "result": result}]},
        "type": CONVERSATION_CHANGE,
    }
