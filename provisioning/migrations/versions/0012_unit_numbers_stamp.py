"""tenant settings stamp also renewed when a group's or a queue's name or numbers change

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 21:50:00

Which numbers are groups and queues, and their numbers by name (for overflows and
public-number routes), are kept with the tenant's settings (xmlcurl.loader). Only
these columns renew the stamp: the last answerer, written on every answered group
call, does not.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TABLES = ("hunt_groups", "queues")
_COLUMNS = "tenant_id, name, extension, short_number"


def _sqlite(table: str) -> list[str]:
    renew = "UPDATE tenants SET settings_stamp = random() WHERE id"
    return [
        f"""CREATE TRIGGER {table}_stamp_insert AFTER INSERT ON {table}
        BEGIN {renew} = NEW.tenant_id; END""",
        f"""CREATE TRIGGER {table}_stamp_update AFTER UPDATE OF {_COLUMNS} ON {table}
        BEGIN {renew} IN (NEW.tenant_id, OLD.tenant_id); END""",
        f"""CREATE TRIGGER {table}_stamp_delete AFTER DELETE ON {table}
        BEGIN {renew} = OLD.tenant_id; END""",
    ]


def _postgresql(table: str) -> list[str]:
    # centrex_tenant_part_changed (0011) touches the row's tenants, old and new.
    return [
        f"""CREATE TRIGGER {table}_stamp AFTER INSERT OR DELETE OR UPDATE OF {_COLUMNS}
        ON {table} FOR EACH ROW EXECUTE FUNCTION centrex_tenant_part_changed()"""
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _TABLES:
        for statement in _sqlite(table) if dialect == "sqlite" else _postgresql(table):
            op.execute(statement)
    op.execute("UPDATE tenants SET name = name")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in _TABLES:
        if dialect == "sqlite":
            for when in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_stamp_{when}")
        else:
            op.execute(f"DROP TRIGGER {table}_stamp ON {table}")
