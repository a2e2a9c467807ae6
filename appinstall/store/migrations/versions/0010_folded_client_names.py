"""Installation names compare after NFKC case folding: ``client_name_key`` becomes ``registry.names.name_key``

Revision 0010, after 0009.

The key was the lower-cased name, so "Straße" and "STRASSE", NFC and NFD spellings, fullwidth letters and names
with zero-width characters counted as distinct names in one account. Every row gets the new key (no schema
change: it is a 64-digit digest). Live installations of one account whose names fold to one key already exist
side by side; the oldest keeps the key, so a new installation cannot take that name, and each later one gets a
key of its own (the digest of the key and its id) so the unique index holds; renaming one re-keys it.

The key function is imported, not copied: this revision must produce exactly what the code compares with.
"""

import hashlib

import sqlalchemy as sa
from alembic import op

from appinstall.registry.names import name_key

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_installations = sa.table(
    "installations",
    sa.column("id", sa.String),
    sa.column("account_id", sa.String),
    sa.column("client_name", sa.String),
    sa.column("client_name_key", sa.String),
    sa.column("deleted", sa.Boolean),
    sa.column("created_at", sa.BigInteger),
)


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(
            _installations.c.id, _installations.c.account_id, _installations.c.client_name, _installations.c.deleted
        ).order_by(_installations.c.created_at, _installations.c.id)
    ).all()
    taken: set[tuple[str, str]] = set()
    keys: dict[str, str] = {}
    for row in rows:
        key = name_key(row.client_name)
        if not row.deleted:
            if (row.account_id, key) in taken:
                key = hashlib.sha256(f"{key}:{row.id}".encode()).hexdigest()
            taken.add((row.account_id, key))
        keys[row.id] = key
    # Two passes: first a key no row can hold, so that the unique index never sees two rows with one key midway.
    for installation_id in keys:
        connection.execute(
            sa.update(_installations)
            .where(_installations.c.id == installation_id)
            .values(client_name_key="~" + installation_id)
        )
    for installation_id, key in keys.items():
        connection.execute(
            sa.update(_installations).where(_installations.c.id == installation_id).values(client_name_key=key)
        )


def downgrade() -> None:
    """Back to the lower-cased name."""
    connection = op.get_bind()
    for row in connection.execute(sa.select(_installations.c.id, _installations.c.client_name)).all():
        connection.execute(
            sa.update(_installations)
            .where(_installations.c.id == row.id)
            .values(client_name_key=row.client_name.lower()[:100])
        )
