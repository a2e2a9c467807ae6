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
    # client_name folded to lower case: uniqueness ignores case, enforced by the partial index below.
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

__all__ = [
    "accounts",
    "admin_keys",
    "audit_events",
    "auth_failures",
    "client_secrets",
    "installation_capabilities",
    "installations",
    "metadata",
    "operator_credentials",
    "signing_keys",
]
