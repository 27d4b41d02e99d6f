"""Engine and session factory; deadlines on database work; schema migrations through
Alembic.

Nothing connects at import time: `make_engine` is called by the bootstrap.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import signal
import sys
import threading
import time
import weakref
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    SQLColumnExpression,
    bindparam,
    create_engine,
    event,
)
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import ClauseElement

import provisioning

log = logging.getLogger(__name__)

MIGRATIONS = Path(provisioning.__file__).resolve().parent / "migrations"


def make_engine(
    url: str,
    answer_within: int | None = None,
    *,
    pre_ping: bool = True,
    session_settings: dict[str, str] | None = None,
    **kwargs: Any,
) -> Engine:
    """`answer_within`: milliseconds PostgreSQL may leave one round trip unanswered
    before the connection is given up (servers only: a migration may take longer).
    PostgreSQL only: `pre_ping`, whether a connection is tried (one round trip) each
    time it is taken from the pool; `session_settings`, run-time settings every
    connection starts with (sent with the connection request: no round trip)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Reads on the call path open no transaction (sqlite3 begins one only for
        # writes, which sessions commit or roll back): no rollback on every return.
        kwargs.setdefault("pool_reset_on_return", None)
        engine = create_engine(url, connect_args={"timeout": _SQLITE_LOCK_WAIT_S}, **kwargs)

        @event.listens_for(engine, "begin")
        def _lock_wait_within_deadline(conn: Connection) -> None:
            # SQLite waits for a write lock in C, where a deadline's signal is only
            # handled once the wait is over: a transaction begun under a deadline (a
            # fetch's star code, a call record) waits no longer than what is left of it.
            left = _time_left()
            wait_ms = int((_SQLITE_LOCK_WAIT_S if left is None else left) * 1000)
            sqlite = conn.connection.driver_connection
            assert sqlite is not None  # a connection being begun is open
            sqlite.execute(f"PRAGMA busy_timeout={wait_ms}")

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
    connect_args: dict[str, Any] = (
        {"connect_timeout": 2} if parsed.get_backend_name() == "postgresql" else {}
    )
    if session_settings:
        connect_args["options"] = " ".join(f"-c {k}={v}" for k, v in session_settings.items())
    engine = create_engine(
        url, pool_pre_ping=pre_ping, pool_timeout=2, connect_args=connect_args, **kwargs
    )
    if answer_within and parsed.get_driver_name() == "psycopg":
        answering = _answering_connection()

        @event.listens_for(engine, "do_connect")
        def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            conn = answering.connect(*cargs, **cparams)
            conn.answer_within = answer_within / 1000
            return conn

    return engine


@functools.cache
def _answering_connection() -> Any:
    """psycopg's connection, giving up on a round trip left unanswered too long.

    A server stopped dead (SIGSTOP, a hung host whose kernel still acknowledges) never
    answers, and neither TCP nor the server's own timeouts notice: without a limit here
    a request would wait for ever. The limit is `answer_within`, or what is left of the
    current `deadline` if that is less: psycopg's wait loop (in C) is not interrupted
    by the deadline's signal. The connection is then closed, so that SQLAlchemy
    discards it (and the pool's others) instead of rolling it back.
    """
    import psycopg

    class AnsweringConnection(psycopg.Connection):
        answer_within: float | None = None

        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            left = _time_left()
            limit = timeout or self.answer_within
            if left is not None and (limit is None or left < limit):
                limit = max(left, 0.001)
            try:
                return super().wait(gen, interval, limit)
            except psycopg.OperationalError:
                if self.info.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
                    # Abandoned while the server still owes an answer: unusable.
                    self.close()
                if left is not None and _time_left() == 0:
                    raise DeadlineExceeded from None
                raise

    return AnsweringConnection


class DeadlineExceeded(BaseException):
    """The work took longer than its deadline and was interrupted where it stood.

    A BaseException, as KeyboardInterrupt is: SQLAlchemy then discards a connection
    interrupted in the middle of a statement instead of rolling it back (which would
    wait on the same silent server), and `except Exception` does not swallow it.
    """


class deadline:  # lower case: used as a function, `with deadline(ms):`
    """Interrupt the block with DeadlineExceeded after `milliseconds` (a real-time
    interval timer; SIGALRM). It fires again every 100 ms until the block ends, so that
    a clean-up blocked on the same database is interrupted too; PostgreSQL's round trips
    on a server's engine are bounded by the time left (see `make_engine`). Only in the
    main thread of a process whose worker serves one request at a time (gunicorn's sync
    workers, the tests); elsewhere the block runs without a deadline.

    A class rather than a generator: it is on every fetch's path (about 2 µs)."""

    __slots__ = ("_seconds", "_timed")

    def __init__(self, milliseconds: int) -> None:
        self._seconds = milliseconds / 1000
        self._timed = False

    def __enter__(self) -> None:
        global _armed, _deadline_at
        if threading.get_ident() != _MAIN_THREAD or _greenlets():
            return
        if not _handler_installed:
            _install_handler()
        self._timed = True
        _deadline_at = time.monotonic() + self._seconds
        _armed = True
        signal.setitimer(_TIMER, self._seconds, 0.1)

    def __exit__(self, *_exc: object) -> None:
        global _armed, _deadline_at
        if not self._timed:
            return
        _deadline_at = None
        while _armed:
            try:
                _armed = False  # first: a signal already on its way then raises nothing
                signal.setitimer(_TIMER, 0)
            except DeadlineExceeded:  # fired just before: the block has ended anyway
                _armed = True


# How long SQLite waits for another writer's lock, without a deadline.
_SQLITE_LOCK_WAIT_S = 5
_MAIN_THREAD = threading.main_thread().ident
_TIMER = signal.ITIMER_REAL
_armed = False
_deadline_at: float | None = None
_handler_installed = False


def _install_handler() -> None:
    global _handler_installed
    signal.signal(signal.SIGALRM, _deadline_passed)
    _handler_installed = True


def _time_left() -> float | None:
    """Seconds left before the current deadline (0 once passed), None without one."""
    at = _deadline_at
    return None if at is None else max(at - time.monotonic(), 0.0)


def _deadline_passed(_signum: int, _frame: FrameType | None) -> None:
    if _armed:
        raise DeadlineExceeded


@functools.cache
def _greenlets() -> bool:
    """Whether gevent has patched this process (SIGALRM would land in any greenlet)."""
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("socket"))


def database_unavailable(error: BaseException) -> bool:
    """Whether an error says the database cannot be reached or did not answer in time
    (and not that a request or its data was wrong)."""
    if isinstance(error, DeadlineExceeded | sa_exc.OperationalError | sa_exc.InterfaceError):
        return True
    if isinstance(error, sa_exc.TimeoutError):  # no pooled connection came free
        return True
    return isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated


T = TypeVar("T")


class KeptConnections:
    """Open connections kept between FreeSWITCH's requests: the xml_curl fetches' reads
    and the call records' writes take one and put it back.

    Taking a connection from the pool and giving it back around every fetch costs as
    much as the fetch's query (on PostgreSQL a ping, then BEGIN and COMMIT around it). A
    connection is kept by no thread in particular (servers may run each request in a
    thread of its own), and at most as many are open as requests ever ran at once. Each
    statement commits on its own (autocommit), so a connection holds no snapshot and no
    lock between statements. Only what may run twice runs here: reads, and writes each
    of whose statements may be repeated with the same outcome (a call record's
    entries). One that fails is closed and the work runs once more on a fresh one: a
    kept connection may have died with the database server since it was last used,
    which the pool's ping would have caught. Work interrupted by its deadline is not run
    again: its connection is discarded unused.
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
            except DeadlineExceeded:
                self._discard(kept)
                raise
            except Exception:
                log.info("kept database connection failed; reading again on a fresh one")
                self._discard(kept)
        # Autocommit: on PostgreSQL a read then costs one round trip, not BEGIN, the
        # statement and ROLLBACK; each statement sees the committed data (as it would in
        # a read-committed transaction).
        conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            return self._give_back(conn, read(conn))
        except BaseException:
            self._discard(conn)
            raise

    def close(self) -> None:
        self._closed = True
        self._close_all(self._idle)

    def _give_back(self, conn: Connection, result: T) -> T:
        if conn.in_transaction():
            conn.rollback()
        # Statements run on the DBAPI cursor (Prepared) begin below SQLAlchemy.
        conn.connection.dbapi_connection.rollback()  # type: ignore[union-attr]
        if self._closed:
            conn.close()
        else:
            self._idle.append(conn)
        return result

    @staticmethod
    def _discard(conn: Connection) -> None:
        # Closed without a word to the server (which may be the one that went silent).
        with contextlib.suppress(Exception):  # already unusable: nothing more to release
            conn.invalidate()
            conn.close()

    @staticmethod
    def _close_all(idle: list[Connection]) -> None:
        while idle:
            with contextlib.suppress(Exception):
                idle.pop().close()


class Prepared:
    """A statement compiled once per database dialect and run on the connection's DBAPI
    cursor: what runs on every call (the xml_curl fetches' lookups, the listener's
    stretches, call records). SQLAlchemy's per-execution work (its execution context,
    parameter and result processing) costs more than such a statement itself: about
    50 µs of our process's time against 20 for a PostgreSQL lookup on the cursor.
    Rows keep their column names; values go and come as the driver's: booleans may come
    back as 0/1, and sqlite3 neither reads nor writes datetimes as SQLAlchemy stores
    them (statements with datetimes run here on PostgreSQL only). Errors are
    SQLAlchemy's, and `before_cursor_execute` listeners see the statements."""

    def __init__(self, statement: ClauseElement, column_keys: tuple[str, ...] = ()) -> None:
        """`column_keys`: an INSERT's columns, the keys of its rows: every column it
        writes (SQLAlchemy's column defaults are not applied here)."""
        self._statement = statement
        self._column_keys = list(column_keys) or None
        # By dialect: the SQL, the order of its parameters (None: by name) and the
        # values the statement holds itself (its literals, bound).
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        self._row: Any = None

    def rows(self, conn: Connection, params: dict[str, Any]) -> list[Any]:
        if self._row is None:
            keys = self._statement.selected_columns.keys()  # type: ignore[attr-defined]
            self._row = namedtuple("_Row", keys)  # type: ignore[misc]
        with self._cursor(conn, params, many=False) as cursor:
            return [self._row._make(row) for row in cursor.fetchall()]

    def run(self, conn: Connection, params: dict[str, Any]) -> None:
        """A statement whose rows are not read (inside a psycopg pipeline, not waited
        for)."""
        with self._cursor(conn, params, many=False):
            pass

    def run_many(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """The statement once for each of `rows` (the driver's executemany: on
        PostgreSQL one round trip), none of whose rows are read."""
        with self._cursor(conn, rows, many=True):
            pass

    @contextlib.contextmanager
    def _cursor(self, conn: Connection, params: Any, *, many: bool) -> Iterator[Any]:
        sql, order, held = self._compiled_for(conn)

        def arguments(values: dict[str, Any]) -> Any:
            if held:
                values = {**held, **values}
            return tuple(values[k] for k in order) if order else values

        args = [arguments(p) for p in params] if many else arguments(params)
        for listener in conn.dispatch.before_cursor_execute:
            listener(conn, None, sql, args, None, many)
        dbapi = conn.dialect.loaded_dbapi
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if many:
                cursor.executemany(sql, args)
            else:
                cursor.execute(sql, args)
            yield cursor
        except dbapi.Error as exc:
            error = sa_exc.DBAPIError.instance(sql, args, exc, dbapi.Error, dialect=conn.dialect)
            raise error from exc
        finally:
            cursor.close()

    def _compiled_for(self, conn: Connection) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        name = conn.dialect.name
        if name not in self._compiled:
            compiled: Any = self._statement.compile(
                dialect=conn.dialect, column_keys=self._column_keys
            )
            order = tuple(compiled.positiontup) if compiled.positiontup else None
            held = {k: b.effective_value for k, b in compiled.binds.items() if not b.required}
            self._compiled[name] = (str(compiled), order, held)
        return self._compiled[name]


@functools.lru_cache(maxsize=1024)
def prepared(statement: ClauseElement, column_keys: tuple[str, ...] = ()) -> Prepared:
    """The statement's Prepared, made once: for statements themselves built once (as
    the INs of fixed lengths below, kept by their lengths)."""
    return Prepared(statement, column_keys)


# Statements that bind or read datetimes: prepared on PostgreSQL, whose driver takes and
# gives them as SQLAlchemy does; through SQLAlchemy on SQLite, which stores them in a
# form of its own.
def typed_rows(conn: Connection, statement: ClauseElement, params: dict[str, Any]) -> Any:
    if conn.dialect.name == "postgresql":
        return prepared(statement).rows(conn, params)
    return conn.execute(statement, params).all()  # type: ignore[call-overload]


def typed_run(
    conn: Connection, statement: ClauseElement, params: dict[str, Any] | list[dict[str, Any]]
) -> None:
    """`params`: a row, or rows (an INSERT's: each with every column it writes)."""
    if conn.dialect.name != "postgresql":
        conn.execute(statement, params)  # type: ignore[call-overload]
    elif isinstance(params, list):
        prepared(statement, tuple(params[0])).run_many(conn, params)
    else:
        prepared(statement).run(conn, params)


# INs of fixed lengths. An expanding IN (a list as one parameter) makes SQLAlchemy render
# the statement's SQL again at every execution; written with placeholders instead, a
# statement is compiled once. Lengths go by powers of two, the last value repeated in the
# spare places, so that a few statements serve every list: build them with
# `in_slots(column, name, slots(n))` (kept, e.g. in an lru_cache keyed by the lengths),
# run them with `slot_values(name, values)`.
def slots(count: int) -> int:
    """The length an IN of `count` values is written with (at least one)."""
    return 1 << max(count - 1, 0).bit_length()


def in_slots(column: SQLColumnExpression[Any], name: str, size: int) -> ColumnElement[bool]:
    return column.in_([bindparam(f"{name}{i}") for i in range(size)])


def slot_values(name: str, values: Sequence[Any]) -> dict[str, Any]:
    """The parameters of `in_slots(…, name, slots(len(values)))`; `values` not empty."""
    spare = slots(len(values)) - len(values)
    return {f"{name}{i}": value for i, value in enumerate([*values, *[values[-1]] * spare])}


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
