"""tenants.conferences: the tenant's meet-me conference rooms

Revision ID: 0018
Revises: 0020
Create Date: 2026-12-06 04:00:00

Kept with the tenant's other settings (a JSON list, as speed dials are): a change
renews the tenant's settings stamp (0011's triggers), so every call sees it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "tenants", sa.Column("conferences", sa.JSON(), server_default="[]", nullable=False)
    )


def downgrade() -> None:
    # Not a batch (table copied and renamed): the settings-stamp triggers on other
    # tables name `tenants`, and SQLite refuses the rename. ALTER TABLE … DROP COLUMN
    # is SQLite 3.35+ and PostgreSQL.
    op.drop_column("tenants", "conferences")
