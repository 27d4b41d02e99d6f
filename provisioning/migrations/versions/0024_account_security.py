"""account security: a security e-mail address per user, one-time password-reset
links, and failed log-ins counted per address

Revision ID: 0024
Revises: 0018
Create Date: 2026-12-06 03:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not a batch (table copy) on SQLite: the tenants' stamp triggers name the table.
    op.add_column("users", sa.Column("security_email", sa.String(length=254), nullable=True))
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_resets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_password_resets_token_sha256")),
    )
    op.create_index(
        op.f("ix_password_resets_user_id"), "password_resets", ["user_id"], unique=False
    )
    op.create_table(
        "panel_address_tries",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_panel_address_tries")),
    )


def downgrade() -> None:
    op.drop_table("panel_address_tries")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("security_email")
