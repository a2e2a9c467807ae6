"""The tokens domain's tables: the keys that sign tokens, and failed client authentications (the rate limit)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    String,
    Table,
)

from appinstall.store.metadata import metadata

# Times are integer milliseconds since the epoch: identical on SQLite and PostgreSQL, and free of time zones.

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

__all__ = ["auth_failures", "signing_keys"]
