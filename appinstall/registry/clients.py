"""Client authentication's reads: an installation by its client id, with every secret of it, in one statement."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, select

from appinstall.registry.models import Installation
from appinstall.registry.rows import installation_from_row
from appinstall.registry.tables import client_secrets, installations
from appinstall.store import Store


@dataclass(frozen=True)
class ClientRecord:
    """What client authentication reads about one client id, in one statement.

    ``row`` is the installation (None when there is none), ``secrets`` its sealed secrets with their grace ends
    (None for the current one), and ``extra`` the values of the caller's extra columns, read in the same statement
    (None when no installation matched, since then no row carried them).
    """

    client_id: str
    row: Any | None
    secrets: tuple[tuple[bytes, int | None], ...]
    extra: tuple[Any, ...] | None


def client_query(*extra: ColumnElement[Any]) -> Select[Any]:
    """The statement that reads the installation ``:client_id`` with every secret of it, joined.

    ``extra`` columns (a caller's own reads, with bind parameters of their own, e.g. the rate limit's counts) are
    evaluated in the same statement, last in each row. Build it once and keep it: a statement built once has its
    cache key computed once.
    """
    columns: list[Any] = [installations, client_secrets.c.ciphertext, client_secrets.c.expires_at, *extra]
    return (
        select(*columns)
        .select_from(installations.outerjoin(client_secrets, client_secrets.c.installation_id == installations.c.id))
        .where(installations.c.id == bindparam("client_id"))
    )


_CLIENT = client_query()


def client_record(client_id: str, rows: Sequence[Any], *, extra: int = 0) -> ClientRecord:
    """What ``client_query``'s rows say of ``client_id``; ``extra`` is how many extra columns it was given."""
    if not rows:
        return ClientRecord(client_id, None, (), None)
    return ClientRecord(
        client_id,
        rows[0],
        tuple((row.ciphertext, row.expires_at) for row in rows if row.ciphertext is not None),
        tuple(rows[0][len(rows[0]) - extra :]) if extra else None,
    )


def match_client_secret(store: Store, record: ClientRecord, secret: str) -> Installation | None:
    """The installation whose current, or still-in-grace, secret this is; None otherwise.

    Every candidate is compared in constant time, and all of them are compared, so the answer's timing says
    nothing about which secret (if any) came close.
    """
    if record.row is None:
        return None
    now = store.clock()
    matched = False
    current = None
    for ciphertext, expires_at in record.secrets:
        candidate = store.keyring.open(ciphertext, record.client_id)
        if expires_at is None:
            current = candidate
        live = expires_at is None or expires_at > now
        matched |= hmac.compare_digest(candidate.encode(), secret.encode()) and live
    return installation_from_row(record.row, current) if matched else None


async def verify_client_secret(store: Store, client_id: str, secret: str) -> Installation | None:
    """The installation whose current, or still-in-grace, secret this is; None otherwise (one read, then a match)."""
    rows = await store.fetch_all(_CLIENT, {"client_id": client_id})
    return match_client_secret(store, client_record(client_id, rows), secret)
