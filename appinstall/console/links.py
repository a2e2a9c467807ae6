"""One-time sign-in links: how ``appinstall demo`` hands its admin key's console to the person who ran it.

A link carries a random token, good once and for minutes, that stands for one admin key; the key itself never
appears in it. Opening the link shows a page whose button (a form, with the sign-in CSRF check) spends the token
and starts a session, so a link fetched by something other than a person (a preview, a prefetch) signs nobody in.
"""

from __future__ import annotations

from sqlalchemy import delete, insert

from appinstall.accounts.models import Principal
from appinstall.accounts.service import Authenticator
from appinstall.console import cookies
from appinstall.console.tables import console_sign_in_links
from appinstall.errors import Unauthorized
from appinstall.store import Store

LINK_LIFETIME_MS = 10 * 60_000


async def issue(store: Store, account_id: str, key_id: str, lifetime_ms: int = LINK_LIFETIME_MS) -> str:
    """A new link token for the admin key ``key_id`` of ``account_id``; expired links are removed on the way."""
    token = cookies.new_token()
    now = store.clock()
    async with store.transaction() as connection:
        await connection.execute(delete(console_sign_in_links).where(console_sign_in_links.c.expires_at <= now))
        await connection.execute(
            insert(console_sign_in_links).values(
                token_hash=cookies.token_hash(token), account_id=account_id, key_id=key_id, expires_at=now + lifetime_ms
            )
        )
    return token


async def redeem(store: Store, authenticator: Authenticator, token: str) -> Principal:
    """The principal a link stands for, spending it; ``Unauthorized`` if it was used, expired or its key revoked."""
    link = console_sign_in_links.c
    async with store.transaction() as connection:
        row = (
            await connection.execute(
                delete(console_sign_in_links)
                .where(link.token_hash == cookies.token_hash(token), link.expires_at > store.clock())
                .returning(link.account_id, link.key_id)
            )
        ).first()
    principal = None if row is None else Principal.of_key(row.key_id, row.account_id)
    if principal is None or not await authenticator.still_valid(principal, None):
        raise Unauthorized("unauthorized", "this sign-in link was used already or has expired; sign in with the key")
    return principal
