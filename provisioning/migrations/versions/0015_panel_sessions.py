"""panel sessions kept on the server: log-out and password changes end them

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 01:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "panel_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_panel_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_sessions")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_panel_sessions_token_sha256")),
    )
    op.create_index(
        op.f("ix_panel_sessions_expires_at"), "panel_sessions", ["expires_at"], unique=False
    )
    op.create_index(op.f("ix_panel_sessions_user_id"), "panel_sessions", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_panel_sessions_user_id"), table_name="panel_sessions")
    op.drop_index(op.f("ix_panel_sessions_expires_at"), table_name="panel_sessions")
    op.drop_table("panel_sessions")
