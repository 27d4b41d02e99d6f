"""line state

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 13:15:57.579379
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_states",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("active_calls", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_line_states_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_line_states")),
    )


def downgrade() -> None:
    op.drop_table("line_states")
