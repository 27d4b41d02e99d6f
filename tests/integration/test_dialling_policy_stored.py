"""The dialling policy stored and served: migration 0020, the REST document API, the
panel's call-barring page, and the dialplan reading both settings from the database."""

import json

from sqlalchemy import select, text

from admin.languages import COOKIE
from centrex.db import make_session_factory
from provisioning import service
from provisioning.models import User
from tests.conftest import apply_raw, demo_document
from tests.integration.test_api import auth
from tests.integration.test_panel import PASSWORDS, form_values, log_in, panel  # noqa: F401
from tests.integration.test_xmlcurl import actions, dialplan

DOMAIN = "127.0.0.1"
GATEWAY_BRIDGE = "sofia/gateway/127.0.0.1/"


def stored_allowed(engine, extension: str) -> list[str]:
    with make_session_factory(engine).begin() as s:
        found = s.scalar(select(User.allowed_destinations).where(User.extension == extension))
    return sorted(found)


def test_migration_0020_reads_former_allow_lists_as_they_were_meant(engine):
    from alembic import command

    from centrex.db import alembic_config

    config = alembic_config(engine)
    apply_raw(engine, demo_document())
    try:
        command.downgrade(config, "0016")
        with engine.begin() as conn:
            conn.execute(text("UPDATE users SET allowed_destinations = '[\"national\"]'"))
            conn.execute(
                text(
                    'UPDATE users SET allowed_destinations = \'["national", "premium"]\' '
                    "WHERE extension = '1002'"
                )
            )
        command.upgrade(config, "heads")
        with engine.connect() as conn:
            query = text("SELECT extension, allowed_destinations FROM users")
            rows = {ext: value for ext, value in conn.execute(query).all()}
        read = {ext: sorted(json.loads(v) if isinstance(v, str) else v) for ext, v in rows.items()}
        assert read["1001"] == ["access_codes", "local", "national", "setting_codes"]
        assert read["1002"] == [
            "access_codes",
            "directory",
            "local",
            "national",
            "operator",
            "premium",
            "setting_codes",
        ]
    finally:
        command.upgrade(config, "heads")


def test_the_document_api_sets_and_shows_call_barring_and_the_prefix(client, engine, session):
    apply_raw(engine, demo_document())
    token = service.create_token(session, "tenant", DOMAIN)
    session.commit()
    h = auth(token)
    user = client.get(f"/api/v1/tenants/{DOMAIN}/users/1001", headers=h).json
    assert "call_barring" not in user  # the default
    user["call_barring"] = ["international", "premium", "operator", "directory", "national"]
    answer = client.put(f"/api/v1/tenants/{DOMAIN}/users/1001", headers=h, json=user)
    assert answer.status_code == 200, answer.json
    got = client.get(f"/api/v1/tenants/{DOMAIN}/users/1001", headers=h).json
    assert got["call_barring"] == ["directory", "international", "national", "operator", "premium"]
    assert stored_allowed(engine, "1001") == ["access_codes", "local", "setting_codes"]
    # A forward the barring forbids: 422 with the field's path (made from the version now).
    user = got
    user["call_handling"] = {"forward_always": {"to": "0612345678"}}
    refused = client.put(f"/api/v1/tenants/{DOMAIN}/users/1001", headers=h, json=user)
    assert refused.status_code == 422
    assert "forward_always" in json.dumps(refused.json)
    doc = client.get(f"/api/v1/tenants/{DOMAIN}", headers=h).json
    assert "outside_line_prefix" not in doc
    doc["outside_line_prefix"] = True
    assert client.put(f"/api/v1/tenants/{DOMAIN}", headers=h, json=doc).status_code == 200
    assert client.get(f"/api/v1/tenants/{DOMAIN}", headers=h).json["outside_line_prefix"] is True


def test_the_dialplan_applies_the_stored_prefix_and_barring(client, engine):
    raw = demo_document(outside_line_prefix=True)
    raw["users"][0]["call_barring"] = ["international", "premium", "operator", "directory"]
    apply_raw(engine, raw)  # 1000 calls (fixture dialplan-1000 is a call from 1000)
    placed = actions(dialplan(client, "00612345678"))
    assert ("bridge", GATEWAY_BRIDGE + "+33612345678") in placed
    barred = actions(dialplan(client, "00041446681800"))
    assert ("hangup", "OUTGOING_CALL_BARRED") in barred
    assert not any(app == "bridge" for app, _ in barred)
    assert ("bridge", GATEWAY_BRIDGE + "112") in actions(dialplan(client, "112"))
    assert ("bridge", GATEWAY_BRIDGE + "112") in actions(dialplan(client, "0112"))
    assert ("hangup", "UNALLOCATED_NUMBER") in actions(dialplan(client, "3949"))


def barring_page(client, extension: str, **ticked):
    path = f"/panel/lines/{extension}/barring"
    values = form_values(client, path)
    for name, on in ticked.items():
        if on:
            values[name] = "y"
        else:
            values.pop(name, None)
    return client.post(path, data=values)


def test_an_admin_bars_a_user_s_categories_in_the_panel(panel, engine):  # noqa: F811
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    assert "Directory enquiries" in panel.get("/panel/lines/1001/barring").text
    shown = form_values(panel, "/panel/lines/1001/barring")  # ticked: barred (the default)
    assert {"international", "premium", "operator", "directory"} <= set(shown)
    assert "national" not in shown and "access_codes" not in shown
    saved = barring_page(panel, "1001", international=False, national=True)
    assert saved.status_code == 302
    assert stored_allowed(engine, "1001") == [
        "access_codes",
        "international",
        "local",
        "setting_codes",
    ]


def test_barring_a_category_a_forward_uses_is_refused_and_nothing_changes(
    panel,  # noqa: F811
    engine,
):
    with make_session_factory(engine).begin() as s:
        user = s.scalar(select(User).where(User.extension == "1001"))
        user.call_handling = {"forward_always": {"to": "+33612345678"}}
    before = stored_allowed(engine, "1001")
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    answer = barring_page(panel, "1001", national=True)
    assert answer.status_code == 400
    assert "national numbers are not among" in answer.text
    assert stored_allowed(engine, "1001") == before


def test_users_see_their_barring_and_cannot_change_it(panel, engine):  # noqa: F811
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = panel.get("/panel/lines/1001/barring")
    assert page.status_code == 200 and "Only an administrator" in page.text
    before = stored_allowed(engine, "1001")
    assert barring_page(panel, "1001", premium=False).status_code == 403
    assert stored_allowed(engine, "1001") == before
    assert panel.get("/panel/lines/1000/barring").status_code == 403


def test_the_barring_page_speaks_french(panel):  # noqa: F811
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    panel.set_cookie(COOKIE, "fr")
    page = panel.get("/panel/lines/1001/barring").text
    assert "Blocage d'appel" in page and "Annuaire" in page


def stored_policies(engine) -> dict[str, str | None]:
    with make_session_factory(engine).begin() as s:
        return dict(s.execute(select(User.extension, User.caller_id_policy)).all())


def test_the_caller_id_policy_is_applied_to_each_user_and_reaches_the_call(client, engine):
    raw = demo_document()
    raw["groups"] = [{"name": "Sales", "extension": "300", "members": ["1000", "1002"]}]
    raw["outgoing_caller_ids"] = [
        {"present": "+33184800101", "groups": ["Sales"]},
        {"present": "withheld", "users": ["1002"]},
    ]
    apply_raw(engine, raw)
    assert stored_policies(engine) == {"1000": "+33184800101", "1001": None, "1002": "withheld"}
    placed = actions(dialplan(client, "0612345678"))  # a call from 1000
    assert ("set", "effective_caller_id_number=+33184800101") in placed
    # 1000 leaves the group: its rule no longer applies, and the export is as written.
    raw["groups"][0]["members"] = ["1002"]
    apply_raw(engine, raw)
    assert stored_policies(engine)["1000"] is None
    with make_session_factory(engine).begin() as s:
        exported = service.export_data(s, DOMAIN)
    assert exported["outgoing_caller_ids"] == raw["outgoing_caller_ids"]


def test_users_see_the_number_their_calls_present_and_why(panel, engine):  # noqa: F811
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = panel.get("/panel/lines/1001/barring").text
    assert "Calls outside present 01 84 80 01 01." in page and "policy" not in page
    raw = demo_document()
    raw["outgoing_caller_ids"] = [{"present": "main", "users": ["1001"]}]
    apply_raw(engine, raw)
    page = panel.get("/panel/lines/1001/barring").text
    assert "Calls outside present 01 84 80 01 00." in page
    assert "caller ID policy decides it" in page
    raw["outgoing_caller_ids"] = [{"present": "withheld", "users": ["1001"]}]
    apply_raw(engine, raw)
    assert "no number (withheld)" in panel.get("/panel/lines/1001/barring").text


def test_the_openapi_description_carries_the_dialling_policy(client):
    schemas = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    barring = schemas["UserDoc"]["properties"]["call_barring"]
    assert "emergency numbers are never barred" in barring["description"]
    assert set(schemas["Category"]["enum"]) >= {"local", "operator", "setting_codes"}
    tenant = schemas["TenantDoc"]["properties"]
    assert {"outside_line_prefix", "outgoing_caller_ids"} <= set(tenant)
