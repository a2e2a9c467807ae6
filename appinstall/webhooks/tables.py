"""The webhooks domain's tables: the outbox (notifications, deliveries, their attempts), webhook health and
retention-mode states. Foreign keys to ``installations`` name the registry's table at the schema level only.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)

from appinstall.store.metadata import BigId, metadata

# Times are integer milliseconds since the epoch: identical on SQLite and PostgreSQL, and free of time zones.

# Published notifications, each stored once however many installations receive it; the body is the exact bytes
# sent and signed.
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", String(64), nullable=False),
    Column("event_type", String(80), nullable=False),
    Column("conversation_id", String(100), nullable=True),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# The outbox: one row per notification and receiving installation. ``seq`` orders deliveries of one
# conversation; ``status`` moves blocked → pending → in_flight → succeeded | failed (or back to pending for a
# retry). A delivery is ``blocked`` while an earlier one of the same installation and conversation is unfinished.
deliveries = Table(
    "deliveries",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("id", String(40), nullable=False, unique=True),
    Column("account_id", String(64), nullable=False),
    Column("installation_id", String(36), ForeignKey("installations.id"), nullable=False),
    Column("notification_id", BigId, ForeignKey("notifications.id"), nullable=False),
    Column("event_type", String(80), nullable=False),
    Column("conversation_id", String(100), nullable=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    # The current round: attempts since it was queued (or re-queued by hand), and when that happened.
    Column("round_attempts", Integer, nullable=False),
    Column("round_started_at", BigInteger, nullable=False),
    Column("next_attempt_at", BigInteger, nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_expires_at", BigInteger, nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", String(500), nullable=True),
    Index("ix_deliveries_due", "status", "next_attempt_at"),
    Index("ix_deliveries_conversation", "installation_id", "conversation_id", "status", "seq"),
    Index("ix_deliveries_installation", "installation_id", "seq"),
    # The account's list across its installations, newest first (the console's).
    Index("ix_deliveries_account", "account_id", "seq"),
    # Pruning the delivery log asks, per old notification, whether any of its deliveries is left.
    Index("ix_deliveries_notification", "notification_id"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("delivery_seq", BigId, ForeignKey("deliveries.seq"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    # The library's own words for a failure without an answer (``error`` is the short, stable sentence).
    Column("error_detail", String(500), nullable=True),
    Column("response_excerpt", Text, nullable=True),
)

# Health of one webhook (installation and event type): unbroken failures disable it after a while, and 410 Gone
# at once. Disabling and re-enabling are also written to the audit trail.
webhook_health = Table(
    "webhook_health",
    metadata,
    Column("installation_id", String(36), ForeignKey("installations.id"), primary_key=True),
    Column("event_type", String(80), primary_key=True),
    Column("consecutive_failures", Integer, nullable=False),
    Column("failing_since", BigInteger, nullable=True),
    Column("last_success_at", BigInteger, nullable=True),
    Column("last_failure_at", BigInteger, nullable=True),
    Column("disabled_at", BigInteger, nullable=True),
    Column("disabled_reason", String(200), nullable=True),
)

# Retention mode (``retry.retention_time``): the installation's delivery state, UP when it has no row. While it is
# FAILED its new deliveries are held; a successful retry makes it RECOVERING, and RECOVERED once what was held
# is sent.
retention_states = Table(
    "retention_states",
    metadata,
    Column("installation_id", String(36), ForeignKey("installations.id"), primary_key=True),
    Column("state", String(16), nullable=False),
    Column("since", BigInteger, nullable=False),
    Column("reason", String(500), nullable=True),
)

__all__ = ["deliveries", "delivery_attempts", "notifications", "retention_states", "webhook_health"]
