"""The sandbox's tables: conversations of the Send API, their events, and each account's scripted agent."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from appinstall.store.metadata import BigId, metadata

# Times are integer milliseconds since the epoch: identical on SQLite and PostgreSQL, and free of time zones.

# The sandbox's conversations (Send API). ``next_sequence`` numbers the conversation's sequenced events.
conversations = Table(
    "conversations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("consumer_id", String(64), nullable=False),
    Column("agent_id", String(64), nullable=True),  # the ASSIGNED_AGENT, once one has accepted
    Column("state", String(16), nullable=False),
    Column("close_reason", String(32), nullable=True),
    Column("skill_id", String(32), nullable=False),
    Column("context", JSON, nullable=True),
    Column("next_sequence", Integer, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("ended_at", BigInteger, nullable=True),
    Index("ix_conversations_consumer", "account_id", "consumer_id", "state"),
)

conversation_events = Table(
    "conversation_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("conversation_id", String(36), ForeignKey("conversations.id"), nullable=False),
    Column("sequence", Integer, nullable=True),  # None for chat states, which the platform does not number
    Column("originator_id", String(64), nullable=False),
    Column("role", String(32), nullable=False),
    Column("event", JSON, nullable=False),
    Column("server_timestamp", BigInteger, nullable=False),
    Index("ix_conversation_events_conversation", "conversation_id", "id"),
)

# The sandbox's scripted agent chosen for an account (mode "echo" or "off"). No row: the server's default
# (APPINSTALL_SANDBOX_AGENT) applies.
sandbox_agents = Table(
    "sandbox_agents",
    metadata,
    Column("account_id", String(64), ForeignKey("accounts.id"), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("updated_at", BigInteger, nullable=False),
)

__all__ = ["conversation_events", "conversations", "sandbox_agents"]
