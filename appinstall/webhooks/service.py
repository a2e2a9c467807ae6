"""Publishing notifications into the outbox, and reading and repairing deliveries.

``publish`` answers only after every delivery it created is committed: from then on the notification cannot be
lost, whatever happens to the process. Sending is the worker's job (``worker.py``).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.http.input_checks import INT64_MAX
from appinstall.http.problems import ProblemError
from appinstall.registry import service as registry
from appinstall.registry.models import WEBHOOK_KIND
from appinstall.store import Store
from appinstall.store.batch import execute_many
from appinstall.store.tables import (
    audit_events,
    deliveries,
    delivery_attempts,
    installation_capabilities,
    installations,
    notifications,
    retention_states,
    webhook_health,
)
from appinstall.webhooks import account_signature, holding
from appinstall.webhooks.claims import retention_of, routes_of
from appinstall.webhooks.envelope import EnvelopeError, Routed, route
from appinstall.webhooks.models import (
    UNFINISHED,
    AttemptView,
    DeliveryPage,
    DeliveryStateView,
    DeliveryView,
    PublishedDelivery,
    Status,
    WebhookHealthView,
    health_view,
)
from appinstall.webhooks.queue import lock_conversations, take_turn, unfinished_pairs, wake_workers
from appinstall.webhooks.request import MASK, masked, request_headers
from appinstall.webhooks.retention import DeliveryState
from appinstall.webhooks.retention import shown as retention_state_shown

MAX_CONVERSATION_ID = 100

log = logging.getLogger("appinstall.webhooks")


def new_delivery_id() -> str:
    """A Standard Webhooks message id: the same on every attempt of one delivery."""
    return f"msg_{uuid.uuid4().hex}"


# --- Publishing ------------------------------------------------------------------------------------------------


async def publish(
    store: Store, account_id: str, document: Any, *, installation_id: str | None = None
) -> list[PublishedDelivery]:
    """Fan a notification out to every enabled installation of the account subscribed to its event type.

    ``installation_id`` restricts the fan-out to that one installation (``appinstall trigger`` tries a single
    app without waking every other app of the account); 404 if the account has no such installation.
    """
    try:
        routed = route(document)
    except EnvelopeError as error:
        raise ProblemError(
            400,
            "invalid-notification",
            "the body is not a notification in the platform's envelope",
            errors=error.problems,
        ) from None
    for envelope in routed:
        if envelope.conversation_id is not None and len(envelope.conversation_id) > MAX_CONVERSATION_ID:
            raise ProblemError(
                400, "invalid-notification", f"conversation ids are at most {MAX_CONVERSATION_ID} characters"
            )
    if installation_id is not None:
        await registry.get(store, account_id, installation_id, include_deleted=False, with_secret=False)
    return await store.run_transaction(publish_into, account_id, routed, store.clock(), installation_id)


async def publish_in(
    connection: AsyncConnection, account_id: str, routed: list[Routed], now: int
) -> list[PublishedDelivery]:
    """Publish inside the caller's transaction: the change that caused the notifications and their deliveries
    commit together, or not at all (the transactional outbox)."""
    return await connection.run_sync(publish_into, account_id, routed, now)


def publish_into(
    connection: Connection, account_id: str, routed: list[Routed], now: int, only: str | None = None
) -> list[PublishedDelivery]:
    """The deliveries of ``routed``, written in the connection's transaction (to installation ``only``, if given).

    A unit of work for ``Store.run_transaction``: on SQLite it runs whole on the loop, holding the write lock for a
    moment, not for a thread hand-off per statement while the worker waits for the lock. A handful of statements
    whatever the number of subscribers: the subscribers, the notifications, which subscribers already have an
    unfinished delivery in each conversation, and one insert of every delivery.
    """
    subscribers = _subscribers(connection, account_id, {envelope.event_type for envelope in routed}, only)
    pairs = [
        (installation, envelope.conversation_id)
        for envelope in routed
        for installation, _, _ in subscribers.get(envelope.event_type, [])
    ]
    lock_conversations(connection, pairs)
    unfinished = unfinished_pairs(connection, pairs)  # and, as they are made, the pairs of this publish
    created: list[PublishedDelivery] = []
    rows: list[dict[str, Any]] = []
    for envelope in routed:
        notification_id = connection.scalar(
            _INSERT_NOTIFICATION,
            {
                "account_id": account_id,
                "event_type": envelope.event_type,
                "conversation_id": envelope.conversation_id,
                "body": envelope.body,
                "created_at": now,
            },
        )
        for installation_id, disabled_reason, held in subscribers.get(envelope.event_type, []):
            if disabled_reason is not None:
                status = Status.FAILED  # finished at once: it holds nothing back
            else:
                status = take_turn(unfinished, (installation_id, envelope.conversation_id))
                if status is Status.PENDING and held:
                    status = Status.HELD  # retention mode: kept until the installation recovers
            delivery_id = new_delivery_id()
            rows.append(
                {
                    "id": delivery_id,
                    "account_id": account_id,
                    "installation_id": installation_id,
                    "notification_id": notification_id,
                    "event_type": envelope.event_type,
                    "conversation_id": envelope.conversation_id,
                    "status": status,
                    "attempts": 0,
                    "round_attempts": 0,
                    "round_started_at": now,
                    "next_attempt_at": now,
                    "created_at": now,
                    "updated_at": now,
                    "last_error": f"not sent: the webhook is disabled ({disabled_reason})" if disabled_reason else None,
                }
            )
            created.append(
                PublishedDelivery(
                    id=delivery_id,
                    installation_id=installation_id,
                    event_type=envelope.event_type,
                    conversation_id=envelope.conversation_id,
                    status=status,
                )
            )
    execute_many(connection, _INSERT_DELIVERY, rows)
    if created:
        wake_workers(connection)
    return created


_INSERT_NOTIFICATION = insert(notifications).returning(notifications.c.id)
_INSERT_DELIVERY = insert(deliveries)


def _subscribers(
    connection: Connection, account_id: str, event_types: set[str], only: str | None = None
) -> dict[str, list[tuple[str, str | None, bool]]]:
    """Per event type: the enabled installations subscribed to it (only ``only``, when given), with why their
    webhook is disabled (or None) and whether their new deliveries are held (retention mode, FAILED)."""
    query = (
        select(
            installations.c.id,
            installation_capabilities.c.value,
            webhook_health.c.disabled_reason,
            webhook_health.c.disabled_at,
            retention_states.c.state,
        )
        .join(installation_capabilities, installation_capabilities.c.installation_id == installations.c.id)
        .outerjoin(retention_states, retention_states.c.installation_id == installations.c.id)
        .outerjoin(
            webhook_health,
            and_(
                webhook_health.c.installation_id == installations.c.id,
                webhook_health.c.event_type == installation_capabilities.c.value,
            ),
        )
        .where(
            installations.c.account_id == account_id,
            installations.c.enabled.is_(True),
            installations.c.deleted.is_(False),
            installation_capabilities.c.kind == WEBHOOK_KIND,
            installation_capabilities.c.value.in_(event_types),
        )
        .order_by(installations.c.created_at, installations.c.id)
    )
    if only is not None:
        query = query.where(installations.c.id == only)
    rows = connection.execute(query)
    found: dict[str, list[tuple[str, str | None, bool]]] = defaultdict(list)
    for installation_id, event_type, reason, disabled_at, state in rows:
        disabled = (reason or "disabled") if disabled_at is not None else None
        found[event_type].append((installation_id, disabled, state == DeliveryState.FAILED))
    return found


# --- Reading ---------------------------------------------------------------------------------------------------


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(str(seq).encode()).decode().rstrip("=")


def _after(cursor: str) -> int:
    """The sequence number in a cursor ``_cursor`` made: digits that fit a BIGINT, or 400."""
    try:
        digits = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except ValueError:
        digits = b""
    if not (digits.isdigit() and len(digits) <= len(str(INT64_MAX)) and int(digits) <= INT64_MAX):
        raise ProblemError(400, "invalid-cursor", "the cursor is not one this server gave out; start without one")
    return int(digits)


def _view(row: Any, attempts: list[AttemptView] | None) -> DeliveryView:
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
    query = select(deliveries).where(
        deliveries.c.account_id == account_id, deliveries.c.installation_id == installation_id
    )
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
    if cursor is not None:
        query = query.where(deliveries.c.seq < _after(cursor))
    async with store.read() as connection:
        rows = (await connection.execute(query.order_by(deliveries.c.seq.desc()).limit(limit + 1))).all()
        attempts = await _attempts(connection, [row.seq for row in rows[:limit]])
    items = [_view(row, attempts[row.seq]) for row in rows[:limit]]
    return DeliveryPage(items=items, next_cursor=_cursor(rows[limit - 1].seq) if len(rows) > limit else None)


async def _delivery_row(connection: AsyncConnection, account_id: str, installation_id: str, delivery_id: str) -> Any:
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
        raise ProblemError(404, "delivery-not-found", f"no delivery {delivery_id} for installation {installation_id}")
    return row


async def get_delivery(
    store: Store, account_id: str, installation_id: str, delivery_id: str, *, mask_header_values: bool = False
) -> DeliveryView:
    """One delivery with its attempts, the body it sends and the headers of its last attempt (signatures masked;
    the manifest's header values too with ``mask_header_values``, as the installation shows them)."""
    installation = await registry.get(store, account_id, installation_id, with_secret=False)
    setting = await account_signature.get_setting(store, account_id)
    async with store.read() as connection:
        row = await _delivery_row(connection, account_id, installation_id, delivery_id)
        attempts = await _attempts(connection, [row.seq])
        body: bytes = (
            await connection.execute(select(notifications.c.body).where(notifications.c.id == row.notification_id))
        ).scalar_one()
    log = attempts[row.seq]
    route = routes_of(installation.manifest).get(row.event_type)
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
    view = _view(row, log)
    view.notification = json.loads(body)
    view.request_headers = masked(headers)
    return view


# --- Repair ----------------------------------------------------------------------------------------------------


def _requeue(connection: Connection, rows: list[Any], now: int) -> None:
    """Queue finished deliveries again, each in a fresh round, keeping order per conversation."""
    pairs = [(row.installation_id, row.conversation_id) for row in rows]
    lock_conversations(connection, pairs)
    unfinished = unfinished_pairs(connection, pairs)
    for row in sorted(rows, key=lambda row: row.seq):
        status = take_turn(unfinished, (row.installation_id, row.conversation_id))
        connection.execute(
            update(deliveries)
            .where(deliveries.c.seq == row.seq)
            .values(status=status, round_attempts=0, round_started_at=now, next_attempt_at=now, updated_at=now)
        )
    if rows:
        wake_workers(connection)


async def retry(store: Store, account_id: str, installation_id: str, delivery_id: str, actor: str) -> DeliveryView:
    """Send a finished delivery again (a failed one, or a succeeded one to replay it), with the same id."""
    now = store.clock()
    async with store.transaction() as connection:
        row = await _delivery_row(connection, account_id, installation_id, delivery_id)
        if row.status in UNFINISHED:
            raise ProblemError(
                409, "delivery-unfinished", f"delivery {delivery_id} is {row.status}; it is still being delivered"
            )
        await connection.run_sync(_requeue, [row], now)
        await _audit(
            connection, account_id, installation_id, actor, "delivery_retry", now, {"delivery_id": delivery_id}
        )
    return await get_delivery(store, account_id, installation_id, delivery_id)


async def recover(store: Store, account_id: str, installation_id: str, since: int, actor: str) -> int:
    """Queue again every delivery of the installation that failed at or after ``since`` (ms); how many."""
    await registry.get(store, account_id, installation_id, with_secret=False)
    now = store.clock()
    async with store.transaction() as connection:
        rows = (
            await connection.execute(
                select(deliveries.c.seq, deliveries.c.installation_id, deliveries.c.conversation_id).where(
                    deliveries.c.account_id == account_id,
                    deliveries.c.installation_id == installation_id,
                    deliveries.c.status == Status.FAILED,
                    deliveries.c.updated_at >= since,
                )
            )
        ).all()
        await connection.run_sync(_requeue, list(rows), now)
        await _audit(
            connection,
            account_id,
            installation_id,
            actor,
            "delivery_recover",
            now,
            {"since": since, "count": len(rows)},
        )
    return len(rows)


async def _audit(
    connection: AsyncConnection,
    account_id: str,
    installation_id: str,
    actor: str,
    action: str,
    now: int,
    detail: dict[str, Any],
) -> None:
    await connection.execute(
        insert(audit_events).values(
            account_id=account_id, installation_id=installation_id, actor=actor, action=action, at=now, detail=detail
        )
    )


# --- Retention mode ----------------------------------------------------------------------------------------------


async def delivery_state(store: Store, account_id: str, installation_id: str) -> DeliveryStateView:
    """The installation's retry mode and, in retention mode, its state and how many deliveries it holds."""
    installation = await registry.get(store, account_id, installation_id, with_secret=False)
    retention = retention_of(installation.manifest)
    async with store.read() as connection:
        stored = (await connection.run_sync(holding.states_of, [installation_id])).get(installation_id)
        held = await connection.run_sync(holding.held_count, installation_id)
    state, since, reason = DeliveryState.UP, None, None
    if stored is not None:
        state, since, reason = (
            retention_state_shown(stored.state, stored.since, store.clock()),
            stored.since,
            stored.reason,
        )
    return DeliveryStateView(
        retry_mode="count" if retention is None else "retention",
        retention_time=retention,
        state=state,
        since=since,
        reason=reason if state is not DeliveryState.UP else None,
        held=held,
    )


# --- Webhook health --------------------------------------------------------------------------------------------


async def health(store: Store, account_id: str, installation_id: str) -> list[WebhookHealthView]:
    """The health of each webhook of the installation that has been tried at least once."""
    await registry.get(store, account_id, installation_id, with_secret=False)
    async with store.read() as connection:
        rows = await connection.execute(
            select(webhook_health)
            .where(webhook_health.c.installation_id == installation_id)
            .order_by(webhook_health.c.event_type)
        )
        return [health_view(row) for row in rows]


async def enable_webhook(
    store: Store, account_id: str, installation_id: str, event_type: str, actor: str
) -> WebhookHealthView:
    """Re-enable a disabled webhook and forget its failures (failed deliveries stay failed: recover them)."""
    await registry.get(store, account_id, installation_id, with_secret=False)
    now = store.clock()
    async with store.transaction() as connection:
        row = (
            await connection.execute(
                update(webhook_health)
                .where(webhook_health.c.installation_id == installation_id, webhook_health.c.event_type == event_type)
                .values(disabled_at=None, disabled_reason=None, consecutive_failures=0, failing_since=None)
                .returning(webhook_health)
            )
        ).first()
        if row is None:
            raise ProblemError(
                404, "webhook-not-found", f"the {event_type} webhook of {installation_id} has no health record"
            )
        await _audit(connection, account_id, installation_id, actor, "webhook_enabled", now, {"event_type": event_type})
    log.info(
        "webhook re-enabled",
        extra={"account": account_id, "installation": installation_id, "event_type": event_type, "by": actor},
    )
    return health_view(row)
