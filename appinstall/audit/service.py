"""Writing and reading the audit trail: the one way any domain records what was done to an installation.

An event is written in the transaction of the change it records, so the trail never claims a change that was
rolled back nor misses one that committed. ``record`` takes the synchronous connection so that units of work run
whole (``Store.run_transaction``, webhook health in the recorder's batch) and async callers alike use it:
``await connection.run_sync(audit.record, ...)``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from appinstall.audit.tables import audit_events


def record(
    connection: Connection,
    *,
    account_id: str,
    installation_id: str | None,
    actor: str,
    action: str,
    at: int,
    revision: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one event to the trail, in the connection's transaction."""
    connection.execute(
        insert(audit_events).values(
            account_id=account_id,
            installation_id=installation_id,
            actor=actor,
            action=action,
            revision=revision,
            at=at,
            detail=detail,
        )
    )


async def trail(connection: AsyncConnection, account_id: str, installation_id: str) -> list[dict[str, Any]]:
    """The events of one installation of the account, oldest first."""
    rows = await connection.execute(
        select(audit_events)
        .where(audit_events.c.installation_id == installation_id, audit_events.c.account_id == account_id)
        .order_by(audit_events.c.id)
    )
    return [
        {"at": row.at, "actor": row.actor, "action": row.action, "revision": row.revision, "detail": row.detail}
        for row in rows
    ]


__all__ = ["record", "trail"]
