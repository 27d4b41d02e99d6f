"""Storing a call record cheaply, with the same results: the fast percent-decoding of
mod_xml_cdr's body, the variables read one by one, one lookup query and one upsert per
record, and a tenant or user changed between two records seen at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote_to_bytes

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from centrex.db import make_session_factory
from esl.calllog import record_cdr
from esl.cdr import parse_cdr, percent_decoded, xml_from_body
from provisioning import service
from provisioning.models import CallRecord, Tenant, User
from tests.conftest import apply_raw, demo_document
from tests.integration.test_call_log import call, entries, store
from tests.unit.test_cdr import CALL1_A, CALL2_A, bodies, cdr_xml, edited


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"plain",
        b"%3Ccdr%3E%20%25%2541",
        b"%3c%3e lower",
        b"a\\x41\\%41 backslashes",
        b"%C3%A9t%C3%A9 \xc3\xa9",
        b"%zz %4 %",
        b"%4g",
        b"\\",
    ],
)
def test_percent_decoding_gives_what_unquote_gives(data):
    assert percent_decoded(data) == unquote_to_bytes(data)


@pytest.mark.parametrize("name", ["cdr-leg-4", "cdr-leg", "cdr-leg-3", "cdr-leg-7"])
def test_every_captured_record_decodes_and_reads_as_before(name):
    xml = cdr_xml(name)
    assert xml_from_body(bodies(xml)["true"]) == xml.strip()
    leg = parse_cdr(xml)
    assert leg.uuid and leg.started_at <= leg.ended_at


def test_a_variable_missing_empty_repeated_or_encoded_reads_as_before():
    xml = edited(
        cdr_xml(CALL2_A),
        {"hangup_cause": "NO ANSWER & <more> \u00e9", "centrex_stage": "", "bridge_uuid": None},
    )
    leg = parse_cdr(xml.replace(b"<variables>", b"<variables><uuid>first-one</uuid>", 1))
    assert leg.uuid == "first-one" and leg.stage is None
    assert leg.hangup_cause == "NO ANSWER & <more> \u00e9"


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_record_costs_one_lookup_and_one_upsert(engine, demo_tenant):
    store(engine, call(1, "2026-11-05T09:00:00"))  # statements compiled once
    with statements(engine) as seen:
        recorded = store(engine, call(2, "2026-11-05T10:00:00"))
    assert len(recorded.entries) == 2  # 1001 placed, 1002 missed
    assert [s for s in seen if s in {"SELECT", "INSERT"}] == ["SELECT", "INSERT"]


def test_a_tenant_made_again_under_its_domain_gets_the_next_records(engine, demo_tenant):
    store(engine, call(1, "2026-11-05T09:00:00"))
    with make_session_factory(engine).begin() as s:
        service.delete_tenant(s, "127.0.0.1")
    apply_raw(engine, demo_document())
    store(engine, call(2, "2026-11-05T10:00:00"))
    with Session(engine) as s:
        tenant_id = s.scalar(select(Tenant.id))
        rows = s.execute(select(CallRecord.tenant_id, CallRecord.user_id)).all()
        users = set(s.scalars(select(User.id)))
    assert len(rows) == 2 and all(t == tenant_id and u in users for t, u in rows)


def test_a_line_renumbered_between_two_records_is_seen_at_once(engine, demo_tenant):
    store(engine, call(1, "2026-11-05T09:00:00"))
    raw = demo_document()
    for user in raw["users"]:
        if user["extension"] == "1002":
            user["extension"] = "1009"
    apply_raw(engine, raw)
    recorded = store(engine, call(2, "2026-11-05T10:00:00"))
    assert dict(recorded.entries) == {"1001": "placed"}  # 1002 is no line any more


def test_the_same_record_stored_twice_changes_nothing(engine, demo_tenant):
    xml = cdr_xml(CALL1_A)
    first = store(engine, xml)
    before = entries(engine)
    with engine.begin() as connection:
        again = record_cdr(connection, xml)
    assert again == first and entries(engine) == before
