"""Repairing deliveries by hand: send one finished delivery again, or every one that failed since a moment.

Each is queued again in a fresh round, behind what is unfinished in its conversation, and written to the audit
trail with who asked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from appinstall.audit import service as audit
from appinstall.errors import Conflict
from appinstall.registry import service as registry
from appinstall.store import Store
from appinstall.webhooks.delivery_log import delivery_row, get_delivery
from appinstall.webhooks.models import UNFINISHED, DeliveryView, Status
from appinstall.webhooks.queue import lock_conversations, take_turn, unfinished_pairs, wake_workers
from appinstall.webhooks.tables import deliveries


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
    """Send a finished delivery again (a failed one, or a succeeded one to replay it), with the same id. Not for a
    deleted installation's (it would only fail again, as "the installation was deleted"): that is not found, as in
    ``recover``."""
    await registry.get(store, account_id, installation_id, include_deleted=False, with_secret=False)
    now = store.clock()
    async with store.transaction() as connection:
        row = await delivery_row(connection, account_id, installation_id, delivery_id)
        if row.status in UNFINISHED:
            raise Conflict(
                "delivery-unfinished", f"delivery {delivery_id} is {row.status}; it is still being delivered"
            )
        await connection.run_sync(_requeue, [row], now)
        await connection.run_sync(
            audit.record,
            account_id=account_id,
            installation_id=installation_id,
            actor=actor,
            action="delivery_retry",
            at=now,
            detail={"delivery_id": delivery_id},
        )
    return await get_delivery(store, account_id, installation_id, delivery_id)


async def recover(store: Store, account_id: str, installation_id: str, since: int, actor: str) -> int:
    """Queue again every delivery of the installation that failed at or after ``since`` (ms); how many. Not for a
    deleted installation: that is not found."""
    await registry.get(store, account_id, installation_id, include_deleted=False, with_secret=False)
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
        await connection.run_sync(
            audit.record,
            account_id=account_id,
            installation_id=installation_id,
            actor=actor,
            action="delivery_recover",
            at=now,
            detail={"since": since, "count": len(rows)},
        )
    return len(rows)


__all__ = ["recover", "retry"]
