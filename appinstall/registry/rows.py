"""Installations as the store holds them: one row (and its sealed secret) into an ``Installation``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.errors import NotFound
from appinstall.registry.header_values import open_values
from appinstall.registry.models import Installation
from appinstall.registry.tables import client_secrets, installations
from appinstall.store import Store
from appinstall.store.keyring import Keyring


def installation_from_row(row: Any, secret: str | None = None, keyring: Keyring | None = None) -> Installation:
    """The installation of a row; with ``keyring``, its webhook header values opened (else they stay sealed:
    token requests need no header)."""
    return Installation(
        id=row.id,
        account_id=row.account_id,
        manifest=row.manifest if keyring is None else open_values(row.manifest, keyring, row.id),
        enabled=row.enabled,
        deleted=row.deleted,
        revision=row.revision,
        client_id_issued_at=row.client_id_issued_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        client_secret=secret,
    )


async def current_secrets(store: Store, connection: AsyncConnection, ids: list[str]) -> dict[str, str]:
    """The current secrets of many installations in one query (a page of a list)."""
    if not ids:
        return {}
    rows = await connection.execute(
        select(client_secrets.c.installation_id, client_secrets.c.ciphertext)
        .where(client_secrets.c.installation_id.in_(ids), client_secrets.c.expires_at.is_(None))
        .order_by(client_secrets.c.id)
    )
    return {row.installation_id: store.keyring.open(row.ciphertext, row.installation_id) for row in rows}


async def load(
    store: Store,
    connection: AsyncConnection,
    account_id: str,
    installation_id: str,
    *,
    include_deleted: bool,
    with_secret: bool = True,
) -> Installation:
    """One installation, with its current secret joined in (one statement) unless ``with_secret`` is False."""
    where = (installations.c.id == installation_id, installations.c.account_id == account_id)
    if with_secret:
        current = and_(client_secrets.c.installation_id == installations.c.id, client_secrets.c.expires_at.is_(None))
        query = (
            select(installations, client_secrets.c.ciphertext)
            .select_from(installations.outerjoin(client_secrets, current))
            .where(*where)
            .order_by(client_secrets.c.id.desc())
            .limit(1)
        )
    else:
        query = select(installations).where(*where)
    row = (await connection.execute(query)).first()
    if row is None or (row.deleted and not include_deleted):
        raise NotFound("installation-not-found", f"there is no installation {installation_id!r}")
    ciphertext = row.ciphertext if with_secret else None
    secret = None if ciphertext is None else store.keyring.open(ciphertext, installation_id)
    return installation_from_row(row, secret, store.keyring)
