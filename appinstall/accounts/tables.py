"""The accounts domain's tables: the operator credential, accounts (tenants) and their admin keys.

The account row also holds how its webhooks are signed (``signature_*``): a choice the webhooks domain reads and
changes through ``accounts.service`` (``signature_choices``, ``set_signature_choice``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
)

from appinstall.store.metadata import metadata

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

__all__ = ["accounts", "admin_keys", "operator_credentials"]
