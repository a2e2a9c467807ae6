"""Removing old delivery history: notifications, their deliveries and their attempts, in small batches.

Every notification, delivery and attempt is kept for ``APPINSTALL_DELIVERY_LOG_DAYS`` (the delivery log, the
repair routes and ``recover --since`` read them), then the worker removes them, so that the store does not grow for
ever. A delivery that is unfinished (blocked, held, pending, in flight) is never removed, whatever its age, nor is
its notification.

Batches are keyed on the notification's id, which grows with its ``created_at``: the oldest notifications come
first, and a batch stops at the first one young enough to keep, so no index on ``created_at`` is needed and a pass
over a store with nothing to remove reads one row. Each batch is one short write transaction; the pass gives the
event loop back between batches and stops when its time is up, leaving the rest to the next pass, so publishes and
the worker's own writes are never held up for long.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, exists, select

from appinstall.audit.pruning import prune_audit_events
from appinstall.store import Store
from appinstall.webhooks import metrics
from appinstall.webhooks.models import UNFINISHED
from appinstall.webhooks.tables import deliveries, delivery_attempts, notifications

log = logging.getLogger("appinstall.webhooks")

# Per transaction: a notification may fan out to many deliveries. 50 with theirs took 4-12 ms on a busy 2-core
# machine (200 took 50-85 ms, and held publish-to-arrival p99 past a second on SQLite while a backlog was removed).
BATCH_NOTIFICATIONS = 50
PAUSE_SECONDS = 0.02  # between batches: the write lock is free for publishes and the worker most of the time
BUDGET_SECONDS = 0.5  # per pass


@dataclass
class Pruned:
    """Rows removed by one pass, by table; ``more`` when the pass ran out of time with old rows left."""

    notifications: int = 0
    deliveries: int = 0
    attempts: int = 0
    more: bool = False

    def add(self, other: _Batch) -> None:
        self.notifications += other.notifications
        self.deliveries += other.deliveries
        self.attempts += other.attempts

    def counts(self) -> dict[str, int]:
        return {"notifications": self.notifications, "deliveries": self.deliveries, "delivery_attempts": self.attempts}


@dataclass(frozen=True)
class _Batch:
    last_id: int | None  # the last old notification looked at; None when there was none
    notifications: int
    deliveries: int
    attempts: int


def _prune_batch(connection: Connection, after: int, cutoff: int, limit: int) -> _Batch:
    rows = connection.execute(
        select(notifications.c.id, notifications.c.created_at)
        .where(notifications.c.id > after)
        .order_by(notifications.c.id)
        .limit(limit)
    ).all()
    old: list[int] = []
    for notification_id, created_at in rows:
        if created_at >= cutoff:
            break
        old.append(notification_id)
    if not old:
        return _Batch(None, 0, 0, 0)
    finished = list(
        connection.execute(
            select(deliveries.c.seq).where(
                deliveries.c.notification_id.in_(old), deliveries.c.status.not_in([s.value for s in UNFINISHED])
            )
        ).scalars()
    )
    attempts = deliveries_removed = 0
    if finished:
        attempts = connection.execute(
            delete(delivery_attempts).where(delivery_attempts.c.delivery_seq.in_(finished))
        ).rowcount
        deliveries_removed = connection.execute(delete(deliveries).where(deliveries.c.seq.in_(finished))).rowcount
    orphaned = delete(notifications).where(
        notifications.c.id.in_(old), ~exists().where(deliveries.c.notification_id == notifications.c.id)
    )
    removed = connection.execute(orphaned).rowcount
    return _Batch(old[-1], removed, deliveries_removed, attempts)


async def prune_delivery_log(
    store: Store, older_than_ms: int, budget_seconds: float = BUDGET_SECONDS, batch: int = BATCH_NOTIFICATIONS
) -> Pruned:
    """Remove finished deliveries, their attempts and their notifications created more than ``older_than_ms``
    ago, oldest first, for at most ``budget_seconds``."""
    cutoff = store.clock() - older_than_ms
    deadline = time.monotonic() + budget_seconds
    pruned, after = Pruned(), 0
    while True:
        done = await store.run_transaction(_prune_batch, after, cutoff, batch)
        if done.last_id is None:
            return pruned
        pruned.add(done)
        after = done.last_id
        if time.monotonic() >= deadline:
            pruned.more = True
            return pruned
        await asyncio.sleep(PAUSE_SECONDS)


DAY_MS = 86_400_000
PRUNE_SECONDS = 60.0  # between passes, unless the last one ran out of time with old rows left


class Pruner:
    """The worker's schedule for removing old history: a pass a minute, or sooner while a backlog remains.

    Every worker runs it; on PostgreSQL their passes may overlap, which only makes one of them find less to do.
    """

    def __init__(self, store: Store, delivery_log_days: int, audit_log_days: int) -> None:
        self._store = store
        self._delivery_ms = delivery_log_days * DAY_MS
        self._audit_ms = audit_log_days * DAY_MS
        self._next = 0.0

    async def run_if_due(self, now: float) -> None:
        """One pass if it is time (``now`` on the loop's clock)."""
        if now < self._next:
            return
        more = False
        if self._delivery_ms:
            pruned = await prune_delivery_log(self._store, self._delivery_ms)
            more = pruned.more
            for table, count in pruned.counts().items():
                metrics.ROWS_REMOVED.labels(table).inc(count)
            if pruned.deliveries or pruned.notifications:
                log.info(
                    "removed from the delivery log: %d notifications, %d deliveries, %d attempts",
                    pruned.notifications,
                    pruned.deliveries,
                    pruned.attempts,
                )
        if self._audit_ms:
            removed, left = await prune_audit_events(self._store, self._audit_ms)
            more = more or left
            metrics.ROWS_REMOVED.labels("audit_events").inc(removed)
            if removed:
                log.info("removed %d audit events", removed)
        self._next = now + (0.0 if more else PRUNE_SECONDS)
