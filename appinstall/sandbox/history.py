"""Reading conversations back: the account's recent ones, one conversation, and its events in the order committed.

The Send API never reads a conversation back (the platform's consumers hear of events by notification); the
console's sandbox does, to show the chat and what each step caused.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import select

from appinstall.errors import NotFound
from appinstall.sandbox.models import ConversationRecord, StoredEvent
from appinstall.sandbox.tables import conversation_events, conversations
from appinstall.store import Store

MAX_EVENTS: Final = 500


def _record(row: Any) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        account_id=row.account_id,
        consumer_id=row.consumer_id,
        agent_id=row.agent_id,
        state=row.state,
        close_reason=row.close_reason,
        created_at=row.created_at,
        updated_at=row.updated_at,
        ended_at=row.ended_at,
    )


async def recent_conversations(
    store: Store, account_id: str, limit: int = 20, consumer_id: str | None = None
) -> list[ConversationRecord]:
    """The account's most recently changed conversations (with ``consumer_id``, only that consumer's)."""
    query = select(conversations).where(conversations.c.account_id == account_id)
    if consumer_id is not None:
        query = query.where(conversations.c.consumer_id == consumer_id)
    query = query.order_by(conversations.c.updated_at.desc(), conversations.c.id).limit(limit)
    async with store.read() as reader:
        rows = (await reader.execute(query)).all()
    return [_record(row) for row in rows]


async def get_conversation(store: Store, account_id: str, conversation_id: str) -> ConversationRecord:
    """The account's conversation, or ``NotFound`` (another account's conversation looks absent)."""
    query = select(conversations).where(
        conversations.c.id == conversation_id[:36], conversations.c.account_id == account_id
    )
    async with store.read() as reader:
        row = (await reader.execute(query)).first()
    if row is None:
        raise NotFound("conversation-not-found", f"there is no conversation {conversation_id[:80]!r} in this account")
    return _record(row)


async def conversation_events_after(
    store: Store, account_id: str, conversation_id: str, after: int = 0, limit: int = MAX_EVENTS
) -> tuple[ConversationRecord, list[StoredEvent]]:
    """The conversation and its events committed after event ``after`` (0: from the start), oldest first."""
    conversation = await get_conversation(store, account_id, conversation_id)
    query = (
        select(conversation_events)
        .where(conversation_events.c.conversation_id == conversation.id, conversation_events.c.id > after)
        .order_by(conversation_events.c.id)
        .limit(limit)
    )
    async with store.read() as reader:
        rows = (await reader.execute(query)).all()
    events = [
        StoredEvent(
            id=row.id,
            sequence=row.sequence,
            originator_id=row.originator_id,
            role=row.role,
            event=row.event,
            server_timestamp=row.server_timestamp,
        )
        for row in rows
    ]
    return conversation, events
