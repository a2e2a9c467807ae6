"""The worker's side of the outbox: claim due deliveries under a lease, record what happened, keep order.

Claims are ``UPDATE … WHERE seq IN (SELECT … FOR UPDATE SKIP LOCKED)`` on PostgreSQL, so any number of workers
share the queue without waiting on each other; on SQLite the write lock serializes them. A claim is a lease: if
the worker dies, the lease expires and ``reclaim_expired`` makes the delivery due again, and its repeat carries
the same ``webhook-id`` (at least once).

Order per installation and conversation: a new delivery is ``blocked`` if an earlier one of the same pair is
unfinished, and finishing a delivery promotes the next blocked one. On PostgreSQL both sides take a transaction
advisory lock on the pair first, so a publish racing a completion cannot leave a delivery blocked for ever.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, exists, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.store import Store
from appinstall.store.tables import (
    audit_events,
    client_secrets,
    deliveries,
    delivery_attempts,
    installations,
    notifications,
    webhook_health,
)
from appinstall.webhooks.models import UNFINISHED, AttemptResult, Job, Status
from appinstall.webhooks.policy import Budget, Decision

NOTIFY_CHANNEL = "appinstall_deliveries"
EXCERPT_CHARS = 4096
ERROR_CHARS = 500


def _lock_key(installation_id: str, conversation_id: str) -> int:
    digest = hashlib.blake2b(f"{installation_id}\0{conversation_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_conversations(connection: AsyncConnection, pairs: Iterable[tuple[str, str | None]]) -> None:
    """On PostgreSQL, lock each (installation, conversation) pair for the rest of the transaction, in one order."""
    if connection.dialect.name != "postgresql":
        return
    for key in sorted({_lock_key(i, c) for i, c in pairs if c is not None}):
        await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def wake_workers(connection: AsyncConnection) -> None:
    """On PostgreSQL, tell listening workers (on commit) that deliveries are due."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


async def first_status(connection: AsyncConnection, installation_id: str, conversation_id: str | None) -> Status:
    """``blocked`` if an earlier delivery of this pair is unfinished, else ``pending``."""
    if conversation_id is None:
        return Status.PENDING
    waiting = await connection.scalar(
        select(
            exists().where(
                deliveries.c.installation_id == installation_id,
                deliveries.c.conversation_id == conversation_id,
                deliveries.c.status.in_(UNFINISHED),
            )
        )
    )
    return Status.BLOCKED if waiting else Status.PENDING


async def promote_next(connection: AsyncConnection, installation_id: str, conversation_id: str | None) -> None:
    """Make the earliest blocked delivery of this pair due, if nothing of the pair is pending or in flight."""
    if conversation_id is None:
        return
    pair = and_(deliveries.c.installation_id == installation_id, deliveries.c.conversation_id == conversation_id)
    busy = await connection.scalar(
        select(exists().where(pair, deliveries.c.status.in_((Status.PENDING, Status.IN_FLIGHT))))
    )
    if busy:
        return
    head = await connection.scalar(
        select(func.min(deliveries.c.seq)).where(pair, deliveries.c.status == Status.BLOCKED)
    )
    if head is not None:
        await connection.execute(update(deliveries).where(deliveries.c.seq == head).values(status=Status.PENDING))


# --- Claiming --------------------------------------------------------------------------------------------------


async def claim(store: Store, owner: str, limit: int, lease_ms: int) -> list[Job]:
    """Lease up to ``limit`` due deliveries to ``owner`` and load what sending them needs."""
    now = store.clock()
    async with store.transaction() as connection:
        due = (
            select(deliveries.c.seq)
            .where(deliveries.c.status == Status.PENDING, deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.seq)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        seqs = (
            (
                await connection.execute(
                    update(deliveries)
                    .where(deliveries.c.seq.in_(due.scalar_subquery()))
                    .values(status=Status.IN_FLIGHT, lease_owner=owner, lease_expires_at=now + lease_ms)
                    .returning(deliveries.c.seq)
                )
            )
            .scalars()
            .all()
        )
        if not seqs:
            return []
        rows = (
            await connection.execute(
                select(
                    deliveries,
                    notifications.c.body,
                    installations.c.manifest,
                    installations.c.enabled,
                    installations.c.deleted,
                    webhook_health.c.disabled_at,
                    webhook_health.c.disabled_reason,
                )
                .join(notifications, notifications.c.id == deliveries.c.notification_id)
                .join(installations, installations.c.id == deliveries.c.installation_id)
                .outerjoin(
                    webhook_health,
                    and_(
                        webhook_health.c.installation_id == deliveries.c.installation_id,
                        webhook_health.c.event_type == deliveries.c.event_type,
                    ),
                )
                .where(deliveries.c.seq.in_(seqs))
                .order_by(deliveries.c.seq)
            )
        ).all()
        secret_rows = (
            await connection.execute(
                select(client_secrets.c.installation_id, client_secrets.c.ciphertext, client_secrets.c.expires_at)
                .where(
                    client_secrets.c.installation_id.in_({row.installation_id for row in rows}),
                    (client_secrets.c.expires_at.is_(None)) | (client_secrets.c.expires_at > now),
                )
                .order_by(client_secrets.c.id.desc())
            )
        ).all()
    # Newest first (the query's order); the current secret (no expiry) ahead of those in their grace period.
    secrets: dict[str, list[tuple[bool, str]]] = {}
    for installation_id, ciphertext, expires_at in secret_rows:
        plain = store.keyring.open(ciphertext, installation_id)
        secrets.setdefault(installation_id, []).append((expires_at is not None, plain))
    ordered = {key: [plain for _, plain in sorted(found, key=lambda pair: pair[0])] for key, found in secrets.items()}
    return [_job(row, ordered.get(row.installation_id, [])) for row in rows]


def _job(row: Any, secrets: list[str]) -> Job:
    webhooks = (row.manifest.get("capabilities") or {}).get("webhooks") or {}
    webhook = webhooks.get(row.event_type)
    retention = (webhooks.get("retry") or {}).get("retention_time")
    refusal = None
    if row.deleted:
        refusal = "the installation was deleted"
    elif not row.enabled:
        refusal = "the installation is disabled"
    elif webhook is None:
        refusal = f"the installation no longer subscribes to {row.event_type}"
    elif row.disabled_at is not None:
        refusal = f"the webhook is disabled: {row.disabled_reason}"
    elif not secrets:
        refusal = "the installation has no client secret to sign with"
    return Job(
        seq=row.seq,
        id=row.id,
        account_id=row.account_id,
        installation_id=row.installation_id,
        event_type=row.event_type,
        conversation_id=row.conversation_id,
        body=row.body,
        attempts=row.attempts,
        round_attempts=row.round_attempts,
        round_started_at=row.round_started_at,
        endpoint=webhook["endpoint"] if webhook else None,
        headers={h["header_name"]: h["header_value"] for h in (webhook or {}).get("headers", [])},
        budget=Budget(max_retries=(webhook or {}).get("max_retries", 0), retention_seconds=retention),
        secrets=secrets,
        refusal=refusal,
    )


# --- Finishing -------------------------------------------------------------------------------------------------


async def complete(
    store: Store,
    job: Job,
    owner: str,
    result: AttemptResult | None,
    decision: Decision,
    *,
    disable_after_ms: int,
) -> bool:
    """Record an attempt (``result``; None if it was refused unsent) and apply ``decision``.

    Returns False if the lease was lost (another worker took the delivery over): the attempt is still recorded,
    but the delivery's state is left to its new owner.
    """
    now = store.clock()
    async with store.transaction() as connection:
        await lock_conversations(connection, [(job.installation_id, job.conversation_id)])
        error = decision.reason if result is None else (result.error or decision.reason)
        if result is not None:
            await connection.execute(
                insert(delivery_attempts).values(
                    delivery_seq=job.seq,
                    number=job.attempts + 1,
                    started_at=result.started_at,
                    latency_ms=result.latency_ms,
                    status_code=result.status_code,
                    error=result.error[:ERROR_CHARS] if result.error else None,
                    response_excerpt=result.excerpt[:EXCERPT_CHARS] if result.excerpt is not None else None,
                )
            )
        sent = 1 if result is not None else 0
        updated = await connection.execute(
            update(deliveries)
            .where(
                deliveries.c.seq == job.seq,
                deliveries.c.lease_owner == owner,
                deliveries.c.status == Status.IN_FLIGHT,
            )
            .values(
                status=decision.status,
                attempts=deliveries.c.attempts + sent,
                round_attempts=deliveries.c.round_attempts + sent,
                next_attempt_at=decision.retry_at if decision.retry_at is not None else now,
                lease_owner=None,
                lease_expires_at=None,
                updated_at=now,
                last_status_code=result.status_code if result is not None else None,
                last_error=error[:ERROR_CHARS] if error else None,
            )
        )
        if updated.rowcount == 0:
            return False
        if result is not None:
            await _track_health(connection, job, now, decision, disable_after_ms)
        if decision.status != Status.PENDING:
            await promote_next(connection, job.installation_id, job.conversation_id)
        if decision.status == Status.PENDING:
            await wake_workers(connection)
    return True


def _upsert(connection: AsyncConnection) -> Any:
    return postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert


async def _track_health(
    connection: AsyncConnection, job: Job, now: int, decision: Decision, disable_after_ms: int
) -> None:
    """Count unbroken failures; disable the webhook on 410 or after ``disable_after_ms`` of failing."""
    key = {"installation_id": job.installation_id, "event_type": job.event_type}
    table = webhook_health
    if decision.status == Status.SUCCEEDED:
        values = {"consecutive_failures": 0, "failing_since": None, "last_success_at": now}
        statement = _upsert(connection)(table).values(**key, **values)
        await connection.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))
        return
    failing = {
        "consecutive_failures": table.c.consecutive_failures + 1,
        "failing_since": func.coalesce(table.c.failing_since, now),
        "last_failure_at": now,
    }
    statement = _upsert(connection)(table).values(**key, consecutive_failures=1, failing_since=now, last_failure_at=now)
    row = (
        await connection.execute(
            statement.on_conflict_do_update(index_elements=list(key), set_=failing).returning(
                table.c.failing_since, table.c.disabled_at
            )
        )
    ).one()
    if row.disabled_at is not None:
        return
    reason = None
    if decision.disable_webhook:
        reason = "the endpoint answered 410 Gone"
    elif now - row.failing_since >= disable_after_ms:
        reason = f"failing without a success for {(now - row.failing_since) // 1000} s"
    if reason is None:
        return
    await connection.execute(
        update(table)
        .where(table.c.installation_id == job.installation_id, table.c.event_type == job.event_type)
        .values(disabled_at=now, disabled_reason=reason)
    )
    await connection.execute(
        insert(audit_events).values(
            account_id=job.account_id,
            installation_id=job.installation_id,
            actor="webhooks",
            action="webhook_disabled",
            at=now,
            detail={"event_type": job.event_type, "reason": reason},
        )
    )


async def release(store: Store, owner: str, seqs: Iterable[int]) -> None:
    """Give back leased deliveries unsent (graceful shutdown): they are due again at once."""
    seqs = list(seqs)
    if not seqs:
        return
    async with store.transaction() as connection:
        await connection.execute(
            update(deliveries)
            .where(
                deliveries.c.seq.in_(seqs), deliveries.c.lease_owner == owner, deliveries.c.status == Status.IN_FLIGHT
            )
            .values(status=Status.PENDING, lease_owner=None, lease_expires_at=None)
        )
        await wake_workers(connection)


# --- Housekeeping ----------------------------------------------------------------------------------------------


async def extend_leases(store: Store, owner: str, seqs: list[int], lease_ms: int) -> None:
    """Renew the leases ``owner`` still holds on ``seqs`` (a heartbeat, so long waits are not taken over)."""
    if not seqs:
        return
    async with store.transaction() as connection:
        await connection.execute(
            update(deliveries)
            .where(
                deliveries.c.seq.in_(seqs), deliveries.c.lease_owner == owner, deliveries.c.status == Status.IN_FLIGHT
            )
            .values(lease_expires_at=store.clock() + lease_ms)
        )


async def reclaim_expired(store: Store) -> int:
    """Make deliveries whose worker's lease ran out due again (the worker died or hung)."""
    now = store.clock()
    async with store.transaction() as connection:
        result = await connection.execute(
            update(deliveries)
            .where(deliveries.c.status == Status.IN_FLIGHT, deliveries.c.lease_expires_at < now)
            .values(status=Status.PENDING, lease_owner=None, lease_expires_at=None, next_attempt_at=now)
        )
    return result.rowcount or 0


async def unblock_stalled(store: Store) -> int:
    """Promote the head of every conversation that is blocked with nothing ahead of it (a safety net)."""
    heads = (
        select(
            deliveries.c.installation_id,
            deliveries.c.conversation_id,
            func.min(deliveries.c.seq).label("seq"),
        )
        .where(deliveries.c.status == Status.BLOCKED)
        .group_by(deliveries.c.installation_id, deliveries.c.conversation_id)
        .subquery()
    )
    ahead = deliveries.alias("ahead")
    stalled = select(heads.c.seq).where(
        ~exists().where(
            ahead.c.installation_id == heads.c.installation_id,
            ahead.c.conversation_id == heads.c.conversation_id,
            ahead.c.status.in_((Status.PENDING, Status.IN_FLIGHT)),
        )
    )
    async with store.transaction() as connection:
        result = await connection.execute(
            update(deliveries).where(deliveries.c.seq.in_(stalled.scalar_subquery())).values(status=Status.PENDING)
        )
    return result.rowcount or 0


async def next_due_at(store: Store) -> int | None:
    """When the earliest pending delivery is due (ms), or None if nothing is pending."""
    async with store.read() as connection:
        value = await connection.scalar(
            select(func.min(deliveries.c.next_attempt_at)).where(deliveries.c.status == Status.PENDING)
        )
    return int(value) if value is not None else None


async def queue_depth(store: Store) -> tuple[int, int | None]:
    """How many deliveries are unfinished, and when the oldest of them was created (ms)."""
    async with store.read() as connection:
        row = (
            await connection.execute(
                select(func.count(), func.min(deliveries.c.created_at)).where(deliveries.c.status.in_(UNFINISHED))
            )
        ).one()
    return int(row[0]), (int(row[1]) if row[1] is not None else None)


__all__ = [
    "NOTIFY_CHANNEL",
    "claim",
    "complete",
    "extend_leases",
    "first_status",
    "lock_conversations",
    "next_due_at",
    "promote_next",
    "queue_depth",
    "reclaim_expired",
    "release",
    "unblock_stalled",
    "wake_workers",
]
