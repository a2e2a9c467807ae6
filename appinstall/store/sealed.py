"""Everything the store keeps sealed by a master key: where it is, what each master key sealed, and resealing it.

A master-key rotation is only finished when nothing is left sealed by the old key; a process started without a
key that sealed something cannot work (the token endpoint cannot sign, the worker cannot sign webhooks). So the
list of sealed columns lives here, once, and three things read it: ``appinstall db reencrypt`` reseals every one of
them, the start-up check of every process counts what each key sealed (``census``), and the lost-key recovery
knows what it has to replace. A column sealed in future is added to ``SEALED`` and is covered by all three.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, select, update

from appinstall.registry.tables import client_secrets
from appinstall.store.keyring import key_id_of
from appinstall.store.store import Store
from appinstall.tokens.tables import signing_keys


def signing_key_context(kid: str) -> str:
    """The associated data a signing key's private half is sealed with: it binds the ciphertext to its row."""
    return f"signing-key:{kid}"


@dataclass(frozen=True)
class SealedColumn:
    """A column of ciphertexts: its table's key, and the associated data each row's ciphertext is bound to."""

    noun: str  # what one row holds, singular ("client secret")
    table: Table
    key: Column[Any]
    ciphertext: Column[Any]
    context: Callable[[Any], str]  # the row → its associated data


SEALED: tuple[SealedColumn, ...] = (
    SealedColumn(
        "client secret",
        client_secrets,
        client_secrets.c.id,
        client_secrets.c.ciphertext,
        lambda row: str(row.installation_id),
    ),
    SealedColumn(
        "signing key",
        signing_keys,
        signing_keys.c.kid,
        signing_keys.c.private_key,
        lambda row: signing_key_context(row.kid),
    ),
)

# Master key id → what it sealed: noun → count.
Census = dict[bytes, Counter[str]]


def describe(counts: Counter[str]) -> str:
    """``3 client secrets and 1 signing key``; ``nothing`` when empty."""
    parts = [f"{count} {noun}{'' if count == 1 else 's'}" for noun, count in sorted(counts.items()) if count]
    if not parts:
        return "nothing"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


async def census(store: Store) -> Census:
    """What each master key sealed, counted in the database (one grouped query per column, no ciphertext read)."""
    found: Census = {}
    async with store.read() as connection:
        for column in SEALED:
            key_id = func.substr(column.ciphertext, 2, 4)
            rows = (await connection.execute(select(key_id, func.count()).group_by(key_id))).all()
            for sealed_by, count in rows:
                found.setdefault(bytes(sealed_by), Counter())[column.noun] += count
    return found


def missing_keys(found: Census, key_ids: Collection[bytes]) -> Census:
    """The part of ``found`` sealed by keys other than ``key_ids`` (a keyring's)."""
    return {key_id: counts for key_id, counts in found.items() if key_id not in key_ids}


async def reseal(store: Store, batch_size: int = 200) -> Counter[str]:
    """Reseal with the first master key everything another configured key sealed; return how many, per noun.

    One transaction per batch of rows, so a large store is never locked for long and an interrupted run simply
    resumes where it stopped when started again (what is already current is skipped). Each update is
    compare-and-set on the old ciphertext, so it cannot undo a change a running server made meanwhile (a row so
    changed is counted all the same; ``census`` afterwards is the truth). Rows sealed by a key that is not
    configured are left as they are; ``census`` reports them.
    """
    resealed: Counter[str] = Counter()
    keyring = store.keyring
    for column in SEALED:
        after: Any = None
        while True:
            query = select(column.table).order_by(column.key).limit(batch_size)
            if after is not None:
                query = query.where(column.key > after)
            async with store.transaction() as connection:
                rows = (await connection.execute(query)).all()
                changes = []
                for row in rows:
                    ciphertext = getattr(row, column.ciphertext.name)
                    if keyring.is_current(ciphertext) or key_id_of(ciphertext) not in keyring.key_ids:
                        continue
                    context = column.context(row)
                    changes.append(
                        {
                            "row_key": getattr(row, column.key.name),
                            "old": ciphertext,
                            "new": keyring.seal(keyring.open(ciphertext, context), context),
                        }
                    )
                if changes:  # one statement for the batch (executemany), not one round trip per row
                    await connection.execute(
                        update(column.table)
                        .where(column.key == bindparam("row_key"), column.ciphertext == bindparam("old"))
                        .values({column.ciphertext.name: bindparam("new")}),
                        changes,
                    )
                    resealed[column.noun] += len(changes)
            if len(rows) < batch_size:
                break
            after = getattr(rows[-1], column.key.name)
    return resealed
