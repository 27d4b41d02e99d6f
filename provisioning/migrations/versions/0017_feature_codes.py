"""tenants.feature_codes: the tenant's own star codes (feature name → code);
queue_agents.paused: an agent on a break (a star code)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 03:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants", sa.Column("feature_codes", sa.JSON(), server_default="{}", nullable=False)
    )
    op.add_column(
        "queue_agents",
        sa.Column("paused", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    # Not a batch (which copies the table on SQLite): the triggers of 0011 on tenants
    # would be lost. SQLite drops a column in place since 3.35.
    op.execute("ALTER TABLE tenants DROP COLUMN feature_codes")
    op.execute("ALTER TABLE queue_agents DROP COLUMN paused")
