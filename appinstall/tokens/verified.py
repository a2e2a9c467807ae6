"""The tokens whose signature this process has verified, remembered until they expire.

What is remembered is what the signature vouched for: the claims, and which key (``kid``, algorithm) signed them.
It is keyed by the SHA-256 of the token and the audience it was checked for, so a token checked for one account is
checked afresh for another, and no token is kept in memory. Whether the key still verifies, the expiry and every
other claim are checked on each use (``TokenService._verified_claims``); only a signature already checked once is
not checked again. A token that failed is never remembered.

Bounded: at most ``limit`` tokens, the oldest forgotten first, and a token is forgotten once it has expired.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Verified:
    """A token whose signature verified: by which key, and what it says. ``claims`` is not to be changed."""

    kid: str
    algorithm: str
    claims: dict[str, Any]


class VerifiedTokens:
    """The remembered tokens of one process."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._tokens: dict[tuple[bytes, str | None], Verified] = {}

    def __len__(self) -> int:
        return len(self._tokens)

    @staticmethod
    def _key(token: str, audience: str | None) -> tuple[bytes, str | None]:
        return hashlib.sha256(token.encode()).digest(), audience

    def get(self, token: str, audience: str | None, now_seconds: int, grace_seconds: int) -> Verified | None:
        """The token as it verified for ``audience``, unless it has expired by now (then it is forgotten)."""
        key = self._key(token, audience)
        found = self._tokens.get(key)
        if found is not None and now_seconds >= found.claims["exp"] + grace_seconds:
            del self._tokens[key]
            return None
        return found

    def remember(self, token: str, audience: str | None, verified: Verified) -> None:
        while len(self._tokens) >= self._limit:
            del self._tokens[next(iter(self._tokens))]  # the oldest: dicts keep insertion order
        self._tokens[self._key(token, audience)] = verified

    def forget(self, token: str, audience: str | None) -> None:
        self._tokens.pop(self._key(token, audience), None)
