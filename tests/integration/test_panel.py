"""The panel through the Flask test client: log-in, CSRF, forwarding reaching the next
call, tenant admins acting for their users and nobody else's, passwords."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import lxml.html
import pytest
from sqlalchemy import select

from admin.languages import COOKIE
from centrex.app import create_app
from centrex.db import make_session_factory
from provisioning import accounts
from provisioning.models import Tenant, User
from tests.conftest import apply_raw, demo_document
from tests.integration.test_xmlcurl import actions, dialplan

DOMAIN = "127.0.0.1"
PASSWORDS = {"1000": "Maple-4729-Cedar!", "1001": "River-5830-Orchid!"}
SECRET = "panel-test-secret-key-of-at-least-32-chars"


@pytest.fixture
def panel(settings, engine, demo_tenant):
    with make_session_factory(engine).begin() as session:
        for extension, password in PASSWORDS.items():
            accounts.set_password(session, DOMAIN, extension, password)
    app = create_app(replace(settings, secret_key=SECRET), engine)
    return english(app.test_client())


def english(client):
    """A browser that chose English with the panel's switch (the demo tenant is in
    France: its users get French otherwise)."""
    client.set_cookie(COOKIE, "en")
    return client


def token(client, path: str) -> str:
    page = client.get(path)
    assert page.status_code == 200, page.data
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert found, page.text
    return found[1]


def log_in(client, number: str, password: str):
    return client.post(
        "/panel/login",
        data={"number": number, "password": password, "csrf_token": token(client, "/panel/login")},
    )


def form_values(client, path: str) -> dict[str, str]:
    """What a browser would send of the page's form as it stands."""
    page = lxml.html.fromstring(client.get(path).text)
    (form,) = [f for f in page.forms if f.method.upper() == "POST" and f.action == path]
    values = {}
    for element in form.inputs:
        if element.name is None:
            continue
        if getattr(element, "type", "") == "checkbox":
            if element.checked:
                values[element.name] = "y"
        else:
            values[element.name] = element.value or ""
    return values


def shown(html: str) -> str:
    """The page's text as a reader sees it (markup gone, spaces collapsed)."""
    return " ".join(lxml.html.fromstring(html).text_content().split())


def errors_beside(html: str, field: str) -> list[str]:
    """The error messages the page shows right under the field named `field`."""
    page = lxml.html.fromstring(html)
    (element,) = page.xpath(f'//*[@name="{field}" and not(@type="hidden")]')
    messages = []
    for sibling in element.getparent().itersiblings():
        if sibling.get("class") != "error":
            break
        messages.append(sibling.text_content())
    return messages


def forwarding(client, extension: str, **fields):
    """The line page's form as shown, with `fields` changed (True/False: tick/untick)."""
    data = form_values(client, f"/panel/lines/{extension}")
    for name, value in fields.items():
        if value is False:
            data.pop(name, None)
        else:
            data[name] = "y" if value is True else value
    return client.post(f"/panel/lines/{extension}", data=data)


def stored_handling(engine, extension: str) -> dict:
    with engine.connect() as conn:
        return conn.execute(
            select(User.call_handling)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(Tenant.domain == DOMAIN, User.extension == extension)
        ).scalar_one()


@pytest.mark.parametrize("number", ["1001@127.0.0.1", "0184800101", "+33184800101"])
def test_users_log_in_with_one_of_their_numbers(panel, number):
    answer = log_in(panel, number, PASSWORDS["1001"])
    assert answer.status_code == 302 and answer.location.endswith("/panel/")
    assert "Alice Martin" in panel.get("/panel/lines/1001").text


@pytest.mark.parametrize(
    ("number", "password"),
    [("1001@127.0.0.1", "River-5830-Orchid?"), ("1099@127.0.0.1", "x"), ("not a number", "x")],
)
def test_a_wrong_password_or_number_gets_the_same_refusal(panel, number, password):
    answer = log_in(panel, number, password)
    assert answer.status_code == 400
    assert "Unknown number or wrong password." in answer.text
    assert panel.get("/panel/").status_code == 302  # still logged out


def test_a_user_without_a_panel_password_cannot_log_in(panel):
    assert log_in(panel, "1002@127.0.0.1", "").status_code == 400


def test_forms_without_their_csrf_token_are_refused(panel, engine):
    answer = panel.post(
        "/panel/login", data={"number": "1001@127.0.0.1", "password": PASSWORDS["1001"]}
    )
    assert answer.status_code == 400
    assert panel.get("/panel/").location.endswith("/panel/login")
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    before = stored_handling(engine, "1001")
    forged = panel.post("/panel/lines/1001", data={"do_not_disturb": "y", "no_answer_after": "20"})
    assert forged.status_code == 400
    assert stored_handling(engine, "1001") == before


def test_a_forward_set_in_the_panel_reaches_the_next_call(panel, client, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    saved = forwarding(panel, "1001", forward_always=True, forward_always_to="0612345678")
    assert saved.status_code == 302
    assert stored_handling(engine, "1001")["forward_always"] == {"to": "+33612345678"}
    call = actions(dialplan(client, "1001"))
    assert ("bridge", "sofia/gateway/127.0.0.1/+33612345678") in call
    page = panel.get("/panel/lines/1001").text
    assert 'value="06 12 34 56 78"' in page and "Saved" in page  # as the tenant writes it


def test_a_bad_target_is_explained_and_nothing_is_lost(panel, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    before = stored_handling(engine, "1001")
    answer = forwarding(
        panel,
        "1001",
        forward_busy=True,
        forward_busy_to="06;12,34",
        do_not_disturb=True,
    )
    assert answer.status_code == 400
    # The document's own message, beside the field it concerns.
    assert errors_beside(answer.text, "forward_busy_to") == [
        "must be voicemail, a company extension or a phone number"
    ]
    assert 'value="06;12,34"' in answer.text  # what was typed stays in the form
    assert stored_handling(engine, "1001") == before


def test_no_answer_delay_and_do_not_disturb(panel, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    data = dict(forward_no_answer=True, forward_no_answer_to="voicemail", do_not_disturb=True)
    assert forwarding(panel, "1001", **data, no_answer_after="30").status_code == 302
    handling = stored_handling(engine, "1001")
    assert handling["forward_no_answer"]["after"] == 30
    assert handling["do_not_disturb"].get("enabled", True) is True  # defaults left out
    everything_off = dict(forward_no_answer=False, do_not_disturb=False)
    assert forwarding(panel, "1001", **everything_off).status_code == 302
    handling = stored_handling(engine, "1001")
    assert "forward_no_answer" not in handling
    assert not handling.get("do_not_disturb", {}).get("enabled")


def test_users_reach_only_their_own_line(panel):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert panel.get("/panel/lines/1000").status_code == 403
    assert panel.get("/panel/users").status_code == 403
    assert panel.post("/panel/lines/1000", data={}).status_code == 403


def apply_other_tenant(engine) -> None:  # type: ignore[no-untyped-def]
    """A second tenant, other.example, with its own user 4242 (Elsewhere) and no numbers."""
    other = demo_document("other.example")
    other["numbers"] = []
    other.pop("main_number", None)
    for user in other["users"]:
        user.pop("public_number", None)
    other["users"].append(
        {
            "extension": "4242",
            "name": "Elsewhere",
            "sip_password": "Else-Where-Pass-42",
            "voicemail": {"enabled": "false"},
        }
    )
    apply_raw(engine, other)


def test_a_tenant_admin_acts_for_its_users_and_no_one_else(panel, engine):
    apply_other_tenant(engine)
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    listing = panel.get("/panel/users").text
    assert "Alice Martin" in listing and "Elsewhere" not in listing
    page = panel.get("/panel/lines/1001").text
    assert "acting for this user" in page
    assert forwarding(panel, "1001", do_not_disturb=True).status_code == 302
    assert stored_handling(engine, "1001")["do_not_disturb"].get("enabled", True) is True
    assert panel.get("/panel/lines/4242").status_code == 404


def test_passwords_follow_the_rules_and_the_old_one_stops_working(panel):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])

    def change(current: str, new: str, confirm: str | None = None):
        return panel.post(
            "/panel/password",
            data={
                "current": current,
                "new": new,
                "confirm": new if confirm is None else confirm,
                "csrf_token": token(panel, "/panel/password"),
            },
        )

    assert "Wrong password." in change("nope", "Harbor-8152-Falcon!").text
    assert "must not be a logical sequence" in change(PASSWORDS["1001"], "Harbor-1234-Falcon!").text
    assert "part of it" in change(PASSWORDS["1001"], "Harbor-1001-Falcon!").text
    assert "differ" in change(PASSWORDS["1001"], "Harbor-8152-Falcon!", "other").text
    assert change(PASSWORDS["1001"], "Harbor-8152-Falcon!").status_code == 302
    panel.post("/panel/logout", data={"csrf_token": token(panel, "/panel/password")})
    assert log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"]).status_code == 400
    assert log_in(panel, "1001@127.0.0.1", "Harbor-8152-Falcon!").status_code == 302


def test_the_panel_is_off_without_a_secret_key(client, demo_tenant):
    assert client.get("/panel/login").status_code == 503


def test_pages_forbid_framing_and_outside_scripts(panel):
    headers = panel.get("/panel/login").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"


def test_names_are_escaped(panel, engine):
    # The document refuses < > and quotes in names; what it lets through is escaped.
    raw = demo_document()
    raw["users"][1]["name"] = "Tom & Jerry's"
    apply_raw(engine, raw)
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = panel.get("/panel/lines/1001").text
    assert "Tom &amp; Jerry&#39;s" in page and "Tom & Jerry" not in page


def test_five_wrong_passwords_lock_the_account_for_a_quarter_of_an_hour(panel, engine):
    for _ in range(accounts.MAX_FAILURES):
        assert log_in(panel, "1001@127.0.0.1", "Wrong-Guess-2938!").status_code == 400
    # Locked: the right password is refused too, with the same answer.
    refused = log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert refused.status_code == 400 and "Unknown number or wrong password." in refused.text
    # Another user is not locked with it.
    assert log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"]).status_code == 302
    later = datetime.now(UTC) + accounts.LOCKOUT + timedelta(seconds=1)
    sessions = make_session_factory(engine)
    assert accounts.log_in(sessions, "1001@127.0.0.1", PASSWORDS["1001"], "FR", later)


def test_guesses_sent_all_at_once_get_no_more_tries_than_one_by_one(panel, engine, monkeypatch):
    """Three bursts of ten concurrent wrong passwords: the account's real hash is checked
    at most MAX_FAILURES times, and the account ends up locked."""
    from concurrent.futures import ThreadPoolExecutor

    from argon2 import PasswordHasher

    real_checks = []

    class Counting(PasswordHasher):
        def verify(self, hash, password):
            if hash != accounts._NOBODY:
                real_checks.append(password)
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "_HASHER", Counting())
    sessions = make_session_factory(engine)

    def guess(i: int):
        return accounts.log_in(sessions, "1001@127.0.0.1", f"Wrong-Guess-{i:04d}!", "FR")

    with ThreadPoolExecutor(10) as pool:
        for burst in range(3):
            assert not any(pool.map(guess, range(burst * 10, burst * 10 + 10)))
    assert len(real_checks) <= accounts.MAX_FAILURES
    with engine.connect() as conn:
        locked = conn.scalar(
            select(User.panel_locked_until)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(Tenant.domain == DOMAIN, User.extension == "1001")
        )
    assert locked is not None
    assert accounts.log_in(sessions, "1001@127.0.0.1", PASSWORDS["1001"], "FR") is None


def test_log_out_ends_the_session_on_the_server(panel):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    cookie = panel.get_cookie("centrex_panel")
    assert panel.get("/panel/lines/1001").status_code == 200
    panel.post("/panel/logout", data={"csrf_token": token(panel, "/panel/lines/1001")})
    # The cookie the browser had before logging out (kept, or stolen) opens nothing.
    panel.set_cookie("centrex_panel", cookie.value)
    assert panel.get("/panel/lines/1001").location.endswith("/panel/login")


def test_the_session_cookie_is_secure_unless_set_for_plain_http(settings, engine, demo_tenant):
    with make_session_factory(engine).begin() as session:
        accounts.set_password(session, DOMAIN, "1001", PASSWORDS["1001"])
    for secure in (True, False):
        app = create_app(replace(settings, secret_key=SECRET, secure_cookies=secure), engine)
        answer = log_in(app.test_client(), "1001@127.0.0.1", PASSWORDS["1001"])
        assert answer.status_code == 302
        cookie = answer.headers["Set-Cookie"]
        assert cookie.startswith("centrex_panel=") and "HttpOnly" in cookie
        assert ("; Secure" in cookie) is secure


def test_a_session_ends_by_itself_after_its_lifetime(panel, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    with make_session_factory(engine).begin() as session:
        row = session.execute(select(accounts.PanelSession)).scalar_one()
        assert row.expires_at.replace(tzinfo=UTC) - row.created_at.replace(tzinfo=UTC) == (
            accounts.SESSION_LIFETIME
        )
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert panel.get("/panel/lines/1001").location.endswith("/panel/login")


@pytest.fixture
def calls_logged(engine, panel):
    """1001 called 1002 twice (missed) and a mobile once, in November 2026."""
    from tests.integration.test_call_log import call, edited, store

    store(engine, call(1, "2026-11-02T09:00:00"))
    store(engine, call(2, "2026-11-03T09:00:00"))
    store(engine, edited(call(3, "2026-11-04T09:00:00"), hops=[("127.0.0.1", "0611111111")]))


def test_users_read_their_own_call_log(panel, calls_logged):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = shown(panel.get("/panel/lines/1001/calls").text)
    assert "3 calls" in page and "06 11 11 11 11" in page and "Bob Durand 1002" in page
    assert "11/4/26, 10:00" in page  # in the tenant's time (Paris, UTC+1)
    filtered = panel.get("/panel/lines/1001/calls?search=0611&month=2026-11").text
    assert "1 call<" in filtered
    assert "0 calls" in panel.get("/panel/lines/1001/calls?month=2026-12").text
    csv = panel.get("/panel/lines/1001/calls.csv?kind=placed")
    assert csv.mimetype == "text/csv" and csv.text.count("\n") == 4  # header + 3
    bad = panel.get("/panel/lines/1001/calls?month=2026-13")
    assert bad.status_code == 400 and 'role="alert"' in bad.text
    assert panel.get("/panel/lines/1002/calls").status_code == 403
    assert panel.get("/panel/lines/1002/calls.csv").status_code == 403


def test_a_tenant_admin_reads_its_users_call_logs(panel, calls_logged):
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    page = shown(panel.get("/panel/lines/1002/calls?kind=missed").text)
    assert "2 calls" in page and "Alice Martin 1001" in page
    assert panel.get("/panel/lines/4242/calls").status_code == 404


def test_caller_id_and_call_waiting(panel, engine, client):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert form_values(panel, "/panel/lines/1001").get("call_waiting") == "y"
    changed = dict(withhold=True, hide_incoming=True, call_waiting=False)
    assert forwarding(panel, "1001", **changed).status_code == 302
    assert stored_handling(engine, "1001")["caller_id"] == {"withhold": True, "hide_incoming": True}
    shown = form_values(panel, "/panel/lines/1001")
    assert shown.get("withhold") == shown.get("hide_incoming") == "y"
    assert "call_waiting" not in shown
    # The next call to 1001 hides who calls.
    assert ("set", "effective_caller_id_number=anonymous") in actions(dialplan(client, "1001"))


def contact_change(client, extension: str, change: str, **fields):
    """A change made from the contacts page as it stands now (its token and version)."""
    path = f"/panel/lines/{extension}/contacts"
    page = client.get(path).text
    version = re.search(r'name="version" type="hidden" value="([0-9]+)"', page)
    data = {"csrf_token": token(client, path), "change": change, **fields}
    if version:
        data.setdefault("version", version[1])
    return client.post(path, data=data, content_type="multipart/form-data")


def stored_contacts(engine, extension: str) -> list:
    with engine.connect() as conn:
        return conn.execute(
            select(User.contacts)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(Tenant.domain == DOMAIN, User.extension == extension)
        ).scalar_one()


def test_contacts_are_added_imported_exported_and_deleted(panel, engine):
    import io

    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    added = contact_change(panel, "1001", "add", name="Mum", numbers="06 11 11 11 11, 0145454545")
    assert added.status_code == 302
    assert stored_contacts(engine, "1001") == [
        {"name": "Mum", "numbers": ["+33611111111", "+33145454545"]}
    ]
    csv_file = (io.BytesIO(b"name;number\nBoss;0612345678\nMum;0699999999\n"), "c.csv")
    assert contact_change(panel, "1001", "import", file=csv_file).status_code == 302
    assert stored_contacts(engine, "1001") == [
        {"name": "Boss", "numbers": ["+33612345678"]},
        {"name": "Mum", "numbers": ["+33699999999"]},
    ]
    exported = panel.get("/panel/lines/1001/contacts.csv").text
    assert exported.splitlines()[1:] == ["Boss,+33612345678", "Mum,+33699999999"]
    assert contact_change(panel, "1001", "delete", name="Boss").status_code == 302
    assert [c["name"] for c in stored_contacts(engine, "1001")] == ["Mum"]


def test_bad_contacts_are_explained_and_nothing_changes(panel, engine):
    import io

    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    before = stored_contacts(engine, "1001")
    bad_number = contact_change(panel, "1001", "add", name="Shop", numbers="12;34")
    assert bad_number.status_code == 400
    assert errors_beside(bad_number.text, "numbers") == [
        "must be a phone number: digits, an optional leading +"
    ]
    bad_file = (io.BytesIO(b"name,number\nA,\n"), "c.csv")
    answer = contact_change(panel, "1001", "import", file=bad_file)
    assert answer.status_code == 400 and "line 2" in answer.text
    not_text = (io.BytesIO(b"name,number\n\xff\xfe,1\n"), "c.csv")
    assert "not UTF-8" in contact_change(panel, "1001", "import", file=not_text).text
    assert contact_change(panel, "1001", "add", name="", numbers="1").status_code == 400
    forged = panel.post("/panel/lines/1001/contacts", data={"change": "delete", "name": "x"})
    assert forged.status_code == 400
    assert stored_contacts(engine, "1001") == before
    assert panel.get("/panel/lines/1002/contacts").status_code == 403
    assert panel.get("/panel/lines/1002/contacts.csv").status_code == 403


@pytest.fixture
def media_panel(settings, engine, panel, tmp_path_factory):
    media_dir = tmp_path_factory.mktemp("media")
    app = create_app(replace(settings, secret_key=SECRET, media_dir=str(media_dir)), engine)
    return english(app.test_client()), media_dir


def media_change(client, change: str, **fields):
    data = {"csrf_token": token(client, "/panel/media"), "change": change, **fields}
    return client.post("/panel/media", data=data, content_type="multipart/form-data")


def test_tenant_admins_upload_and_delete_media(media_panel):
    import io

    from tests.unit.test_media import tone, wav

    client, media_dir = media_panel
    log_in(client, "1000@127.0.0.1", PASSWORDS["1000"])
    audio = (io.BytesIO(wav(tone(44100, 1.5, channels=2), 44100)), "closed.wav")
    answer = media_change(client, "upload", kind="announcement", name="closed", file=audio)
    assert answer.status_code == 302
    page = client.get("/panel/media").text
    assert "closed: converted and stored." in page and "0:01" in page
    assert any(media_dir.rglob("closed.wav"))

    def junk():
        return (io.BytesIO(b"RIFF....not audio"), "x.wav")

    refused = media_change(client, "upload", kind="music", name="jazz", file=junk())
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    bad_name = media_change(client, "upload", kind="music", name="../x", file=junk())
    assert bad_name.status_code == 400
    assert media_change(client, "delete", kind="announcement", name="closed").status_code == 302
    assert not any(media_dir.rglob("closed.wav"))


def test_media_are_for_tenant_admins_only(media_panel):
    client, _ = media_panel
    log_in(client, "1001@127.0.0.1", PASSWORDS["1001"])
    assert client.get("/panel/media").status_code == 403
    assert client.post("/panel/media", data={"change": "delete"}).status_code == 403


def test_a_password_change_ends_the_account_s_other_sessions(settings, engine, panel):
    elsewhere = english(create_app(replace(settings, secret_key=SECRET), engine).test_client())
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    log_in(elsewhere, "1001@127.0.0.1", PASSWORDS["1001"])
    assert elsewhere.get("/panel/lines/1001").status_code == 200
    changed = panel.post(
        "/panel/password",
        data={
            "current": PASSWORDS["1001"],
            "new": "Harbor-8152-Falcon!",
            "confirm": "Harbor-8152-Falcon!",
            "csrf_token": token(panel, "/panel/password"),
        },
    )
    assert changed.status_code == 302
    assert panel.get("/panel/lines/1001").status_code == 200  # this one goes on
    assert elsewhere.get("/panel/lines/1001").location.endswith("/panel/login")


def test_the_number_shown_on_my_calls_is_one_of_the_tenant_s(panel, engine, client):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    refused = forwarding(panel, "1001", outgoing_number="0612345678")
    assert refused.status_code == 400
    assert "must be one of the tenant" in errors_beside(refused.text, "outgoing_number")[0]
    assert 'value="0612345678"' in refused.text
    assert forwarding(panel, "1001", outgoing_number="01 84 80 01 00").status_code == 302
    assert stored_handling(engine, "1001")["caller_id"]["outgoing_number"] == "+33184800100"
    call = actions(dialplan(client, "0145454545", user_name="1001"))
    assert ("set", "effective_caller_id_number=+33184800100") in call
    assert forwarding(panel, "1001", outgoing_number="").status_code == 302
    assert "outgoing_number" not in stored_handling(engine, "1001").get("caller_id", {})


# --- languages ---------------------------------------------------------------------------
def switch_language(client, language: str, back: str):
    """The language switch of the log-in page, coming `back` to a page."""
    data = {"language": language, "next": back, "csrf_token": token(client, "/panel/login")}
    return client.post("/panel/language", data=data)


@pytest.fixture
def browser(settings, engine, panel):
    """A browser that chose no language (the panel fixture's passwords are set)."""
    return create_app(replace(settings, secret_key=SECRET), engine).test_client()


def test_the_log_in_page_speaks_the_browser_s_language(browser):
    assert "Se connecter" in browser.get("/panel/login", headers=ACCEPT_FRENCH).text
    english = browser.get("/panel/login", headers={"Accept-Language": "de, en;q=0.5"}).text
    assert "Log in" in english and '<html lang="en">' in english
    assert '<html lang="en">' in browser.get("/panel/login").text


ACCEPT_FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}
ACCEPT_ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def test_users_of_a_tenant_in_france_get_french_until_they_choose(browser, calls_logged):
    browser.environ_base.update(HTTP_ACCEPT_LANGUAGE=ACCEPT_ENGLISH["Accept-Language"])
    log_in(browser, "1001@127.0.0.1", PASSWORDS["1001"])
    line = browser.get("/panel/lines/1001").text
    assert '<html lang="fr">' in line
    assert "Renvois d'appel — Alice Martin (1001)" in line
    assert ">Ma ligne<" in line and ">My line<" not in line
    calls = browser.get("/panel/lines/1001/calls").text
    assert "3 appels" in calls and "04/11/2026 10:00" in calls  # dd/mm/yyyy, Paris time
    assert "06 11 11 11 11" in calls and ">manqué<" in calls


def test_the_switch_changes_the_language_and_comes_back_to_the_page(browser, calls_logged):
    log_in(browser, "1001@127.0.0.1", PASSWORDS["1001"])
    here = "/panel/lines/1001/calls?month=2026-11"
    answer = switch_language(browser, "en", here)
    assert answer.status_code == 302 and answer.location == here
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=en;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "3 calls" in browser.get(here).text
    assert "Forwarding of Alice Martin" in browser.get("/panel/lines/1001").text
    # The choice outlives the session: the log-in page after logging out is English too.
    browser.post("/panel/logout", data={"csrf_token": token(browser, "/panel/lines/1001")})
    assert "Log in" in browser.get("/panel/login", headers=ACCEPT_FRENCH).text
    assert switch_language(browser, "fr", "/panel/login").location == "/panel/login"
    assert "Se connecter" in browser.get("/panel/login").text


def test_the_switch_goes_back_only_to_the_panel_and_needs_its_token(browser):
    assert switch_language(browser, "fr", "https://elsewhere.example/").location == "/panel/"
    forged = browser.post("/panel/language", data={"language": "fr", "next": "/panel/login"})
    assert forged.status_code == 302 and "Set-Cookie" not in forged.headers
    unknown = switch_language(browser, "de", "/panel/login")
    assert "Set-Cookie" not in unknown.headers


def _texts(html: str) -> set[str]:
    """Every piece of text of a page, and its placeholders and labels for screen readers."""
    page = lxml.html.fromstring(html)
    found = {t.strip() for t in page.itertext() if t.strip()}
    for attribute in ("placeholder", "aria-label", "title"):
        found |= {e.get(attribute) for e in page.xpath(f"//*[@{attribute}]")}
    return found


ADMIN_PAGES = [
    "/panel/lines/1001",
    "/panel/lines/1001/calls",
    "/panel/lines/1001/contacts",
    "/panel/lines/1001/reminders",
    "/panel/lines/1001/groups",
    "/panel/directory",
    "/panel/users",
    "/panel/media",
    "/panel/conferences",
    "/panel/explain",
    "/panel/password",
    "/panel/security",
    "/panel/forgot",
]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_page_renders_in_both_languages(media_panel, calls_logged, language):
    """No English left on French pages (nav, labels, buttons, hints), none of the French
    catalogue on English ones."""
    from babel.messages.pofile import read_po

    from admin.languages import TRANSLATIONS

    with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = [m for m in read_po(po) if m.id and m.id != m.string]
    english = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalogue}
    french = {m.string[0] if isinstance(m.string, tuple) else m.string for m in catalogue}
    client, _ = media_panel
    client.set_cookie(COOKIE, language)
    log_in(client, "1000@127.0.0.1", PASSWORDS["1000"])
    added = contact_change(client, "1001", "add", name="Mum", numbers="0611111111")
    assert added.status_code == 302
    pages = {path: client.get(path) for path in ADMIN_PAGES}
    client.post("/panel/logout", data={"csrf_token": token(client, "/panel/password")})
    pages["/panel/login"] = client.get("/panel/login")
    unwanted = english if language == "fr" else french
    for path, answer in pages.items():
        assert answer.status_code == 200, path
        assert f'<html lang="{language}">' in answer.text
        assert _texts(answer.text) & unwanted == set(), path


def _nav(html: str) -> list[tuple[str, str, bool]]:
    page = lxml.html.fromstring(html)
    return [
        (a.text_content(), a.get("href"), a.get("aria-current") == "page")
        for a in page.xpath("//header/nav/a")
    ]


def test_the_nav_lists_the_concepts_each_user_may_open(panel):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert _nav(panel.get("/panel/lines/1001/calls").text) == [
        ("My line", "/panel/lines/1001", False),
        ("My calls", "/panel/lines/1001/calls", True),
        ("My contacts", "/panel/lines/1001/contacts", False),
        ("My groups", "/panel/lines/1001/groups", False),
        ("My reminders", "/panel/lines/1001/reminders", False),
        ("Directory", "/panel/directory", False),
        ("Security", "/panel/security", False),
    ]
    for tab in ("ringing", "selective", "rules", "planner", "barring"):  # the line's tabs
        here = [
            label
            for label, _, current in _nav(panel.get(f"/panel/lines/1001/{tab}").text)
            if current
        ]
        assert here == ["My line"], tab
    panel.post("/panel/logout", data={"csrf_token": token(panel, "/panel/password")})
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    admin = _nav(panel.get("/panel/lines/1001").text)  # another's line: not "My line"
    assert [label for label, _, _ in admin] == [
        "My line",
        "My calls",
        "My contacts",
        "My groups",
        "My reminders",
        "Directory",
        "Users",
        "Media",
        "Call park",
        "Schedules",
        "Conferences",
        "Test a call",
        "Security",
    ]
    assert not any(current for _, _, current in admin)
    assert not any(current for _, _, current in _nav(panel.get("/panel/lines/1001/ringing").text))
    assert panel.get("/panel/").location.endswith("/panel/lines/1000")  # the first entry


def test_a_save_made_from_a_stale_page_is_refused_and_nothing_is_lost(settings, engine, panel):
    """The admin and the user each have the line page open; the user saves first. The
    admin's save, made from what the page showed before, is refused with a message,
    and the user's change stays; saved again knowingly, the admin's goes through."""
    admin = create_app(replace(settings, secret_key=SECRET), engine).test_client()
    english(admin)
    log_in(admin, "1000@127.0.0.1", PASSWORDS["1000"])
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    admins_page = form_values(admin, "/panel/lines/1001")
    assert forwarding(panel, "1001", do_not_disturb=True).status_code == 302
    admins_page["forward_busy"] = "y"
    admins_page["forward_busy_to"] = "voicemail"
    refused = admin.post("/panel/lines/1001", data=admins_page)
    assert refused.status_code == 400
    assert "changed meanwhile" in shown(refused.text)
    assert stored_handling(engine, "1001") == {"do_not_disturb": {}}
    again = lxml.html.fromstring(refused.text)
    (form,) = [f for f in again.forms if f.action == "/panel/lines/1001"]
    resubmitted = {**admins_page, "version": form.fields["version"]}
    assert admin.post("/panel/lines/1001", data=resubmitted).status_code == 302
    assert stored_handling(engine, "1001") == {
        "forward_busy": {"to": "voicemail"},
        "do_not_disturb": {"enabled": False},
    }


def test_do_not_disturb_turned_on_in_the_panel_can_be_turned_off_again(panel, engine):
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert forwarding(panel, "1001", do_not_disturb=True).status_code == 302
    assert stored_handling(engine, "1001") == {"do_not_disturb": {}}
    assert forwarding(panel, "1001", do_not_disturb=False).status_code == 302
    assert stored_handling(engine, "1001") == {"do_not_disturb": {"enabled": False}}


def test_the_panel_s_errors_are_pages_in_the_user_s_language_never_json(panel, monkeypatch):
    from admin.users import views as users_views

    page = panel.get("/panel/nowhere")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "There is no such page." in shown(page.text)
    panel.set_cookie(COOKIE, "fr")
    assert "Cette page n'existe pas." in shown(panel.get("/panel/nowhere").text)
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert "Vous n'avez pas accès à cette page." in shown(panel.get("/panel/users").text)

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(users_views, "render_template", broken)
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    failed = panel.get("/panel/users")
    assert failed.status_code == 500 and failed.mimetype == "text/html"
    assert "Une erreur s'est produite de notre côté" in shown(failed.text)
    assert "a bug" not in failed.text
    # The REST API keeps answering JSON.
    assert panel.get("/api/v1/nowhere").is_json


def test_a_forward_s_schedule_and_options_are_shown_and_kept(panel, engine):
    """A forward bound to a schedule shows as such (never as "every call"), and the
    page sets its schedule, direct-only and confirmation."""
    with engine.begin() as conn:
        conn.execute(
            User.__table__.update()
            .where(User.extension == "1001")
            .values(
                call_handling={
                    "forward_always": {"to": "+33612345678", "schedule": "office hours"},
                    "forward_busy": {"to": "1002", "direct_only": True, "confirm": True},
                }
            )
        )
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    values = form_values(panel, "/panel/lines/1001")
    assert values["forward_always_schedule"] == "office hours"
    assert "forward_busy_direct_only" in values and "forward_busy_confirm" in values
    page = lxml.html.fromstring(panel.get("/panel/lines/1001").text)
    (chosen,) = page.xpath('//select[@name="forward_always_schedule"]/option[@selected]')
    assert chosen.text_content() == "while “office hours” is in force"

    assert forwarding(panel, "1001", forward_busy_confirm=False).status_code == 302
    assert stored_handling(engine, "1001")["forward_busy"] == {"to": "1002", "direct_only": True}
    assert stored_handling(engine, "1001")["forward_always"]["schedule"] == "office hours"
    answer = forwarding(panel, "1001", forward_always_schedule="", forward_busy_confirm=True)
    assert answer.status_code == 302
    handling = stored_handling(engine, "1001")
    assert handling["forward_always"] == {"to": "+33612345678"}
    assert handling["forward_busy"] == {"to": "1002", "direct_only": True, "confirm": True}

    refused = forwarding(panel, "1001", forward_always_schedule="Nights")
    assert refused.status_code == 400
    assert errors_beside(refused.text, "forward_always_schedule")
    assert stored_handling(engine, "1001")["forward_always"] == {"to": "+33612345678"}


def test_settings_of_the_other_pages_are_summed_up_read_only_and_kept(panel, engine):
    handling = {
        "simultaneous_ring": {"numbers": ["+33699887766"]},
        "selective": {"reject_anonymous": True},
        "planner": {"periods": [{"name": "Day", "rule_list": "Work", "mon": ["08:00-18:00"]}]},
        "rule_lists": [{"name": "Work", "rules": [], "default": {"action": "ring"}}],
    }
    with engine.begin() as conn:
        conn.execute(
            User.__table__.update().where(User.extension == "1001").values(call_handling=handling)
        )
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = shown(panel.get("/panel/lines/1001").text)
    assert "Also in force" in page
    assert "Simultaneous ring: +33699887766 ring with my phones." in page
    assert "Some callers are rejected (selective rejection)." in page
    assert "Rule lists: Work." in page
    assert "Weekly planner: Day." in page
    assert forwarding(panel, "1001", do_not_disturb=True).status_code == 302
    kept = stored_handling(engine, "1001")
    assert kept["simultaneous_ring"] == handling["simultaneous_ring"]
    assert kept["planner"] == handling["planner"]
    assert kept["selective"] == handling["selective"]
    assert kept["rule_lists"] == [{"name": "Work", "default": {"action": "ring"}}]
