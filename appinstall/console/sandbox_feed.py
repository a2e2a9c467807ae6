"""What the console's sandbox shows of a conversation: its events as chat lines, and the deliveries each step made.

Pure shaping, no I/O: the same dictionaries fill the page's first render and the JSON the page polls, so the two
never disagree. A delivery belongs to the step that committed it: a messaging notification is written in the same
transaction, at the same moment, as the event it carries (``sandbox.changes``), so the event of that moment and
type is its step; a conversation change (opened, accepted, closed) has no event of its own.
"""

from __future__ import annotations

from typing import Any

from appinstall.manifest.vocabulary import CONVERSATION_CHANGE, short_event_name
from appinstall.registry.models import Installation
from appinstall.sandbox.models import ConversationRecord, StoredEvent
from appinstall.webhooks.models import DeliveryView

AGENT_ROLES = frozenset({"ASSIGNED_AGENT", "AGENT"})


def event_line(event: StoredEvent) -> dict[str, Any]:
    """One event as the chat shows it: a message (``text``) on the consumer's or the agent's side, or a note."""
    body = event.event
    kind = body.get("type")
    side = "consumer" if event.role == "CONSUMER" else "agent"
    who = "consumer" if side == "consumer" else (event.originator_id or "agent")
    if kind == "ContentEvent":
        message = body.get("message")
        text = message if isinstance(message, str) else "(a file)"
        line = {"kind": "message", "text": text}
    elif kind == "RichContentEvent":
        line = {"kind": "message", "text": "(rich content)"}
    elif kind == "AcceptStatusEvent":
        sequences = ", ".join(str(number) for number in body.get("sequenceList", []))
        line = {"kind": "note", "text": f"{str(body.get('status', '')).lower()} message {sequences}"}
    elif kind == "ChatStateEvent":
        line = {"kind": "note", "text": str(body.get("chatState", "")).lower()}
    else:
        line = {"kind": "note", "text": str(kind)}
    return line | {
        "id": event.id,
        "side": side,
        "who": who,
        "type": str(kind),
        "sequence": event.sequence,
        "at": event.server_timestamp,
    }


def conversation_view(conversation: ConversationRecord, console_consumer_id: str) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "state": conversation.state,
        "open": conversation.state == "OPEN",
        "agent_id": conversation.agent_id,
        "close_reason": conversation.close_reason,
        "created_at": conversation.created_at,
        "console_is_consumer": conversation.consumer_id == console_consumer_id,
    }


def _step(delivery: DeliveryView, events: list[StoredEvent]) -> dict[str, Any]:
    if delivery.event_type == CONVERSATION_CHANGE:
        return {"event_id": None, "label": "conversation change"}
    kind = short_event_name(delivery.event_type)
    for event in events:
        if event.server_timestamp == delivery.created_at and event.event.get("type") == kind:
            line = event_line(event)
            label = f"{line['who']}: {kind}" + ("" if event.sequence is None else f" #{event.sequence}")
            return {"event_id": event.id, "label": label}
    return {"event_id": None, "label": kind}


def delivery_rows(
    deliveries: list[DeliveryView], installations: dict[str, Installation], events: list[StoredEvent]
) -> list[dict[str, Any]]:
    """The conversation's deliveries, oldest first, each with where it went and the step that made it."""
    rows = []
    for delivery in sorted(deliveries, key=lambda item: (item.created_at, item.id)):
        installation = installations.get(delivery.installation_id)
        name = installation.display_name if installation is not None else delivery.installation_id
        rows.append(
            {
                "id": delivery.id,
                "installation_id": delivery.installation_id,
                "installation": name,
                "event_type": short_event_name(delivery.event_type),
                "status": str(delivery.status),
                "attempts": delivery.attempts,
                "last_status_code": delivery.last_status_code,
                "last_error": delivery.last_error,
                "at": delivery.created_at,
            }
            | _step(delivery, events)
        )
    return rows
