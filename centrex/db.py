"""Engine and session factory; schema migrations through Alembic.

Nothing connects at import time: `make_engine` is called by the bootstrap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import provisioning

MIGRATIONS = Path(provisioning.__file__).resolve().parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Reads on the call path open no transaction (sqlite3 begins one only for
        # writes, which sessions commit or roll back): no rollback on every return.
        kwargs.setdefault("pool_reset_on_return", None)
        engine = create_engine(url, connect_args={"timeout": 5}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            # Foreign keys are off by default in SQLite; WAL lets readers (every
            # FreeSWITCH fetch) run while provisioning writes.
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Every fetch reads a few pages of big indexes: map the file and keep more
            # pages, so that a large tenant costs what a small one does.
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.execute("PRAGMA cache_size=-32768")
            cursor.close()

        return engine
    # A database that does not answer must not hold a FreeSWITCH thread for long:
    # fail fast and let the caller answer its safe fallback.
    connect_args = {"connect_timeout": 2} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(
        url, pool_pre_ping=True, pool_timeout=2, connect_args=connect_args, **kwargs
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    # "heads": features add their tables on branches of their own off the same base.
    command.upgrade(alembic_config(engine), revision)
