"""The line's ringing page in headless Chromium (French): simultaneous ring, sequential
ring and priority callers changed, one refused beside its row with what was typed kept,
and the next dialplan fetch (over HTTP, as FreeSWITCH sends it) following them.

Skipped without Chromium or Playwright, as tests/browser/test_panel_browser.py is.
`CENTREX_SCREENSHOTS=DIR` keeps the page's screenshots at a desktop's and a phone's width.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import select, update

from provisioning.models import User
from tests.browser.test_panel_browser import CHROMIUM, log_in
from tests.browser.test_panel_browser import chromium as chromium
from tests.browser.test_panel_browser import page as page
from tests.browser.test_panel_browser import server as server
from tests.conftest import basic_auth
from tests.dial_strings import as_user_endpoint
from tests.fsrequests import fixture_fields, fs_body, with_fields

playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no Chromium (apt-get install chromium)")


def handling(engine) -> dict:
    with engine.connect() as conn:
        found: dict = conn.scalar(select(User.call_handling).where(User.extension == "1001"))
    return found or {}


def bridge_to_1001(server: str) -> str:
    """The bridge of the next call to 1001 (from 1001, the fixture's caller), as the
    server answers FreeSWITCH's dialplan fetch."""
    values = {
        "Hunt-Destination-Number": "1001",
        "Caller-Destination-Number": "1001",
        "Hunt-Context": "127.0.0.1",
        "Caller-Context": "127.0.0.1",
    }
    fields = with_fields(fixture_fields("dialplan-1000"), values)
    request = urllib.request.Request(
        f"{server}/xmlcurl",
        data=fs_body(fields),
        headers={"Content-Type": "application/x-www-form-urlencoded", **basic_auth()},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        root = etree.fromstring(answer.read())
    (bridge,) = [a.get("data") for a in root.iter("action") if a.get("application") == "bridge"]
    return as_user_endpoint(str(bridge))


def save(page) -> None:
    page.get_by_role("button", name="Enregistrer").click()


def test_a_user_sets_their_ringing_and_the_next_call_follows(page, server, engine):
    expect = playwright.expect
    log_in(page)
    page.get_by_role("link", name="Sonneries").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sonneries — Alice Martin (1001)")

    # Simultaneous ring: refused beside its row, what was typed kept, nothing saved.
    page.get_by_label("Faire sonner d'autres numéros en même temps que mes téléphones").check()
    first = page.locator("#simultaneous_numbers-0")
    first.fill("06;12")
    save(page)
    refusal = page.locator("li:has(#simultaneous_numbers-0) .error")
    expect(refusal).to_have_text(
        "doit être la messagerie, un numéro interne de l'entreprise ou un numéro de téléphone"
    )
    expect(first).to_have_value("06;12")
    assert "simultaneous_ring" not in handling(engine)

    first.fill("06 12 34 56 78")
    page.get_by_label("Pas pendant que je suis en ligne").check()
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Enregistré")
    expect(first).to_have_value("06 12 34 56 78")
    assert handling(engine)["simultaneous_ring"] == {
        "numbers": ["+33612345678"],
        "skip_when_on_call": True,
    }
    assert bridge_to_1001(server) == "user/1001@127.0.0.1,sofia/gateway/127.0.0.1/+33612345678"

    # Sequential ring instead: two steps, the second moved up, then saved.
    page.get_by_label("Faire sonner d'autres numéros en même temps que mes téléphones").uncheck()
    page.get_by_label("Faire sonner mes téléphones d'abord, puis d'autres numéros").check()
    page.get_by_label("Mes téléphones sonnent d'abord pendant").select_option("2")
    page.locator("#sequential_steps-0-number").fill("06 98 76 54 32")
    page.locator("#sequential_steps-1-number").fill("1002")
    page.get_by_label("Sonneries du numéro 2").select_option("1")
    page.get_by_role("button", name="Monter le numéro 2").click()
    expect(page.get_by_role("status")).to_contain_text("Pas encore enregistré")
    expect(page.locator("#sequential_steps-0-number")).to_have_value("1002")
    expect(page.get_by_label("Sonneries du numéro 1")).to_have_value("1")
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Enregistré")
    stored = handling(engine)
    # Unticked, the simultaneous ring is off and keeps its number.
    assert stored["simultaneous_ring"] == {
        "enabled": False,
        "numbers": ["+33612345678"],
        "skip_when_on_call": True,
    }
    assert stored["sequential_ring"] == {
        "own_rings": 2,
        "steps": [{"number": "1002", "rings": 1}, {"number": "+33698765432"}],
    }
    assert bridge_to_1001(server).split("|") == [
        "[leg_timeout=10]user/1001@127.0.0.1",
        "[leg_timeout=5]user/1002@127.0.0.1",
        "[leg_timeout=15]sofia/gateway/127.0.0.1/+33698765432",
    ]

    # Priority callers ring through do not disturb.
    with engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.extension == "1001")
            .values(
                call_handling={"do_not_disturb": {}},
                version=User.version + 1,
            )
        )
    page.reload()
    expect(page.get_by_text("Ne pas déranger est activé.")).to_be_visible()
    page.locator("#priority_callers-extensions-0").fill("1001")
    save(page)
    expect(page.get_by_role("status")).to_contain_text("Enregistré")
    assert handling(engine)["do_not_disturb"] == {"priority_callers": {"extensions": ["1001"]}}
    assert bridge_to_1001(server) == "user/1001@127.0.0.1"  # 1001 rings through


@pytest.fixture
def set_up(engine, demo_tenant) -> None:
    """Alice rings her mobile with her phones during office hours, for two contacts."""
    contacts = [
        {"name": "Maman", "numbers": ["+33611111111"]},
        {"name": "Plombier", "numbers": ["+33145454545"]},
    ]
    call_handling = {
        "simultaneous_ring": {
            "numbers": ["+33612345678", "1002"],
            "skip_when_on_call": True,
            "schedule": "office hours",
            "callers": {"contacts": ["Maman"], "numbers": ["+33145454545"]},
        },
        "sequential_ring": {"own_rings": 2, "steps": [{"number": "+33698765432", "rings": 4}]},
        "do_not_disturb": {"enabled": False, "priority_callers": {"extensions": ["1000"]}},
    }
    with engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.extension == "1001")
            .values(contacts=contacts, call_handling=call_handling)
        )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_ringing_page_fits_a_desktop_and_a_phone(chromium, server, set_up, width):
    page = chromium.new_page(
        base_url=server, locale="fr-FR", viewport={"width": width, "height": 800}
    )
    log_in(page)
    page.goto("/panel/lines/1001/ringing")
    playwright.expect(page.locator("#simultaneous_numbers-1")).to_have_value("1002")
    shots = os.environ.get("CENTREX_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/ringing-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
