"""Engine and session factory; schema migrations through Alembic.

Nothing connects at import time: `make_engine` is called by the bootstrap.
"""

from __future__ import annotations

import contextlib
import logging
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

import provisioning

log = logging.getLogger(__name__)

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


T = TypeVar("T")


class KeptConnections:
    """Open connections kept between reads: the xml_curl fetches take one and put it back.

    Taking a connection from the pool and giving it back around every fetch costs as
    much as the fetch's query. A connection is kept by no thread in particular (servers
    may run each request in a thread of its own), and at most as many are open as
    fetches ever ran at once. Each is left outside any transaction after a read
    (PostgreSQL begins one implicitly; SQLite begins none for reads), so it holds no
    snapshot and no lock meanwhile. One that fails is closed and the read runs once
    more on a fresh one: a kept connection may have died with the database server
    since it was last used, which the pool's ping would have caught.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        # Taken and given back with list.pop and list.append: atomic, no lock needed.
        self._idle: list[Connection] = []
        self._closed = False
        # Closed explicitly when the application goes (never left to the collector).
        weakref.finalize(self, KeptConnections._close_all, self._idle)

    def run(self, read: Callable[[Connection], T]) -> T:
        try:
            kept: Connection | None = self._idle.pop()
        except IndexError:
            kept = None
        if kept is not None:
            try:
                return self._give_back(kept, read(kept))
            except Exception:
                log.info("kept database connection failed; reading again on a fresh one")
                self._discard(kept)
        # Autocommit: on PostgreSQL a read then costs one round trip, not BEGIN, the
        # statement and ROLLBACK; each statement sees the committed data (as it would in
        # a read-committed transaction). Only reads run here.
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            return self._give_back(conn, read(conn))
        except Exception:
            self._discard(conn)
            raise

    def close(self) -> None:
        self._closed = True
        self._close_all(self._idle)

    def _give_back(self, conn: Connection, result: T) -> T:
        if conn.in_transaction():
            conn.rollback()
        # Statements run on the DBAPI cursor (xmlcurl.loader) begin below SQLAlchemy.
        conn.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
        if self._closed:
            conn.close()
        else:
            self._idle.append(conn)
        return result

    @staticmethod
    def _discard(conn: Connection) -> None:
        with contextlib.suppress(Exception):  # already unusable: nothing more to release
            conn.invalidate()
            conn.close()

    @staticmethod
    def _close_all(idle: list[Connection]) -> None:
        while idle:
            with contextlib.suppress(Exception):
                idle.pop().close()


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
