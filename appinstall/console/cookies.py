"""The session cookie's value: a random token and its HMAC, so a forged or altered cookie is refused unread.

The token alone opens a session (its SHA-256 is the session's key in ``console_sessions``); the HMAC adds that a
guessed or tampered value is refused without a query. The HMAC key is derived from the newest master key, which
every process of a deployment shares: a session signed by one process is good on all of them, and a new master key
ends every session (re-signing in is the cost of a key rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from appinstall.store.keyring import Keyring

_TOKEN_BYTES = 32
_MAC_CHARACTERS = 43  # the whole SHA-256, base64url without padding


def signing_key(keyring: Keyring) -> bytes:
    """The cookies' HMAC key: derived, never the master key itself, so a leak of one says nothing of the other."""
    return hmac.new(keyring.keys[0], b"appinstall console session cookie v1", hashlib.sha256).digest()


def new_token() -> str:
    return secrets.token_urlsafe(_TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(key: bytes, token: str) -> str:
    digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(key: bytes, token: str) -> str:
    """The cookie value that carries ``token``."""
    return f"{token}.{_mac(key, token)}"


def unsign(key: bytes, value: str) -> str | None:
    """The token a cookie value carries, or None when it was not made by ``sign`` with ``key``."""
    token, dot, mac = value.rpartition(".")
    if not dot or not token or len(mac) != _MAC_CHARACTERS or len(token) > 2 * _TOKEN_BYTES:
        return None
    if not hmac.compare_digest(mac.encode(), _mac(key, token).encode()):
        return None
    return token
