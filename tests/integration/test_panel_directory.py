"""The company directory in the panel: colleagues, company contacts and speed dials,
searched; call buttons on one's own line only; nothing of another tenant."""

from __future__ import annotations

import lxml.html

from tests.conftest import apply_raw, demo_document
from tests.integration.test_panel import PASSWORDS, log_in, shown
from tests.integration.test_panel_clicktocall import (  # noqa: F401 (fixtures)
    calling_panel,
    switch,
)

PAGE = "/panel/directory"


def _with_directory(engine) -> None:
    raw = demo_document()
    raw["speed_dials"] = [{"code": "550", "name": "Supplier", "number": "09 70 71 10 58"}]
    raw["directory"] = [
        {"name": "Plumber", "number": "01 45 45 45 45", "code": "3435"},
        {"name": "Taxi", "number": "01 45 30 30 30"},
    ]
    apply_raw(engine, raw)
    stranger = {
        "extension": "1003",
        "name": "Zoe Stranger",
        "sip_password": "Zoe-Stranger-Pass-2026",
        "voicemail": {"enabled": False},
    }
    apply_raw(
        engine, demo_document("other.example", numbers=[], main_number=None, users=[stranger])
    )


def test_the_directory_lists_colleagues_contacts_and_speed_dials(calling_panel, engine):  # noqa: F811
    _with_directory(engine)
    log_in(calling_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = shown(calling_panel.get(PAGE).text)
    for expected in [
        "Bob Durand 1002",
        "Plumber 01 45 45 45 45 ##3435",
        "550 Supplier 09 70 71 10 58",
    ]:
        assert expected in page
    assert "Zoe Stranger" not in page  # another tenant's
    html = lxml.html.fromstring(calling_panel.get(PAGE).text)
    called = html.xpath(
        '//form[contains(@action, "/lines/1001/call")]/input[@name="destination"]/@value'
    )
    # Everyone but herself, each contact and speed dial.
    assert called == ["1002", "1000", "+33145454545", "+33145303030", "+33970711058"]


def test_the_directory_is_searched(calling_panel, engine):  # noqa: F811
    _with_directory(engine)
    log_in(calling_panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = shown(calling_panel.get(PAGE, query_string={"q": "plu"}).text)
    assert "Plumber" in page and "Taxi" not in page and "Bob Durand" not in page
    by_number = shown(calling_panel.get(PAGE, query_string={"q": "0184800101"}).text)
    assert "Alice Martin" in by_number and "Reception" not in by_number
    assert "Nobody matches." in shown(calling_panel.get(PAGE, query_string={"q": "Zoe"}).text)
