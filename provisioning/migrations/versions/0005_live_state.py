"""live state: registrations, channels, ringing and idle time of lines

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 19:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("line_states") as batch:
        batch.add_column(
            sa.Column("ringing_calls", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("last_call_end", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=255), nullable=False),
        sa.Column("call_id", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("contact", sa.String(length=1024), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("network_ip", sa.String(length=64), nullable=False),
        sa.Column("network_port", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_registrations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint("node", "call_id", name=op.f("uq_registrations_node")),
    )
    op.create_index(op.f("ix_registrations_user_id"), "registrations", ["user_id"])
    op.create_index(op.f("ix_registrations_expires_at"), "registrations", ["expires_at"])
    op.create_table(
        "channels",
        sa.Column("uuid", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=255), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("peer_number", sa.String(length=64), nullable=False),
        sa.Column("peer_name", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_channels_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_channels")),
    )
    op.create_index(op.f("ix_channels_node"), "channels", ["node"])
    op.create_index(op.f("ix_channels_user_id"), "channels", ["user_id"])


def downgrade() -> None:
    op.drop_table("channels")
    op.drop_table("registrations")
    with op.batch_alter_table("line_states") as batch:
        batch.drop_column("last_call_end")
        batch.drop_column("ringing_calls")
