"""tenant routing: hunt groups, queues, number routes by schedule, speed dials, directory

Revision ID: 0009
Revises: 0005, 0006, 0007, 0008
Create Date: 2026-11-29 19:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = ("0005", "0006", "0007", "0008")
branch_labels = None
depends_on = None


def _people(table: str, parent: str, parent_table: str) -> None:
    op.create_table(
        table,
        sa.Column(parent, sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("logged_in", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.ForeignKeyConstraint(
            [parent],
            [f"{parent_table}.id"],
            name=op.f(f"fk_{table}_{parent}_{parent_table}"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(parent, "user_id", name=op.f(f"pk_{table}")),
    )
    op.create_index(op.f(f"ix_{table}_user_id"), table, ["user_id"])


def _unit(table: str, *extra: sa.schema.SchemaItem) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("extension", sa.String(length=8), nullable=False),
        sa.Column("short_number", sa.String(length=3), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        *extra,
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f(f"fk_{table}_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("tenant_id", "extension", name=op.f(f"uq_{table}_extension")),
        sa.UniqueConstraint("tenant_id", "short_number", name=op.f(f"uq_{table}_short_number")),
    )


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("speed_dials", sa.JSON(), server_default="[]", nullable=False))
        batch.add_column(sa.Column("directory", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("public_numbers") as batch:
        batch.add_column(sa.Column("routing", sa.JSON(), server_default="{}", nullable=False))
    _unit(
        "hunt_groups",
        sa.Column("last_answerer_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["last_answerer_id"],
            ["users.id"],
            name=op.f("fk_hunt_groups_last_answerer_id_users"),
            ondelete="SET NULL",
        ),
    )
    _people("group_members", "group_id", "hunt_groups")
    _unit("queues")
    _people("queue_agents", "queue_id", "queues")


def downgrade() -> None:
    op.drop_table("queue_agents")
    op.drop_table("queues")
    op.drop_table("group_members")
    op.drop_table("hunt_groups")
    with op.batch_alter_table("public_numbers") as batch:
        batch.drop_column("routing")
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("directory")
        batch.drop_column("speed_dials")
