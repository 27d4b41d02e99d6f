"""The "Test a call" page in headless Chromium, in French and in English: the trace's
reasons in the page's language, readable at a desktop's width and a phone's.
`CENTREX_SCREENSHOTS=DIR` keeps its screenshots."""

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

# A reason, the outcome's words and a member's state, in each language.
SAID = {
    "fr": ["l'appelant n'est pas dans la liste", "Résultat", "sous la limite d'appels"],
    "en": ["caller not in the list", "Outcome", "below the line's limit of calls"],
}


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_trace_is_in_the_page_s_language(chromium, server, engine, width, language):  # noqa: F811
    from sqlalchemy import update

    from centrex.db import make_session_factory
    from provisioning.models import User

    with make_session_factory(engine).begin() as session:
        accounts.set_password(session, "127.0.0.1", "1000", PASSWORD)
        session.execute(
            update(User)
            .where(User.extension == "1001")
            .values(
                call_handling={
                    "selective": {"reject": {"numbers": ["+33611111111"]}},
                    "forward_no_answer": {"to": "1002", "after": 15},
                },
                version=User.version + 1,
            )
        )
    page = chromium.new_page(
        base_url=server, locale="fr-FR", viewport={"width": width, "height": 800}
    )
    page.goto("/panel/")
    page.get_by_label("Numéro", exact=True).fill("1000@127.0.0.1")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    if language == "en":
        page.get_by_role("button", name="English").click()
    page.goto(
        "/panel/explain?caller=1000&to=1001&at=2026-12-24+12%3A45&assume=1001%3Dfree%2C1002%3Dbusy"
    )
    main = page.locator("main")
    for words in SAID[language]:
        playwright.expect(main).to_contain_text(words)
    for words in SAID["en" if language == "fr" else "fr"]:
        playwright.expect(main).not_to_contain_text(words)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shots = os.environ.get("CENTREX_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/explain-{language}-{width}.png", full_page=True)
