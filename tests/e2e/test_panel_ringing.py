"""The ringing page's settings on a real FreeSWITCH: saved through the panel (its test
client, on the database the e2e Centrex server reads), then a SIPp call to the line
rings what the page says — other phones together, one after the other for their rings,
priority callers through do-not-disturb."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import lxml.html
import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.datastructures import MultiDict

from admin.languages import COOKIE
from centrex.app import create_app
from centrex.db import make_session_factory
from provisioning import accounts
from provisioning.models import User
from tests.e2e.conftest import DOMAIN, Centrex, Node
from tests.e2e.test_freeswitch import call, phone, phone_saw, unregister

pytestmark = pytest.mark.e2e

PASSWORD = "River-5830-Orchid!"
PAGE = "/panel/lines/1001/ringing"


@pytest.fixture
def panel(centrex: Centrex) -> Iterator[FlaskClient]:
    """Alice (1001) logged in to the panel, her line's call handling empty before and
    after."""
    with make_session_factory(centrex.engine).begin() as session:
        accounts.set_password(session, DOMAIN, "1001", PASSWORD)
    clear = update(User).where(User.extension == "1001").values(call_handling={})
    with centrex.engine.begin() as conn:
        conn.execute(clear)
    app = create_app(
        replace(centrex.settings, secret_key="e2e-panel-secret-key-of-32-chars-min"),
        centrex.engine,
    )
    client = app.test_client()
    client.set_cookie(COOKIE, "en")
    login = lxml.html.fromstring(client.get("/panel/login").text).forms[-1]
    fields = MultiDict(login.form_values())
    fields["number"], fields["password"] = f"1001@{DOMAIN}", PASSWORD
    assert client.post("/panel/login", data=fields).status_code == 302
    yield client
    with centrex.engine.begin() as conn:
        conn.execute(clear)


def save(client: FlaskClient, **fields: str) -> None:
    page = lxml.html.fromstring(client.get(PAGE).text)
    (form,) = [f for f in page.forms if f.action == PAGE]
    data = MultiDict(form.form_values())
    for name, value in fields.items():
        data[name] = value
    answer = client.post(PAGE, data=data)
    assert answer.status_code == 302, answer.text


def test_simultaneous_ring_rings_a_colleague_with_the_line(panel: FlaskClient, freeswitch: Node):
    save(panel, simultaneous="y", **{"simultaneous_numbers-0": "1000"})
    silent = phone(freeswitch, "1001", 0)
    answering = phone(freeswitch, "1000", 200)
    started = time.monotonic()
    result = call(freeswitch, "1002", "1001", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, answering, "phone-1000-200", "BYE sip:")
    assert phone_saw(freeswitch, silent, "phone-1001-0", "CANCEL sip:")
    assert time.monotonic() - started < 5  # together: 1000 answered at once
    unregister(freeswitch, "1000")
    unregister(freeswitch, "1001")


def test_sequential_ring_rings_the_line_its_rings_then_the_next_number(
    panel: FlaskClient, freeswitch: Node
):
    save(
        panel,
        sequential="y",
        sequential_own_rings="1",
        **{"sequential_steps-0-number": "1000", "sequential_steps-0-rings": "2"},
    )
    silent = phone(freeswitch, "1001", 0)
    answering = phone(freeswitch, "1000", 200)
    started = time.monotonic()
    result = call(freeswitch, "1002", "1001", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, answering, "phone-1000-200", "BYE sip:")
    assert phone_saw(freeswitch, silent, "phone-1001-0", "CANCEL sip:")
    # One ring is 5 s: the line rang that long (its own rings), then 1000 answered.
    elapsed = time.monotonic() - started
    assert 5 <= elapsed < 15, elapsed
    unregister(freeswitch, "1000")
    unregister(freeswitch, "1001")


def test_a_priority_caller_rings_through_do_not_disturb(
    panel: FlaskClient, centrex: Centrex, freeswitch: Node
):
    with centrex.engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.extension == "1001")
            .values(call_handling={"do_not_disturb": {}}, version=User.version + 1)
        )
    save(panel, **{"priority_callers-extensions-0": "1002"})
    answering = phone(freeswitch, "1001", 200)
    result = call(freeswitch, "1002", "1001", 200)
    assert result.returncode == 0, result.stdout.decode()[-2000:]
    assert phone_saw(freeswitch, answering, "phone-1001-200", "BYE sip:")
    unregister(freeswitch, "1001")
