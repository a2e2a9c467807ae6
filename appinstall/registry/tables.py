"""The registry's tables: installations, their capabilities (for discovery and fan-out) and their sealed client
secrets. Other domains read them through ``registry.service`` (subscribers, live secrets, delivery targets).
"""

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
    String,
    Table,
    text,
)

from appinstall.store.metadata import metadata

# Times are integer milliseconds since the epoch: identical on SQLite and PostgreSQL, and free of time zones.

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

__all__ = ["client_secrets", "installation_capabilities", "installations"]
