"""Resealing stored webhook header values with the newest master key (with ``appinstall db reencrypt``)."""

from __future__ import annotations

from sqlalchemy import select, update

from appinstall.registry.header_values import reseal_values
from appinstall.store import Store
from appinstall.store.tables import installations


async def reseal_header_values(store: Store, batch_size: int = 200) -> int:
    """Reseal the header values of every installation not sealed by the first master key (or not sealed at all);
    return how many installations changed. In batches, each its own transaction, like ``reencrypt_secrets``."""
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
                changed = reseal_values(row.manifest, store.keyring, row.id)
                if changed is not None:
                    await connection.execute(
                        update(installations).where(installations.c.id == row.id).values(manifest=changed)
                    )
                    resealed += 1
            last_id = rows[-1].id
