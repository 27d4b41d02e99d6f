"""Account security through the panel, with mail read from a real local SMTP server
(aiosmtpd): the security e-mail asked for at the first log-in, mail on password and
voicemail PIN changes, the forgotten password by a one-time link, and log-ins
throttled per network address."""

from __future__ import annotations

import email
import re
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from centrex.app import create_app
from centrex.db import make_session_factory
from provisioning import account_security, accounts
from provisioning.models import PasswordReset, Tenant, User
from tests.integration.test_panel import (
    DOMAIN,
    PASSWORDS,
    SECRET,
    english,
    errors_beside,
    log_in,
    shown,
    token,
)


class Inbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox():
    found = Inbox()
    controller = Controller(found, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield found, controller.port
    controller.stop()


def _panel(settings, engine, **overrides):
    with make_session_factory(engine).begin() as session:
        for extension, password in PASSWORDS.items():
            accounts.set_password(session, DOMAIN, extension, password)
    app = create_app(replace(settings, secret_key=SECRET, **overrides), engine)
    return english(app.test_client())


@pytest.fixture
def mailing_panel(settings, engine, demo_tenant, inbox):
    _, port = inbox
    return _panel(
        settings,
        engine,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_sender="Centrex <notifications@centrex.test>",
        panel_url="https://panel.example.com",
    )


@pytest.fixture
def mailless_panel(settings, engine, demo_tenant):
    return _panel(settings, engine)


def _body(message: Message) -> str:
    part = message.get_payload(decode=True)
    assert isinstance(part, bytes)
    return part.decode()


def _set_email(engine, extension: str, address: str | None) -> None:
    with engine.begin() as conn:
        tenant = conn.execute(select(Tenant.id).where(Tenant.domain == DOMAIN)).scalar_one()
        conn.execute(
            update(User)
            .where(User.tenant_id == tenant, User.extension == extension)
            .values(security_email=address)
        )


def _stored(engine, extension: str, column):
    with engine.connect() as conn:
        return conn.execute(
            select(column)
            .join(Tenant, Tenant.id == User.tenant_id)
            .where(Tenant.domain == DOMAIN, User.extension == extension)
        ).scalar_one()


def test_the_first_log_in_asks_for_the_security_address_before_any_page(
    mailing_panel, engine, inbox
):
    received, _ = inbox
    answer = log_in(mailing_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert answer.status_code == 302
    for page in ["/panel/", "/panel/lines/1001", "/panel/lines/1001/contacts", "/panel/security"]:
        blocked = mailing_panel.get(page, follow_redirects=False)
        if blocked.status_code == 302 and blocked.location.endswith("/panel/"):
            blocked = mailing_panel.get(blocked.location)
        assert blocked.status_code == 302
        assert blocked.location.endswith("/panel/security/first-email")

    refused = mailing_panel.post(
        "/panel/security/first-email",
        data={
            "email": "-x@example.com",
            "csrf_token": token(mailing_panel, "/panel/security/first-email"),
        },
    )
    assert refused.status_code == 400
    assert errors_beside(refused.text, "email")[0].startswith("The address must be an e-mail")
    assert received.messages == []

    given = mailing_panel.post(
        "/panel/security/first-email",
        data={
            "email": "alice@example.com",
            "csrf_token": token(mailing_panel, "/panel/security/first-email"),
        },
    )
    assert given.status_code == 302
    assert _stored(engine, "1001", User.security_email) == "alice@example.com"
    assert mailing_panel.get("/panel/lines/1001").status_code == 200
    (confirmation,) = received.to("alice@example.com")
    assert confirmation["Subject"] == "Security e-mail address changed"
    assert confirmation["From"] == "Centrex <notifications@centrex.test>"
    assert "now alice@example.com" in _body(confirmation)
    assert "+33184800101" in _body(confirmation)


def test_without_mail_no_address_is_required(mailless_panel):
    log_in(mailless_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert mailless_panel.get("/panel/lines/1001").status_code == 200


def test_a_new_address_is_told_to_the_old_one_too(mailing_panel, engine, inbox):
    received, _ = inbox
    _set_email(engine, "1001", "old@example.com")
    log_in(mailing_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    answer = mailing_panel.post(
        "/panel/security/email",
        data={"email": "new@example.com", "csrf_token": token(mailing_panel, "/panel/security")},
    )
    assert answer.status_code == 302
    assert len(received.to("new@example.com")) == 1
    (warning,) = received.to("old@example.com")
    assert "now new@example.com" in _body(warning)


def test_a_password_change_is_told_to_the_security_address(mailing_panel, engine, inbox):
    received, _ = inbox
    _set_email(engine, "1001", "alice@example.com")
    log_in(mailing_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    new = "Birch-6391-Tulip!"
    answer = mailing_panel.post(
        "/panel/password",
        data={
            "current": PASSWORDS["1001"],
            "new": new,
            "confirm": new,
            "csrf_token": token(mailing_panel, "/panel/password"),
        },
    )
    assert answer.status_code == 302
    (notice,) = received.to("alice@example.com")
    assert notice["Subject"] == "Password changed"
    assert "The password of the account +33184800101 has been changed." in _body(notice)
    assert new not in _body(notice)


def test_the_voicemail_pin_is_changed_with_the_current_one_and_told(
    mailing_panel, engine, demo_tenant, inbox
):
    received, _ = inbox
    _set_email(engine, "1001", "alice@example.com")
    current = _stored(engine, "1001", User.voicemail_pin)
    version = _stored(engine, "1001", User.version)
    log_in(mailing_panel, "1001@127.0.0.1", PASSWORDS["1001"])

    def change(current_pin: str, new: str, confirm: str | None = None):
        return mailing_panel.post(
            "/panel/security/voicemail-pin",
            data={
                "current": current_pin,
                "new": new,
                "confirm": new if confirm is None else confirm,
                "csrf_token": token(mailing_panel, "/panel/security"),
            },
        )

    wrong = change("000000", "739162")
    assert wrong.status_code == 400 and errors_beside(wrong.text, "current") == ["Wrong PIN."]
    weak = change(current, "123456")
    assert weak.status_code == 400
    assert "sequence" in errors_beside(weak.text, "new")[0]
    own = change(current, "800101")  # part of the line's number, +33 1 84 80 01 01
    assert "number" in errors_beside(own.text, "new")[0]
    differ = change(current, "739162", "739163")
    assert differ.status_code == 400
    assert _stored(engine, "1001", User.voicemail_pin) == current
    assert received.messages == []

    done = change(current, "739162")
    assert done.status_code == 302
    assert _stored(engine, "1001", User.voicemail_pin) == "739162"
    assert _stored(engine, "1001", User.version) == version + 1
    (notice,) = received.to("alice@example.com")
    assert notice["Subject"] == "Voicemail PIN changed"
    assert "739162" not in _body(notice)


def _ask_for_link(client, number: str):
    return client.post(
        "/panel/forgot", data={"number": number, "csrf_token": token(client, "/panel/forgot")}
    )


def _link_in(message: Message) -> str:
    found = re.search(r"https://panel\.example\.com(/panel/reset/\S+)", _body(message))
    assert found, _body(message)
    return found[1]


def test_a_forgotten_password_is_reset_once_by_the_mailed_link(mailing_panel, engine, inbox):
    received, _ = inbox
    _set_email(engine, "1001", "alice@example.com")
    answer = _ask_for_link(mailing_panel, "01 84 80 01 01")
    assert answer.status_code == 302
    (mail,) = received.to("alice@example.com")
    assert mail["Subject"] == "Choose a new password"
    link = _link_in(mail)
    # Only a hash of the token is kept.
    with engine.connect() as conn:
        (stored,) = conn.execute(select(PasswordReset.token_sha256)).scalars()
    assert link.rsplit("/", 1)[1] not in stored

    page = mailing_panel.get(link)
    assert page.status_code == 200 and "+33184800101" in shown(page.text)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)[1]
    weak = mailing_panel.post(link, data={"new": "short", "confirm": "short", "csrf_token": csrf})
    assert weak.status_code == 400  # refused by the rules: the link still works
    new = "Birch-6391-Tulip!"
    done = mailing_panel.post(link, data={"new": new, "confirm": new, "csrf_token": csrf})
    assert done.status_code == 302 and done.location.endswith("/panel/login")
    assert log_in(mailing_panel, "1001@127.0.0.1", new).status_code == 302
    assert received.to("alice@example.com")[-1]["Subject"] == "Password changed"

    again = mailing_panel.get(link)
    assert again.status_code == 410
    used = mailing_panel.post(link, data={"new": new, "confirm": new, "csrf_token": csrf})
    assert used.status_code == 410


def test_a_reset_link_dies_after_an_hour_and_with_a_newer_one(mailing_panel, engine, inbox):
    received, _ = inbox
    _set_email(engine, "1001", "alice@example.com")
    _ask_for_link(mailing_panel, "1001@127.0.0.1")
    _ask_for_link(mailing_panel, "1001@127.0.0.1")
    first, second = (_link_in(m) for m in received.to("alice@example.com"))
    assert mailing_panel.get(first).status_code == 410
    assert mailing_panel.get(second).status_code == 200
    with engine.begin() as conn:
        conn.execute(
            update(PasswordReset).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert mailing_panel.get(second).status_code == 410


def test_asking_for_a_link_tells_nobody_which_numbers_have_accounts(mailing_panel, engine, inbox):
    received, _ = inbox
    _set_email(engine, "1001", "alice@example.com")
    known = _ask_for_link(mailing_panel, "1001@127.0.0.1")
    unknown = _ask_for_link(mailing_panel, "1099@127.0.0.1")
    no_address = _ask_for_link(mailing_panel, "1000@127.0.0.1")
    assert known.status_code == unknown.status_code == no_address.status_code == 302
    assert "If this number has an account" in shown(mailing_panel.get("/panel/login").text)
    assert [m["X-Envelope-To"] for m in received.messages] == ["alice@example.com"]


def test_without_mail_the_forgotten_password_page_says_whom_to_ask(mailless_panel):
    page = mailless_panel.get("/panel/forgot")
    assert page.status_code == 200
    assert "ask your administrator" in shown(page.text)


def test_a_mailed_link_points_at_the_panel_s_address_whatever_host_the_request_names(
    mailing_panel, engine, inbox
):
    """Whoever asks for a user's link names the host they like: the user is still sent
    to the configured panel, never to that host (and the token with them)."""
    received, _ = inbox
    _set_email(engine, "1001", "alice@example.com")
    elsewhere = {"Host": "attacker.example"}
    form = mailing_panel.get("/panel/forgot", headers=elsewhere)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text)[1]
    sent = mailing_panel.post(
        "/panel/forgot",
        data={"number": "1001@127.0.0.1", "csrf_token": csrf},
        headers=elsewhere,
    )
    assert sent.status_code == 302
    (mail,) = received.to("alice@example.com")
    assert "attacker.example" not in _body(mail)
    assert mailing_panel.get(_link_in(mail)).status_code == 200


def test_without_the_panel_s_address_no_link_is_mailed(settings, engine, demo_tenant, inbox):
    """Mail on, CENTREX_PANEL_URL unset: nothing to build a trustworthy link from, so the
    page says whom to ask and a request for a link sends nothing."""
    received, port = inbox
    panel = _panel(settings, engine, smtp_host="127.0.0.1", smtp_port=port)
    _set_email(engine, "1001", "alice@example.com")
    page = panel.get("/panel/forgot")
    assert page.status_code == 200
    assert "ask your administrator" in shown(page.text)
    assert 'name="number"' not in page.text
    asked = panel.post("/panel/forgot", data={"number": "1001@127.0.0.1"})
    assert asked.status_code == 200
    assert received.messages == []


def test_log_ins_are_throttled_per_address_across_accounts(mailing_panel, engine):
    """Guesses spread over many numbers (each account under its own lock) stop at the
    address's limit; a right password from the address does not count."""
    _set_email(engine, "1001", "alice@example.com")
    assert log_in(mailing_panel, "1001@127.0.0.1", PASSWORDS["1001"]).status_code == 302
    statuses = [
        log_in(mailing_panel, f"19{n:02d}@127.0.0.1", "Wrong-guess-42!").status_code
        for n in range(account_security.MAX_ADDRESS_TRIES)
    ]
    assert set(statuses) == {400}
    refused = log_in(mailing_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert refused.status_code == 429
    assert "Too many attempts from your address" in shown(refused.text)
    # Another address is not concerned.
    other = mailing_panel.post(
        "/panel/login",
        data={
            "number": "1001@127.0.0.1",
            "password": PASSWORDS["1001"],
            "csrf_token": token(mailing_panel, "/panel/login"),
        },
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert other.status_code == 302


def test_the_address_count_is_atomic_under_concurrent_tries(engine):
    factory = make_session_factory(engine)

    def attempt(_: int) -> bool:
        with factory.begin() as db:
            return account_security.take_address_try(db, "198.51.100.9")

    limit = account_security.MAX_ADDRESS_TRIES
    with ThreadPoolExecutor(max_workers=8) as pool:
        allowed = list(pool.map(attempt, range(limit + 10)))
    assert allowed.count(True) == limit
    later = datetime.now(UTC) + account_security.ADDRESS_WINDOW + timedelta(seconds=1)
    with factory.begin() as db:
        assert account_security.take_address_try(db, "198.51.100.9", later)


def test_a_mail_server_that_is_down_does_not_fail_the_change(settings, engine, demo_tenant):
    client = _panel(settings, engine, smtp_host="127.0.0.1", smtp_port=_free_port())
    log_in(client, "1001@127.0.0.1", PASSWORDS["1001"])
    answer = client.post(
        "/panel/security/first-email",
        data={
            "email": "alice@example.com",
            "csrf_token": token(client, "/panel/security/first-email"),
        },
    )
    assert answer.status_code == 302
    assert _stored(engine, "1001", User.security_email) == "alice@example.com"
