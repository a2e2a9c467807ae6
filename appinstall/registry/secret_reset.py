"""Recovery from a lost master key: a new client secret for each installation whose secret no key opens.

A client secret cannot be recomputed (the platform signs webhooks with it), so once the master key that sealed it
is gone the only way forward is a new one, handed to the installation's owner out of band. Everything else about
the installation (manifest, webhooks, deliveries, audit trail) is kept. Secrets sealed by a key still configured
are kept too, so running this after part of the store was re-encrypted resets only what was really lost.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update

from appinstall.accounts import credentials
from appinstall.audit import service as audit
from appinstall.registry.tables import client_secrets, installations
from appinstall.store import Store
from appinstall.store.keyring import key_id_of


@dataclass(frozen=True)
class ResetSecret:
    """A secret issued by the recovery: shown once, to be handed to the installation's owner."""

    account_id: str
    installation_id: str
    client_secret: str


async def _unreadable(store: Store) -> list[str]:
    """The installations with a stored secret that no configured master key sealed, in id order."""
    async with store.read() as connection:
        rows = (await connection.execute(select(client_secrets.c.installation_id, client_secrets.c.ciphertext))).all()
    return sorted({row.installation_id for row in rows if key_id_of(row.ciphertext) not in store.keyring.key_ids})


async def reset_unreadable_secrets(store: Store) -> list[ResetSecret]:
    """Drop every secret no configured key opens; issue a new current secret where none is left.

    One transaction per installation, so an interrupted run resumes (what was reset is readable now). Deleted
    installations lose their unreadable secrets and get no new one: nothing authenticates with them.
    """
    issued: list[ResetSecret] = []
    for installation_id in await _unreadable(store):
        async with store.transaction() as connection:
            installation = (
                await connection.execute(select(installations).where(installations.c.id == installation_id))
            ).one()
            stored = (
                await connection.execute(
                    select(client_secrets.c.id, client_secrets.c.ciphertext, client_secrets.c.expires_at).where(
                        client_secrets.c.installation_id == installation_id
                    )
                )
            ).all()
            lost = [row.id for row in stored if key_id_of(row.ciphertext) not in store.keyring.key_ids]
            await connection.execute(delete(client_secrets).where(client_secrets.c.id.in_(lost)))
            has_current = any(row.expires_at is None and row.id not in lost for row in stored)
            if installation.deleted or has_current:
                continue
            secret = credentials.new_client_secret()
            now = store.clock()
            await connection.execute(
                insert(client_secrets).values(
                    installation_id=installation_id,
                    ciphertext=store.keyring.seal(secret, installation_id),
                    created_at=now,
                    expires_at=None,
                )
            )
            await connection.execute(
                update(installations)
                .where(installations.c.id == installation_id)
                .values(revision=installations.c.revision + 1, updated_at=now)
            )
            await connection.run_sync(
                audit.record,
                account_id=installation.account_id,
                installation_id=installation_id,
                actor="operator",
                action="reset_secret",
                revision=installation.revision + 1,
                at=now,
                detail={"reason": "the master key that sealed the secret was lost"},
            )
            issued.append(ResetSecret(installation.account_id, installation_id, secret))
    return issued
