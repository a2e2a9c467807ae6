"""The audit trail's one table: who did what to an installation, and when. Written only by ``audit.service.record``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    String,
    Table,
)

from appinstall.store.metadata import metadata

# Times are integer milliseconds since the epoch: identical on SQLite and PostgreSQL, and free of time zones.

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("installation_id", String(36), nullable=True),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("revision", Integer, nullable=True),
    Column("at", BigInteger, nullable=False),
    Column("detail", JSON, nullable=True),
    Index("ix_audit_events_installation", "installation_id", "id"),
)

__all__ = ["audit_events"]
