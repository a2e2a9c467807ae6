"""Console sign-in sessions: a credential typed once becomes a session kept on the server, never in the browser.

Signing in checks the admin key (or operator token) exactly as the API does and stores a session row: who (the
account and key id, or the operator), a CSRF token and an expiry. The browser gets only a random session token in
a cookie (``cookies``). Every request finds the row by the token's hash and asks the accounts service whether the
key behind it still holds, so revoking a key (or changing the operator token) ends its sessions at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, insert, select

from appinstall.accounts.models import OPERATOR, Principal
from appinstall.accounts.service import Authenticator
from appinstall.console import cookies
from appinstall.console.tables import console_sessions
from appinstall.errors import Unauthorized
from appinstall.store import Store
from appinstall.store.store import Reading


@dataclass(frozen=True)
class ConsoleSession:
    """A signed-in browser: who it acts as, the token its forms must carry, and when it ends."""

    principal: Principal
    csrf_token: str
    expires_at: int


_FIND = select(
    console_sessions.c.account_id,
    console_sessions.c.key_id,
    console_sessions.c.operator_mark,
    console_sessions.c.csrf_token,
    console_sessions.c.expires_at,
).where(console_sessions.c.token_hash == bindparam("token_hash"), console_sessions.c.expires_at > bindparam("now"))


async def sign_in(
    store: Store, authenticator: Authenticator, credential: str, lifetime_ms: int
) -> tuple[str, ConsoleSession]:
    """A new session for ``credential`` (an admin key or the operator token) and its token, or ``Unauthorized``.

    Expired sessions are removed when one starts, the one moment sessions are written anyway.
    """
    principal = await authenticator.authenticate(credential.strip()) if credential.strip() else None
    if principal is None:
        raise Unauthorized("unauthorized", "that key is not valid (unknown or revoked)")
    return await start(store, authenticator, principal, lifetime_ms)


async def start(
    store: Store, authenticator: Authenticator, principal: Principal, lifetime_ms: int
) -> tuple[str, ConsoleSession]:
    """A new session for a principal whose credential was just checked, and its token."""
    token = cookies.new_token()
    now = store.clock()
    session = ConsoleSession(principal, secrets.token_urlsafe(32), now + lifetime_ms)
    async with store.transaction() as connection:
        await connection.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
        await connection.execute(
            insert(console_sessions).values(
                token_hash=cookies.token_hash(token),
                account_id=principal.account_id,
                key_id=principal.key_id,
                operator_mark=authenticator.operator_mark if principal.is_operator else None,
                csrf_token=session.csrf_token,
                created_at=now,
                expires_at=session.expires_at,
            )
        )
    return token, session


async def find(store: Store, authenticator: Authenticator, token: str) -> ConsoleSession | None:
    """The live session of ``token``: stored, not expired, and its credential not revoked since."""
    rows = await Reading(store, None).fetch_all(_FIND, {"token_hash": cookies.token_hash(token), "now": store.clock()})
    if not rows:
        return None
    row = rows[0]
    principal = OPERATOR if row.key_id is None else Principal.of_key(row.key_id, row.account_id)
    if not await authenticator.still_valid(principal, row.operator_mark):
        return None
    return ConsoleSession(principal, row.csrf_token, row.expires_at)


async def sign_out(store: Store, token: str) -> None:
    async with store.transaction() as connection:
        mine = console_sessions.c.token_hash == cookies.token_hash(token)
        await connection.execute(delete(console_sessions).where(mine))
