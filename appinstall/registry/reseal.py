"""Stored webhook header values and the master keys: resealing them with the newest key (``appinstall db reencrypt``),
and dropping those a lost key sealed (``appinstall db recover-lost-key``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from appinstall.registry.header_values import Document, reseal_values, without_unreadable_values
from appinstall.registry.tables import installations
from appinstall.store import Store
from appinstall.store.keyring import KeyringError

BATCH_SIZE = 200


async def _rewrite_manifests(store: Store, rewrite: Callable[[Any], Document | None]) -> int:
    """Every installation's stored manifest through ``rewrite`` (None: leave it), in batches of ``BATCH_SIZE``, each
    its own transaction, like ``store.sealed.reseal``; how many were rewritten."""
    rewritten = 0
    last_id = ""
    while True:
        async with store.transaction() as connection:
            rows = (
                await connection.execute(
                    select(installations.c.id, installations.c.account_id, installations.c.manifest)
                    .where(installations.c.id > last_id)
                    .order_by(installations.c.id)
                    .limit(BATCH_SIZE)
                )
            ).all()
            if not rows:
                return rewritten
            for row in rows:
                changed = rewrite(row)
                if changed is not None:
                    await connection.execute(
                        update(installations).where(installations.c.id == row.id).values(manifest=changed)
                    )
                    rewritten += 1
            last_id = rows[-1].id


async def reseal_header_values(store: Store) -> int:
    """Reseal the header values of every installation not sealed by the first master key (or not sealed at all);
    return how many installations changed. A value sealed by a key that is not configured is left as it is."""

    def resealed(row: Any) -> Document | None:
        try:
            return reseal_values(row.manifest, store.keyring, row.id)
        except KeyringError:  # sealed by a key that is not configured: left as it is, like a client secret
            return None

    return await _rewrite_manifests(store, resealed)


@dataclass(frozen=True)
class DroppedHeader:
    account_id: str
    installation_id: str
    event_type: str
    header_name: str


async def drop_unreadable_header_values(store: Store) -> list[DroppedHeader]:
    """After a master key was lost: remove the webhook headers whose values it sealed (they cannot be read, so they
    cannot be sent), so that reading the installation and delivering to it work again; the dropped ones, for their
    owners to set again."""
    dropped: list[DroppedHeader] = []

    def without_lost(row: Any) -> Document | None:
        kept, lost = without_unreadable_values(row.manifest, store.keyring)
        dropped.extend(DroppedHeader(row.account_id, row.id, event, name) for event, name in lost)
        return kept if lost else None

    await _rewrite_manifests(store, without_lost)
    return dropped
