"""The call log's "rule applied": the dialplan marks each decision on the channel
(`centrex_route`), FreeSWITCH sends it back with the next fetch and in the call record,
and the log keeps it for every user the call concerns — shown by the REST API, the CSV
and the panel ("Règle appliquée")."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from centrex.cli import main
from esl.calllog import calls_csv, query_calls
from provisioning import service
from provisioning.models import CallRecord
from tests.conftest import apply_raw, demo_document
from tests.integration.test_api import auth
from tests.integration.test_call_log import store
from tests.integration.test_cli import env  # noqa: F401  (fixture)
from tests.integration.test_panel import PASSWORDS, log_in, panel, shown  # noqa: F401
from tests.integration.test_xmlcurl import dialplan, route_mark
from tests.unit.test_cdr import ANSWERED, CALL1_A, CALL1_B, cdr_xml, edited
from xmlcurl import fsnames as fs

TRAIL = "1000: always forward to 1002 > 1002: ring 1002"


def test_each_fetch_marks_its_decision_after_the_earlier_ones(client, demo_tenant):
    assert route_mark(dialplan(client, "1000")) == "1000: ring 1000"
    after = dialplan(
        client,
        "1000",
        centrex_route="1000: ring 1000",
        centrex_failover_for="1000",
        centrex_stage="ring",
        originate_disposition="NO_ANSWER",
    )
    assert route_mark(after) == "1000: ring 1000 > 1000: after ring NO_ANSWER: voicemail of 1000"


def test_a_forward_s_trail_reaches_the_call_log_of_each_user(engine, session, demo_tenant):
    caller = edited(cdr_xml(CALL1_A), {fs.V_ROUTE: TRAIL})
    store(engine, caller)
    routes = {c.extension: c.route for c in query_calls(session, "127.0.0.1").calls}
    assert routes == {"1001": TRAIL, "1000": TRAIL}


def test_the_trail_stays_when_the_phone_s_leg_reports_first_or_last(engine, demo_tenant):
    phone = edited(cdr_xml(CALL1_B), ANSWERED)
    caller = edited(cdr_xml(CALL1_A), {fs.V_ROUTE: TRAIL})
    for order in ([phone, caller], [caller, phone]):
        with engine.begin() as conn:
            conn.execute(CallRecord.__table__.delete())
        for xml in order:
            store(engine, xml)
        with Session(engine) as s:
            kept = s.execute(select(CallRecord.extension, CallRecord.kind, CallRecord.route)).all()
        assert sorted(kept) == [("1000", "received", TRAIL), ("1001", "placed", TRAIL)]


def test_api_csv_and_panel_show_the_rule_applied(engine, session, client, panel):  # noqa: F811
    store(engine, edited(cdr_xml(CALL1_A), {fs.V_ROUTE: TRAIL}))
    token = service.create_token(session, "t", "127.0.0.1")
    session.commit()
    page = client.get("/api/v1/tenants/127.0.0.1/calls?user=1000", headers=auth(token)).json
    assert page["calls"][0]["route"] == TRAIL
    with Session(engine) as fresh:
        assert calls_csv(fresh, "127.0.0.1").splitlines()[0].endswith(",hangup_cause,route")
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    text = shown(panel.get("/panel/lines/1000/calls").text)
    assert "Rule applied" in text
    assert "Rule applied:1000: always forward to 10021002: ring 1002" in text  # one a line


def test_a_record_without_a_trail_shows_none(engine, session, demo_tenant):
    apply_raw(engine, demo_document())
    store(engine, cdr_xml(CALL1_A))
    assert {c.route for c in query_calls(session, "127.0.0.1").calls} == {""}


def test_the_command_prints_the_rule_applied(env, engine, demo_tenant, capsys):  # noqa: F811
    store(engine, edited(cdr_xml(CALL1_A), {fs.V_ROUTE: TRAIL}))
    assert main(["calls", "127.0.0.1", "--user", "1000"]) == 0
    assert f"rule applied: {TRAIL}" in capsys.readouterr().out
