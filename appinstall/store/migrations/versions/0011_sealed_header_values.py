"""Webhook header values are sealed at rest, like client secrets (``registry.header_values``)

Revision 0011, after 0010.

A manifest's webhook headers (often the receiver's ``Authorization``) were stored in plain text in the
installation's manifest JSON. Each value becomes ``sealed:v1:<base64>``, sealed by the master keyring, which
``appinstall.store.migrate.upgrade`` hands over (``appinstall serve`` and ``appinstall db upgrade`` do).
"""

from typing import Any

import sqlalchemy as sa
from alembic import context, op

from appinstall.registry.header_values import has_plain_values, open_values, seal_values
from appinstall.store.keyring import Keyring

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_installations = sa.table("installations", sa.column("id", sa.String), sa.column("manifest", sa.JSON))


def _rows() -> list[Any]:
    connection = op.get_bind()
    found = connection.execute(sa.select(_installations.c.id, _installations.c.manifest)).all()
    return [row for row in found if isinstance(row.manifest, dict)]


def _keyring() -> Keyring:
    keyring = context.config.attributes.get("keyring")
    if not isinstance(keyring, Keyring):
        raise RuntimeError("sealing webhook header values needs the master key: run `appinstall db upgrade`")
    return keyring


def upgrade() -> None:
    rows = [row for row in _rows() if has_plain_values(row.manifest)]
    if not rows:
        return
    keyring = _keyring()
    for row in rows:
        op.get_bind().execute(
            sa.update(_installations)
            .where(_installations.c.id == row.id)
            .values(manifest=seal_values(row.manifest, keyring, row.id))
        )


def downgrade() -> None:
    """Back to plain values."""
    rows = _rows()
    if not rows:
        return
    keyring = _keyring()
    for row in rows:
        op.get_bind().execute(
            sa.update(_installations)
            .where(_installations.c.id == row.id)
            .values(manifest=open_values(row.manifest, keyring, row.id))
        )
