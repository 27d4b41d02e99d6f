"""dialling policy: tenants.outside_line_prefix ("dial 0 for an outside line"), the
outgoing caller ID policy (tenants.outgoing_caller_ids, users.caller_id_policy), and
users' allowed categories in the finer call-barring categories

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 04:00:00
"""

import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_users = sa.table(
    "users", sa.column("id", sa.Integer()), sa.column("allowed_destinations", sa.JSON())
)
_CODES = ["access_codes", "setting_codes"]


def _split(old: list[str]) -> list[str]:
    """As meant before the split: national took in local numbers, premium operator and
    directory numbers, and star codes could not be barred."""
    new = set(old) | set(_CODES)
    if "national" in old:
        new.add("local")
    if "premium" in old:
        new |= {"operator", "directory"}
    return sorted(new - {"emergency"})


def _joined(new: list[str]) -> list[str]:
    old = {c for c in new if c in ("national", "international", "premium")}
    return sorted(old)


def _rewrite(convert: Callable[[list[str]], list[str]]) -> None:
    """Every user's stored list converted; users sharing a list (most do) in one
    statement per 1,000."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(_users.c.id, _users.c.allowed_destinations)).all()
    by_value: dict[tuple[str, ...], list[int]] = {}
    for user_id, stored in rows:
        value = json.loads(stored) if isinstance(stored, str) else stored
        by_value.setdefault(tuple(value or []), []).append(user_id)
    for value, ids in by_value.items():
        for start in range(0, len(ids), 1000):
            bind.execute(
                _users.update()
                .where(_users.c.id.in_(ids[start : start + 1000]))
                .values(allowed_destinations=convert(list(value)))
            )


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("outside_line_prefix", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "tenants",
        sa.Column("outgoing_caller_ids", sa.JSON(), server_default=sa.text("'[]'"), nullable=False),
    )
    op.add_column("users", sa.Column("caller_id_policy", sa.String(16), nullable=True))
    _rewrite(_split)


def downgrade() -> None:
    _rewrite(_joined)
    # Not a batch (table copy) on SQLite: the tenants' stamp triggers name the table.
    op.execute("ALTER TABLE tenants DROP COLUMN outside_line_prefix")
    op.execute("ALTER TABLE tenants DROP COLUMN outgoing_caller_ids")
    op.execute("ALTER TABLE users DROP COLUMN caller_id_policy")
