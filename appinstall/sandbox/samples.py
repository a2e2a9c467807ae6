"""One realistic notification of each event type, for ``appinstall trigger`` (pure functions).

A connector author wants to see their receiver handle each of the five kinds before a real conversation produces
them. The samples are built with the sandbox's own builders (``notifications.py``), so they have the platform's
shapes field for field. They are the agent's side of one conversation, what a connector relays to its consumer:
the agent's read receipt for the consumer's first message (sequence 0), the agent typing, its text and a card, and
the conversation as it is once the agent has accepted it.
"""

from __future__ import annotations

from typing import Any, Final

from appinstall.manifest.vocabulary import (
    ACCEPT_STATUS_EVENT,
    CHAT_STATE_EVENT,
    CONTENT_EVENT,
    EVENTS,
    EX_CONVERSATION_CHANGE,
    RICH_CONTENT_EVENT,
)
from appinstall.sandbox.notifications import Conversation, conversation_upsert, messaging

DEFAULT_TEXT: Final = "Hello from appinstall trigger"
# Stable participant ids, so that a receiver sees the same consumer and agent on every trigger.
# (The consumer's is 64 hex digits, as the platform's lp_consumer_id; the agent's a UUID.)
SAMPLE_CONSUMER: Final = "7d1e0c3a9b5f2d8e4a6c1b7f3e9d5a2c8b4f0e6a2d7c3b9f5e1a8d4c0b6f2e9a"
SAMPLE_AGENT: Final = "b0a7f3c1-6e2d-4c9b-8f5a-1d3e7c9b2a64"
SAMPLE_SKILL: Final = "-1"


def _card(text: str) -> dict[str, Any]:
    """A small vertical card with a text and a link button, as an agent or bot sends structured content."""
    return {
        "type": "vertical",
        "elements": [
            {"type": "text", "text": text, "tooltip": text},
            {
                "type": "button",
                "title": "Track your order",
                "click": {"actions": [{"type": "link", "name": "Track", "uri": "https://example.com/orders"}]},
            },
        ],
    }


def sample_notification(
    event_type: str, *, conversation_id: str, account_id: str, at: int, text: str = DEFAULT_TEXT
) -> dict[str, Any]:
    """A notification of ``event_type`` (an event type's full name) in ``conversation_id``, sent at ``at`` (ms).

    ``text`` is what the agent says in the ContentEvent; ValueError for a name that is no event type.
    """
    event: dict[str, Any]
    if event_type == ACCEPT_STATUS_EVENT:
        event = {"type": "AcceptStatusEvent", "status": "READ", "sequenceList": [0]}
        return messaging(conversation_id, SAMPLE_AGENT, "ASSIGNED_AGENT", event, 1, at)
    if event_type == CHAT_STATE_EVENT:
        event = {"type": "ChatStateEvent", "chatState": "COMPOSING"}
        return messaging(conversation_id, SAMPLE_AGENT, "ASSIGNED_AGENT", event, None, at)
    if event_type == CONTENT_EVENT:
        event = {"type": "ContentEvent", "message": text, "contentType": "text/plain"}
        return messaging(conversation_id, SAMPLE_AGENT, "ASSIGNED_AGENT", event, 2, at)
    if event_type == RICH_CONTENT_EVENT:
        event = {"type": "RichContentEvent", "content": _card("Your order has shipped")}
        return messaging(conversation_id, SAMPLE_AGENT, "ASSIGNED_AGENT", event, 3, at)
    if event_type == EX_CONVERSATION_CHANGE:
        accepted = Conversation(
            conversation_id, account_id, SAMPLE_CONSUMER, "OPEN", SAMPLE_SKILL, at, at, agent_id=SAMPLE_AGENT
        )
        return conversation_upsert(accepted)
    messaging_event = next((event for event in EVENTS if event.name == event_type and event.is_messaging), None)
    if messaging_event is not None:  # one added to the vocabulary without a sample of its own yet: its type alone
        return messaging(conversation_id, SAMPLE_AGENT, "ASSIGNED_AGENT", {"type": messaging_event.short_name}, 4, at)
    raise ValueError(f"no sample for {event_type!r}")
