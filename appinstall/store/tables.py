"""The store's tables (SQLAlchemy Core). Migrations in ``migrations/versions`` create exactly these."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Times are integer milliseconds since the epoch: identical on SQLite and PostgreSQL, and free of time zones.

operator_credentials = Table(
    "operator_credentials",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("created_at", BigInteger, nullable=False),
    # How the platform signature (x-liveperson-signature) of this account's webhooks is made: the platform signs
    # with HMAC-SHA1 in base64 by default and offers SHA-256 and hex per account.
    Column("signature_algorithm", String(8), nullable=False, server_default="sha1"),
    Column("signature_encoding", String(8), nullable=False, server_default="base64"),
)

admin_keys = Table(
    "admin_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("name", String(100), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("revoked_at", BigInteger, nullable=True),
)

installations = Table(
    "installations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(64), ForeignKey("accounts.id"), nullable=False),
    Column("client_name", String(100), nullable=False),
    # registry.names.name_key(client_name): names compare after NFKC case folding; unique by the partial index below.
    Column("client_name_key", String(100), nullable=False),
    Column("manifest", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("deleted", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("client_id_issued_at", BigInteger, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("updated_at", BigInteger, nullable=False),
    Index("ix_installations_account_created", "account_id", "created_at", "id"),
    Index(
        "uq_installations_live_name",
        "account_id",
        "client_name_key",
        unique=True,
        sqlite_where=text("deleted = 0"),
        postgresql_where=text("deleted = false"),
    ),
)

# One row per capability value, so discovery filters are indexed lookups on both engines rather than JSON
# queries in two dialects. kind is "webhook" (value: event type) or an engagement attribute name.
installation_capabilities = Table(
    "installation_capabilities",
    metadata,
    Column("installation_id", String(36), ForeignKey("installations.id"), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("value", String(100), primary_key=True),
    Index("ix_installation_capabilities_lookup", "kind", "value", "installation_id"),
)

client_secrets = Table(
    "client_secrets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("installation_id", String(36), ForeignKey("installations.id"), nullable=False, index=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    # NULL for the current secret; for a rotated one, the end of its grace period.
    Column("expires_at", BigInteger, nullable=True),
)

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

# Keys that sign AppJWTs and ConsumerJWSs. A key verifies from created_at, signs from activates_at, and is dropped
# from the JWKS at retires_at (set when a newer key takes over, after the last token it signed has expired).
signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("algorithm", String(16), nullable=False),
    Column("private_key", LargeBinary, nullable=False),  # PEM, sealed by the keyring
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("activates_at", BigInteger, nullable=False),
    Column("retires_at", BigInteger, nullable=True),
)

# Failed client authentications per bucket ("client:<id>" or "address:<ip>") and fixed time window, shared by
# every process so that a limit holds however many API processes there are.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("bucket", String(200), primary_key=True),
    Column("window_start", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
)

# A 64-bit key on PostgreSQL; on SQLite an INTEGER PRIMARY KEY, the only kind that autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")

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

__all__ = [
    "accounts",
    "admin_keys",
    "audit_events",
    "auth_failures",
    "client_secrets",
    "conversation_events",
    "conversations",
    "deliveries",
    "delivery_attempts",
    "installation_capabilities",
    "installations",
    "metadata",
    "notifications",
    "operator_credentials",
    "sandbox_agents",
    "signing_keys",
    "webhook_health",
]
