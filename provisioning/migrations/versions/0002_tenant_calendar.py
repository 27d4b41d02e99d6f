"""tenant schedules and holidays

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 13:10:51.090172
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        # Existing tenants start with no schedules of their own and no holidays.
        batch_op.add_column(
            sa.Column("schedules", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(
            sa.Column("holidays", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.alter_column("schedules", server_default=None)
        batch_op.alter_column("holidays", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("holidays")
        batch_op.drop_column("schedules")
