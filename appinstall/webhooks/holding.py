"""Retention mode in the store: each installation's state, and the deliveries it holds back while it is FAILED.

The transitions are ``retention``'s pure functions; this module reads and writes what they act on, inside the
transactions that record attempts (``queue.complete_many``) and publish notifications. A held delivery keeps its
place in its conversation (it counts as unfinished, so later ones queue behind it), so releasing what was held
keeps the order per conversation without another mechanism.

``reconcile`` is the safety net the worker runs now and then: it releases what an installation that is no longer
FAILED still holds, and gives a FAILED installation whose retries all ran out a delivery to try again with.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, exists, func, select, update

from appinstall.store import fetch_in
from appinstall.store.dialect import dialect_of
from appinstall.webhooks.models import Completion
from appinstall.webhooks.retention import DeliveryState, after_attempt
from appinstall.webhooks.status import UNFINISHED, Status
from appinstall.webhooks.tables import deliveries, retention_states


@dataclass(frozen=True)
class StoredState:
    state: DeliveryState
    since: int
    reason: str | None = None


_UP = StoredState(DeliveryState.UP, 0)

_STATES = select(retention_states).where(
    retention_states.c.installation_id.in_(bindparam("installations", expanding=True))
)


def states_of(connection: Connection, installation_ids: Iterable[str]) -> dict[str, StoredState]:
    """The stored state of each installation that has one (no row: UP)."""
    ids = sorted(set(installation_ids))
    if not ids:
        return {}
    return {
        row.installation_id: StoredState(DeliveryState(row.state), row.since, row.reason)
        for row in fetch_in(connection, _STATES, {"installations": ids})
    }


def failed_installations(connection: Connection, installation_ids: Iterable[str]) -> set[str]:
    """Which of these installations are FAILED: publishing holds their new deliveries."""
    return {
        key for key, stored in states_of(connection, installation_ids).items() if stored.state is DeliveryState.FAILED
    }


# --- After attempts --------------------------------------------------------------------------------------------


def track(connection: Connection, completions: Sequence[Completion], now: int) -> None:
    """Apply a recorded batch's attempts to their installations' states, and hold or release deliveries to match.

    Runs after the batch's deliveries are finished and their conversations' next deliveries promoted.
    """
    if not completions:
        return
    stored = states_of(connection, (c.job.installation_id for c in completions))
    by_installation: dict[str, list[Completion]] = {}
    for completion in completions:
        if completion.job.budget.retention_mode or completion.job.installation_id in stored:
            by_installation.setdefault(completion.job.installation_id, []).append(completion)
    for installation_id, group in by_installation.items():
        before = stored.get(installation_id, _UP)
        if not any(c.job.budget.retention_mode for c in group):
            # The manifest left retention mode: nothing is held for it any more.
            connection.execute(delete(retention_states).where(retention_states.c.installation_id == installation_id))
            _release(connection, installation_id, now)
            continue
        after = _after_group(before, group, now)
        if after.state is DeliveryState.RECOVERING and before.state is DeliveryState.FAILED:
            _release(connection, installation_id, now)
        if after.state is DeliveryState.RECOVERING and not _has_unfinished_from_before(
            connection, installation_id, after.since
        ):
            after = StoredState(DeliveryState.RECOVERED, now)
        if after != before:
            _save(connection, installation_id, after)
        if after.state is DeliveryState.FAILED:
            # whatever is due and untried is held: all of it on entering FAILED, later what this batch promoted
            _hold_pending(connection, installation_id)
            _ensure_probe(connection, installation_id, now)


def _after_group(state: StoredState, group: list[Completion], now: int) -> StoredState:
    for completion in group:
        if completion.result is None:
            continue  # refused unsent: it says nothing about the endpoint
        succeeded = completion.decision.status == Status.SUCCEEDED
        following = after_attempt(
            state.state,
            succeeded=succeeded,
            was_retry=completion.job.round_attempts > 0,
            opted_out=completion.job.budget.opted_out,
        )
        if following is not state.state:
            reason = None if succeeded else (completion.result.error or completion.decision.reason)
            if reason is None and completion.result.status_code is not None:
                reason = f"the endpoint answered {completion.result.status_code}"
            state = StoredState(following, now, f"{completion.job.event_type}: {reason}" if reason else None)
    return state


def _save(connection: Connection, installation_id: str, state: StoredState) -> None:
    values = {"state": state.state.value, "since": state.since, "reason": (state.reason or "")[:500] or None}
    statement = dialect_of(connection).upsert(retention_states).values(installation_id=installation_id, **values)
    connection.execute(statement.on_conflict_do_update(index_elements=["installation_id"], set_=values))


# --- Holding and releasing -------------------------------------------------------------------------------------

# A pending delivery that has not failed in this round is held; those that failed keep retrying (they are what
# tells the installation's recovery).
_HOLD = (
    update(deliveries)
    .where(
        deliveries.c.installation_id == bindparam("installation"),
        deliveries.c.status == Status.PENDING,
        deliveries.c.round_attempts == 0,
    )
    .values(status=Status.HELD)
)
_RELEASE = (
    update(deliveries)
    .where(deliveries.c.installation_id == bindparam("installation"), deliveries.c.status == Status.HELD)
    .values(status=Status.PENDING, next_attempt_at=bindparam("now"))
)
_AHEAD = deliveries.alias("ahead")
_BEING_TRIED = (Status.PENDING, Status.IN_FLIGHT)  # what a FAILED installation retries while it holds the rest
_ACTIVE = exists().where(
    _AHEAD.c.installation_id == deliveries.c.installation_id,
    _AHEAD.c.status.in_(_BEING_TRIED),
)
# The oldest held delivery becomes due, when nothing of the installation is pending or in flight: a FAILED
# installation always has something being retried, or it could never recover.
_PROBE = (
    update(deliveries)
    .where(
        deliveries.c.seq
        == select(func.min(_AHEAD.c.seq))
        .where(_AHEAD.c.installation_id == bindparam("installation"), _AHEAD.c.status == Status.HELD)
        .scalar_subquery(),
        ~exists().where(
            _AHEAD.c.installation_id == bindparam("installation"),
            _AHEAD.c.status.in_(_BEING_TRIED),
        ),
    )
    .values(status=Status.PENDING, next_attempt_at=bindparam("now"))
)
_UNFINISHED_FROM_BEFORE = (
    select(deliveries.c.seq)
    .where(
        deliveries.c.installation_id == bindparam("installation"),
        deliveries.c.status.in_(UNFINISHED),
        deliveries.c.created_at < bindparam("since"),
    )
    .limit(1)
)


def _hold_pending(connection: Connection, installation_id: str) -> None:
    connection.execute(_HOLD, {"installation": installation_id})


def _release(connection: Connection, installation_id: str, now: int) -> None:
    connection.execute(_RELEASE, {"installation": installation_id, "now": now})


def _ensure_probe(connection: Connection, installation_id: str, now: int) -> None:
    connection.execute(_PROBE, {"installation": installation_id, "now": now})


def _has_unfinished_from_before(connection: Connection, installation_id: str, since: int) -> bool:
    found = connection.execute(_UNFINISHED_FROM_BEFORE, {"installation": installation_id, "since": since})
    return found.first() is not None


# --- The safety net --------------------------------------------------------------------------------------------

_FAILED_IDS = select(retention_states.c.installation_id).where(retention_states.c.state == DeliveryState.FAILED)


def reconcile(connection: Connection, now: int) -> int:
    """Release what installations that are not FAILED hold, and give each FAILED one with nothing left to retry
    its oldest held delivery; how many deliveries were made due."""
    released = connection.execute(
        update(deliveries)
        .where(deliveries.c.status == Status.HELD, deliveries.c.installation_id.not_in(_FAILED_IDS))
        .values(status=Status.PENDING, next_attempt_at=now)
    ).rowcount
    stuck: list[Any] = list(
        connection.scalars(
            select(deliveries.c.installation_id)
            .where(deliveries.c.status == Status.HELD, deliveries.c.installation_id.in_(_FAILED_IDS), ~_ACTIVE)
            .distinct()
        )
    )
    for installation_id in stuck:
        _ensure_probe(connection, installation_id, now)
    return (released or 0) + len(stuck)


def held_count(connection: Connection, installation_id: str) -> int:
    return int(
        connection.scalar(
            select(func.count()).where(
                deliveries.c.installation_id == installation_id, deliveries.c.status == Status.HELD
            )
        )
        or 0
    )
