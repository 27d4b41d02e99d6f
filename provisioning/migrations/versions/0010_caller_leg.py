"""caller leg of a leg to a phone (directed pickup)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 19:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.add_column(
            sa.Column("caller_leg", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("caller_leg")
