"""tenant settings stamp, renewed by triggers on every change of a tenant or its trunk

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29 21:40:00

The call path keeps each tenant's parsed settings (schedules, holidays, speed dials,
directory, trunk) and reads only this stamp on every call (xmlcurl.loader). The
database renews it, so that no writer — the service, the API, a hand-written UPDATE —
can change a setting without the caches seeing it. A random value, not a counter: a
tenant deleted and created again under the same id never matches an old stamp.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_SQLITE = [
    """CREATE TRIGGER tenants_stamp_insert AFTER INSERT ON tenants
    BEGIN UPDATE tenants SET settings_stamp = random() WHERE id = NEW.id; END""",
    # The WHEN clause: the trigger's own UPDATE changes the stamp, and does not fire it.
    """CREATE TRIGGER tenants_stamp_update AFTER UPDATE ON tenants
    WHEN NEW.settings_stamp IS OLD.settings_stamp
    BEGIN UPDATE tenants SET settings_stamp = random() WHERE id = NEW.id; END""",
    """CREATE TRIGGER gateways_stamp_insert AFTER INSERT ON gateways
    BEGIN UPDATE tenants SET settings_stamp = random() WHERE id = NEW.tenant_id; END""",
    """CREATE TRIGGER gateways_stamp_update AFTER UPDATE ON gateways
    BEGIN UPDATE tenants SET settings_stamp = random()
    WHERE id IN (NEW.tenant_id, OLD.tenant_id); END""",
    """CREATE TRIGGER gateways_stamp_delete AFTER DELETE ON gateways
    BEGIN UPDATE tenants SET settings_stamp = random() WHERE id = OLD.tenant_id; END""",
]
_SQLITE_DROP = [
    f"DROP TRIGGER {name}"
    for name in (
        "tenants_stamp_insert",
        "tenants_stamp_update",
        "gateways_stamp_insert",
        "gateways_stamp_update",
        "gateways_stamp_delete",
    )
]

_POSTGRESQL = [
    """CREATE FUNCTION centrex_renew_tenant_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.settings_stamp := (random() * 4.0e18)::bigint;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER tenants_stamp BEFORE INSERT OR UPDATE ON tenants
    FOR EACH ROW EXECUTE FUNCTION centrex_renew_tenant_stamp()""",
    # A row belonging to a tenant changed (its trunk here): touching the tenant's row
    # renews its stamp (the trigger above).
    """CREATE FUNCTION centrex_tenant_part_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE tenants SET settings_stamp = 0 WHERE id = OLD.tenant_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE tenants SET settings_stamp = 0 WHERE id = NEW.tenant_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER gateways_stamp AFTER INSERT OR UPDATE OR DELETE ON gateways
    FOR EACH ROW EXECUTE FUNCTION centrex_tenant_part_changed()""",
]
_POSTGRESQL_DROP = [
    "DROP TRIGGER gateways_stamp ON gateways",
    "DROP FUNCTION centrex_tenant_part_changed()",
    "DROP TRIGGER tenants_stamp ON tenants",
    "DROP FUNCTION centrex_renew_tenant_stamp()",
]


def _statements(sqlite: list[str], postgresql: list[str]) -> list[str]:
    name = op.get_bind().dialect.name
    if name == "sqlite":
        return sqlite
    if name == "postgresql":
        return postgresql
    raise NotImplementedError(f"no settings-stamp triggers for {name}")


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column("settings_stamp", sa.BigInteger(), server_default="0", nullable=False),
    )
    for statement in _statements(_SQLITE, _POSTGRESQL):
        op.execute(statement)
    # Existing tenants get a stamp of their own.
    op.execute("UPDATE tenants SET name = name")


def downgrade() -> None:
    for statement in _statements(_SQLITE_DROP, _POSTGRESQL_DROP):
        op.execute(statement)
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("settings_stamp")
