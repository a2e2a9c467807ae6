"""How each account's webhooks are signed, as its row stores it: read and changed here for the webhooks domain.

What the values mean, and which are allowed, is the webhooks domain's (``webhooks/account_signature.py``); the
choice is kept on the account row, which the accounts domain owns, so the queries on it live here.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, select, update

from appinstall.accounts.tables import accounts
from appinstall.store import Store
from appinstall.store.store import Reading


class StoredSignature(NamedTuple):
    """The account's ``signature_algorithm`` and ``signature_encoding`` as stored."""

    algorithm: str
    encoding: str


_SIGNATURES = select(accounts.c.id, accounts.c.signature_algorithm, accounts.c.signature_encoding).where(
    accounts.c.id.in_(bindparam("accounts", expanding=True))
)


async def signature_of(store: Store, account_id: str) -> StoredSignature | None:
    """The account's choice, or None when there is no such account."""
    async with store.read() as connection:
        row = (
            await connection.execute(
                select(accounts.c.signature_algorithm, accounts.c.signature_encoding).where(accounts.c.id == account_id)
            )
        ).first()
    return None if row is None else StoredSignature(row.signature_algorithm, row.signature_encoding)


async def set_signature(store: Store, account_id: str, algorithm: str, encoding: str) -> bool:
    """Store the account's choice; False when there is no such account."""
    async with store.transaction() as connection:
        result = await connection.execute(
            update(accounts)
            .where(accounts.c.id == account_id)
            .values(signature_algorithm=algorithm, signature_encoding=encoding)
        )
    return bool(result.rowcount)


async def signatures_of(reading: Reading, account_ids: list[str]) -> dict[str, StoredSignature]:
    """The choice of each of these accounts, in one statement (a worker's claim of deliveries)."""
    rows = await reading.fetch_all(_SIGNATURES, {"accounts": account_ids})
    return {row.id: StoredSignature(row.signature_algorithm, row.signature_encoding) for row in rows}


__all__ = ["StoredSignature", "set_signature", "signature_of", "signatures_of"]
