"""The panel in a real browser: headless Chromium driven by Playwright.

Runs when both are here (`apt-get install chromium`; Playwright comes with the dev
extras), skipped otherwise. The server is the application in this process, on a free
loopback port. `CENTREX_SCREENSHOTS=DIR` keeps a screenshot of each page the layout test
opens, at each width.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, update
from werkzeug.serving import make_server

from centrex.app import create_app
from centrex.db import make_session_factory
from provisioning import accounts
from provisioning.models import User

CHROMIUM = os.environ.get("CENTREX_CHROMIUM") or shutil.which("chromium")
playwright = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no Chromium (apt-get install chromium)")

PASSWORD = "River-5830-Orchid!"


@pytest.fixture
def server(settings, engine, demo_tenant) -> Iterator[str]:
    with make_session_factory(engine).begin() as session:
        accounts.set_password(session, "127.0.0.1", "1001", PASSWORD)
    app = create_app(
        replace(settings, secret_key="browser-test-secret-key-32-chars-min", secure_cookies=False),
        engine,
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def chromium(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, server):
    """A French browser: the demo tenant is in France, its users get French anyway."""
    return chromium.new_page(base_url=server, locale="fr-FR")


def log_in(page) -> None:
    page.goto("/panel/")
    page.get_by_label("Numéro", exact=True).fill("1001@127.0.0.1")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_a_user_logs_in_and_forwards_their_line(page, engine):
    log_in(page)
    heading = page.get_by_role("heading")
    playwright.expect(heading).to_have_text("Renvois d'appel — Alice Martin (1001)")

    page.get_by_label("Renvoyer si je suis occupé").check()
    target = page.locator("#forward_busy_to")
    target.fill("06;12")
    page.get_by_role("button", name="Enregistrer").click()
    playwright.expect(page.get_by_role("alert").first).to_be_visible()
    playwright.expect(target).to_have_value("06;12")  # nothing typed is lost

    target.fill("0612345678")
    page.get_by_role("button", name="Enregistrer").click()
    playwright.expect(page.get_by_role("status")).to_contain_text("Enregistré")
    playwright.expect(target).to_have_value("06 12 34 56 78")
    with engine.connect() as conn:
        handling = conn.scalar(select(User.call_handling).where(User.extension == "1001"))
    assert handling["forward_busy"] == {"to": "+33612345678"}

    page.get_by_role("link", name="Mes contacts").click()
    page.get_by_label("Nom", exact=True).fill("Mum")
    page.get_by_label("Numéros, séparés par des virgules (5 au plus)").fill("06 11 11 11 11")
    page.get_by_role("button", name="Ajouter").click()
    playwright.expect(page.get_by_role("status")).to_contain_text("Contacts enregistrés")
    playwright.expect(page.get_by_role("cell", name="06 11 11 11 11")).to_be_visible()

    page.get_by_role("button", name="Se déconnecter").click()
    playwright.expect(heading).to_have_text("Se connecter")
    page.goto("/panel/lines/1001")
    playwright.expect(heading).to_have_text("Se connecter")


def test_the_language_switch_turns_the_panel_to_english(page):
    log_in(page)
    page.get_by_role("link", name="Mes appels").click()
    page.get_by_role("button", name="English").click()
    playwright.expect(page.get_by_role("heading")).to_have_text("Calls of Alice Martin (1001)")
    playwright.expect(page.get_by_role("button", name="English")).to_have_attribute(
        "aria-pressed", "true"
    )
    page.get_by_role("link", name="My line").click()
    playwright.expect(page.get_by_role("heading")).to_have_text("Forwarding of Alice Martin (1001)")


PAGES = {
    "login": "/panel/login",
    "line": "/panel/lines/1001",
    "calls": "/panel/lines/1001/calls",
    "contacts": "/panel/lines/1001/contacts",
    "reminders": "/panel/lines/1001/reminders",
    "directory": "/panel/directory",
    "security": "/panel/security",
}


@pytest.fixture
def filled(engine, server):
    """Alice has called Bob twice and a mobile once, and keeps two contacts."""
    from tests.integration.test_call_log import call, edited, store

    # With the routing's decisions, as long as they come (`xmlcurl.route_trail`).
    route = "1002: group Support-Ventes: nobody answered (NO_ANSWER), overflow to queue Support"
    store(engine, edited(call(1, "2026-11-02T09:00:00"), {"centrex_route": route}))
    store(engine, call(2, "2026-11-03T09:00:00"))
    store(engine, edited(call(3, "2026-11-04T09:00:00"), hops=[("127.0.0.1", "0611111111")]))
    contacts = [
        {"name": "Mum", "numbers": ["+33611111111"]},
        {"name": "Plumber", "numbers": ["+33145454545", "+33612345678"]},
    ]
    with engine.begin() as conn:
        conn.execute(update(User).where(User.extension == "1001").values(contacts=contacts))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_main_pages_fit_a_desktop_and_a_phone(chromium, server, filled, width):
    """Nothing wider than the window: no sideways scrolling, at a desktop's width and
    a phone's."""
    page = chromium.new_page(
        base_url=server, locale="fr-FR", viewport={"width": width, "height": 800}
    )
    shots = os.environ.get("CENTREX_SCREENSHOTS")
    for name, path in PAGES.items():
        if name == "line":
            log_in(page)
        page.goto(path)
        if shots:
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{shots}/{name}-{width}.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
