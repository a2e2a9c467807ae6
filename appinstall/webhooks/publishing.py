"""Publishing notifications into the outbox: one notification stored once, one delivery per subscriber.

``publish`` answers only after every delivery it created is committed: from then on the notification cannot be
lost, whatever happens to the process. Sending is the worker's job (``worker.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, String, bindparam, cast, null, select, union_all

from appinstall.errors import Invalid
from appinstall.registry import service as registry
from appinstall.store import Store, fetch_in
from appinstall.store.batch import insert_keyed, insert_many
from appinstall.store.group_commit import Batched
from appinstall.webhooks.envelope import EnvelopeError, Routed, route
from appinstall.webhooks.models import PublishedDelivery, Status
from appinstall.webhooks.queue import lock_conversations, take_turn, unfinished_pairs, wake_workers
from appinstall.webhooks.retention import DeliveryState
from appinstall.webhooks.tables import deliveries, notifications, retention_states, webhook_health

MAX_CONVERSATION_ID = 100


def overlong_conversation(routed: list[Routed]) -> str | None:
    """The first conversation id of ``routed`` longer than ``MAX_CONVERSATION_ID`` (the column's size), if any. A
    loop, not a generator: a batch asks a thousand times."""
    for envelope in routed:
        if envelope.conversation_id is not None and len(envelope.conversation_id) > MAX_CONVERSATION_ID:
            return envelope.conversation_id
    return None


def new_delivery_ids(count: int, now_ms: int) -> list[str]:
    """``count`` Standard Webhooks message ids, each the same on every attempt of its delivery: 128 bits in 32 hex
    digits, as a UUID's hex would be, the first 48 the time in milliseconds and the other 80 random.

    Time first, as Svix's (KSUIDs) and UUIDv7 are: each new id sorts after the ones before it, so the unique index
    on ids grows at its end instead of changing a page at random for every delivery (a batch publish wrote about a
    tenth less). The random part comes from one read of the system's random source for them all (a read each was
    a twentieth of a batch's time)."""
    stamp = f"{now_ms & _MS_MASK:012x}"
    digits = secrets.token_hex(10 * count)
    return [f"msg_{stamp}{digits[start : start + 20]}" for start in range(0, 20 * count, 20)]


_MS_MASK = (1 << 48) - 1  # 48 bits of milliseconds last until the year 10889


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
        raise Invalid(
            "invalid-notification",
            "the body is not a notification in the platform's envelope",
            problems=error.problems,
        ) from None
    if overlong_conversation(routed) is not None:
        raise Invalid("invalid-notification", f"conversation ids are at most {MAX_CONVERSATION_ID} characters")
    if installation_id is not None:
        await registry.get(store, account_id, installation_id, include_deleted=False, with_secret=False)
    publication = Publication(account_id, routed, store.clock(), installation_id)
    published = await store.run_batched(PUBLISH_MANY, publication)
    return [delivery for deliveries in published for delivery in deliveries]


@dataclass(frozen=True, slots=True)
class Publication:
    """One caller's notification, routed: what ``PUBLISH_MANY`` takes from each of many callers at once."""

    account_id: str
    routed: list[Routed]
    now: int
    only: str | None = None


def _publish_many(connection: Connection, publications: list[Publication]) -> list[list[list[PublishedDelivery]]]:
    """Concurrent publishes in one go: one ``publish_into`` per account (and installation restriction), with the
    envelopes of all its publications in the order they came; each publication's share of the answer."""
    by_account: dict[tuple[str, str | None], list[int]] = {}
    for index, publication in enumerate(publications):
        by_account.setdefault((publication.account_id, publication.only), []).append(index)
    answers: list[list[list[PublishedDelivery]]] = [[] for _ in publications]
    for (account_id, only), indexes in by_account.items():
        routed = [envelope for index in indexes for envelope in publications[index].routed]
        now = max(publications[index].now for index in indexes)
        made = iter(publish_into(connection, account_id, routed, now, only))
        for index in indexes:
            answers[index] = [next(made) for _ in publications[index].routed]
    return answers


PUBLISH_MANY: Final = Batched(_publish_many, "publish")
"""Publishing as a batched unit of work (``Store.run_batched``): concurrent publishes share their statements and
their commit."""


def publish_into(
    connection: Connection, account_id: str, routed: list[Routed], now: int, only: str | None = None
) -> list[list[PublishedDelivery]]:
    """The deliveries of each envelope of ``routed``, in order, written in the connection's transaction (to
    installation ``only``, if given).

    A unit of work for ``Store.run_transaction``: on SQLite it runs whole on the loop, holding the write lock for a
    moment, not for a thread hand-off per statement while the worker waits for the lock. A handful of statements
    whatever the number of subscribers: the subscribers, the notifications, which subscribers already have an
    unfinished delivery in each conversation, and one insert of every delivery.
    """
    subscribers = _subscribers(connection, account_id, {envelope.event_type for envelope in routed}, only)
    fanned = [(envelope, subscribers.get(envelope.event_type, [])) for envelope in routed]
    pairs = [(installation, envelope.conversation_id) for envelope, found in fanned for installation, _, _ in found]
    lock_conversations(connection, pairs)
    unfinished = unfinished_pairs(connection, pairs)  # and, as they are made, the pairs of this publish
    notification_ids = _insert_notifications(connection, account_id, routed, now)
    delivery_ids = iter(new_delivery_ids(sum(len(found) for _, found in fanned), now))
    created: list[list[PublishedDelivery]] = []
    rows: list[tuple[Any, ...]] = []
    for (envelope, found), notification_id in zip(fanned, notification_ids, strict=True):
        made: list[PublishedDelivery] = []
        created.append(made)
        event_type, conversation_id = envelope.event_type, envelope.conversation_id
        for installation_id, disabled_reason, held in found:
            if disabled_reason is not None:
                status = Status.FAILED  # finished at once: it holds nothing back
            else:
                status = take_turn(unfinished, (installation_id, conversation_id))
                if status is Status.PENDING and held:
                    status = Status.HELD  # retention mode: kept until the installation recovers
            delivery_id = next(delivery_ids)
            error = f"not sent: the webhook is disabled ({disabled_reason})" if disabled_reason else None
            rows.append(  # in the order of _DELIVERY_COLUMNS
                (
                    delivery_id,
                    account_id,
                    installation_id,
                    notification_id,
                    event_type,
                    conversation_id,
                    status,
                    0,
                    0,
                    now,
                    now,
                    now,
                    now,
                    error,
                )
            )
            made.append(PublishedDelivery(delivery_id, installation_id, event_type, conversation_id, status))
    insert_many(connection, deliveries, _DELIVERY_COLUMNS, rows)
    if rows:
        wake_workers(connection)
    return created


def _insert_notifications(connection: Connection, account_id: str, routed: list[Routed], now: int) -> list[int]:
    """The new notifications' ids, in order."""
    rows = [(account_id, envelope.event_type, envelope.conversation_id, envelope.body, now) for envelope in routed]
    return insert_keyed(connection, notifications, _NOTIFICATION_COLUMNS, rows)


_NOTIFICATION_COLUMNS = ("account_id", "event_type", "conversation_id", "body", "created_at")
_DELIVERY_COLUMNS = (
    "id",
    "account_id",
    "installation_id",
    "notification_id",
    "event_type",
    "conversation_id",
    "status",
    "attempts",
    "round_attempts",
    "round_started_at",
    "next_attempt_at",
    "created_at",
    "updated_at",
    "last_error",
)


# What holds a subscriber's new deliveries back, in one statement over this domain's tables: its installation
# FAILED in retention mode (a row without an event type), or one of its webhooks disabled by health.
_HELD_BACK = union_all(
    select(
        retention_states.c.installation_id,
        cast(null(), String).label("event_type"),
        cast(null(), String).label("reason"),
    ).where(
        retention_states.c.installation_id.in_(bindparam("installations", expanding=True)),
        retention_states.c.state == DeliveryState.FAILED,
    ),
    select(webhook_health.c.installation_id, webhook_health.c.event_type, webhook_health.c.disabled_reason).where(
        webhook_health.c.installation_id.in_(bindparam("installations", expanding=True)),
        webhook_health.c.event_type.in_(bindparam("event_types", expanding=True)),
        webhook_health.c.disabled_at.is_not(None),
    ),
)


def _subscribers(
    connection: Connection, account_id: str, event_types: set[str], only: str | None = None
) -> dict[str, list[tuple[str, str | None, bool]]]:
    """Per event type: the enabled installations subscribed to it (only ``only``, when given; the registry says
    which), with why their webhook is disabled (or None) and whether their new deliveries are held (retention
    mode, FAILED)."""
    subscribed = registry.subscribers(connection, account_id, event_types, only)
    ids = sorted({installation_id for found in subscribed.values() for installation_id in found})
    if not ids:
        return {}
    held: set[str] = set()
    disabled: dict[tuple[str, str], str] = {}
    for row in fetch_in(connection, _HELD_BACK, {"installations": ids, "event_types": sorted(event_types)}):
        if row.event_type is None:
            held.add(row.installation_id)
        else:
            disabled[(row.installation_id, row.event_type)] = row.reason or "disabled"
    return {
        event_type: [
            (installation_id, disabled.get((installation_id, event_type)), installation_id in held)
            for installation_id in found
        ]
        for event_type, found in subscribed.items()
    }


__all__ = [
    "MAX_CONVERSATION_ID",
    "PUBLISH_MANY",
    "Publication",
    "new_delivery_ids",
    "overlong_conversation",
    "publish",
    "publish_into",
]
