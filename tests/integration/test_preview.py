"""Preview a change: a dry run lists the calls from outside whose routing changes,
explained before (stored) and after (the document applied, rolled back), and writes
nothing; through `provisioning.preview`, `centrex apply --dry-run` and the REST PUT."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from centrex.cli import main
from centrex.db import make_session_factory
from provisioning import preview, service
from provisioning.document import DocumentInvalid, parse_document
from provisioning.models import Base
from tests.conftest import apply_raw, demo_document
from tests.integration.test_api import auth, tokens  # noqa: F401  (fixture)
from tests.integration.test_cli import env  # noqa: F401  (fixture)

DOMAIN = "127.0.0.1"
# A Monday just after midnight in Paris: the next 7 days hold five office days.
NOW = datetime(2026, 12, 7, 0, 5, tzinfo=ZoneInfo("Europe/Paris"))
SALES_NUMBER = "+33184800102"


def with_units(**changes: object) -> dict:
    """The demo tenant with a hunt group, a queue and a number to the group."""
    raw = demo_document()
    raw["groups"] = [{"name": "Sales", "extension": "2000", "members": ["1001", "1002"]}]
    raw["queues"] = [{"name": "Support", "extension": "3000", "agents": ["1002"]}]
    raw["numbers"] = [*raw["numbers"], {"number": SALES_NUMBER, "otherwise": {"group": "Sales"}}]
    raw.update(changes)
    return raw


def run(
    engine: Engine, raw: dict, now: datetime = NOW
) -> tuple[service.ApplyReport, preview.RoutingEffects]:
    doc = parse_document(raw)
    with make_session_factory(engine).begin() as session:
        found = preview.preview(
            session,
            doc,
            lambda: service.apply_document(session, doc),
            default_country="FR",
            now=now,
        )
        session.rollback()
    return found


def everything(engine: Engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(select(t))), key=repr)
            for t in Base.metadata.sorted_tables
        }


def targets(effects: preview.RoutingEffects) -> set[tuple[str, str]]:
    return {(c.target.kind, c.target.number) for c in effects.changes}


def test_moving_a_number_from_a_group_to_a_queue_lists_that_number_s_calls_only(engine):
    apply_raw(engine, with_units())
    moved = with_units()
    moved["numbers"][-1]["otherwise"] = {"queue": "Support"}
    report, effects = run(engine, moved)
    assert report.updated == [f"number {SALES_NUMBER}"]
    assert targets(effects) == {("number", SALES_NUMBER)}
    # Three numbers, a group, a queue and three users, each at the same instants: every
    # instant of the moved number changes, and nothing else.
    assert effects.explained == effects.considered == 8 * len(effects.changes)
    assert len(effects.changes) == 20  # 08:00, 12:00, 14:00, 18:00 on five days
    change = effects.changes[0]
    assert change.before.route.startswith("+33184800102") and "group Sales" in change.before.route
    assert "queue Support" in change.after.route
    assert change.before.summary != change.after.summary
    assert change.label == "office hours"


def test_a_forward_added_to_one_user_lists_that_user_s_calls_only(engine):
    apply_raw(engine, with_units())
    forwarded = with_units()
    forwarded["users"][1]["call_handling"] = {"forward_always": {"to": "voicemail"}}
    report, effects = run(engine, forwarded)
    assert report.updated == ["user 1001"]
    # Alice's extension and her direct number; the group rings her own line, not her
    # forwards (members_call_handling is off), so its calls stay as they were.
    assert targets(effects) == {("user", "1001"), ("number", "+33184800101")}
    for change in effects.changes:
        assert change.after.rule == "[precedence] 3 forward always — to voicemail"
        assert change.before.rule.startswith("[precedence] 9 ring")
        assert change.after.outcome == "voicemail"


def test_an_unchanged_document_changes_no_call(engine):
    apply_raw(engine, with_units())
    report, effects = run(engine, with_units())
    assert not report.changed
    assert effects.explained == 160 and effects.changes == []
    assert "routing: no call changes" in preview.as_text(effects)


def test_a_dry_run_writes_nothing(engine):
    apply_raw(engine, with_units())
    before = everything(engine)
    changed = with_units(name="Renamed", holidays=[{"name": "Noël", "date": "2026-12-25"}])
    changed["users"][2]["call_handling"] = {"forward_busy": {"to": "1000"}}
    changed["groups"][0]["members"] = ["1002"]
    changed["numbers"] = changed["numbers"][:2]
    report, effects = run(engine, changed)
    assert report.changed and effects.changes
    assert everything(engine) == before


def test_a_new_tenant_is_previewed_and_not_created(engine):
    report, effects = run(engine, with_units())
    assert report.created[0] == f"tenant {DOMAIN}"
    assert len(effects.changes) == effects.explained == 160
    assert {c.before.outcome for c in effects.changes} == {"not routed"}
    with make_session_factory(engine).begin() as session:
        assert service.list_tenants(session) == []


def test_the_next_holiday_and_a_planner_are_instants_of_their_own(engine):
    raw = with_units(holidays=[{"name": "Noël", "date": "2026-12-25"}])
    raw["numbers"][-1]["routes"] = [{"schedule": "office hours", "to": {"group": "Sales"}}]
    raw["numbers"][-1]["otherwise"] = {"voicemail": "1000"}
    apply_raw(engine, raw)
    # Without the holiday, Christmas at 08:01 is office hours: the number rings Sales.
    open_on_christmas = copy.deepcopy(raw)
    open_on_christmas["holidays"] = []
    _, effects = run(engine, open_on_christmas)
    assert targets(effects) == {("number", SALES_NUMBER)}
    assert [(c.at.astimezone(ZoneInfo("Europe/Paris")), c.label) for c in effects.changes] == [
        (datetime(2026, 12, 25, 8, 1, tzinfo=ZoneInfo("Europe/Paris")), "holiday Noël")
    ]
    assert effects.changes[0].before.outcome == "voicemail"
    # A planner's periods are instants of its user's calls alone.
    planned = copy.deepcopy(raw)
    planned["users"][2]["call_handling"] = {
        "rule_lists": [{"name": "Lunch", "default": {"action": "voicemail"}}],
        "planner": {"periods": [{"name": "Lunch", "rule_list": "Lunch", "tue": ["12:30-13:30"]}]},
    }
    planned["users"][2]["voicemail"] = {"pin": "270594"}
    _, effects = run(engine, planned)
    local = {
        c.at.astimezone(ZoneInfo("Europe/Paris")).strftime("%a %H:%M") for c in effects.changes
    }
    assert "Tue 12:31" in local
    planned_calls = {
        (c.target.kind, c.target.number) for c in effects.changes if c.label == "planner"
    }
    assert planned_calls == {("user", "1002")}


def test_the_cap_keeps_the_touched_items_first(engine):
    apply_raw(engine, with_units())
    forwarded = with_units()
    forwarded["users"][1]["call_handling"] = {"forward_always": {"to": "voicemail"}}
    doc = parse_document(forwarded)
    with make_session_factory(engine).begin() as session:
        _, effects = preview.preview(
            session,
            doc,
            lambda: service.apply_document(session, doc),
            default_country="FR",
            now=NOW,
            max_calls=40,
        )
        session.rollback()
    assert (effects.explained, effects.considered, effects.capped) == (40, 160, True)
    assert targets(effects) == {("user", "1001"), ("number", "+33184800101")}
    assert "the first 40 of 160: capped" in preview.as_text(effects)


def test_bad_input_gets_the_errors_of_apply(engine):
    apply_raw(engine, with_units())
    bad = with_units()
    bad["numbers"][-1]["otherwise"] = {"queue": "Nowhere"}
    with pytest.raises(DocumentInvalid) as refused:
        run(engine, bad)
    with pytest.raises(DocumentInvalid) as applied, make_session_factory(engine).begin() as s:
        service.apply_document(s, parse_document(bad))
    assert str(refused.value) == str(applied.value)


# --- the surfaces -----------------------------------------------------------------------------
def test_rest_dry_run_answers_the_routing_as_json(client, tokens, engine):  # noqa: F811
    apply_raw(engine, with_units())
    h = auth(tokens["tenant"])
    moved = with_units()
    moved["numbers"][-1]["otherwise"] = {"queue": "Support"}
    before = everything(engine)
    answer = client.put(f"/api/v1/tenants/{DOMAIN}?dry_run=true", headers=h, json=moved)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["dry_run"] is True and body["updated"] == [f"number {SALES_NUMBER}"]
    routing = body["routing"]
    assert routing["calls_explained"] == routing["calls_considered"] > 0
    assert routing["capped"] is False
    assert {(c["kind"], c["to"]) for c in routing["changes"]} == {("number", SALES_NUMBER)}
    first = routing["changes"][0]
    assert first["caller"] == preview.OUTSIDE_CALLER
    assert "queue Support" in first["after"]["route"]
    assert set(first["before"]) == {"outcome", "summary", "rule", "route", "seconds"}
    assert everything(engine) == before
    # A real PUT answers as it always did, without routing.
    same = client.put(f"/api/v1/tenants/{DOMAIN}", headers=h, json=with_units())
    assert "routing" not in same.json


def test_rest_dry_run_is_tenant_scoped_and_refuses_as_apply(client, tokens, engine):  # noqa: F811
    h = auth(tokens["tenant"])
    other = demo_document("pbx.other.example", numbers=[], main_number=None, users=[])
    assert (
        client.put(
            "/api/v1/tenants/pbx.other.example?dry_run=true", headers=h, json=other
        ).status_code
        == 404
    )
    bad = with_units()
    bad["users"][1]["extension"] = "1"
    dry = client.put(f"/api/v1/tenants/{DOMAIN}?dry_run=true", headers=h, json=bad)
    real = client.put(f"/api/v1/tenants/{DOMAIN}", headers=h, json=bad)
    assert dry.status_code == real.status_code == 422
    assert dry.json == real.json


def test_cli_dry_run_text_and_json(env, tmp_path, capsys):  # noqa: F811
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(with_units()))
    assert main(["apply", str(path)]) == 0
    capsys.readouterr()
    forwarded = with_units()
    forwarded["users"][1]["call_handling"] = {"forward_always": {"to": "voicemail"}}
    path.write_text(json.dumps(forwarded))
    assert main(["apply", "--dry-run", str(path)]) == 0
    out = capsys.readouterr().out
    assert "would update: user 1001" in out
    assert "routing: 160 calls from outside explained before and after" in out
    assert "changes: user 1001: " in out and "changes: number +33184800101: " in out
    assert "    after:  [precedence] 3 forward always — to voicemail" in out
    assert main(["apply", "--dry-run", "--json", str(path)]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["dry_run"] is True and body["updated"] == ["user 1001"]
    assert {c["to"] for c in body["routing"]["changes"]} == {"1001", "+33184800101"}
    # Nothing was written: the stored user still has no forward.
    assert main(["export", DOMAIN]) == 0
    assert "forward_always" not in capsys.readouterr().out
    path.write_text(json.dumps(with_units()))
    assert main(["apply", "--dry-run", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no change\n") and "routing: no call changes" in out
