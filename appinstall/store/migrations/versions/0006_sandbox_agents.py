"""The sandbox's scripted agent per account

Revision 0006, after 0005.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_agents",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_sandbox_agents_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_sandbox_agents")),
    )


def downgrade() -> None:
    op.drop_table("sandbox_agents")
