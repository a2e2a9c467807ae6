"""Stored manifests in retention mode forget the max_retries 0 that the validator used to write for "absent"

Revision 0008, after 0007.

Until this revision a webhook without ``max_retries`` was stored with ``max_retries: 0``. In retention mode an
explicit 0 opts the webhook out of retries, so every such installation made one attempt per delivery: the
platform's own installer sends ``retry.retention_time`` and no ``max_retries``. The two cannot be told apart any
more; the far commoner meaning (retry for the retention time) is restored.
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_installations = sa.table("installations", sa.column("id", sa.String), sa.column("manifest", sa.JSON))


def _without_zero_retries(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest with ``max_retries: 0`` removed from its webhooks, if it is in retention mode; else None."""
    webhooks = (manifest.get("capabilities") or {}).get("webhooks") or {}
    if not (webhooks.get("retry") or {}).get("retention_time"):
        return None
    changed = False
    for key, webhook in webhooks.items():
        if key != "retry" and isinstance(webhook, dict) and webhook.get("max_retries") == 0:
            del webhook["max_retries"]
            changed = True
    return manifest if changed else None


def upgrade() -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(_installations.c.id, _installations.c.manifest)).all():
        if isinstance(row.manifest, dict) and (fixed := _without_zero_retries(row.manifest)) is not None:
            connection.execute(sa.update(_installations).where(_installations.c.id == row.id).values(manifest=fixed))


def downgrade() -> None:
    """Nothing to undo: an absent max_retries reads as 0 outside retention mode, as before."""
