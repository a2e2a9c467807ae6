"""The console's tables: its sign-in sessions, found by the hash of the cookie's token, and one-time sign-in links."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, String, Table

from appinstall.store.metadata import metadata

console_sessions = Table(
    "console_sessions",
    metadata,
    # SHA-256 of the session token the cookie carries: a copy of this table opens no session.
    Column("token_hash", String(64), primary_key=True),
    # Whose session: an account's admin key (account_id and key_id), or the operator (both null).
    Column("account_id", String(64), nullable=True),
    Column("key_id", String(32), nullable=True),
    # For the operator: a hash of the operator credential's hash at sign-in, so a new operator token ends the
    # session as a revoked admin key ends its own.
    Column("operator_mark", String(64), nullable=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False, index=True),
)

console_sign_in_links = Table(
    "console_sign_in_links",
    metadata,
    # SHA-256 of a one-time sign-in link's token (``appinstall demo`` prints such a link), for one admin key.
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

__all__ = ["console_sessions", "console_sign_in_links"]
