"""Explain a call through its surfaces: `centrex explain`, `POST /api/v1/tenants/{d}/
explain` (tokens and tenant scope as the rest of the API) and the panel's "Test a call"
page (tenant admins, French and English)."""

from __future__ import annotations

import json

import pytest

from admin.languages import COOKIE
from centrex.cli import main
from provisioning import service
from tests.conftest import apply_raw, demo_document
from tests.integration.test_api import auth
from tests.integration.test_cli import env  # noqa: F401  (fixture)
from tests.integration.test_panel import PASSWORDS, log_in, panel, shown  # noqa: F401

DOMAIN = "127.0.0.1"


# --- the command ----------------------------------------------------------------------------
def test_cli_explains_a_call_from_outside_to_a_main_number(env, demo_tenant, capsys):  # noqa: F811
    code = main(
        [
            "explain",
            DOMAIN,
            "--from",
            "0612345678",
            "--to",
            "0184800100",
            "--at",
            "2026-12-24 12:45",
            "--assume",
            "1000=unregistered",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Call from 0612345678 to 0184800100, Thu 2026-12-24 12:45 (Europe/Paris, +01:00)" in out
    assert "✔ [failover] after ring — USER_NOT_REGISTERED" in out
    assert out.rstrip().endswith("Outcome: voicemail of 1000")


def test_cli_json_and_refusals(env, demo_tenant, capsys):  # noqa: F811
    assert main(["explain", DOMAIN, "--from", "1001", "--to", "1002", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["fetches"][0]["destination"] == "1002"
    assert found["fetches"][0]["steps"][0] == {
        "stage": "call",
        "rule": "ToLine",
        "applied": True,
        "why": "line 1002",
    }
    assert (
        main(["explain", DOMAIN, "--from", "1001", "--to", "1002", "--at", "2026-03-29 02:15"]) == 1
    )
    assert "does not exist in Europe/Paris: the clocks skip that hour" in capsys.readouterr().err
    assert main(["explain", DOMAIN, "--from", "1001", "--to", "1002", "--assume", "1002"]) == 1
    assert "an assumption is EXTENSION=STATE" in capsys.readouterr().err
    assert main(["explain", "nowhere.example", "--from", "1001", "--to", "1002"]) == 1


# --- the REST API ---------------------------------------------------------------------------
@pytest.fixture
def tokens(session, demo_tenant, engine):
    apply_raw(
        engine,
        demo_document(
            "pbx.other.example",
            main_number="+33184800200",
            numbers=[{"number": "+33184800200", "user": "1000"}],
            users=[{**demo_tenant["users"][0], "public_number": "+33184800200"}],
        ),
    )
    admin = service.create_token(session, "admin", None)
    tenant = service.create_token(session, "tenant", DOMAIN)
    session.commit()
    return {"admin": admin, "tenant": tenant}


def post(client, token, body, domain=DOMAIN):
    return client.post(f"/api/v1/tenants/{domain}/explain", json=body, headers=auth(token))


def test_api_explains_with_the_tenant_s_token(client, tokens):
    answer = post(
        client, tokens["tenant"], {"from": "1000", "to": "1001", "assume": "1001=answers"}
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["outcome"] == "answered"
    assert answer.json["answered_by"] == "1001"
    rows = [s["rule"] for s in answer.json["fetches"][0]["steps"] if s["stage"] == "precedence"]
    assert rows[0] == "1 selective reject" and rows[-1] == "9 ring"


def test_api_keeps_tenants_apart(client, tokens):
    # Another tenant's domain is unknown to this token; its number is no number of ours.
    other = post(client, tokens["tenant"], {"from": "1000", "to": "1001"}, "pbx.other.example")
    assert other.status_code == 404
    theirs = post(client, tokens["tenant"], {"from": "0612345678", "to": "+33184800200"})
    assert theirs.status_code == 422
    assert theirs.json["code"] == "explain_not_our_number"
    assert theirs.json["problems"][0]["path"] == "to"
    assert "pbx.other.example" not in theirs.get_data(as_text=True)
    assert client.post(f"/api/v1/tenants/{DOMAIN}/explain", json={}).status_code == 401


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({"from": "1000", "to": "1001", "at": "2026-10-25 02:30"}, "at", "explain_time_twice"),
        ({"from": "1000", "to": "1001", "assume": "1001=sleepy"}, "assume", "explain_assumption"),
        ({"from": "9999", "to": "1001"}, "from", "explain_unknown_caller"),
        ({"to": "1001"}, "from", "missing"),
        ({"from": "1000", "to": "1001", "extra": 1}, "extra", "extra_forbidden"),
    ],
)
def test_api_bad_input_is_422_with_its_field(client, tokens, body, path, code):
    answer = post(client, tokens["admin"], body)
    assert answer.status_code == 422, answer.json
    problem = answer.json["problems"][0]
    assert (problem["path"], problem.get("code")) == (path, code)


# --- the panel --------------------------------------------------------------------------------
def test_panel_page_for_admins_in_french_and_english(panel):  # noqa: F811
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert panel.get("/panel/explain").status_code == 403
    panel.get("/panel/logout")
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    empty = panel.get("/panel/explain")
    assert empty.status_code == 200
    assert "Test a call" in shown(empty.text)
    page = panel.get(
        "/panel/explain",
        query_string={
            "caller": "1001",
            "to": "1002",
            "at": "2026-12-24 12:45",
            "assume": "1002=busy",
        },
    )
    text = shown(page.text)
    assert page.status_code == 200
    assert "7 busy now" in text
    assert "Outcome: busy" in text or "Outcome: rejected" in text
    panel.set_cookie(COOKIE, "fr")
    french = shown(panel.get("/panel/explain", query_string={"caller": "1001", "to": "1002"}).text)
    assert "Tester un appel" in french
    assert "1 rejet sélectif" in french
    refused = panel.get(
        "/panel/explain", query_string={"caller": "1001", "to": "1002", "at": "2026-03-29 02:30"}
    )
    assert refused.status_code == 400
    assert "n'existe pas en Europe/Paris" in shown(refused.text)
    assert 'value="2026-03-29 02:30"' in refused.text
