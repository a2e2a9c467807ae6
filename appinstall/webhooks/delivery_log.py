"""Reading the delivery log: an installation's deliveries, newest first, and one delivery as it is sent (the
account-wide list is ``account_log``'s)."""

from __future__ import annotations

import base64
import json
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.errors import Invalid, NotFound
from appinstall.http.input_checks import INT64_MAX
from appinstall.registry import service as registry
from appinstall.store import Store
from appinstall.webhooks import account_signature
from appinstall.webhooks.models import AttemptView, DeliveryPage, DeliveryView, Status
from appinstall.webhooks.request import MASK, masked, request_headers
from appinstall.webhooks.tables import deliveries, delivery_attempts, notifications


def cursor_at(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def seq_of(cursor: str) -> int:
    """The sequence number in a cursor ``cursor_at`` made: digits that fit a BIGINT, or 400."""
    try:
        digits = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:
        digits = b""
    if not (digits.isdigit() and len(digits) <= len(str(INT64_MAX)) and int(digits) <= INT64_MAX):
        raise Invalid("invalid-cursor", "the cursor is not one this server gave out; start without one")
    return int(digits)


def delivery_view(row: Any, attempts: list[AttemptView] | None) -> DeliveryView:
    return DeliveryView(
        id=row.id,
        installation_id=row.installation_id,
        event_type=row.event_type,
        conversation_id=row.conversation_id,
        status=Status(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == Status.PENDING else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        attempt_log=attempts,
    )


def narrowed(
    query: Select[Any],
    *,
    status: Status | None,
    event_type: str | None,
    conversation_id: str | None,
    since: int | None,
    until: int | None,
) -> Select[Any]:
    """``query`` on deliveries, kept to those the filters given (not None) allow: one meaning for every list."""
    if status is not None:
        query = query.where(deliveries.c.status == status)
    if event_type is not None:
        query = query.where(deliveries.c.event_type == event_type)
    if conversation_id is not None:
        query = query.where(deliveries.c.conversation_id == conversation_id)
    if since is not None:
        query = query.where(deliveries.c.created_at >= since)
    if until is not None:
        query = query.where(deliveries.c.created_at < until)
    return query


async def _attempts(connection: AsyncConnection, seqs: list[int]) -> dict[int, list[AttemptView]]:
    found: dict[int, list[AttemptView]] = {seq: [] for seq in seqs}
    if not seqs:
        return found
    rows = await connection.execute(
        select(delivery_attempts).where(delivery_attempts.c.delivery_seq.in_(seqs)).order_by(delivery_attempts.c.id)
    )
    for row in rows:
        found[row.delivery_seq].append(
            AttemptView(
                number=row.number,
                at=row.started_at,
                latency_ms=row.latency_ms,
                status_code=row.status_code,
                error=row.error,
                error_detail=row.error_detail,
                response=row.response_excerpt,
            )
        )
    return found


async def list_deliveries(
    store: Store,
    account_id: str,
    installation_id: str,
    *,
    status: Status | None = None,
    event_type: str | None = None,
    conversation_id: str | None = None,
    since: int | None = None,
    until: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> DeliveryPage:
    """Deliveries of one installation, newest first, each with its attempts."""
    await registry.get(store, account_id, installation_id, with_secret=False)
    installation_only = deliveries.c.account_id == account_id, deliveries.c.installation_id == installation_id
    query = narrowed(
        select(deliveries).where(*installation_only),
        status=status,
        event_type=event_type,
        conversation_id=conversation_id,
        since=since,
        until=until,
    )
    if cursor is not None:
        query = query.where(deliveries.c.seq < seq_of(cursor))
    async with store.read() as connection:
        rows = (await connection.execute(query.order_by(deliveries.c.seq.desc()).limit(limit + 1))).all()
        attempts = await _attempts(connection, [row.seq for row in rows[:limit]])
    items = [delivery_view(row, attempts[row.seq]) for row in rows[:limit]]
    return DeliveryPage(items=items, next_cursor=cursor_at(rows[limit - 1].seq) if len(rows) > limit else None)


async def delivery_row(connection: AsyncConnection, account_id: str, installation_id: str, delivery_id: str) -> Any:
    row = (
        await connection.execute(
            select(deliveries).where(
                deliveries.c.id == delivery_id,
                deliveries.c.account_id == account_id,
                deliveries.c.installation_id == installation_id,
            )
        )
    ).first()
    if row is None:
        raise NotFound("delivery-not-found", f"no delivery {delivery_id} for installation {installation_id}")
    return row


async def get_delivery(
    store: Store, account_id: str, installation_id: str, delivery_id: str, *, mask_header_values: bool = False
) -> DeliveryView:
    """One delivery with its attempts, the body it sends and the headers of its last attempt (signatures masked;
    the manifest's header values too with ``mask_header_values``, as the installation shows them)."""
    installation = await registry.get(store, account_id, installation_id, with_secret=False)
    setting = await account_signature.get_setting(store, account_id)
    async with store.read() as connection:
        row = await delivery_row(connection, account_id, installation_id, delivery_id)
        attempts = await _attempts(connection, [row.seq])
        body: bytes = (
            await connection.execute(select(notifications.c.body).where(notifications.c.id == row.notification_id))
        ).scalar_one()
    log = attempts[row.seq]
    route = installation.routes.get(row.event_type)
    custom = {} if route is None else route.headers
    headers = request_headers(
        {name: MASK for name in custom} if mask_header_values else custom,
        account_id=account_id,
        client_id=installation_id,
        secrets=["shown masked"],  # the signatures' values are not shown, so no secret is read to make them
        message_id=row.id,
        timestamp=(log[-1].at if log else row.next_attempt_at) // 1000,
        body=body,
        attempt=max(row.attempts, 1),
        algorithm=setting.algorithm,
        encoding=setting.encoding,
    )
    view = delivery_view(row, log)
    view.notification = json.loads(body)
    view.request_headers = masked(headers)
    return view


__all__ = [
    "cursor_at",
    "delivery_row",
    "delivery_view",
    "get_delivery",
    "list_deliveries",
    "narrowed",
    "seq_of",
]
