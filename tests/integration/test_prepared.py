"""Statements run prepared on the DBAPI cursor (centrex.db.Prepared): what the fetches,
the listener's stretches and call records run on every call. They must behave as
SQLAlchemy's execution does where it matters: the statement's own literals bound, rows
by column name, errors as SQLAlchemy's, statements seen by engine listeners."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, event, exc, insert, select, text

from centrex.db import Prepared, in_slots, slot_values, slots, typed_run
from provisioning.models import Registration, Tenant, User


@pytest.fixture
def tenant_id(engine) -> int:
    with engine.begin() as conn:
        tenant_id = conn.execute(
            insert(Tenant)
            .values(domain="prepared.example", name="P", timezone="Europe/Paris", country="FR")
            .returning(Tenant.id)
        ).scalar_one()
        conn.execute(
            insert(User),
            [
                dict(
                    tenant_id=tenant_id,
                    position=i,
                    extension=ext,
                    display_name=name,
                    sip_password="Secret-123x",
                )
                for i, (ext, name) in enumerate([("100", "Ann"), ("101", "Bob"), ("102", "Cy")])
            ],
        )
    return tenant_id


def test_rows_by_name_with_the_statement_s_own_literals_bound(engine, tenant_id):
    # "Bob" is a literal of the statement, not a parameter of the call.
    statement = select(User.extension, User.display_name.label("name")).where(
        User.tenant_id == bindparam("tenant_id"),
        User.display_name != "Bob",
        in_slots(User.extension, "e", slots(3)),
    )
    with engine.connect() as conn:
        rows = Prepared(statement).rows(
            conn, {"tenant_id": tenant_id, **slot_values("e", ["100", "101", "102"])}
        )
    assert sorted((r.extension, r.name) for r in rows) == [("100", "Ann"), ("102", "Cy")]


def test_inserts_many_rows_with_the_columns_given(engine, tenant_id):
    # Registrations as the listener writes them: every column but the key given.
    rows = [
        dict(
            node="n1",
            call_id=call_id,
            user_id=user_id,
            contact="sip:x@192.0.2.1",
            user_agent="",
            network_ip="192.0.2.1",
            network_port=5060 + i,
            expires_at=datetime(2030, 1, 1, tzinfo=UTC),
        )
        for i, (call_id, user_id) in enumerate([("c1", None), ("c2", None)])
    ]
    with engine.connect() as conn:
        users = conn.scalars(select(User.id).where(User.tenant_id == tenant_id)).all()
    rows[0]["user_id"], rows[1]["user_id"] = users[0], users[1]
    with engine.begin() as conn:
        typed_run(conn, insert(Registration), rows)  # prepared on PostgreSQL
    with engine.connect() as conn:
        stored = conn.execute(select(Registration.call_id, Registration.expires_at)).all()
    assert sorted(c for c, _ in stored) == ["c1", "c2"]
    assert {e.replace(tzinfo=UTC) for _, e in stored} == {datetime(2030, 1, 1, tzinfo=UTC)}


def test_a_refused_statement_fails_as_sqlalchemy_s_error_and_listeners_see_it(engine):
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        with engine.connect() as conn, pytest.raises(exc.DBAPIError) as raised:
            Prepared(text("SELECT * FROM no_such_table")).run(conn, {})
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert "no_such_table" in str(raised.value.orig)
    assert seen == ["SELECT * FROM no_such_table"]
