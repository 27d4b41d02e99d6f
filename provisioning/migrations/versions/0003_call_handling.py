"""user call handling

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 13:13:22.116883
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        # Existing users: national calls allowed, no contacts, plain call handling.
        for name, default in [
            ("allowed_destinations", "'[\"national\"]'"),
            ("contacts", "'[]'"),
            ("call_handling", "'{}'"),
        ]:
            batch_op.add_column(
                sa.Column(name, sa.JSON(), nullable=False, server_default=sa.text(default))
            )
    with op.batch_alter_table("users", schema=None) as batch_op:
        for name in ("allowed_destinations", "contacts", "call_handling"):
            batch_op.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("call_handling")
        batch_op.drop_column("contacts")
        batch_op.drop_column("allowed_destinations")
