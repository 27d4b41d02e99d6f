"""Alembic environment: migrations run on the engine handed over by `centrex.db`."""

from alembic import context

from provisioning.models import Base

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things in place: rebuild tables in batch mode.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
