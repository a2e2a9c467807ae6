"""Stored webhook header values and the master keys: resealing them with the newest key (``appinstall db reencrypt``),
and dropping those a lost key sealed (``appinstall db recover-lost-key``)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from appinstall.registry.header_values import reseal_values, without_unreadable_values
from appinstall.store import Store
from appinstall.store.keyring import KeyringError
from appinstall.store.tables import installations


async def reseal_header_values(store: Store, batch_size: int = 200) -> int:
    """Reseal the header values of every installation not sealed by the first master key (or not sealed at all);
    return how many installations changed. In batches, each its own transaction, like ``store.sealed.reseal``; a
    value sealed by a key that is not configured is left as it is."""
    resealed = 0
    last_id = ""
    while True:
        async with store.transaction() as connection:
            rows = (
                await connection.execute(
                    select(installations.c.id, installations.c.manifest)
                    .where(installations.c.id > last_id)
                    .order_by(installations.c.id)
                    .limit(batch_size)
                )
            ).all()
            if not rows:
                return resealed
            for row in rows:
                try:
                    changed = reseal_values(row.manifest, store.keyring, row.id)
                except KeyringError:  # sealed by a key that is not configured: left as it is, like a client secret
                    continue
                if changed is not None:
                    await connection.execute(
                        update(installations).where(installations.c.id == row.id).values(manifest=changed)
                    )
                    resealed += 1
            last_id = rows[-1].id


@dataclass(frozen=True)
class DroppedHeader:
    account_id: str
    installation_id: str
    event_type: str
    header_name: str


async def drop_unreadable_header_values(store: Store, batch_size: int = 200) -> list[DroppedHeader]:
    """After a master key was lost: remove the webhook headers whose values it sealed (they cannot be read, so they
    cannot be sent), so that reading the installation and delivering to it work again; the dropped ones, for their
    owners to set again."""
    dropped: list[DroppedHeader] = []
    last_id = ""
    while True:
        async with store.transaction() as connection:
            rows = (
                await connection.execute(
                    select(installations.c.id, installations.c.account_id, installations.c.manifest)
                    .where(installations.c.id > last_id)
                    .order_by(installations.c.id)
                    .limit(batch_size)
                )
            ).all()
            if not rows:
                return dropped
            for row in rows:
                kept, lost = without_unreadable_values(row.manifest, store.keyring)
                if lost:
                    await connection.execute(
                        update(installations).where(installations.c.id == row.id).values(manifest=kept)
                    )
                    dropped += [DroppedHeader(row.account_id, row.id, event, name) for event, name in lost]
            last_id = rows[-1].id
