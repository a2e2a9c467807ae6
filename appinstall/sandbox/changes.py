"""The changes of a conversation, each with the notifications it causes, as units of work for
``Store.run_transaction``.

Each function is one unit: the conversation's row read for update, the change, the event stored and its
notifications published (``publish_into``), all on the caller's synchronous connection, committed together or not
at all (the transactional outbox). They are pure units of work: the store may run one again from scratch (another
process was writing) or commit it in one transaction with other callers' units, so they take every value they
need (ids, the time) as arguments and touch nothing outside the connection. A refusal (no such conversation, a
closed one, no agent yet) raises, which rolls the unit back.

Statements are built once: on SQLite these run whole on the event loop, where SQLAlchemy's per-statement work is
most of the cost.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Final, cast

from sqlalchemy import Connection, bindparam, insert, select, update

from appinstall.errors import Conflict
from appinstall.sandbox.models import AgentMode
from appinstall.sandbox.notifications import Conversation, conversation_upsert, messaging, ttr_type
from appinstall.sandbox.tables import conversation_events, conversations, sandbox_agents
from appinstall.store import fetch_in
from appinstall.store.batch import execute_many
from appinstall.tokens.errors import BAD_REQUEST_BODY, PlatformError
from appinstall.webhooks.envelope import route
from appinstall.webhooks.service import publish_into

CONVERSATION_NOT_FOUND: Final = 40401


def bad_request(details: str) -> PlatformError:
    """The platform's 400 for a request it cannot act on."""
    return PlatformError(400, BAD_REQUEST_BODY, "Bad Request", details)


def snapshot(row: Any) -> Conversation:
    """What a conversation-change notification says about the conversation of ``row``."""
    return Conversation(
        id=row.id,
        account_id=row.account_id,
        consumer_id=row.consumer_id,
        state=row.state,
        skill_id=row.skill_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ended_at=row.ended_at,
        close_reason=row.close_reason,
        agent_id=row.agent_id,
        ttr_type=ttr_type((row.context or {}).get("ttrDefName")),
    )


def _notify(connection: Connection, account_id: str, document: dict[str, Any], now: int) -> None:
    publish_into(connection, account_id, route(document), now)


_INSERT_CONVERSATION = insert(conversations)
_IN_ACCOUNT = (
    conversations.c.id == bindparam("conversation_id"),
    conversations.c.account_id == bindparam("account_id"),
)
_OF_CONSUMER = conversations.c.consumer_id == bindparam("consumer_id")
_LOCKED = select(conversations).where(*_IN_ACCOUNT).with_for_update()
# A consumer's own conversation, with the account's own agent choice (NULL: it follows the server's) in the same
# statement: its row is read for every consumer message, and only the conversation's row is locked.
_CONSUMERS_LOCKED = (
    select(conversations, sandbox_agents.c.mode.label("account_agent_mode"))
    .select_from(conversations.outerjoin(sandbox_agents, sandbox_agents.c.account_id == conversations.c.account_id))
    .where(*_IN_ACCOUNT, _OF_CONSUMER)
    .with_for_update(of=conversations)
)
_UPDATE = update(conversations).where(conversations.c.id == bindparam("conversation_id"))
_APPEND = _UPDATE.values(next_sequence=bindparam("sequence_after"), updated_at=bindparam("now"))
_INSERT_EVENT = insert(conversation_events)


def open_conversation(connection: Connection, conversation: Conversation, context: dict[str, Any], now: int) -> None:
    """Store a new conversation (``context``: what the opening request said about it) and publish its UPSERT."""
    connection.execute(
        _INSERT_CONVERSATION,
        {
            "id": conversation.id,
            "account_id": conversation.account_id,
            "consumer_id": conversation.consumer_id,
            "state": "OPEN",
            "skill_id": conversation.skill_id,
            "context": context,
            "next_sequence": 0,
            "created_at": now,
            "updated_at": now,
        },
    )
    _notify(connection, conversation.account_id, conversation_upsert(conversation), now)


def locked_open_row(connection: Connection, account_id: str, conversation_id: str, consumer_id: str | None) -> Any:
    """The open conversation, locked for update. With ``consumer_id``, only that consumer's (another consumer's
    conversation looks like no conversation at all), and with the account's own agent choice, ``account_agent_mode``
    (None: it follows the server's)."""
    parameters = {"conversation_id": conversation_id, "account_id": account_id}
    if consumer_id is None:
        rows = fetch_in(connection, _LOCKED, parameters)
    else:
        rows = fetch_in(connection, _CONSUMERS_LOCKED, parameters | {"consumer_id": consumer_id})
    row = rows[0] if rows else None
    if row is None:
        raise PlatformError(404, CONVERSATION_NOT_FOUND, "Not Found", f"no conversation {conversation_id}")
    if row.state != "OPEN":
        raise bad_request(f"conversation {conversation_id} is closed")
    return row


def _append(
    connection: Connection, row: Any, originator_id: str, role: str, event: dict[str, Any], now: int
) -> int | None:
    """Store one event of the conversation and publish it; its sequence number (None for a chat state)."""
    sequence = None if event["type"] == "ChatStateEvent" else row.next_sequence
    next_sequence = row.next_sequence + (0 if sequence is None else 1)
    execute_many(connection, _APPEND, [{"conversation_id": row.id, "sequence_after": next_sequence, "now": now}])
    connection.execute(
        _INSERT_EVENT,
        {
            "conversation_id": row.id,
            "sequence": sequence,
            "originator_id": originator_id,
            "role": role,
            "event": event,
            "server_timestamp": now,
        },
    )
    _notify(connection, row.account_id, messaging(row.id, originator_id, role, event, sequence, now), now)
    return sequence


def consumer_event(
    connection: Connection,
    account_id: str,
    conversation_id: str,
    consumer_id: str,
    event: dict[str, Any],
    with_agent_mode: bool,
    now: int,
) -> tuple[int | None, AgentMode | None]:
    """The consumer publishes ``event`` in its own open conversation: its sequence, and (``with_agent_mode``, for a
    message an agent could answer) the account's own agent choice in force when it committed."""
    row = locked_open_row(connection, account_id, conversation_id, consumer_id)
    sequence = _append(connection, row, consumer_id, "CONSUMER", event, now)
    return sequence, cast(AgentMode | None, row.account_agent_mode) if with_agent_mode else None


def agent_event(
    connection: Connection, account_id: str, conversation_id: str, event: dict[str, Any], now: int
) -> int | None:
    """The assigned agent publishes ``event``; its sequence. A conversation no agent has accepted is a conflict."""
    row = locked_open_row(connection, account_id, conversation_id, None)
    if row.agent_id is None:
        raise Conflict("not-accepted", f"no agent has accepted conversation {conversation_id} yet")
    return _append(connection, row, row.agent_id, "ASSIGNED_AGENT", event, now)


def close(
    connection: Connection, account_id: str, conversation_id: str, reason: str, consumer_id: str | None, now: int
) -> None:
    """Close the open conversation (``reason``: CONSUMER or AGENT; with ``consumer_id``, only that consumer's)."""
    row = locked_open_row(connection, account_id, conversation_id, consumer_id)
    connection.execute(
        _UPDATE,
        {"conversation_id": row.id, "state": "CLOSE", "close_reason": reason, "ended_at": now, "updated_at": now},
    )
    closed = replace(snapshot(row), state="CLOSE", close_reason=reason, ended_at=now, updated_at=now)
    _notify(connection, account_id, conversation_upsert(closed), now)


def accept(
    connection: Connection, account_id: str, conversation_id: str, agent_id: str, if_unassigned: bool, now: int
) -> bool:
    """The agent joins as ASSIGNED_AGENT and the change is published. With ``if_unassigned``, a conversation that
    has an agent already is left as it is (the check holds the row's lock). Whether it is now this agent's."""
    row = locked_open_row(connection, account_id, conversation_id, None)
    if if_unassigned and row.agent_id is not None:
        return bool(row.agent_id == agent_id)
    connection.execute(_UPDATE, {"conversation_id": row.id, "agent_id": agent_id, "updated_at": now})
    accepted = replace(snapshot(row), agent_id=agent_id, updated_at=now)
    _notify(connection, account_id, conversation_upsert(accepted), now)
    return True
