"""What the webhooks domain reads of installations: who subscribes to an event type, and what sending needs.

Publishing fans a notification out to the subscribers this answers; a worker that claimed deliveries asks for
their installations' state, live secrets and (when its cache lacks the revision) manifests. The registry owns
these rows, so the queries live here; webhooks joins nothing of the registry's. Each is one statement, built once
where it runs on the hot paths (``Reading.fetch_all`` prepares a statement once on SQLite).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, bindparam, select

from appinstall.registry.header_values import open_values
from appinstall.registry.models import WEBHOOK_KIND
from appinstall.registry.tables import client_secrets, installation_capabilities, installations
from appinstall.store import fetch_in
from appinstall.store.store import Reading

_SUBSCRIBERS = (
    select(installations.c.id, installation_capabilities.c.value)
    .join(installation_capabilities, installation_capabilities.c.installation_id == installations.c.id)
    .where(
        installations.c.account_id == bindparam("account_id"),
        installations.c.enabled.is_(True),
        installations.c.deleted.is_(False),
        installation_capabilities.c.kind == WEBHOOK_KIND,
        installation_capabilities.c.value.in_(bindparam("event_types", expanding=True)),
    )
    .order_by(installations.c.created_at, installations.c.id)
)
_SUBSCRIBER = _SUBSCRIBERS.where(installations.c.id == bindparam("only"))


def subscribers(
    connection: Connection, account_id: str, event_types: Collection[str], only: str | None = None
) -> dict[str, list[str]]:
    """Per event type, the enabled installations of the account subscribed to it (only ``only``, when given),
    oldest first: the order publishing creates their deliveries in. (The statement is built once: every publish,
    and every change of a sandbox conversation, asks.)"""
    parameters = {"account_id": account_id, "event_types": list(event_types)}
    query = _SUBSCRIBERS if only is None else _SUBSCRIBER
    if only is not None:
        parameters["only"] = only
    found: dict[str, list[str]] = defaultdict(list)
    for installation_id, event_type in fetch_in(connection, query, parameters):
        found[event_type].append(installation_id)
    return found


@dataclass(frozen=True, slots=True)
class Target:
    """An installation as sending to it needs it: whether it may receive, which revision of its manifest is
    current, and its live secrets (the current one first, then those in their grace period, newest first)."""

    revision: int
    enabled: bool
    deleted: bool
    secrets: list[str] = field(default_factory=list)


# The installations and their live secrets in one statement: a row per live secret, or one with no secret.
_TARGETS = (
    select(
        installations.c.id,
        installations.c.revision,
        installations.c.enabled,
        installations.c.deleted,
        client_secrets.c.ciphertext,
        client_secrets.c.expires_at,
    )
    .select_from(
        installations.outerjoin(
            client_secrets,
            and_(
                client_secrets.c.installation_id == installations.c.id,
                (client_secrets.c.expires_at.is_(None)) | (client_secrets.c.expires_at > bindparam("now")),
            ),
        )
    )
    .where(installations.c.id.in_(bindparam("installations", expanding=True)))
    .order_by(client_secrets.c.id.desc())
)
_MANIFESTS = select(installations.c.id, installations.c.revision, installations.c.manifest).where(
    installations.c.id.in_(bindparam("installations", expanding=True))
)


async def targets(reading: Reading, installation_ids: list[str], now: int) -> dict[str, Target]:
    """The installations of ``installation_ids`` that exist, each with its live secrets opened."""
    rows = await reading.fetch_all(_TARGETS, {"installations": installation_ids, "now": now})
    keyring = reading.store.keyring
    found: dict[str, Target] = {}
    secrets: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    for row in rows:
        found.setdefault(row.id, Target(row.revision, row.enabled, row.deleted))
        if row.ciphertext is not None:
            secrets[row.id].append((row.expires_at is not None, keyring.open(row.ciphertext, row.id)))
    # Newest first (the query's order); the current secret (no expiry) ahead of those in their grace period.
    for installation_id, live in secrets.items():
        found[installation_id].secrets.extend(plain for _, plain in sorted(live, key=lambda pair: pair[0]))
    return found


async def manifests(reading: Reading, installation_ids: list[str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """The current revision and manifest (header values opened) of each of these installations."""
    rows = await reading.fetch_all(_MANIFESTS, {"installations": installation_ids})
    keyring = reading.store.keyring
    return {row.id: (row.revision, open_values(row.manifest, keyring, row.id)) for row in rows}


__all__ = ["Target", "manifests", "subscribers", "targets"]
