"""Reading many installations: an account's list, discovery by capabilities, and one installation's history."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.audit import service as audit
from appinstall.errors import Invalid
from appinstall.http.input_checks import INT64_MAX, INT64_MIN, text_problem
from appinstall.registry.models import Installation, InstallationFilter, Page
from appinstall.registry.names import name_key
from appinstall.registry.rows import current_secrets, installation_from_row, load
from appinstall.registry.tables import installation_capabilities, installations
from appinstall.store import Store


def _encode_cursor(installation: Installation) -> str:
    raw = json.dumps([installation.created_at, installation.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_CURSOR_CHARS = 200
"""A cursor this server gives out is about 80 characters: a time and an installation id, base64-encoded."""


def _decode_cursor(cursor: str) -> tuple[int, str]:
    """The (created_at, id) a cursor from ``_encode_cursor`` holds, or 400 for anything else: over-long, not
    base64 of that JSON pair, a time outside a BIGINT, an id that is not text a store can compare."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, installation_id = json.loads(raw)
        if type(created_at) is not int or not INT64_MIN <= created_at <= INT64_MAX:
            raise ValueError
        if not isinstance(installation_id, str) or text_problem(installation_id) is not None:
            raise ValueError
    except (ValueError, TypeError, RecursionError):
        raise Invalid("invalid-cursor", "the cursor is not one this server gave out; start without one") from None
    return created_at, installation_id


async def search(
    store: Store,
    account_id: str | None,
    criteria: InstallationFilter,
    cursor: str | None,
    limit: int,
    *,
    connection: AsyncConnection | None = None,
) -> Page:
    """Installations of one account (or, for the operator, of all) matching ``criteria``, oldest first."""
    query = select(installations)
    if account_id is not None:
        query = query.where(installations.c.account_id == account_id)
    if not criteria.include_deleted:
        query = query.where(installations.c.deleted.is_(False))
    if criteria.enabled is not None:
        query = query.where(installations.c.enabled.is_(criteria.enabled))
    if criteria.client_name is not None:
        query = query.where(installations.c.client_name_key == name_key(criteria.client_name))
    for kind, value in criteria.capability_pairs():
        query = query.where(
            exists().where(
                and_(
                    installation_capabilities.c.installation_id == installations.c.id,
                    installation_capabilities.c.kind == kind,
                    installation_capabilities.c.value == value,
                )
            )
        )
    if cursor:
        created_at, last_id = _decode_cursor(cursor)
        query = query.where(
            (installations.c.created_at > created_at)
            | ((installations.c.created_at == created_at) & (installations.c.id > last_id))
        )
    query = query.order_by(installations.c.created_at, installations.c.id).limit(limit + 1)
    async with store.read(connection) as reader:
        rows = (await reader.execute(query)).all()
        secrets = await current_secrets(store, reader, [row.id for row in rows[:limit]])
        items = [installation_from_row(row, secrets.get(row.id), store.keyring) for row in rows[:limit]]
    next_cursor = _encode_cursor(items[-1]) if len(rows) > limit else None
    return Page(items, next_cursor)


async def history(
    store: Store, account_id: str, installation_id: str, *, connection: AsyncConnection | None = None
) -> list[dict[str, Any]]:
    """The audit trail of one installation, oldest first."""
    async with store.read(connection) as reader:
        await load(store, reader, account_id, installation_id, include_deleted=True, with_secret=False)
        return await audit.trail(reader, account_id, installation_id)


async def installation_ids(store: Store, account_id: str) -> list[str]:
    """The ids of every installation the account has had, deleted ones too (their deliveries are still logged)."""
    async with store.read() as reader:
        rows = await reader.execute(select(installations.c.id).where(installations.c.account_id == account_id))
        return [row.id for row in rows]
