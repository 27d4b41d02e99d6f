"""On PostgreSQL live state is committed without waiting for the disk: a crash of the
database server may lose the last commits, so a new connection of live state's (what
follows a restart) has every node listed again, which replaces them. Group state, which
no listing gives back, and everything else the listener writes (call records from the
error directory, reminders) wait for their commits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.exc import SQLAlchemyError

from esl.groups import GroupLogin
from esl.handlers import ChannelSeen, LineRef
from esl.store import LiveStore
from provisioning.models import Channel
from tests.integration.test_listener import DOMAIN, fake, listener, node, settled, until  # noqa: F401

NOW_LINE = LineRef("1000", DOMAIN)


def listings(fake) -> int:  # noqa: F811
    return sum(1 for c in fake.commands if c.name == "api" and c.args.startswith("show channels"))


def test_a_new_database_connection_has_the_nodes_listed_again(
    engine,
    database_url,
    fake,  # noqa: F811
    listener,  # noqa: F811
):
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: runs in the suite's PostgreSQL run (make test)")
    until(lambda: settled(listener))
    before = listings(fake)
    # As after a restart of the server: the next write of live state connects again.
    listener.store.engine.dispose()
    listener.expire_registrations()
    until(lambda: listings(fake) > before, timeout=10)


def test_live_state_commits_without_waiting_for_the_disk_group_state_waits(
    engine, database_url, demo_tenant
):
    """Set when its connections are made, not with every transaction; a stretch with
    group state sets it back for its own transaction."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: synchronous_commit")
    run: list[str] = []

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:
        run.append(statement)

    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    store = LiveStore(engine)
    try:
        assert store.engine is not engine
        with store.engine.connect() as conn:
            assert conn.scalar(text("SHOW synchronous_commit")) == "off"
        with engine.connect() as conn:  # everything else waits for the disk
            assert conn.scalar(text("SHOW synchronous_commit")) == "on"
        event.listen(store.engine, "before_cursor_execute", executed)
        store.apply(
            [ChannelSeen("fs1", "u1", NOW_LINE, "outbound", False, False, "", "", now)], now
        )
        live = list(run)
        run.clear()
        store.apply([GroupLogin(DOMAIN, "5000", "1001", True)], now)
        grouped = list(run)
    finally:
        store.close()
    assert not [s for s in live if "synchronous_commit" in s]
    assert grouped[0] == "SET LOCAL synchronous_commit = on"


def test_a_write_refused_in_a_stretch_fails_it_as_a_database_error(
    engine, database_url, demo_tenant
):
    """Writes are sent to PostgreSQL together and answered at the end: a refused one
    still fails the stretch as a database error (the listener then lists the nodes
    again), and nothing of it is kept."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: SQLite does not hold strings to their length")
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    store = LiveStore(engine)
    too_long = "u" * 100  # more than a leg's uuid column holds
    seen = [
        ChannelSeen("fs1", "ok", NOW_LINE, "outbound", False, False, "", "", now),
        ChannelSeen("fs1", too_long, NOW_LINE, "outbound", False, False, "", "", now),
    ]
    with pytest.raises(SQLAlchemyError):
        store.apply(seen, now)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Channel)) == 0


def test_a_stretch_on_a_connection_the_server_closed_fails_then_the_next_one_is_written(
    engine, database_url, demo_tenant
):
    """Live state's statements run on the driver's cursor (centrex.db.Prepared) and its
    connections are not pinged: a connection the server closed (restarted, or its
    backend ended) fails one stretch as a database error, and is not used again."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: ends a server backend")
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    store = LiveStore(engine)

    def leg(uuid: str) -> list[ChannelSeen]:
        return [ChannelSeen("fs1", uuid, NOW_LINE, "outbound", False, False, "", "", now)]

    try:
        store.apply(leg("u1"), now)
        with store.engine.connect() as conn:
            backend = conn.scalar(text("SELECT pg_backend_pid()"))
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
        with pytest.raises(SQLAlchemyError):
            store.apply(leg("u2"), now)
        store.apply(leg("u3"), now)
    finally:
        store.close()
    with engine.connect() as conn:
        assert set(conn.scalars(select(Channel.uuid))) == {"u1", "u3"}
