"""The change marker: the database logs every write that may move a line's keys or
directory entry (triggers, migration 0032), whoever wrote it, and the listener lights
keys from those rows alone — no scan of every user's call handling.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select, text, update
from sqlalchemy.exc import OperationalError

from centrex.db import make_session_factory
from esl.keys import Key
from esl.line_changes import GAP_WAIT, ChangeCursor, Changed, key_states_of, prune
from provisioning.groups import set_logged_in
from provisioning.line_settings import set_do_not_disturb
from provisioning.models import LineChange, Tenant, User
from tests.conftest import apply_raw, demo_document
from tests.integration import test_listener as live
from tests.integration.test_listener import DOMAIN, in_thread, settled, until
from xmlcurl import fsnames as fs

# The listener on a fake FreeSWITCH, as its own tests have it.
fake = live.fake
listener = live.listener


@pytest.fixture
def cursor(engine, demo_tenant) -> ChangeCursor:
    cursor = ChangeCursor()
    with engine.connect() as conn:
        cursor.start(conn)
    return cursor


def read(engine, cursor: ChangeCursor) -> Changed:
    with engine.connect() as conn:
        return cursor.read(conn)


def test_a_user_s_settings_written_by_sql_are_logged(engine, cursor):
    with engine.begin() as conn:
        conn.execute(
            update(User).where(User.extension == "1001").values(sip_password="New-Pass-2027x")
        )
    assert read(engine, cursor) == Changed(frozenset({(DOMAIN, "1001")}))
    assert not read(engine, cursor)  # read once


def test_writes_the_keys_and_directory_cannot_see_are_not_logged(engine, cursor):
    with engine.begin() as conn:
        conn.execute(update(User).values(panel_failures=3, version=User.version + 1))
        conn.execute(update(User).values(display_name=User.display_name))  # unchanged
    assert not read(engine, cursor)


def test_a_star_code_s_dnd_and_a_group_log_in_are_logged(engine, cursor):
    raw = demo_document()
    raw["groups"] = [{"name": "Sales", "extension": "5000", "members": ["1000", "1001"]}]
    apply_raw(engine, raw)
    read(engine, cursor)
    with make_session_factory(engine).begin() as session:
        set_do_not_disturb(session, DOMAIN, "1002", True)
        set_logged_in(session, DOMAIN, "Sales", "1000", False)
    assert read(engine, cursor).lines == {(DOMAIN, "1002"), (DOMAIN, "1000")}


def test_a_renamed_or_removed_line_logs_the_old_and_the_new_extension(engine, cursor):
    with engine.begin() as conn:
        conn.execute(update(User).where(User.extension == "1002").values(extension="1009"))
    assert read(engine, cursor).lines == {(DOMAIN, "1002"), (DOMAIN, "1009")}
    with engine.begin() as conn:
        conn.execute(User.__table__.delete().where(User.extension == "1009"))
    assert read(engine, cursor).lines == {(DOMAIN, "1009")}


def test_a_tenant_wide_change_is_logged_once_for_the_tenant(engine, cursor):
    with engine.begin() as conn:
        conn.execute(update(Tenant).values(timezone="America/New_York"))
    assert read(engine, cursor) == Changed(tenants=frozenset({DOMAIN}))


def test_a_late_commit_below_the_last_id_read_is_not_lost(engine, cursor):
    with engine.begin() as conn:
        last = conn.scalar(select(LineChange.id).order_by(LineChange.id.desc()).limit(1)) or 0
        # Rows 2 and 1 past the last: the second commits first, as a short transaction
        # after a long one would on PostgreSQL.
        conn.execute(insert(LineChange).values(id=last + 2, domain=DOMAIN, extension="1002"))
    assert read(engine, cursor).lines == {(DOMAIN, "1002")}
    try:
        with engine.begin() as conn:
            conn.execute(insert(LineChange).values(id=last + 1, domain=DOMAIN, extension="1000"))
        assert read(engine, cursor).lines == {(DOMAIN, "1000")}
        assert not read(engine, cursor)
    finally:
        # Ids given by hand: PostgreSQL's sequence would hand them out again.
        with engine.begin() as conn:
            conn.execute(LineChange.__table__.delete().where(LineChange.id > last))


def test_keys_of_a_changed_member_include_its_groups_even_when_it_left(engine, cursor):
    raw = demo_document()
    raw["groups"] = [{"name": "Sales", "extension": "5000", "members": ["1000", "1001"]}]
    apply_raw(engine, raw)
    published = {
        Key(fs.PROTO_GROUP, "5000", DOMAIN): True,
        Key(fs.PROTO_GROUP, "5000-1000", DOMAIN): True,
        Key(fs.PROTO_GROUP, "5000-1001", DOMAIN): True,
    }
    raw["groups"][0]["members"] = ["1001"]
    apply_raw(engine, raw)
    with engine.connect() as conn:
        rekeyed = key_states_of(conn, read(engine, cursor), published)
    assert Key(fs.PROTO_GROUP, "5000-1000", DOMAIN) in rekeyed.scope
    assert Key(fs.PROTO_GROUP, "5000-1000", DOMAIN) not in rekeyed.states  # off now
    assert rekeyed.states[Key(fs.PROTO_GROUP, "5000", DOMAIN)] is True  # 1001 still in


@pytest.fixture
def statements(engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_the_listener_lights_a_changed_key_without_scanning_every_user(
    engine, fake, listener, statements
):
    until(lambda: settled(listener))
    listener.refresh_keys()  # at start: every key, once
    statements.clear()
    listener.refresh_keys()
    assert len(statements) == 1 and "line_changes" in statements[0]  # nothing changed
    with make_session_factory(engine).begin() as session:
        set_do_not_disturb(session, DOMAIN, "1000", True)
    statements.clear()
    listener.refresh_keys()
    lit = in_thread(
        fake.wait_for_command,
        lambda c: c.name == "sendevent" and c.header("from") == f"1000@{DOMAIN}",
    )
    assert (lit.header("proto"), lit.header("answer-state")) == ("dnd", "confirmed")
    assert not any("do_not_disturb" in s.lower() and "like" in s.lower() for s in statements)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM line_changes")).scalar() >= 1


def test_a_gap_never_filled_is_given_up_after_a_while(engine, demo_tenant):
    now = [0.0]
    cursor = ChangeCursor(clock=lambda: now[0])
    with engine.connect() as conn:
        cursor.start(conn)
    with engine.begin() as conn:
        last = conn.scalar(select(LineChange.id).order_by(LineChange.id.desc()).limit(1)) or 0
        conn.execute(insert(LineChange).values(id=last + 2, domain=DOMAIN, extension="1002"))
    try:
        assert read(engine, cursor).lines == {(DOMAIN, "1002")}
        assert cursor._gaps == {last + 1: 0.0}
        now[0] = GAP_WAIT + 1  # the transaction that took it was rolled back
        assert not read(engine, cursor)
        assert cursor._gaps == {}
    finally:
        with engine.begin() as conn:
            conn.execute(LineChange.__table__.delete().where(LineChange.id > last))


def test_rows_older_than_a_day_are_pruned(engine, demo_tenant):
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(LineChange.__table__.delete())
        conn.execute(
            insert(LineChange),
            [
                {"domain": DOMAIN, "extension": "1000", "at": now - timedelta(days=2)},
                {"domain": DOMAIN, "extension": "1001", "at": now - timedelta(hours=1)},
            ],
        )
        assert prune(conn, now) == 1
        assert conn.scalars(select(LineChange.extension)).all() == ["1001"]


def test_keys_not_recomputed_for_a_database_error_are_all_computed_next_time(
    engine, fake, listener, monkeypatch
):
    import esl.listener as module

    until(lambda: settled(listener))
    listener.refresh_keys()
    with make_session_factory(engine).begin() as session:
        set_do_not_disturb(session, DOMAIN, "1000", True)

    def broken(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(module, "key_states_of", broken)
    with pytest.raises(OperationalError):
        listener.refresh_keys()
    monkeypatch.undo()
    listener.refresh_keys()  # every key again: 1000's is among them
    lit = in_thread(
        fake.wait_for_command,
        lambda c: c.name == "sendevent" and c.header("from") == f"1000@{DOMAIN}",
    )
    assert lit.header("answer-state") == "confirmed"
