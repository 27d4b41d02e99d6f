"""Each surface turns a domain error into its answer in one place: the REST API's JSON
problems (code, params, path, message), the panel's form fields and error pages in the
user's language, the command line's one report; none leaks a traceback."""

from dataclasses import replace

import pytest
from flask import Flask

from admin.languages import COOKIE
from centrex import cli
from centrex.app import Services, create_app, json_errors
from esl import calls_api
from esl.live_api import blueprint as live_blueprint
from provisioning import service
from provisioning.errors import DocumentInvalid, DomainError, Problem, said
from provisioning.lookup import NotFound
from tests.conftest import demo_document
from tests.integration.test_panel import (
    PASSWORDS,
    SECRET,
    contact_change,
    errors_beside,
    forwarding,
    log_in,
    shown,
    stored_handling,
    token,
)
from tests.recording_switch import RecordingSwitch

DOMAIN = "127.0.0.1"


# --- REST API ---------------------------------------------------------------------------
@pytest.fixture
def bearer(session, demo_tenant):
    token = service.create_token(session, "tenant", DOMAIN)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_rest_a_number_taken_twice_is_a_problem_with_code_params_and_path(client, bearer):
    raw = demo_document()
    raw["numbers"].append({"number": "01 84 80 01 01", "user": "1002"})
    answer = client.put(f"/api/v1/tenants/{DOMAIN}", headers=bearer, json=raw)
    assert answer.status_code == 422
    assert answer.json["error"] == "invalid document"
    assert answer.json["code"] == "invalid_document"
    assert {
        "path": "numbers[2].number",
        "code": "number_listed_twice",
        "params": {"number": "+33184800101", "other": "numbers[1]"},
        "message": "+33184800101 is already listed at numbers[1]",
    } in answer.json["problems"]


def test_rest_errors_carry_a_code_their_own_or_their_kind_s(client, bearer):
    gone = client.get("/api/v1/tenants/127.0.0.1/users/1999", headers=bearer)
    assert gone.status_code == 404
    assert gone.json["code"] in {"unknown_line", "not_found"} and gone.json["error"]
    hidden = client.get("/api/v1/tenants/pbx.other.example", headers=bearer)
    assert hidden.json == {
        "error": "no tenant pbx.other.example",
        "code": "unknown_tenant",
        "params": {"domain": "pbx.other.example"},
    }
    # The call log's blueprint answers with the same handlers, and its own kind.
    bad = client.get(f"/api/v1/tenants/{DOMAIN}/calls?month=13", headers=bearer)
    assert bad.status_code == 400 and bad.json["code"] == "month_format"


def test_rest_a_refusal_without_a_code_falls_back_to_its_message(app, client, bearer, monkeypatch):
    def refuse(*_args, **_kwargs):
        raise DocumentInvalid([Problem("users[0].name", "must be nicer")])

    monkeypatch.setattr(service, "apply_document", refuse)
    answer = client.put(f"/api/v1/tenants/{DOMAIN}", headers=bearer, json=demo_document())
    assert answer.status_code == 422
    assert answer.json["problems"] == [
        {"path": "users[0].name", "message": "must be nicer", "code": None, "params": {}}
    ]


def test_rest_never_leaks_a_traceback(client, bearer, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug with a secret inside")

    monkeypatch.setattr(calls_api.calllog, "query_calls", broken)
    answer = client.get(f"/api/v1/tenants/{DOMAIN}/calls", headers=bearer)
    assert answer.status_code == 500 and answer.is_json
    assert "secret" not in answer.text and "Traceback" not in answer.text


def test_live_api_refusals_use_the_same_handlers(settings, engine, session, bearer):
    app = Flask("test.live")
    app.extensions["centrex"] = Services.of(settings, engine)
    app.extensions["centrex.switch_for_user"] = lambda _user_id: RecordingSwitch()
    app.register_blueprint(live_blueprint, url_prefix="/api/v1")
    json_errors(app)
    url = f"/api/v1/tenants/{DOMAIN}/users/1001/call"
    barred = app.test_client().post(url, headers=bearer, json={"destination": "1001"})
    assert barred.status_code == 422
    assert barred.json["code"] == "calls_itself"
    assert barred.json["problems"] == [
        {
            "path": "destination",
            "message": "1001 is the line itself",
            "code": "calls_itself",
            "params": {"destination": "1001"},
        }
    ]
    app.extensions["centrex.switch_for_user"] = lambda _user_id: None
    down = app.test_client().post(url, headers=bearer, json={"destination": "1002"})
    assert down.status_code == 503 and down.json["code"] == "no_node"


# --- panel ------------------------------------------------------------------------------
@pytest.fixture
def french_panel(settings, engine, demo_tenant):
    from centrex.db import make_session_factory
    from provisioning import accounts

    with make_session_factory(engine).begin() as db:
        for extension, password in PASSWORDS.items():
            accounts.set_password(db, DOMAIN, extension, password)
    app = create_app(replace(settings, secret_key=SECRET), engine)
    client = app.test_client()
    client.set_cookie(COOKIE, "fr")
    log_in(client, "1001@127.0.0.1", PASSWORDS["1001"])
    return client


def test_panel_a_forward_to_an_invalid_number_is_said_in_french_beside_its_field(
    french_panel, engine
):
    before = stored_handling(engine, "1001")
    refused = forwarding(french_panel, "1001", forward_always=True, forward_always_to="12ab")
    assert refused.status_code == 400
    assert errors_beside(refused.text, "forward_always_to") == [
        "doit être la messagerie, un numéro interne de l'entreprise ou un numéro de téléphone"
    ]
    assert stored_handling(engine, "1001") == before


def test_panel_a_forwarding_loop_with_another_user_is_said_in_french(french_panel, engine):
    from centrex.db import make_session_factory
    from provisioning import line_settings

    with make_session_factory(engine).begin() as db:
        line_settings.set_call_handling(
            db, DOMAIN, "1002", {"forward_always": {"to": "1001"}}, version=None
        )
    refused = forwarding(french_panel, "1001", forward_always=True, forward_always_to="1002")
    assert refused.status_code == 400
    assert errors_beside(refused.text, "forward_always_to") == [
        "renvois en boucle : 1001 → 1002 → 1001"
    ]


def test_panel_a_number_that_is_not_the_tenant_s_is_said_in_french(french_panel):
    refused = forwarding(french_panel, "1001", outgoing_number="01 99 00 00 00")
    assert errors_beside(refused.text, "outgoing_number") == [
        "doit être l'un des numéros de l'entreprise"
    ]


def test_panel_a_password_rule_is_said_in_french(french_panel):
    path = "/panel/password"
    data = {
        "csrf_token": token(french_panel, path),
        "current": PASSWORDS["1001"],
        "new": "Short-1!",
        "confirm": "Short-1!",
    }
    refused = french_panel.post(path, data=data)
    assert refused.status_code == 400
    assert "doit compter de 12 à 20 caractères" in shown(refused.text)


def test_panel_a_domain_error_a_view_lets_rise_is_a_french_html_page(french_panel, monkeypatch):
    from admin.lines import views as line_views

    def gone(*_args, **_kwargs):
        raise NotFound(
            said(
                "unknown_line",
                "no user %(extension)s in %(domain)s",
                extension="1001",
                domain=DOMAIN,
            )
        )

    monkeypatch.setattr(line_views.line_settings, "call_handling_of", gone)
    page = french_panel.get("/panel/lines/1001")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "aucun utilisateur 1001 dans 127.0.0.1" in shown(page.text)

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug with a secret inside")

    monkeypatch.setattr(line_views.line_settings, "call_handling_of", broken)
    failed = french_panel.get("/panel/lines/1001")
    assert failed.status_code == 500 and failed.mimetype == "text/html"
    assert "Une erreur s'est produite de notre côté" in shown(failed.text)
    assert "secret" not in failed.text and "Traceback" not in failed.text


# --- command line -----------------------------------------------------------------------
def test_cli_reports_every_domain_error_in_one_place(capsys):
    assert (
        cli.report(
            DocumentInvalid(
                [Problem("users[1].extension", said("extension_digits", "must be 2 to 8 digits"))]
            ),
            "t.yaml",
        )
        == 1
    )
    assert capsys.readouterr().err == (
        "t.yaml: invalid, nothing written:\n  users[1].extension: must be 2 to 8 digits\n"
    )
    cli.report(DomainError(said("no_node", "no FreeSWITCH node is connected")))
    assert capsys.readouterr().err == "centrex: no FreeSWITCH node is connected\n"
    cli.report(DomainError("a refusal without a code", path="password"))
    assert capsys.readouterr().err == "centrex: password: a refusal without a code\n"


def test_cli_commands_let_domain_errors_rise_to_the_report(
    monkeypatch, capsys, settings, engine, demo_tenant
):
    monkeypatch.setattr(cli, "load_settings", lambda *_a, **_k: settings)
    assert cli.main(["export", "nowhere.example"]) == 1
    assert capsys.readouterr().err == "centrex: no tenant nowhere.example\n"
    monkeypatch.setattr("sys.stdin", _Lines("Short-1!\n"))
    assert cli.main(["panel-password", DOMAIN, "1001"]) == 1
    assert capsys.readouterr().err == "centrex: password: must be 12 to 20 characters\n"
    assert cli.main(["calls", DOMAIN, "--month", "2026-13"]) == 1
    assert "Traceback" not in capsys.readouterr().err


class _Lines:
    """Standard input that is not a terminal."""

    def __init__(self, text: str) -> None:
        self.text = text

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return self.text


def test_panel_a_structural_limit_is_said_in_french_beside_its_field(french_panel, engine):
    numbers = ", ".join(f"06 12 34 56 7{n}" for n in range(6))
    refused = contact_change(french_panel, "1001", "add", name="Shop", numbers=numbers)
    assert refused.status_code == 400
    assert errors_beside(refused.text, "numbers") == ["doit compter au plus 5 éléments"]


def test_panel_a_bad_line_of_an_imported_file_is_said_in_french(french_panel):
    import io

    bad_file = (io.BytesIO(b"name,number\nA,\n"), "c.csv")
    refused = contact_change(french_panel, "1001", "import", file=bad_file)
    assert refused.status_code == 400
    assert "ligne 2 : il faut un nom et au moins un numéro" in shown(refused.text)
