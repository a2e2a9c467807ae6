"""The echo agent's script: what it does in reply to one event of a conversation. Pure: no store, no clock.

It plays the human agent a connector developer does not have at hand, doing what one does on the platform, in
the order a connector sees it: take the conversation, mark the message read, type, answer. Only a consumer's text
starts it; anything else (its own replies, receipts, typing, rich content, files) gets no answer, so two agents
or an agent and itself can never talk in a loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from appinstall.sandbox.models import (
    AcceptStatusEvent,
    AgentMode,
    Appended,
    ChatStateEvent,
    ContentEvent,
    RichContentEvent,
)

ECHO_AGENT: Final = "echo-agent"
TEXT: Final = "text/plain"


@dataclass(frozen=True)
class Accept:
    """Join the conversation as ASSIGNED_AGENT, unless an agent already has (then the echo agent leaves it be)."""

    agent_id: str


@dataclass(frozen=True)
class Publish:
    """Publish an event as the conversation's assigned agent."""

    event: ContentEvent | RichContentEvent | AcceptStatusEvent | ChatStateEvent


Step = Accept | Publish


def effective_mode(account: AgentMode | None, server: AgentMode) -> AgentMode:
    """An account's own choice, when it made one, wins over the server's default."""
    return server if account is None else account


def answer(appended: Appended, server_mode: AgentMode) -> tuple[Step, ...]:
    """What the account's agent does about ``appended``: nothing when it has none, else the echo agent's steps."""
    return echo_steps(appended) if effective_mode(appended.agent_mode, server_mode) == "echo" else ()


def is_consumer_text(role: str, event: dict[str, Any]) -> bool:
    """Whether an event is one the echo agent answers: a consumer's plain text message."""
    message = event.get("message")
    return (
        role == "CONSUMER"
        and event.get("type") == "ContentEvent"
        and isinstance(message, str)
        and event.get("contentType") == TEXT
    )


def echo_steps(appended: Appended) -> tuple[Step, ...]:
    """The echo agent's answer to ``appended``: nothing, or accept, read, type and repeat the consumer's text."""
    message = appended.event.get("message")
    if not is_consumer_text(appended.role, appended.event) or appended.sequence is None or not isinstance(message, str):
        return ()
    return (
        Accept(ECHO_AGENT),
        Publish(AcceptStatusEvent(type="AcceptStatusEvent", status="READ", sequenceList=[appended.sequence])),
        Publish(ChatStateEvent(type="ChatStateEvent", chatState="COMPOSING")),
        Publish(ContentEvent(type="ContentEvent", message=message, contentType=TEXT)),
    )
