"""The tabs of a line's pages (forwarding, ringing, selective call handling, rule lists,
weekly planner, call barring) in headless Chromium: every tab in sight, in French and in
English, on one row at a desktop's width and none hidden off the edge of a phone's.

Skipped without Chromium or Playwright, as tests/browser/test_panel_browser.py is.
`CENTREX_SCREENSHOTS=DIR` keeps the line page's screenshots at each width and language.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.test_panel_browser import CHROMIUM, log_in
from tests.browser.test_panel_browser import chromium as chromium
from tests.browser.test_panel_browser import server as server

playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no Chromium (apt-get install chromium)")

TABS = {
    "fr": [
        "Renvois",
        "Sonneries",
        "Traitement sélectif",
        "Listes de règles",
        "Planning hebdomadaire",
        "Blocage d'appel",
    ],
    "en": [
        "Forwarding",
        "Ringing",
        "Selective call handling",
        "Rule lists",
        "Weekly planner",
        "Call barring",
    ],
}


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_every_tab_of_a_line_is_in_sight(chromium, server, width, language):
    page = chromium.new_page(
        base_url=server, locale="fr-FR", viewport={"width": width, "height": 800}
    )
    log_in(page)
    if language == "en":
        page.get_by_role("button", name="English").click()
    page.goto("/panel/lines/1001/selective")
    tabs = page.locator("nav.tabs a")
    playwright.expect(tabs).to_have_text(TABS[language])
    playwright.expect(tabs.nth(2)).to_have_attribute("aria-current", "page")
    boxes = [tabs.nth(i).bounding_box() for i in range(tabs.count())]
    for index, (label, box) in enumerate(zip(TABS[language], boxes, strict=True)):
        assert box is not None and box["width"] > 0, label
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (label, box)
        # Each label whole in its tab: nothing cut off inside it either.
        assert tabs.nth(index).evaluate("a => a.scrollWidth <= a.clientWidth"), label
    if width >= 1280:
        assert len({round(box["y"]) for box in boxes if box}) == 1  # one row
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shots = os.environ.get("CENTREX_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/line-tabs-{language}-{width}.png", full_page=True)
