"""Removing audit events older than ``APPINSTALL_AUDIT_LOG_DAYS``, oldest first, in small batches.

The audit trail is kept far longer than the delivery log (a year by default): it is small, and it answers "who
changed this app, when" long after the deliveries are gone. Ids grow with ``at``, so a batch reads from the
smallest id and stops at the first event young enough to keep (no index on ``at`` needed).
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import Connection, delete, select

from appinstall.audit.tables import audit_events
from appinstall.store import Store

BATCH_EVENTS = 200
PAUSE_SECONDS = 0.02


def _prune_batch(connection: Connection, cutoff: int, limit: int) -> int:
    rows = connection.execute(select(audit_events.c.id, audit_events.c.at).order_by(audit_events.c.id).limit(limit))
    old = []
    for event_id, at in rows:
        if at >= cutoff:
            break
        old.append(event_id)
    if not old:
        return 0
    removed: int = connection.execute(delete(audit_events).where(audit_events.c.id.in_(old))).rowcount
    return removed


async def prune_audit_events(
    store: Store, older_than_ms: int, budget_seconds: float = 0.5, batch: int = BATCH_EVENTS
) -> tuple[int, bool]:
    """Remove audit events recorded more than ``older_than_ms`` ago for at most ``budget_seconds``: how many, and
    whether old ones are left for the next pass."""
    cutoff = store.clock() - older_than_ms
    deadline = time.monotonic() + budget_seconds
    total = 0
    while removed := await store.run_transaction(_prune_batch, cutoff, batch):
        total += removed
        if time.monotonic() >= deadline:
            return total, True
        await asyncio.sleep(PAUSE_SECONDS)
    return total, False
