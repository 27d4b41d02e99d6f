"""The weekly planner in a real browser (headless Chromium, Playwright), in French: a
user fills in a period, sees a refusal beside the day with the times kept, saves, sees
the week drawn, and the next xml_curl fetch follows it. The page fits a desktop and a
phone; `CENTREX_SCREENSHOTS=DIR` keeps a screenshot of it at each width."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

import xmlcurl.endpoint
from centrex.db import make_session_factory
from provisioning.models import Tenant, User
from tests.browser.test_panel_browser import (  # noqa: F401 (fixtures)
    CHROMIUM,
    PASSWORD,
    chromium,
    log_in,
    page,
    playwright,
    server,
)
from tests.integration.test_xmlcurl import actions, dialplan

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="no Chromium (apt-get install chromium)")

RULE_LISTS = [
    {"name": "Bureau", "rules": [], "default": {"action": "ring"}},
    {"name": "Absent", "rules": [], "default": {"action": "voicemail"}},
]


@pytest.fixture
def rule_lists(engine, server):  # noqa: F811
    with engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.extension == "1001")
            .values(call_handling={"rule_lists": RULE_LISTS})
        )


class _Clock(datetime):
    instant = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # Monday, 10:30 in Paris

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return cls.instant.astimezone(tz)


def test_a_user_plans_their_week(page, engine, rule_lists, client, monkeypatch):  # noqa: F811
    log_in(page)
    page.get_by_role("link", name="Planning hebdomadaire").click()
    heading = page.get_by_role("heading", level=1)
    playwright.expect(heading).to_have_text("Planning hebdomadaire — Alice Martin (1001)")
    # The page's script (deferred) names the periods as they are typed: let it load first.
    page.wait_for_load_state("load")

    page.get_by_label("Nom de la période 1").fill("Journée")
    page.get_by_label("Liste de règles de la période 1").select_option("Absent")
    page.get_by_label("Lundi, ligne 1 : période").select_option(label="Journée")
    page.get_by_label("Lundi, ligne 1 : de").select_option("08:00")
    page.get_by_label("Lundi, ligne 1 : à").select_option("12:00")
    page.get_by_label("Lundi, ligne 2 : période").select_option(label="Journée")
    page.get_by_label("Lundi, ligne 2 : de").select_option("11:30")
    page.get_by_label("Lundi, ligne 2 : à").select_option("18:00")
    page.get_by_role("button", name="Enregistrer le planning").click()

    # Refused beside the day, in French; everything chosen is still there.
    monday = page.get_by_role("group", name="Lundi")
    playwright.expect(monday.get_by_role("alert")).to_have_text(
        "les plages 08:00-12:00 et 11:30-18:00 se chevauchent"
    )
    playwright.expect(page.get_by_label("Lundi, ligne 2 : de")).to_have_value("11:30")
    playwright.expect(page.get_by_label("Nom de la période 1")).to_have_value("Journée")
    with engine.connect() as conn:
        stored = conn.scalar(select(User.call_handling).where(User.extension == "1001"))
    assert "planner" not in stored

    page.get_by_label("Lundi, ligne 2 : de").select_option("14:00")
    page.get_by_role("button", name="Recopier lundi du mardi au vendredi").click()
    playwright.expect(page.get_by_label("Vendredi, ligne 2 : de")).to_have_value("14:00")
    page.get_by_label("Les jours spéciaux").select_option("Absent")
    page.get_by_label("Ajouter les jours fériés de").select_option("2026")
    page.get_by_role("button", name="Enregistrer le planning").click()
    playwright.expect(page.get_by_role("status")).to_contain_text("Enregistré")

    week = page.get_by_role("group", name="Ma semaine")
    playwright.expect(week.locator(".wg-bar")).to_have_count(10)
    playwright.expect(week.locator(".wg-bar").first).to_contain_text("Journée")
    playwright.expect(page.get_by_text("Noël")).to_be_visible()
    with engine.connect() as conn:
        planner = conn.scalar(select(User.call_handling).where(User.extension == "1001"))["planner"]
    assert planner["periods"][0]["fri"] == ["08:00-12:00", "14:00-18:00"]
    assert "2026-12-25" in planner["special_days"]["dates"]

    # The next call follows it: Monday 10:30 in a period applying "Absent" (voicemail).
    monkeypatch.setattr(xmlcurl.endpoint, "datetime", _Clock)
    assert ("voicemail", "default 127.0.0.1 1001") in actions(dialplan(client, "1001"))
    _Clock.instant = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # 13:00: no period
    assert ("bridge", "user/1001@127.0.0.1") in actions(dialplan(client, "1001"))


FILLED = {
    "rule_lists": RULE_LISTS,
    "planner": {
        "periods": [
            {
                "name": "Journée",
                "rule_list": "Bureau",
                **{day: ["08:30-12:00", "14:00-18:00"] for day in ("mon", "tue", "wed", "thu")},
                "fri": ["08:30-12:00", "14:00-17:00"],
            },
            {
                "name": "Pause déjeuner",
                "rule_list": "Absent",
                **{day: ["12:00-14:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
            },
            {
                "name": "Week-end",
                "rule_list": "Absent",
                "sat": ["00:00-24:00"],
                "sun": ["00:00-24:00"],
            },
        ],
        "special_days": {
            "rule_list": "Absent",
            "dates": ["2026-12-24", "2026-12-25", "2026-12-31", "2027-01-01"],
        },
    },
}


@pytest.mark.parametrize("width", [1280, 390])
def test_the_planner_fits_a_desktop_and_a_phone(chromium, server, engine, width):  # noqa: F811
    with engine.begin() as conn:
        conn.execute(update(User).where(User.extension == "1001").values(call_handling=FILLED))
        conn.execute(
            update(Tenant)
            .where(Tenant.domain == "127.0.0.1")
            .values(
                holidays=[{"name": "Fermeture annuelle", "from": "2026-12-28", "to": "2026-12-30"}]
            )
        )
    page = chromium.new_page(  # noqa: F811
        base_url=server, locale="fr-FR", viewport={"width": width, "height": 900}
    )
    log_in(page)
    page.goto("/panel/lines/1001/planner")
    playwright.expect(
        page.get_by_role("group", name="Ma semaine").locator(".wg-bar")
    ).to_have_count(17)
    shots = os.environ.get("CENTREX_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/planner-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # Every bar inside its day's track.
    for box in page.locator(".wg-bar").evaluate_all(
        "bars => bars.map(b => [b.getBoundingClientRect().right,"
        " b.parentElement.getBoundingClientRect().right])"
    ):
        assert box[0] <= box[1] + 1


@pytest.mark.parametrize("width", [1280, 390])
def test_the_tenant_s_schedules_fit_a_desktop_and_a_phone(chromium, server, engine, width):  # noqa: F811
    from provisioning import accounts

    with engine.begin() as conn:
        conn.execute(
            update(Tenant)
            .where(Tenant.domain == "127.0.0.1")
            .values(
                schedules=[
                    {
                        "name": "Accueil",
                        "mon": ["08:30-12:30", "13:30-18:00"],
                        **{d: ["08:30-12:30", "13:30-18:00"] for d in ("tue", "wed", "thu")},
                        "fri": ["08:30-12:30", "13:30-17:00"],
                        "sat": ["09:00-12:00"],
                    },
                    {"name": "Hors accueil", "opposite_of": "Accueil"},
                ],
                holidays=[
                    {"name": "Noël", "date": "2026-12-25"},
                    {"name": "Fermeture annuelle", "from": "2026-12-28", "to": "2026-12-31"},
                    {"name": "Jour de l'an", "date": "2027-01-01"},
                ],
            )
        )
    with make_session_factory(engine).begin() as session:
        accounts.set_password(session, "127.0.0.1", "1000", PASSWORD)
    page = chromium.new_page(  # noqa: F811
        base_url=server, locale="fr-FR", viewport={"width": width, "height": 900}
    )
    page.goto("/panel/")
    page.get_by_label("Numéro", exact=True).fill("1000@127.0.0.1")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("link", name="Horaires").click()
    playwright.expect(page.get_by_role("heading", level=1)).to_have_text("Horaires et jours fériés")
    playwright.expect(page.get_by_role("group", name="Accueil").locator(".wg-bar")).to_have_count(
        11
    )
    playwright.expect(page.get_by_role("cell", name="Noël")).to_be_visible()
    shots = os.environ.get("CENTREX_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{shots}/schedules-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
