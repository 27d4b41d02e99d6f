"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from provisioning.models import Base


def test_migrations_match_the_models(migrated_engine):
    with migrated_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_upgrade_keeps_existing_tenants(migrated_engine):
    from alembic import command
    from sqlalchemy import text

    from centrex.db import alembic_config

    config = alembic_config(migrated_engine)
    command.downgrade(config, "0001")
    try:
        with migrated_engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO tenants (domain, name, timezone, country) "
                    "VALUES ('old.example', 'Old', 'Europe/Paris', 'FR')"
                )
            )
        command.upgrade(config, "heads")
        with migrated_engine.connect() as conn:
            row = conn.execute(text("SELECT schedules, holidays FROM tenants")).one()
        assert [list(__import__("json").loads(v)) if isinstance(v, str) else v for v in row] == [
            [],
            [],
        ]
    finally:
        command.upgrade(config, "heads")
        with migrated_engine.begin() as conn:
            conn.execute(text("DELETE FROM tenants"))
