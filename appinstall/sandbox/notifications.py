"""The notifications a conversation produces, in the platform's envelope, field for field (pure functions).

Shapes follow the platform's published examples (``../shared/reference/wire-format.md``, kept as fixtures in
``tests/sandbox/fixtures``): messaging events carry ``sequence`` and ``serverTimestamp`` except chat states, which
the platform does not number; conversation changes are ``UPSERT``s of the whole conversation, whose participants
include the platform's CONTROLLER.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Final

from appinstall.manifest.vocabulary import CONVERSATION_CHANGE, MESSAGING

# The TTR ("time to respond") types a consumer may request with ``ttrDefName``. The response time itself is account
# configuration on the platform; the sandbox has one for every type.
TTR_TYPES: Final = ("NORMAL", "URGENT", "PRIORITIZED", "CUSTOM")
TTR_SECONDS: Final = 3600
# Names the CONTROLLER of an account's conversations, a stable UUID per account as the platform's appears to be.
_CONTROLLER_NAMESPACE: Final = uuid.UUID("5c0f6d2e-3a47-4b8e-9e61-0d7a2f4c8b13")


def controller_id(account_id: str) -> str:
    """The participant id of the platform-side CONTROLLER that every conversation of the account lists."""
    return str(uuid.uuid5(_CONTROLLER_NAMESPACE, account_id))


def ttr_type(requested: Any) -> str:
    """The TTR type of a conversation opened with ``ttrDefName`` ``requested``: NORMAL unless it names another."""
    return requested if requested in TTR_TYPES else "NORMAL"


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
    ttr_type: str = "NORMAL"


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
    """The whole conversation, as the platform's conversation-change UPSERT shows it.

    The two participant lists are in the published example's orders (CONTROLLER first in the conversation's,
    CONSUMER first in the dialog's); an assigned agent comes last in both.
    """
    consumer = {"id": conversation.consumer_id, "role": "CONSUMER"}
    controller = {"id": controller_id(conversation.account_id), "role": "CONTROLLER"}
    agents = [] if conversation.agent_id is None else [{"id": conversation.agent_id, "role": "ASSIGNED_AGENT"}]
    participants = [controller, consumer, *agents]
    dialog: dict[str, Any] = {
        "dialogId": conversation.id,
        "participantsDetails": [consumer, controller, *agents],
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
    details["ttr"] = {"ttrType": conversation.ttr_type, "value": TTR_SECONDS}
    result = {"convId": conversation.id, "effectiveTTR": -1, "conversationDetails": details}
    return {
        "kind": "notification",
        "body": {"changes": [{"type": "UPSERT", "result": result}]},
        "type": CONVERSATION_CHANGE,
    }
