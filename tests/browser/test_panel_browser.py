"""The panel in a real browser: headless Chromium driven by Playwright.

Runs when both are here (`apt-get install chromium`; Playwright comes with the dev
extras), skipped otherwise. The server is the application in this process, on a free
loopback port.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select
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
def page(server):
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser.new_page(base_url=server)
        browser.close()


def test_a_user_logs_in_and_forwards_their_line(page, engine):
    page.goto("/panel/")
    page.get_by_label("Number").fill("1001@127.0.0.1")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    playwright.expect(page.get_by_role("heading")).to_have_text("Forwarding of Alice Martin (1001)")

    page.get_by_label("Forward when I am busy").check()
    target = page.locator("#forward_busy_to")
    target.fill("06;12")
    page.get_by_role("button", name="Save").click()
    playwright.expect(page.get_by_role("alert").first).to_be_visible()
    playwright.expect(target).to_have_value("06;12")  # nothing typed is lost

    target.fill("0612345678")
    page.get_by_role("button", name="Save").click()
    playwright.expect(page.get_by_role("status")).to_contain_text("Saved")
    playwright.expect(target).to_have_value("+33612345678")
    with engine.connect() as conn:
        handling = conn.scalar(select(User.call_handling).where(User.extension == "1001"))
    assert handling["forward_busy"] == {"to": "+33612345678"}

    page.get_by_role("link", name="My contacts").click()
    page.get_by_label("Name", exact=True).fill("Mum")
    page.get_by_label("Numbers, comma-separated (up to 5)").fill("06 11 11 11 11")
    page.get_by_role("button", name="Add").click()
    playwright.expect(page.get_by_role("status")).to_contain_text("Contacts saved")
    playwright.expect(page.get_by_role("cell", name="+33611111111")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    playwright.expect(page.get_by_role("heading")).to_have_text("Log in")
    page.goto("/panel/lines/1001")
    playwright.expect(page.get_by_role("heading")).to_have_text("Log in")
