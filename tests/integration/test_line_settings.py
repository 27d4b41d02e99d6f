"""One user's call handling changed on its own (provisioning.line_settings): the
document's rules, one row written, a stale version refused, the next call follows."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from provisioning import line_settings
from provisioning.document import DocumentInvalid
from provisioning.models import Tenant, User
from tests.conftest import apply_raw, demo_document
from tests.integration.test_xmlcurl import actions, dialplan

DOMAIN = "127.0.0.1"


def set_handling(engine, extension: str, raw: dict, version: int | None):
    from centrex.db import make_session_factory

    with make_session_factory(engine).begin() as session:
        return line_settings.set_call_handling(session, DOMAIN, extension, raw, version=version)


def current(engine, extension: str) -> line_settings.CallHandlingState:
    from centrex.db import make_session_factory

    with make_session_factory(engine).begin() as session:
        return line_settings.call_handling_of(session, DOMAIN, extension)


def test_a_forward_set_alone_reaches_the_next_call(client, engine, demo_tenant):
    before = current(engine, "1001")
    after = set_handling(
        engine, "1001", {"forward_always": {"to": "06 12 34 56 78"}}, before.version
    )
    assert after.version == before.version + 1
    assert after.call_handling == {"forward_always": {"to": "+33612345678"}}
    bridge = dict(actions(dialplan(client, "1001")))["bridge"]
    assert bridge.endswith("sofia/gateway/127.0.0.1/+33612345678")


def test_a_change_made_from_a_stale_version_is_refused_and_writes_nothing(engine, demo_tenant):
    seen = current(engine, "1001")
    set_handling(engine, "1001", {"do_not_disturb": {}}, seen.version)
    with pytest.raises(line_settings.StaleVersion):
        set_handling(engine, "1001", {"forward_always": {"to": "voicemail"}}, seen.version)
    assert current(engine, "1001").call_handling == {"do_not_disturb": {}}


def test_errors_name_the_user_s_own_fields(engine, demo_tenant):
    with pytest.raises(DocumentInvalid) as refused:
        set_handling(
            engine,
            "1001",
            {"forward_always": {"to": "0899123456"}, "forward_busy": {"to": "x", "when": 1}},
            None,
        )
    paths = {p.path for p in refused.value.problems}
    assert paths == {"call_handling.forward_busy.when"}
    with pytest.raises(DocumentInvalid) as refused:
        set_handling(engine, "1001", {"forward_always": {"to": "0899123456"}}, None)
    assert [(p.path, p.message) for p in refused.value.problems] == [
        (
            "call_handling.forward_always.to",
            "premium numbers are not among the user's allowed destinations",
        )
    ]
    with pytest.raises(DocumentInvalid) as refused:
        set_handling(engine, "1001", {"forward_always": {"to": "4242"}}, None)
    assert refused.value.problems[0].path == "call_handling.forward_always.to"


def test_a_forward_closing_a_circle_with_colleagues_is_refused(engine):
    raw = demo_document()
    raw["users"][0]["call_handling"] = {"forward_always": {"to": "1001"}}  # 1000 → 1001
    apply_raw(engine, raw)
    with pytest.raises(DocumentInvalid) as refused:
        set_handling(engine, "1001", {"forward_always": {"to": "1000"}}, None)
    assert refused.value.problems[0].message == "forwarding loop 1001 → 1000 → 1001"
    # With a schedule the loop depends on the time: stopped at call time instead.
    set_handling(
        engine, "1001", {"forward_always": {"to": "1000", "schedule": "Office hours"}}, None
    )


def test_a_change_writes_that_user_s_row_and_nothing_else(engine, demo_tenant):
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        set_handling(engine, "1001", {"do_not_disturb": {}}, None)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(writes) == 1 and writes[0].lstrip().upper().startswith("UPDATE USERS")
    with engine.connect() as conn:
        others = conn.scalars(
            select(User.version)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(Tenant.domain == DOMAIN, User.extension != "1001")
        ).all()
    assert set(others) == {1}


def test_through_the_rest_api_a_stale_version_gets_409(client, engine, session, demo_tenant):
    from provisioning import service

    apply_raw(engine, demo_document("pbx.other.example", numbers=[], main_number=None, users=[]))
    own = {"Authorization": f"Bearer {service.create_token(session, 'own', DOMAIN)}"}
    other = {
        "Authorization": f"Bearer {service.create_token(session, 'other', 'pbx.other.example')}"
    }
    session.commit()
    url = f"/api/v1/tenants/{DOMAIN}/users/1001/call-handling"
    seen = client.get(url, headers=own).json
    assert seen == {"call_handling": {}, "version": 1}
    changed = client.put(
        url, headers=own, json={"call_handling": {"do_not_disturb": {}}, "version": 1}
    )
    assert changed.status_code == 200 and changed.json["version"] == 2
    stale = client.put(
        url,
        headers=own,
        json={"call_handling": {"forward_always": {"to": "voicemail"}}, "version": 1},
    )
    assert stale.status_code == 409 and "changed meanwhile" in stale.json["error"]
    assert client.get(url, headers=own).json["call_handling"] == {"do_not_disturb": {}}
    assert client.get(url, headers=other).status_code == 404
    refused = client.put(
        url, headers=own, json={"call_handling": {"forward_always": {"to": "4242"}}}
    )
    assert refused.status_code == 422
    assert refused.json["problems"][0]["path"] == "call_handling.forward_always.to"


def test_the_number_shown_must_be_one_of_the_tenant_s(engine, demo_tenant):
    shown = set_handling(engine, "1001", {"caller_id": {"outgoing_number": "01 84 80 01 00"}}, None)
    assert shown.call_handling == {"caller_id": {"outgoing_number": "+33184800100"}}
    with pytest.raises(DocumentInvalid) as refused:
        set_handling(engine, "1001", {"caller_id": {"outgoing_number": "0184809999"}}, None)
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("call_handling.caller_id.outgoing_number", "must be one of the tenant's numbers")
    ]


def test_centrex_apply_changing_a_user_makes_a_change_from_before_stale(engine, demo_tenant):
    seen = current(engine, "1001")
    raw = demo_document()
    raw["users"][1]["name"] = "Alice Renamed"
    apply_raw(engine, raw)
    assert current(engine, "1001").version == seen.version + 1
    assert current(engine, "1000").version == seen.version  # unchanged: same version
    with pytest.raises(line_settings.StaleVersion):
        set_handling(engine, "1001", {"do_not_disturb": {}}, seen.version)


def test_do_not_disturb_on_and_off_keeps_its_priority_callers(client, engine, demo_tenant):
    from centrex.db import make_session_factory

    priority = {"do_not_disturb": {"enabled": False, "priority_callers": {"extensions": ["1000"]}}}
    set_handling(engine, "1001", priority, None)
    for on in (True, False):
        with make_session_factory(engine).begin() as session:
            line_settings.set_do_not_disturb(session, DOMAIN, "1001", on)
        dnd = current(engine, "1001").call_handling["do_not_disturb"]
        assert dnd["priority_callers"] == {"extensions": ["1000"]}
        assert dnd.get("enabled", True) is on
