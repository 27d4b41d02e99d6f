"""The "Test a call" page in headless Chromium, as a tenant admin uses it: a colleague's call
to a line, explained in French, readable at a desktop's width and a
phone's. `CENTREX_SCREENSHOTS=DIR` keeps its screenshots."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from provisioning import accounts
from tests.browser.test_panel_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    PASSWORD,
    chromium,
    playwright,
    server,
)

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no Chromium (apt-get install chromium)")


@pytest.mark.parametrize("width", [1280, 390])
def test_an_admin_tests_a_call_and_reads_why(chromium, server, engine, width):  # noqa: F811
    from centrex.db import make_session_factory

    with make_session_factory(engine).begin() as session:
        accounts.set_password(session, "127.0.0.1", "1000", PASSWORD)
    page = chromium.new_page(
        base_url=server, locale="fr-FR", viewport={"width": width, "height": 800}
    )
    page.goto("/panel/")
    page.get_by_label("Numéro", exact=True).fill("1000@127.0.0.1")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Tester un appel").click()
    playwright.expect(page.get_by_role("heading", level=1)).to_have_text("Tester un appel")

    # A time the clocks skip in Paris is refused beside the form, nothing explained.
    page.get_by_label("De (un poste ou un numéro)").fill("0698765432")
    page.get_by_label("Vers (le numéro composé)").fill("1001")
    page.get_by_label("À (2026-12-24 12:45 ; vide : maintenant)").fill("2026-03-29 02:30")
    page.get_by_role("button", name="Expliquer").click()
    playwright.expect(page.get_by_role("alert").first).to_contain_text("n'existe pas")

    page.get_by_label("De (un poste ou un numéro)").fill("1002")  # a colleague
    page.get_by_label("À (2026-12-24 12:45 ; vide : maintenant)").fill("2026-12-24 12:45")
    page.get_by_label("Supposer (1001=busy, 1002=unregistered, 1003=free, 1004=answers)").fill(
        "1001=answers"
    )
    page.get_by_role("button", name="Expliquer").click()
    playwright.expect(page.get_by_role("heading", level=2).first).to_contain_text("1001")
    body = page.locator("main").inner_text()
    assert "9 ring" in body or "sonne" in body.lower()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shots = os.environ.get("CENTREX_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/explain-{width}.png", full_page=True)
