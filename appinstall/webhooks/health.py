"""Webhook health: unbroken failures counted per webhook, and the webhook disabled when they last too long.

Written in the same transaction as the attempts that change it (``queue.complete_many``). A success resets the
count; failures after the last success in a batch add to it; 410 Gone, or failing for ``disable_after_ms``
without a success, disables the webhook and says so in the audit trail.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, func, update

from appinstall.audit import service as audit
from appinstall.store.batch import execute_many
from appinstall.store.dialect import Dialect, dialect_of
from appinstall.webhooks.models import Completion
from appinstall.webhooks.status import Status
from appinstall.webhooks.tables import webhook_health


@functools.cache
def _healthy(dialect: Dialect) -> Executable:
    """The upsert that records a success (built once per dialect: the upsert's form is the dialect's)."""
    reset: dict[str, Any] = {"consecutive_failures": 0, "failing_since": None, "last_success_at": bindparam("now")}
    statement: Executable = (
        dialect.upsert(webhook_health)
        .values(installation_id=bindparam("installation_id"), event_type=bindparam("event_type"), **reset)
        .on_conflict_do_update(index_elements=["installation_id", "event_type"], set_=reset)
    )
    return statement


@dataclass(frozen=True)
class Disabled:
    """A webhook this batch disabled, for the log line the recorder writes once the batch is committed."""

    account_id: str
    installation_id: str
    event_type: str
    reason: str


def track(connection: Connection, sent: list[Completion], now: int, disable_after_ms: int) -> list[Disabled]:
    """Per webhook: a success resets the count of unbroken failures; failures after the last success add to it.
    The webhook is disabled on 410 Gone, or once it has been failing for ``disable_after_ms``: those returned."""
    disabled: list[Disabled] = []
    by_webhook: dict[tuple[str, str], list[Completion]] = {}
    for completion in sent:
        by_webhook.setdefault((completion.job.installation_id, completion.job.event_type), []).append(completion)
    table = webhook_health
    healthy = []
    failing_groups = []
    for (installation_id, event_type), group in by_webhook.items():
        successes = [index for index, c in enumerate(group) if c.decision.status == Status.SUCCEEDED]
        if successes:
            healthy.append({"installation_id": installation_id, "event_type": event_type})
        failures = group[successes[-1] + 1 :] if successes else group
        if failures:
            failing_groups.append((installation_id, event_type, group, failures))
    # the common case: one statement for every webhook that succeeded in the batch
    dialect = dialect_of(connection)
    execute_many(connection, _healthy(dialect), [webhook | {"now": now} for webhook in healthy])
    for installation_id, event_type, group, failures in failing_groups:
        key = {"installation_id": installation_id, "event_type": event_type}
        failing = {
            "consecutive_failures": table.c.consecutive_failures + len(failures),
            "failing_since": func.coalesce(table.c.failing_since, now),
            "last_failure_at": now,
        }
        statement = dialect.upsert(table).values(
            **key, consecutive_failures=len(failures), failing_since=now, last_failure_at=now
        )
        row = connection.execute(
            statement.on_conflict_do_update(index_elements=list(key), set_=failing).returning(
                table.c.failing_since, table.c.disabled_at
            )
        ).one()
        if row.disabled_at is not None:
            continue
        reason = None
        if any(c.decision.disable_webhook for c in failures):
            reason = "the endpoint answered 410 Gone"
        elif now - row.failing_since >= disable_after_ms:
            reason = f"failing without a success for {(now - row.failing_since) // 1000} s"
        if reason is not None:
            _disable(connection, group[0].job.account_id, installation_id, event_type, reason, now)
            disabled.append(Disabled(group[0].job.account_id, installation_id, event_type, reason))
    return disabled


def _disable(
    connection: Connection, account_id: str, installation_id: str, event_type: str, reason: str, now: int
) -> None:
    connection.execute(
        update(webhook_health)
        .where(webhook_health.c.installation_id == installation_id, webhook_health.c.event_type == event_type)
        .values(disabled_at=now, disabled_reason=reason)
    )
    audit.record(
        connection,
        account_id=account_id,
        installation_id=installation_id,
        actor="webhooks",
        action="webhook_disabled",
        at=now,
        detail={"event_type": event_type, "reason": reason},
    )
