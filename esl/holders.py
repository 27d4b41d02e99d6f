"""Which `centrex esl` follows which FreeSWITCH node: never two at once.

Two listeners on one node would both write its events and both answer its phones'
probes; none would leave the node's live state stale. The database decides, as the
one thing every listener already shares:

- **PostgreSQL**: session advisory locks, each held on a connection of its own. One
  lock makes a listener the *follower* (it alone claims nodes, so that one process
  sees every node's calls and lights keys across nodes); one lock per node makes it
  that node's only holder, even while an old follower is still letting go. PostgreSQL
  frees a session's locks the moment the session ends: a killed listener's connection
  closes and a stand-by claims its nodes at its next try, with no clock to agree on and
  no lease to renew. A listener that is frozen rather than dead keeps its socket open:
  its sessions are closed by the server once idle for IDLE_LIMIT (`idle_session_timeout`,
  PostgreSQL ≥ 14), which the holder's pings every PING_EVERY never reach while it runs.
- **SQLite** (one machine, one database file): a second listener is refused at start.
  The claim is an exclusive `flock` on `<database file>.esl-lock`, which the kernel
  drops with the process however it ends, so a crashed listener never blocks the next.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# How often a holder checks its locks and a stand-by tries to take them (seconds).
PING_EVERY = 0.5
# A holder silent this long (frozen, cut off) loses its locks to the server.
IDLE_LIMIT_MS = 3000
FOLLOWER = "centrex-esl:follower"


class AnotherListener(RuntimeError):
    """A second listener on a database that allows only one."""


class Holders(Protocol):
    def claim(self, node: str) -> bool:
        """True when this listener now holds the node (or already did)."""

    def holds(self, node: str) -> bool:
        """Whether the node is still ours; a lost claim is let go of."""

    def release(self, node: str) -> None: ...

    def close(self) -> None: ...


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AdvisoryLocks:
    """PostgreSQL: the follower lock, then one lock per node, each on its own session."""

    def __init__(self, engine: Engine) -> None:
        # Sessions of their own, never returned to a pool: closing one frees its lock.
        self._engine = create_engine(engine.url, poolclass=NullPool, connect_args=_CONNECT_ARGS)
        self._held: dict[str, Connection] = {}
        self._spare: Connection | None = None  # tries again on the session that failed

    def claim(self, node: str) -> bool:
        if node in self._held:
            return True
        if FOLLOWER not in self._held and not self._take(FOLLOWER):
            return False
        return self._take(node)

    def holds(self, node: str) -> bool:
        return all(self._alive(name) for name in (FOLLOWER, node))

    def release(self, node: str) -> None:
        self._drop(node)

    def close(self) -> None:
        for name in list(self._held):
            self._drop(name)
        if self._spare is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._spare.close()
            self._spare = None
        self._engine.dispose()

    def _take(self, name: str) -> bool:
        conn, self._spare = self._spare, None
        try:
            if conn is None:
                conn = self._engine.connect()
                conn.execute(text(f"SET idle_session_timeout = {IDLE_LIMIT_MS}"))
            got = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": lock_key(name)})
            conn.commit()
        except SQLAlchemyError as exc:
            log.warning("claiming %s failed: %s", name, exc)
            if conn is not None:
                with contextlib.suppress(SQLAlchemyError):
                    conn.close()
            return False
        if not got:
            self._spare = conn
            return False
        self._held[name] = conn
        log.info("holding %s", name)
        return True

    def _alive(self, name: str) -> bool:
        conn = self._held.get(name)
        if conn is None:
            return False
        try:
            conn.execute(text("SELECT 1"))
            conn.commit()
            return True
        except SQLAlchemyError as exc:
            log.warning("lost %s: %s", name, exc)
            # Without the follower lock no node is ours either.
            for lost in list(self._held) if name == FOLLOWER else [name]:
                self._drop(lost)
            return False

    def _drop(self, name: str) -> None:
        conn = self._held.pop(name, None)
        if conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                conn.close()


# Keepalives: a lock session whose peer vanished is noticed by the server quickly.
_CONNECT_ARGS = {
    "connect_timeout": 2,
    "keepalives": 1,
    "keepalives_idle": 2,
    "keepalives_interval": 1,
    "keepalives_count": 2,
}


class OnlyListener:
    """SQLite: this listener is the only one, or it does not start."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".esl-lock")
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise AnotherListener(
                f"another centrex esl (pid {other}) already follows the FreeSWITCH nodes of "
                f"{database}: on SQLite only one listener may run (lock {self.path}); "
                "stop it first, or move to PostgreSQL to run several"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd: int | None = fd

    def claim(self, node: str) -> bool:
        return self._fd is not None

    def holds(self, node: str) -> bool:
        return self._fd is not None

    def release(self, node: str) -> None:
        pass

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the lock goes with it
            self._fd = None


class Everyone:
    """A database with no way to share (an in-memory SQLite): every node is ours."""

    def claim(self, node: str) -> bool:
        return True

    def holds(self, node: str) -> bool:
        return True

    def release(self, node: str) -> None:
        pass

    def close(self) -> None:
        pass


def holders_for(engine: Engine) -> Holders:
    """How listeners on this database share the nodes (AnotherListener if they may not)."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return AdvisoryLocks(engine)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return OnlyListener(Path(url.database).resolve())
    return Everyone()
