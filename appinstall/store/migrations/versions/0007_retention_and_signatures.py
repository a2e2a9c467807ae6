"""Retention-mode delivery state per installation, the account's signature settings, an attempt's error detail

Revision 0007, after 0006.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_states",
        sa.Column("installation_id", sa.String(length=36), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["installation_id"], ["installations.id"], name=op.f("fk_retention_states_installation_id_installations")
        ),
        sa.PrimaryKeyConstraint("installation_id", name=op.f("pk_retention_states")),
    )
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("signature_algorithm", sa.String(length=8), nullable=False, server_default="sha1"))
        batch.add_column(sa.Column("signature_encoding", sa.String(length=8), nullable=False, server_default="base64"))
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.add_column(sa.Column("error_detail", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_column("error_detail")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("signature_encoding")
        batch.drop_column("signature_algorithm")
    op.drop_table("retention_states")
