"""Bearer credentials: how they are made, stored (hashed) and recognised.

Operator tokens and admin keys are 256-bit random strings, so a single SHA-256 is the right hash: there is
nothing to brute-force, and a lookup by hash keeps the secret itself out of every query and log. The prefixes
(``aio_`` operator, ``aik_`` admin key) let secret scanners and people tell them apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

OPERATOR_PREFIX = "aio_"
ADMIN_KEY_PREFIX = "aik_"


def new_token(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(a.encode(), b.encode())


def new_client_secret() -> str:
    """A client secret with 256 bits of entropy, URL-safe so connectors can pass it in a query string."""
    return secrets.token_urlsafe(32)
