"""Calls placed from the panel: "Call back" in the call log rings the user's own phone
through a FreeSWITCH event socket (a fake one on a real TCP socket), then the number,
with the line's barring; "Add to contacts" opens the contact form with the number."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import lxml.html
import pytest
from sqlalchemy import select

from centrex.app import create_app
from centrex.db import make_session_factory
from esl.oneshot import OneShotSwitch, node_for_user
from esl.switch import SwitchError
from provisioning import accounts
from provisioning.models import Registration, Tenant, User
from tests.fakes.freeswitch import FakeFreeSWITCH
from tests.integration.test_call_log import call, edited, store
from tests.integration.test_panel import DOMAIN, PASSWORDS, SECRET, english, log_in, shown, token

CALLS = "/panel/lines/1001/calls"


@pytest.fixture
def switch():
    with FakeFreeSWITCH("panel-esl-secret") as fake:
        fake.on_api("originate", lambda line: "+OK 6f0c0e52-0000-4000-8000-000000000001\n")
        yield fake


def _panel(settings, engine, **overrides):
    with make_session_factory(engine).begin() as session:
        for extension, password in PASSWORDS.items():
            accounts.set_password(session, DOMAIN, extension, password)
    app = create_app(replace(settings, secret_key=SECRET, **overrides), engine)
    return english(app.test_client())


@pytest.fixture
def calling_panel(settings, engine, demo_tenant, switch):
    store(engine, call(1, "2026-11-02T09:00:00"))
    store(engine, edited(call(2, "2026-11-04T09:00:00"), hops=[("127.0.0.1", "0611111111")]))
    return _panel(
        settings,
        engine,
        esl_nodes=(f"127.0.0.1:{switch.port}",),
        esl_password="panel-esl-secret",
    )


def _call_back(client, number: str):
    data = {"destination": number, "back": CALLS, "csrf_token": token(client, CALLS)}
    return client.post("/panel/lines/1001/call", data=data)


def _originates(switch) -> list[str]:
    return [c.line for c in switch.commands if "originate" in c.line]


def test_call_back_rings_the_user_then_the_number(calling_panel, switch):
    log_in(calling_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = lxml.html.fromstring(calling_panel.get(CALLS).text)
    numbers = page.xpath('//form[contains(@action, "/call")]/input[@name="destination"]/@value')
    assert "+33611111111" in numbers
    answer = _call_back(calling_panel, "+33611111111")
    assert answer.status_code == 302 and answer.location.endswith(CALLS)
    (originate,) = _originates(switch)
    assert originate.startswith("api bgapi uuid:")
    assert "user/1001@127.0.0.1" in originate and " +33611111111 XML 127.0.0.1" in originate
    assert "Your phone is ringing: answer it to call +33611111111." in shown(
        calling_panel.get(CALLS).text
    )


def test_a_barred_or_malformed_number_is_refused_and_nothing_is_placed(
    calling_panel, switch, engine
):
    with engine.begin() as conn:
        conn.execute(
            User.__table__.update()
            .where(User.extension == "1001")
            .values(allowed_destinations=["national"])
        )
    log_in(calling_panel, "1001@127.0.0.1", PASSWORDS["1001"])

    def refusal(number: str) -> str:
        _call_back(calling_panel, number)
        page = lxml.html.fromstring(calling_panel.get(CALLS).text)
        (alert,) = page.xpath('//*[@role="alert"]')
        return " ".join(alert.text_content().split())

    assert refusal("+4930123456") == "+4930123456 is barred for this line (international calls)"
    assert refusal("1000,user/x").startswith("1000,user/x must be digits")
    assert _originates(switch) == []


def test_only_one_s_own_line_calls_and_only_with_an_event_socket(
    settings, engine, demo_tenant, calling_panel
):
    log_in(calling_panel, "1000@127.0.0.1", PASSWORDS["1000"])  # an admin, for Alice
    assert calling_panel.post("/panel/lines/1001/call", data={}).status_code == 403
    assert "Call back" not in calling_panel.get(CALLS).text
    plain = _panel(settings, engine)  # no CENTREX_ESL_PASSWORD
    log_in(plain, "1001@127.0.0.1", PASSWORDS["1001"])
    assert "Call back" not in plain.get(CALLS).text
    assert plain.post("/panel/lines/1001/call", data={}).status_code == 403


def test_a_node_that_is_down_gives_a_message_not_an_error(settings, engine, demo_tenant):
    store(engine, call(1, "2026-11-02T09:00:00"))
    with FakeFreeSWITCH("x") as fake:
        port = fake.port
    client = _panel(settings, engine, esl_nodes=(f"127.0.0.1:{port}",), esl_password="x")
    log_in(client, "1001@127.0.0.1", PASSWORDS["1001"])
    assert _call_back(client, "1002").status_code == 302
    assert "The call could not be placed" in shown(client.get(CALLS).text)


def test_add_to_contacts_fills_the_number_in(calling_panel):
    log_in(calling_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = lxml.html.fromstring(calling_panel.get(CALLS).text)
    (link,) = page.xpath('//a[text()="Add to contacts"]/@href')
    form = lxml.html.fromstring(calling_panel.get(link).text)
    assert form.xpath('//input[@name="numbers"]/@value') == ["06 11 11 11 11"]


def test_the_node_is_the_one_the_phone_is_registered_on(session, demo_tenant, switch):
    user = session.scalar(
        select(User).join(Tenant).where(Tenant.domain == DOMAIN, User.extension == "1001")
    )
    nodes = ["fs1:8021", "fs2:8021"]
    assert node_for_user(session, user.id, nodes) == "fs1:8021"
    expires = datetime.now(UTC) + timedelta(minutes=5)
    session.add(Registration(node="fs2:8021", call_id="a", user_id=user.id, expires_at=expires))
    session.flush()
    assert node_for_user(session, user.id, nodes) == "fs2:8021"
    assert node_for_user(session, user.id, []) is None


def test_the_one_shot_switch_logs_in_runs_one_command_and_refuses_line_breaks(switch):
    node = OneShotSwitch(f"127.0.0.1:{switch.port}", "panel-esl-secret")
    switch.on_api("status", "UP 0 years\n")
    assert node.api("status") == "UP 0 years\n"
    with pytest.raises(SwitchError):
        node.api("status\n\nbgapi originate user/x &park")
    with pytest.raises(SwitchError, match="password"):
        OneShotSwitch(f"127.0.0.1:{switch.port}", "wrong").api("status")
