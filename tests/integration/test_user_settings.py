"""One user's entry changed on its own (provisioning.user_settings), through the use case,
the REST API (PUT, PATCH with a JSON merge patch) and the panel's contacts page: the
document's rules and messages, that user's row alone written at a cost that does not
grow with the tenant, a change made from a stale version refused."""

from __future__ import annotations

import copy
import dataclasses
import re
from typing import Any

import lxml.html
import pytest
from sqlalchemy import delete, event, select

from bench.apply_bench import bench_document
from centrex.app import create_app
from centrex.db import make_session_factory
from provisioning import accounts, service, user_settings
from provisioning.document import DocumentInvalid, parse_document
from provisioning.line_settings import StaleVersion
from provisioning.models import Tenant, User
from tests.conftest import apply_raw, demo_document
from tests.integration.test_panel import (
    PASSWORDS,
    SECRET,
    english,
    log_in,
    shown,
    stored_contacts,
)
from tests.integration.test_xmlcurl import actions, dialplan

DOMAIN = "127.0.0.1"
MERGE_PATCH = "application/merge-patch+json"


def saved(engine, work):
    with make_session_factory(engine).begin() as session:
        return work(session)


def state(engine, extension: str, domain: str = DOMAIN) -> user_settings.UserState:
    return saved(engine, lambda s: user_settings.user_of(s, domain, extension))


def replace(engine, extension: str, raw: Any, version: int | None = None, domain: str = DOMAIN):
    return saved(
        engine, lambda s: user_settings.replace_user(s, domain, extension, raw, version=version)
    )


def patch(engine, extension: str, change: Any, version: int | None = None, domain: str = DOMAIN):
    return saved(
        engine, lambda s: user_settings.patch_user(s, domain, extension, change, version=version)
    )


def user_rows(engine, domain: str) -> dict[str, tuple]:
    with engine.connect() as conn:
        found = conn.execute(
            select(User.__table__)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(Tenant.domain == domain)
        ).all()
    return {row.extension: tuple(row) for row in found}


class Statements:
    """The SQL statements an engine runs while in the `with` block."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def _count(self, _conn, _cursor, statement, *_args):
        self.seen.append(" ".join(statement.split()))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    @property
    def writes(self) -> list[str]:
        return [s for s in self.seen if s.upper().startswith(("INSERT", "UPDATE", "DELETE"))]


# --- one row written, at a cost that does not grow with the tenant ----------------------
def _one_save(engine, users: int) -> tuple[list[str], list[str]]:
    """A tenant of `users` users; one of them renamed, given a number, a contact and a
    forward to a colleague (PUT), then patched: the statements of each save."""
    raw = bench_document(users)
    domain = raw["domain"]
    apply_raw(engine, raw)
    before = user_rows(engine, domain)
    extension, colleague = raw["users"][5]["extension"], raw["users"][6]["extension"]
    entry = copy.deepcopy(raw["users"][5])
    entry |= {
        "name": "Renamed Person",
        "public_number": raw["numbers"][0]["number"],
        "contacts": [{"name": "Plumber", "numbers": ["01 45 45 45 45"]}],
        "call_handling": {"forward_busy": {"to": colleague}},
    }
    version = state(engine, extension, domain).version
    with Statements(engine) as put:
        replace(engine, extension, entry, version, domain)
    with Statements(engine) as patched:
        patch(engine, extension, {"voicemail": {"emails": ["a@b.example"]}}, version + 1, domain)
    after = user_rows(engine, domain)
    assert {ext for ext in before if before[ext] != after[ext]} == {extension}
    assert state(engine, extension, domain).user["name"] == "Renamed Person"
    with engine.begin() as conn:
        conn.execute(delete(Tenant).where(Tenant.domain == domain))
    return put.seen, patched.seen


def test_a_save_writes_that_user_alone_in_as_many_statements_whatever_the_tenant(engine):
    small = _one_save(engine, 10)
    large = _one_save(engine, 200)
    for statements in (*small, *large):
        (write,) = [s for s in statements if s.upper().startswith(("INSERT", "UPDATE", "DELETE"))]
        assert write.upper().startswith("UPDATE USERS SET")
        assert "WHERE users.id = " in write and "users.version = " in write
    assert [len(s) for s in small] == [len(s) for s in large]
    assert len(small[0]) <= 10  # the user, the number, the colleague, the forward's hop, …


def test_a_save_that_changes_nothing_writes_nothing_and_keeps_the_version(engine, demo_tenant):
    before = state(engine, "1001")
    with Statements(engine) as run:
        done = replace(engine, "1001", before.user, before.version)
    assert run.writes == []
    assert (done.changed, done.version) == (False, before.version)


def test_a_new_user_is_one_insert_at_the_end_of_the_document(engine, demo_tenant):
    carol = {"name": "Carol", "sip_password": "Carol-Pass-2026x", "voicemail": {"pin": "480519"}}
    with Statements(engine) as run:
        done = replace(engine, "1003", carol)
    assert (done.created, done.version) == (True, 1)
    assert [w.split(" (")[0] for w in run.writes] == ["INSERT INTO users"]
    exported = saved(engine, lambda s: service.export_data(s, DOMAIN))
    assert [u["extension"] for u in exported["users"]] == ["1000", "1001", "1002", "1003"]
    # A version given for a user who does not exist: they were removed meanwhile.
    with pytest.raises(StaleVersion, match="removed meanwhile"):
        replace(engine, "1004", carol, version=3)


def test_a_change_from_a_stale_version_is_refused_and_writes_nothing(engine, demo_tenant):
    seen = state(engine, "1001")
    patch(engine, "1001", {"name": "Alice M."}, seen.version)
    with pytest.raises(StaleVersion):
        patch(engine, "1001", {"name": "Alice Z."}, seen.version)
    with pytest.raises(StaleVersion):
        replace(engine, "1001", seen.user, seen.version)
    assert state(engine, "1001").user["name"] == "Alice M."
    # centrex apply changing the user makes a change made from before it stale too.
    now = state(engine, "1001")
    raw = demo_document()
    raw["users"][1]["name"] = "Alice Applied"
    apply_raw(engine, raw)
    with pytest.raises(StaleVersion):
        patch(engine, "1001", {"name": "Alice again"}, now.version)


# --- the document's rules and messages ----------------------------------------------------
def _entry(**changes: Any) -> dict[str, Any]:
    entry = copy.deepcopy(demo_document()["users"][1])  # 1001, Alice
    for name, value in changes.items():
        entry[name] = value
    return entry


BAD_ENTRIES = {
    "empty name": _entry(name=" "),
    "forbidden name": _entry(name="Alice ${x}"),
    "short password": _entry(sip_password="Short1a"),
    "password holding the extension": _entry(sip_password="Abcdef-1001-XYZ"),
    "guessable PIN": _entry(voicemail={"pin": "123456"}),
    "PIN holding the line's number": _entry(voicemail={"pin": "491001"}),
    "no PIN": _entry(voicemail={"emails": ["alice@example.com"]}),
    "bad e-mail": _entry(voicemail={"pin": "270593", "emails": ["-x@example.com", "nope"]}),
    "a number not the tenant's": _entry(public_number="01 84 80 99 99"),
    "not a number": _entry(public_number="01 84 80 CALL"),
    "contacts": _entry(
        contacts=[
            {"name": "Mum", "numbers": ["06 12 34 56 78"]},
            {"name": "mum", "numbers": ["12;34"]},
        ]
    ),
    "forward to nobody": _entry(call_handling={"forward_always": {"to": "4242"}}),
    "forward to a premium number": _entry(call_handling={"forward_busy": {"to": "0899123456"}}),
    "forward to a box that is off": _entry(
        voicemail={"enabled": False}, call_handling={"forward_busy": {"to": "voicemail"}}
    ),
    "unknown schedule": _entry(
        call_handling={"forward_always": {"to": "voicemail", "schedule": "Lunch"}}
    ),
    "structure": _entry(max_concurrent_calls=0, nickname="Al", allowed_destinations=["moon"]),
    "wrong types": _entry(voicemail={"pin": "270593", "enabled": "maybe"}, contacts="Mum"),
}


def _applied_problems(entry: dict[str, Any]) -> list[tuple[str, str]]:
    raw = demo_document()
    raw["users"][1] = entry
    with pytest.raises(DocumentInvalid) as refused:
        parse_document(raw)
    return [(p.path.removeprefix("users[1]."), p.message) for p in refused.value.problems]


@pytest.mark.parametrize("entry", BAD_ENTRIES.values(), ids=BAD_ENTRIES.keys())
def test_one_user_gets_the_same_problems_as_the_document_for_the_same_entry(
    engine, demo_tenant, entry
):
    expected = _applied_problems(copy.deepcopy(entry))
    assert expected  # every case is bad for the document
    before = user_rows(engine, DOMAIN)
    with pytest.raises(DocumentInvalid) as refused:
        replace(engine, "1001", entry)
    assert [(p.path, p.message) for p in refused.value.problems] == expected
    assert user_rows(engine, DOMAIN) == before


def test_what_spans_users_is_refused_with_the_document_s_message(engine):
    raw = demo_document()
    raw["users"][0]["call_handling"] = {"forward_always": {"to": "1001"}}  # 1000 → 1001
    raw["numbers"].append({"number": "+33184800102", "otherwise": {"voicemail": "1001"}})
    raw["groups"] = [{"name": "Sales", "extension": "1003", "members": ["1000"]}]
    apply_raw(engine, raw)

    # A forward closing a circle: the document reports it at each user of the circle.
    looping = copy.deepcopy(raw)
    looping["users"][1]["call_handling"] = {"forward_always": {"to": "1000"}}
    with pytest.raises(DocumentInvalid) as document:
        parse_document(looping)
    with pytest.raises(DocumentInvalid) as refused:
        patch(engine, "1001", {"call_handling": {"forward_always": {"to": "1000"}}})
    assert [(p.path, p.message) for p in refused.value.problems] == [
        (p.path.removeprefix("users[1]."), p.message)
        for p in document.value.problems
        if p.path.startswith("users[1].")
    ]
    assert refused.value.problems[0].message == "forwarding loop 1001 → 1000 → 1001"

    # The box a number sends calls to cannot be turned off: the document says where.
    boxless = copy.deepcopy(raw)
    boxless["users"][1]["voicemail"] = {"enabled": False}
    with pytest.raises(DocumentInvalid) as document:
        parse_document(boxless)
    with pytest.raises(DocumentInvalid) as refused:
        patch(engine, "1001", {"voicemail": {"enabled": False, "pin": None}})
    assert refused.value.problems == document.value.problems
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("numbers[2].otherwise.voicemail", "no user with voicemail has extension 1001")
    ]

    # A new user cannot take a number the tenant's group is dialled by.
    with pytest.raises(DocumentInvalid) as refused:
        replace(
            engine,
            "1003",
            {"name": "Carol", "sip_password": "Carol-Pass-2026x", "voicemail": {"enabled": False}},
        )
    assert [(p.path, p.message) for p in refused.value.problems] == [
        ("extension", "1003 is already used by groups[0].extension")
    ]


# --- the REST API -------------------------------------------------------------------------
@pytest.fixture
def api(client, session, demo_tenant):
    apply_raw(
        session.get_bind(),
        demo_document("pbx.other.example", numbers=[], main_number=None, users=[]),
    )
    own = {"Authorization": f"Bearer {service.create_token(session, 'own', DOMAIN)}"}
    other = {
        "Authorization": f"Bearer {service.create_token(session, 'other', 'pbx.other.example')}"
    }
    session.commit()
    return client, own, other


URL = f"/api/v1/tenants/{DOMAIN}/users/1001"


def test_rest_get_gives_the_version_and_put_checks_it(api, engine):
    client, own, other = api
    seen = client.get(URL, headers=own).json
    assert seen["name"] == "Alice Martin" and seen["version"] == 1
    assert client.get(URL, headers=other).status_code == 404
    # The user as the GET gave it, changed and sent back: its version comes with it.
    changed = client.put(URL, headers=own, json={**seen, "name": "Alice B."})
    assert changed.status_code == 200
    assert changed.json == {
        "dry_run": False,
        "created": [],
        "updated": ["user 1001"],
        "deleted": [],
        "version": 2,
    }
    stale = client.put(URL, headers=own, json={**seen, "name": "Alice C."})
    assert stale.status_code == 409 and "changed meanwhile" in stale.json["error"]
    # No version: whatever the version now, as the API always did.
    unversioned = {k: v for k, v in seen.items() if k != "version"}
    assert client.put(URL, headers=own, json=unversioned).json["version"] == 3
    again = client.put(URL, headers=own, json=unversioned).json
    assert (again["updated"], again["version"]) == ([], 3)
    assert client.get(URL, headers=own).json["name"] == "Alice Martin"
    bad = client.put(URL, headers=own, json={**seen, "version": "2"})
    assert bad.status_code == 422 and bad.json["problems"][0]["path"] == "version"
    renamed = client.put(URL, headers=own, json={**unversioned, "extension": "1009"})
    assert renamed.status_code == 422 and renamed.json["problems"][0]["path"] == "extension"
    refused = client.put(URL, headers=own, json={**unversioned, "voicemail": {"pin": "123456"}})
    assert refused.status_code == 422
    assert refused.json["problems"] == [
        {
            "path": "voicemail.pin",
            "message": "must not contain a sequence such as 1234 or 4321",
            "code": "pin_sequence",
            "params": {},
        }
    ]


def test_rest_patch_is_a_json_merge_patch(api, client):
    client, own, _ = api
    version = client.get(URL, headers=own).json["version"]
    merged = {
        "name": "Alice Patched",
        "voicemail": {"emails": ["alice@example.com"]},  # the PIN stays: objects merge
        "public_number": None,  # removed
        "contacts": [{"name": "Mum", "numbers": ["06 12 34 56 78"]}],
        "call_handling": {"forward_always": {"to": "06 12 34 56 78"}},
        "version": version,
    }
    answer = client.patch(URL, headers=own, json=merged, content_type=MERGE_PATCH)
    assert answer.status_code == 200 and answer.json["version"] == version + 1
    now = client.get(URL, headers=own).json
    assert now == {
        "extension": "1001",
        "name": "Alice Patched",
        "sip_password": "Alice-Demo-Pass-2026",
        "voicemail": {"pin": "270593", "emails": ["alice@example.com"]},
        "contacts": [{"name": "Mum", "numbers": ["+33612345678"]}],
        "call_handling": {"forward_always": {"to": "+33612345678"}},
        "version": version + 1,
    }
    # The next call to 1001 follows the patched forward.
    bridge = dict(actions(dialplan(client, "1001")))["bridge"]
    assert bridge.endswith("sofia/gateway/127.0.0.1/+33612345678")
    removed = {"call_handling": {"forward_always": None}, "version": version + 1}
    assert client.patch(URL, headers=own, json=removed, content_type=MERGE_PATCH).status_code == 200
    assert "call_handling" not in client.get(URL, headers=own).json
    stale = client.patch(
        URL, headers=own, json={"name": "x", "version": 1}, content_type=MERGE_PATCH
    )
    assert stale.status_code == 409
    plain = client.patch(URL, headers=own, json={"name": "Alice"})
    assert plain.status_code == 415 and plain.headers["Accept-Patch"] == MERGE_PATCH
    missing = client.patch(
        f"/api/v1/tenants/{DOMAIN}/users/1999", headers=own, json={}, content_type=MERGE_PATCH
    )
    assert missing.status_code == 404
    not_object = client.patch(URL, headers=own, json=["name"], content_type=MERGE_PATCH)
    assert not_object.status_code == 422


# --- the panel ----------------------------------------------------------------------------
def panel_client(settings, engine):
    """A browser on the panel, in the tenant's language (French) unless told English."""
    return create_app(dataclasses.replace(settings, secret_key=SECRET), engine).test_client()


@pytest.fixture
def panel(settings, engine, demo_tenant):
    """test_panel's: 1000 (the admin) and 1001 may log in; English."""
    with make_session_factory(engine).begin() as session:
        for extension, password in PASSWORDS.items():
            accounts.set_password(session, DOMAIN, extension, password)
    return english(panel_client(settings, engine))


def _contacts_form(html: str, change: str) -> dict[str, str]:
    page = lxml.html.fromstring(html)
    (form,) = [
        f for f in page.forms if f.method.upper() == "POST" and f.fields.get("change") == change
    ]
    return {name: value or "" for name, value in form.form_values()}


def test_contacts_saved_from_a_stale_page_are_refused_with_a_message(settings, engine, panel):
    path = "/panel/lines/1001/contacts"
    admin = panel_client(settings, engine)  # French
    log_in(admin, "1000@127.0.0.1", PASSWORDS["1000"])
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    admins_page = admin.get(path).text
    users_form = _contacts_form(panel.get(path).text, "add")
    users_form |= {"name": "Mum", "numbers": "06 11 11 11 11"}
    assert panel.post(path, data=users_form).status_code == 302
    admins_form = _contacts_form(admins_page, "add") | {"name": "Boss", "numbers": "0612345678"}
    refused = admin.post(path, data=admins_form)
    assert refused.status_code == 400
    assert "Ces contacts ont été modifiés entre-temps" in shown(refused.text)
    assert [c["name"] for c in stored_contacts(engine, "1001")] == ["Mum"]
    # The page shows the contacts as they are now; its forms carry their version.
    assert "Mum" in shown(refused.text)
    resent = _contacts_form(refused.text, "add")
    assert resent["name"] == "Boss" and resent["version"] != admins_form["version"]
    assert admin.post(path, data=resent).status_code == 302
    assert [c["name"] for c in stored_contacts(engine, "1001")] == ["Mum", "Boss"]
    # In English too.
    english(admin)
    stale_delete = {**_contacts_form(admins_page, "add"), "change": "delete", "name": "Mum"}
    answer = admin.post(path, data=stale_delete)
    assert answer.status_code == 400
    assert "These contacts were changed meanwhile" in shown(answer.text)
    assert len(stored_contacts(engine, "1001")) == 2


def test_a_bad_contact_gets_the_document_s_message_beside_its_field(engine, panel):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    path = "/panel/lines/1001/contacts"
    form = _contacts_form(panel.get(path).text, "add") | {"name": "Shop", "numbers": "0899"}
    answer = panel.post(path, data=form)
    assert answer.status_code == 400
    expected = _applied_problems(_entry(contacts=[{"name": "Shop", "numbers": ["0899"]}]))
    assert expected[0][1] in answer.text
    assert re.search(r'name="version" type="hidden" value="1"', answer.text)
