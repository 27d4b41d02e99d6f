"""The panel's conference rooms: tenant admins add, replace and delete rooms; a refused
room is explained beside its field and nothing is written."""

from dataclasses import replace

import pytest

from centrex.app import create_app
from centrex.db import make_session_factory
from provisioning import accounts
from tests.integration.test_panel import (
    PASSWORDS,
    SECRET,
    english,
    errors_beside,
    log_in,
    shown,
    token,
)
from tests.integration.test_xmlcurl import actions, dialplan

PAGE = "/panel/conferences"


def room_change(client, change: str, **fields):
    data = {"csrf_token": token(client, PAGE), "change": change, **fields}
    return client.post(PAGE, data=data)


@pytest.fixture
def browser(settings, engine, demo_tenant):
    """A browser on the panel, where 1000 (a tenant admin) and 1001 have passwords."""
    with make_session_factory(engine).begin() as session:
        for extension, password in PASSWORDS.items():
            accounts.set_password(session, "127.0.0.1", extension, password)
    return english(create_app(replace(settings, secret_key=SECRET), engine).test_client())


@pytest.fixture
def admin(browser):
    log_in(browser, "1000@127.0.0.1", PASSWORDS["1000"])
    return browser


def test_an_admin_adds_a_room_that_the_next_call_joins(admin, client):
    saved = room_change(admin, "add", name="Weekly", extension="800", pin="4321", max_members="6")
    assert saved.status_code == 302
    page = shown(admin.get(PAGE).text)
    assert "Weekly 800 4321" in page and "Weekly: saved." in page
    assert ("conference", "meet-800-127.0.0.1@centrex+4321") in actions(dialplan(client, "800"))
    assert ("set", "conference_max_members=6") in actions(dialplan(client, "800"))


def test_a_room_of_the_same_name_is_replaced_then_deleted(admin, client):
    room_change(admin, "add", name="Weekly", extension="800", pin="4321", max_members="10")
    replaced = room_change(admin, "add", name="weekly", extension="801", max_members="10")
    assert replaced.status_code == 302
    assert ("conference", "meet-801-127.0.0.1@centrex") in actions(dialplan(client, "801"))
    assert room_change(admin, "delete", name="weekly").status_code == 302
    assert "conference" not in [app for app, _ in actions(dialplan(client, "801"))]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"extension": "1001"}, "extension", "1001 is already used by users[1]"),
        ({"extension": "800", "pin": "12"}, "pin", "must be 4 to 8 digits"),
        (
            {"extension": "800", "pin": "1234", "moderator_pin": "1234"},
            "moderator_pin",
            "must differ from the PIN",
        ),
    ],
)
def test_a_bad_room_is_explained_beside_its_field(admin, client, fields, field, message):
    refused = room_change(admin, "add", name="Weekly", max_members="10", **fields)
    assert refused.status_code == 400
    assert message in " ".join(errors_beside(refused.text, field))
    assert "Weekly" not in shown(admin.get(PAGE).text).split("Add a room")[0]


def test_rooms_are_for_tenant_admins_only(browser):
    log_in(browser, "1001@127.0.0.1", PASSWORDS["1001"])
    assert browser.get(PAGE).status_code == 403
    assert "Conferences" not in browser.get("/panel/lines/1001").text
