"""My groups and queues in the panel: the line's groups and queues, who is logged in,
and its own log-in switch, which routing follows at once; nobody else's line."""

from __future__ import annotations

from dataclasses import replace

import pytest

from centrex.app import create_app
from centrex.db import make_session_factory
from provisioning import accounts, groups, queue_agents
from tests.conftest import apply_raw, demo_document
from tests.integration.test_panel import DOMAIN, PASSWORDS, SECRET, english, log_in, shown, token

PAGE = "/panel/lines/1001/groups"


@pytest.fixture
def member_panel(settings, engine):
    raw = demo_document()
    raw["groups"] = [
        {"name": "Sales", "extension": "300", "members": ["1000", "1001"]},
        {"name": "Support", "extension": "301", "members": ["1002"]},
    ]
    raw["queues"] = [{"name": "Hotline", "extension": "500", "agents": ["1001", "1002"]}]
    apply_raw(engine, raw)
    with make_session_factory(engine).begin() as session:
        for extension, password in PASSWORDS.items():
            accounts.set_password(session, DOMAIN, extension, password)
        # Alice is logged out of everything, the others in.
        groups.set_logged_in(session, DOMAIN, "Sales", "1000", True)
        groups.set_logged_in(session, DOMAIN, "Sales", "1001", False)
        queue_agents.set_logged_in(session, DOMAIN, "Hotline", "1001", False)
        queue_agents.set_logged_in(session, DOMAIN, "Hotline", "1002", True)
    return english(create_app(replace(settings, secret_key=SECRET), engine).test_client())


def _switch(client, kind: str, name: str, want: str):
    data = {"kind": kind, "name": name, "want": want, "csrf_token": token(client, PAGE)}
    return client.post(PAGE, data=data)


def _state(engine) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    with make_session_factory(engine).begin() as db:
        (sales,) = groups.list_groups(db, DOMAIN, "Sales")
        (hotline,) = queue_agents.list_queues(db, DOMAIN)
        return (
            [(m.extension, m.logged_in) for m in sales.members],
            [(a.extension, a.logged_in) for a in hotline.agents],
        )


def test_a_line_sees_its_groups_and_queues_and_who_is_logged_in(member_panel):
    log_in(member_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = shown(member_panel.get(PAGE).text)
    assert "Sales 300" in page and "Hotline 500" in page
    assert "Support" not in page  # not one of hers
    assert "Reception (1/2)" in page  # Sales: the reception is in, she is not
    assert "Bob Durand (1/2)" in page  # Hotline


def test_logging_in_and_out_is_written_at_once(member_panel, engine):
    log_in(member_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert _switch(member_panel, "group", "Sales", "in").status_code == 302
    assert _switch(member_panel, "queue", "Hotline", "in").status_code == 302
    assert _state(engine) == ([("1000", True), ("1001", True)], [("1001", True), ("1002", True)])
    assert "Logged in to Hotline." in shown(member_panel.get(PAGE).text)
    assert _switch(member_panel, "group", "Sales", "out").status_code == 302
    assert _state(engine)[0] == [("1000", True), ("1001", False)]


def test_no_switch_for_a_group_the_line_is_not_in_nor_another_line(member_panel, engine):
    log_in(member_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert _switch(member_panel, "group", "Support", "in").status_code == 404
    assert _switch(member_panel, "queue", "Nowhere", "in").status_code == 404
    assert _switch(member_panel, "group", "Sales", "sideways").status_code == 400
    assert member_panel.get("/panel/lines/1002/groups").status_code == 403
    assert _state(engine) == ([("1000", True), ("1001", False)], [("1001", False), ("1002", True)])
