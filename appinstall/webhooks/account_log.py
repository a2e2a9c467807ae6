"""Reading an account's delivery log across its installations: a page of it, newest first, what came after a
page was read (for a list kept live), and where given deliveries stand now.

Every query starts from the account (``ix_deliveries_account``: account, seq), so a page costs the rows it shows
and those the filters skip, never the other accounts' deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.errors import Invalid, NotFound
from appinstall.registry import listing as registry_listing
from appinstall.registry import service as registry
from appinstall.store import Store
from appinstall.webhooks.delivery_log import cursor_at, delivery_view, narrowed, seq_of
from appinstall.webhooks.models import DeliveryView, Status
from appinstall.webhooks.tables import deliveries

SETTLE_MS = 5_000
"""How long after its ``created_at`` a delivery is taken to be committed, for a live list's cursor. On PostgreSQL a
sequence number is taken when the row is written, not when it commits: a transaction that took 100 may commit after
one that took 101, and a cursor moved past 101 at once would never show 100. So a live cursor moves only past rows
older than this; newer ones are sent again on the next question (a live list skips ids it shows already)."""

MAX_WATCHED = 200
"""The most deliveries one ``current_states`` call reads: what a page of the list shows, with room to spare."""


@dataclass(frozen=True)
class DeliveryFilter:
    """Which of an account's deliveries a list shows; None means any."""

    installation_id: str | None = None
    status: Status | None = None
    event_type: str | None = None
    conversation_id: str | None = None
    since: int | None = None
    until: int | None = None


@dataclass(frozen=True)
class AccountLogPage:
    """Deliveries newest first (without their attempts); ``older`` continues the list, ``newest`` is the cursor to
    ask ``deliveries_after`` with: the log's end when the page was read, so nothing published later is missed."""

    items: list[DeliveryView]
    older: str | None
    newest: str


async def _check_installation(store: Store, account_id: str, wanted: DeliveryFilter) -> None:
    if wanted.installation_id is None:
        return
    try:
        await registry.get(store, account_id, wanted.installation_id, with_secret=False)
    except NotFound:
        raise Invalid(
            "unknown-installation", f"this account has no installation {wanted.installation_id}; choose another"
        ) from None


async def _query(store: Store, account_id: str, wanted: DeliveryFilter) -> Select[Any]:
    """The filtered deliveries, from the index that finds them fastest.

    One conversation of any installation is asked of the conversation index, by the account's installations, not
    of the account index, which would be walked to its end (for a conversation of five deliveries among 100,000:
    about 60 ms instead of well under one)."""
    if wanted.installation_id is not None:
        query = select(deliveries).where(deliveries.c.installation_id == wanted.installation_id)
    elif wanted.conversation_id is not None:
        ids = await registry_listing.installation_ids(store, account_id)
        query = select(deliveries).where(deliveries.c.installation_id.in_(ids))
    else:
        query = select(deliveries).where(deliveries.c.account_id == account_id)
    return narrowed(
        query,
        status=wanted.status,
        event_type=wanted.event_type,
        conversation_id=wanted.conversation_id,
        since=wanted.since,
        until=wanted.until,
    )


async def list_account_deliveries(
    store: Store, account_id: str, wanted: DeliveryFilter, *, cursor: str | None = None, limit: int = 50
) -> AccountLogPage:
    """A page of the account's deliveries that ``wanted`` allows, newest first, older than ``cursor`` if given.

    An installation that is not the account's is ``Invalid`` (a filter value, not a missing page)."""
    await _check_installation(store, account_id, wanted)
    query = await _query(store, account_id, wanted)
    if cursor is not None:
        query = query.where(deliveries.c.seq < seq_of(cursor))
    async with store.read() as connection:
        settled = await _settled_end(connection, account_id, 0, store.clock())
        rows = (await connection.execute(query.order_by(_seq(wanted).desc()).limit(limit + 1))).all()
    items = [delivery_view(row, None) for row in rows[:limit]]
    older = cursor_at(rows[limit - 1].seq) if len(rows) > limit else None
    return AccountLogPage(items=items, older=older, newest=cursor_at(settled))


def _seq(wanted: DeliveryFilter) -> ColumnElement[int]:
    """What to order by: ``seq``, or for one conversation ``seq + 0``, which no index provides, so that SQLite's
    planner picks the index that finds the conversation (the few rows are then sorted) over one in seq order."""
    if wanted.conversation_id is not None:
        return deliveries.c.seq + 0
    return deliveries.c.seq


async def _settled_end(connection: AsyncConnection, account_id: str, start: int, now: int) -> int:
    """The account's newest delivery after ``start`` that is surely committed (see ``SETTLE_MS``), else ``start``.

    Walks the account's index from its end: only the last few seconds' rows are passed over."""
    newest = (
        select(deliveries.c.seq)
        .where(
            deliveries.c.account_id == account_id,
            deliveries.c.seq > start,
            deliveries.c.created_at < now - SETTLE_MS,
        )
        .order_by(deliveries.c.seq.desc())
        .limit(1)
    )
    found = (await connection.execute(newest)).scalar()
    return start if found is None else int(found)


async def deliveries_after(
    store: Store, account_id: str, wanted: DeliveryFilter, after: str, *, limit: int = 50
) -> AccountLogPage:
    """The account's deliveries ``wanted`` allows that came after the cursor ``after``, newest first: at most the
    ``limit`` oldest of them, so asking again from the answer's ``newest`` continues without a gap."""
    await _check_installation(store, account_id, wanted)
    start = seq_of(after)
    query = (await _query(store, account_id, wanted)).where(deliveries.c.seq > start)
    async with store.read() as connection:
        rows = (await connection.execute(query.order_by(_seq(wanted)).limit(limit))).all()
        # Caught up, the cursor may pass what the filters left out, never a row that may not be committed yet; behind
        # (a full page), it moves to the page's last row: progress first, when more came than a page shows.
        end = rows[-1].seq if len(rows) == limit else await _settled_end(connection, account_id, start, store.clock())
    items = [delivery_view(row, None) for row in reversed(rows)]
    return AccountLogPage(items=items, older=None, newest=cursor_at(end))


async def current_states(store: Store, account_id: str, delivery_ids: list[str]) -> list[DeliveryView]:
    """Where the account's deliveries of ``delivery_ids`` stand now (others' and unknown ids are left out)."""
    if len(delivery_ids) > MAX_WATCHED:
        raise Invalid("too-many-deliveries", f"ask about at most {MAX_WATCHED} deliveries at once")
    if not delivery_ids:
        return []
    query = select(deliveries).where(deliveries.c.account_id == account_id, deliveries.c.id.in_(delivery_ids))
    async with store.read() as connection:
        rows = (await connection.execute(query)).all()
    return [delivery_view(row, None) for row in rows]


__all__ = [
    "MAX_WATCHED",
    "AccountLogPage",
    "DeliveryFilter",
    "current_states",
    "deliveries_after",
    "list_account_deliveries",
]
