"""tenants.park: the tenant's call park slots and ring-back timeout (null: no parking)

Revision ID: 0019
Revises: 0017
Create Date: 2026-12-06 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("park", sa.JSON(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of `tenants` would break the
    # settings-stamp triggers of other tables that name it (0011).
    op.drop_column("tenants", "park")
