"""What an operator reads of an installation's sending: its retention-mode state and its webhooks' health, and
re-enabling a webhook that health disabled."""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from appinstall.audit import service as audit
from appinstall.errors import NotFound
from appinstall.registry import service as registry
from appinstall.store import Store
from appinstall.webhooks import holding
from appinstall.webhooks.models import DeliveryStateView, WebhookHealthView, health_view
from appinstall.webhooks.retention import DeliveryState
from appinstall.webhooks.retention import shown as retention_state_shown
from appinstall.webhooks.tables import webhook_health

log = logging.getLogger("appinstall.webhooks")


async def delivery_state(store: Store, account_id: str, installation_id: str) -> DeliveryStateView:
    """The installation's retry mode and, in retention mode, its state and how many deliveries it holds."""
    installation = await registry.get(store, account_id, installation_id, with_secret=False)
    retention = installation.routes.retention_time
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
            raise NotFound("webhook-not-found", f"the {event_type} webhook of {installation_id} has no health record")
        await connection.run_sync(
            audit.record,
            account_id=account_id,
            installation_id=installation_id,
            actor=actor,
            action="webhook_enabled",
            at=now,
            detail={"event_type": event_type},
        )
    log.info(
        "webhook re-enabled",
        extra={"account": account_id, "installation": installation_id, "event_type": event_type, "by": actor},
    )
    return health_view(row)


__all__ = ["delivery_state", "enable_webhook", "health"]
