"""Re-encrypting stored client secrets with the newest master key (the third step of a key rotation)."""

from __future__ import annotations

from sqlalchemy import select, update

from appinstall.store.store import Store
from appinstall.store.tables import client_secrets


async def reencrypt_secrets(store: Store, batch_size: int = 500) -> int:
    """Reseal every secret not sealed by the first master key; return how many were resealed.

    Works in batches, each its own transaction, so a large store is not locked for the whole run and an
    interrupted run can simply be started again.
    """
    resealed = 0
    last_id = 0
    while True:
        async with store.transaction() as connection:
            rows = (
                await connection.execute(
                    select(client_secrets.c.id, client_secrets.c.installation_id, client_secrets.c.ciphertext)
                    .where(client_secrets.c.id > last_id)
                    .order_by(client_secrets.c.id)
                    .limit(batch_size)
                )
            ).all()
            if not rows:
                return resealed
            for row in rows:
                if not store.keyring.is_current(row.ciphertext):
                    plaintext = store.keyring.open(row.ciphertext, row.installation_id)
                    await connection.execute(
                        update(client_secrets)
                        .where(client_secrets.c.id == row.id)
                        .values(ciphertext=store.keyring.seal(plaintext, row.installation_id))
                    )
                    resealed += 1
            last_id = rows[-1].id
