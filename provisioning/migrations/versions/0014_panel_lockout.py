"""panel log-in lockout: failed attempts in a row, and the end of a lockout

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 22:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("panel_failures", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "users", sa.Column("panel_locked_until", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("panel_locked_until")
        batch.drop_column("panel_failures")
