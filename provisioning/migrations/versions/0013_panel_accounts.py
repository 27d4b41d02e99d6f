"""panel accounts: a password hash and the tenant-admin flag on users

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("panel_password", sa.String(length=200), nullable=True))
    op.add_column(
        "users",
        sa.Column("panel_admin", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("panel_admin")
        batch.drop_column("panel_password")
