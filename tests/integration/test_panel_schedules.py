"""The tenant's schedules and holidays in the panel (tenant admins, read-only): each
schedule drawn as a week grid, whether it is in force now as routing reads it, the
opposite ones said, the holidays to come with their names."""

from datetime import UTC, datetime

import lxml.html
import pytest

from admin.schedules import views as schedules_views
from provisioning.models import Tenant
from tests.integration.test_panel import (
    PASSWORDS,
    log_in,
    panel,  # noqa: F401 (a fixture)
    shown,
)

SCHEDULES = [
    {"name": "Shop", "mon": ["09:00-12:30", "14:00-19:00"], "sat": ["10:00-18:00"]},
    {"name": "non-Shop", "opposite_of": "Shop"},
]
HOLIDAYS = [
    {"name": "Noël", "date": "2026-12-25"},
    {"name": "Fermeture annuelle", "from": "2026-12-28", "to": "2026-12-31"},
    {"name": "Fête du Travail", "date": "2026-05-01"},
]


class _Clock(datetime):
    instant = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # Monday, 10:30 in Paris

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return cls.instant.astimezone(tz)


@pytest.fixture
def admin(panel, engine, monkeypatch):  # noqa: F811
    with engine.begin() as conn:
        conn.execute(
            Tenant.__table__.update()
            .where(Tenant.domain == "127.0.0.1")
            .values(schedules=SCHEDULES, holidays=HOLIDAYS)
        )
    monkeypatch.setattr(schedules_views, "datetime", _Clock)
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    return panel


def sections(html: str) -> dict[str, lxml.html.HtmlElement]:
    page = lxml.html.fromstring(html)
    return {s.xpath("./h2")[0].text.strip(): s for s in page.xpath("//main/section")}


def test_each_schedule_is_a_week_grid_with_its_state_now(admin):
    answer = admin.get("/panel/schedules")
    assert answer.status_code == 200
    found = sections(answer.text)
    assert list(found) == ["office hours", "Shop", "non-Shop"]
    shop = found["Shop"]
    bars = [
        (b.text_content(), b.get("class")) for b in shop.xpath('.//*[contains(@class, "wg-bar")]')
    ]
    assert bars == [
        ("09:00–12:30", "wg-bar tone0 q36 to50"),
        ("14:00–19:00", "wg-bar tone0 q56 to76"),
        ("10:00–18:00", "wg-bar tone0 q40 to72"),
    ]
    assert "in force now" in shown(lxml.html.tostring(shop).decode())
    non_shop = shown(lxml.html.tostring(found["non-Shop"]).decode())
    assert "not in force now" in non_shop
    assert "In force whenever “Shop” is not, holidays included." in non_shop
    office = shown(lxml.html.tostring(found["office hours"]).decode())
    assert "unless its document sets its own" in office and "in force now" in office


def rows(html: str) -> list[list[str]]:
    page = lxml.html.fromstring(html)
    return [[td.text_content() for td in tr.xpath("./td")] for tr in page.xpath("//tbody/tr")]


def test_holidays_to_come_are_listed_with_their_names(admin):
    answer = admin.get("/panel/schedules").text
    assert rows(answer) == [
        ["Noël", "Friday, December 25, 2026"],
        ["Fermeture annuelle", "from Monday, December 28, 2026 to Thursday, December 31, 2026"],
    ]
    assert "1 past holiday not shown." in shown(answer)


def test_on_a_holiday_every_schedule_is_out_of_force(admin):
    _Clock.instant = datetime(2026, 12, 25, 9, 30, tzinfo=UTC)
    try:
        page = admin.get("/panel/schedules").text
    finally:
        _Clock.instant = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
    assert "Today is a holiday" in shown(page)
    states = {name: shown(lxml.html.tostring(s).decode()) for name, s in sections(page).items()}
    assert "not in force now" in states["Shop"] and "not in force now" not in states["non-Shop"]


def test_in_french_for_french_admins(admin):
    from admin.languages import COOKIE

    admin.set_cookie(COOKIE, "fr")
    answer = admin.get("/panel/schedules").text
    assert "Horaires et jours fériés" in shown(answer)
    assert "1 jour férié passé non affiché." in shown(answer)
    assert ["Noël", "vendredi 25 décembre 2026"] in rows(answer)
    assert "en vigueur maintenant" in shown(answer)


def test_users_who_are_not_admins_do_not_see_them(panel):  # noqa: F811
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    assert panel.get("/panel/schedules").status_code == 403


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_planner_and_schedules_pages_speak_one_language(admin, engine, language):
    """No English left on the French pages, none of the French catalogue on English ones
    (as every page of the panel, `test_panel.test_every_page_renders_in_both_languages`)."""
    from babel.messages.pofile import read_po

    from admin.languages import COOKIE, TRANSLATIONS
    from tests.integration.test_panel import _texts
    from tests.integration.test_panel_planner import RULE_LISTS, set_handling

    with (TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = [m for m in read_po(po) if m.id and m.id != m.string]
    english = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalogue}
    french = {m.string[0] if isinstance(m.string, tuple) else m.string for m in catalogue}
    planner = {"periods": [{"name": "Day", "rule_list": "Work", "mon": ["08:00-12:00"]}]}
    set_handling(engine, "1001", {"rule_lists": RULE_LISTS, "planner": planner})
    admin.set_cookie(COOKIE, language)
    unwanted = english if language == "fr" else french
    for path in ("/panel/schedules", "/panel/lines/1001/planner"):
        answer = admin.get(path)
        assert answer.status_code == 200
        assert f'<html lang="{language}">' in answer.text
        assert _texts(answer.text) & unwanted == set(), path
