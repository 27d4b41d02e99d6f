"""The weekly planner page through the Flask test client: the week drawn as a grid and
edited day by day, special days, refusals beside their field with the input kept, and
the next xml_curl fetch following the planner at a time inside and outside a period."""

from datetime import UTC, datetime

import lxml.html
import pytest

import xmlcurl.endpoint
from admin.languages import COOKIE
from provisioning.models import Tenant, User
from tests.integration.test_panel import (
    PASSWORDS,
    log_in,
    panel,  # noqa: F401 (a fixture)
    shown,
    stored_handling,
)
from tests.integration.test_xmlcurl import actions, dialplan

PAGE = "/panel/lines/1001/planner"
RULE_LISTS = [
    {"name": "Work", "rules": [], "default": {"action": "ring"}},
    {"name": "Away", "rules": [], "default": {"action": "voicemail"}},
]


def set_handling(engine, extension: str, handling: dict) -> None:
    with engine.begin() as conn:
        conn.execute(
            User.__table__.update()
            .where(User.extension == extension)
            .values(call_handling=handling, version=User.version + 1)
        )


@pytest.fixture
def user(panel, engine):  # noqa: F811
    set_handling(engine, "1001", {"rule_lists": RULE_LISTS})
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    return panel


def form_values(client, path: str = PAGE) -> dict[str, list[str]]:
    """What a browser would send of the planner's form as it stands (selects with their
    chosen option, ticked boxes only)."""
    page = lxml.html.fromstring(client.get(path).text)
    (form,) = [f for f in page.forms if f.action == path]
    values: dict[str, list[str]] = {}
    for name, value in form.form_values():
        values.setdefault(name, []).append(value)
    return values


def save(client, changes: dict[str, str | list[str] | None], path: str = PAGE):
    data = form_values(client, path)
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value if isinstance(value, list) else [value]
    return client.post(path, data=data)


def errors_beside(html: str, name: str) -> list[str]:
    """The messages shown in the same slot or row as the field (`day-mon`: the row of
    Monday's times, for what concerns the day as a whole)."""
    page = lxml.html.fromstring(html)
    (element,) = page.xpath(f'//*[@name="{name}" or @id="{name}"]')
    holder = element.getparent()
    while holder.tag == "p":
        holder = holder.getparent()
    return [e.text_content() for e in holder.xpath('./p[@class="error"]')]


DAY = {
    "period-0-name": "Day",
    "period-0-rule_list": "Work",
    "mon-0-period": "0",
    "mon-0-start": "08:00",
    "mon-0-end": "12:00",
    "mon-1-period": "0",
    "mon-1-start": "14:00",
    "mon-1-end": "18:30",
}


def test_the_week_is_edited_day_by_day_and_drawn_as_a_grid(user, engine):
    answer = save(
        user,
        {
            **DAY,
            "period-1-name": "Lunch",
            "period-1-rule_list": "Away",
            "tue-0-period": "1",
            "tue-0-start": "12:00",
            "tue-0-end": "14:00",
        },
    )
    assert answer.status_code == 302, shown(answer.text)
    planner = stored_handling(engine, "1001")["planner"]
    assert planner == {
        "periods": [
            {"name": "Day", "rule_list": "Work", "mon": ["08:00-12:00", "14:00-18:30"]},
            {"name": "Lunch", "rule_list": "Away", "tue": ["12:00-14:00"]},
        ]
    }
    page = lxml.html.fromstring(user.get(PAGE).text)
    bars = [
        (b.text_content(), b.get("class")) for b in page.xpath('//*[contains(@class, "wg-bar")]')
    ]
    assert ("Day08:00–12:00", "wg-bar tone0 q32 to48") in bars
    assert ("Day14:00–18:30", "wg-bar tone0 q56 to74") in bars
    assert ("Lunch12:00–14:00", "wg-bar tone1 q48 to56") in bars
    legend = shown(lxml.html.tostring(page.xpath('//ul[@class="wg-legend"]')[0]).decode())
    assert "Day applies “Work”" in legend and "Lunch applies “Away”" in legend
    # The form shows it back as saved, each day's times in order.
    values = form_values(user)
    assert [values[f"mon-{k}-start"] for k in range(3)] == [["08:00"], ["14:00"], [""]]
    assert values["tue-0-period"] == ["1"] and values["period-1-name"] == ["Lunch"]


def test_a_save_says_so_and_the_line_page_sums_the_planner_up(user, engine):
    answer = save(user, DAY)
    assert answer.status_code == 302 and answer.location.endswith(PAGE)
    assert "Saved: calls follow the new planner from now on." in shown(user.get(PAGE).text)
    line = user.get("/panel/lines/1001").text
    assert "Weekly planner: Day." in shown(line)
    tab = lxml.html.fromstring(line).xpath(f'//a[@href="{PAGE}"]')
    assert [a.text_content() for a in tab] == ["Weekly planner"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"mon-1-start": "11:00", "mon-1-end": "13:00"},
            "day-mon",
            "periods 08:00-12:00 and 11:00-13:00 overlap",
        ),
        ({"mon-1-period": ""}, "mon-1-period", "Choose the period of these times."),
        ({"mon-1-end": ""}, "mon-1-start", "Give a start and an end."),
        ({"period-0-name": ""}, "period-0-name", "Give this period a name."),
        (
            {"period-0-rule_list": ""},
            "period-0-rule_list",
            "Choose the rule list this period applies.",
        ),
        (
            {"mon-1-start": "14:10"},
            "mon-1-start",
            "must start and end on a 15-minute boundary",
        ),
        ({"mon-1-start": "19:00"}, "mon-1-start", "must end after it starts, on the same day"),
        (
            {"period-0-rule_list": "Gone"},
            "period-0-rule_list",
            "no rule list named 'Gone'",
        ),
        (
            {
                "period-1-name": "Other",
                "period-1-rule_list": "Away",
                "mon-2-period": "1",
                "mon-2-start": "17:00",
                "mon-2-end": "20:00",
            },
            "day-mon",
            "overlaps 'Day' (14:00-18:30)",
        ),
        (
            {
                "special-add_from": "2027-01-10",
                "special-add_to": "2027-01-01",
                "special-rule_list": "Away",
            },
            "special-add_to",
            "Must not come before the first day.",
        ),
        (
            {"special-add_from": "2027-01-10"},
            "special-rule_list",
            "Choose the rule list of special days, or untick every day.",
        ),
    ],
)
def test_refusals_are_said_beside_their_field_and_nothing_is_lost(
    user, engine, changes, field, message
):
    assert save(user, DAY).status_code == 302
    before = stored_handling(engine, "1001")
    answer = save(user, changes)
    assert answer.status_code == 400
    assert message in errors_beside(answer.text, field)
    assert "Nothing was saved" in shown(answer.text)
    assert stored_handling(engine, "1001") == before
    # What was chosen or typed is shown again as it was sent.
    page = lxml.html.fromstring(answer.text)
    for name, value in changes.items():
        (element,) = page.xpath(f'//*[@name="{name}"]')
        assert (element.value or "") == value, name


def test_refusals_are_in_french_for_french_users(user, engine):
    user.set_cookie(COOKIE, "fr")
    answer = save(user, {**DAY, "mon-1-start": "11:00", "mon-1-end": "13:00"})
    assert answer.status_code == 400
    assert errors_beside(answer.text, "day-mon") == [
        "les plages 08:00-12:00 et 11:00-13:00 se chevauchent"
    ]
    answer = save(user, {**DAY, "mon-1-start": "14:10"})
    assert errors_beside(answer.text, "mon-1-start") == [
        "doit commencer et finir sur un multiple de 15 minutes"
    ]


class _Clock(datetime):
    """`datetime` for xml_curl's endpoint, its `now` fixed (routing reads the clock there)."""

    instant = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return cls.instant.astimezone(tz)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(xmlcurl.endpoint, "datetime", _Clock)
    return _Clock


# Monday 7 December 2026 in Paris (UTC+1).
INSIDE = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # 10:30, in 08:00-12:00
OUTSIDE = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # 13:00, between the two periods
CHRISTMAS = datetime(2026, 12, 25, 9, 30, tzinfo=UTC)  # a Friday: no period


def test_the_next_call_follows_the_planner_inside_and_outside_a_period(user, client, clock):
    voicemail = ("voicemail", "default 127.0.0.1 1001")
    ring = ("bridge", "user/1001@127.0.0.1")
    clock.instant = INSIDE
    assert ring in actions(dialplan(client, "1001"))  # nothing planned yet
    assert save(user, {**DAY, "period-0-rule_list": "Away"}).status_code == 302
    assert voicemail in actions(dialplan(client, "1001"))
    clock.instant = OUTSIDE
    call = actions(dialplan(client, "1001"))
    assert ring in call and voicemail not in call
    # Changed in the panel, followed at once.
    assert save(user, {"mon-0-end": "10:00"}).status_code == 302
    clock.instant = INSIDE
    assert ring in actions(dialplan(client, "1001"))


def test_special_days_from_national_holidays_and_ranges(user, engine, client, clock):
    user.set_cookie(COOKIE, "fr")
    answer = save(user, {"special-rule_list": "Away", "special-add_year": "2026"})
    assert answer.status_code == 302, shown(answer.text)
    special = stored_handling(engine, "1001")["planner"]["special_days"]
    assert special["rule_list"] == "Away" and "2026-12-25" in special["dates"]
    page = lxml.html.fromstring(user.get(PAGE).text)
    chips = [li.text_content() for li in page.xpath('//ul[@class="special-dates"]/li')]
    assert "vendredi 25 décembre 2026Noël" in chips  # named in French
    assert "mardi 14 juillet 2026Fête nationale" in chips
    clock.instant = CHRISTMAS
    assert ("voicemail", "default 127.0.0.1 1001") in actions(dialplan(client, "1001"))

    # A range added, a day unticked.
    kept = [d for d in special["dates"] if d != "2026-12-25"]
    answer = save(
        user,
        {"special-date": kept, "special-add_from": "2027-02-15", "special-add_to": "2027-02-19"},
    )
    assert answer.status_code == 302
    dates = stored_handling(engine, "1001")["planner"]["special_days"]["dates"]
    assert "2026-12-25" not in dates
    assert [d for d in dates if d.startswith("2027-02")] == [f"2027-02-{n}" for n in range(15, 20)]
    assert ("bridge", "user/1001@127.0.0.1") in actions(dialplan(client, "1001"))


def test_the_company_s_holidays_count_unless_untagged(user, engine, client, clock):
    with engine.begin() as conn:
        conn.execute(
            Tenant.__table__.update()
            .where(Tenant.domain == "127.0.0.1")
            .values(holidays=[{"name": "Fermeture", "date": "2026-12-07"}])
        )
    assert save(user, {**DAY, "special-rule_list": "Away"}).status_code == 302
    clock.instant = OUTSIDE  # a company holiday: special, all day
    assert ("voicemail", "default 127.0.0.1 1001") in actions(dialplan(client, "1001"))
    assert save(user, {"special-tenant_holidays": None}).status_code == 302
    assert stored_handling(engine, "1001")["planner"]["special_days"] == {
        "rule_list": "Away",
        "tenant_holidays": False,
    }
    assert ("bridge", "user/1001@127.0.0.1") in actions(dialplan(client, "1001"))


def test_a_save_from_a_stale_page_is_refused_and_nothing_is_lost(user, engine):
    data = form_values(user)
    set_handling(engine, "1001", {"rule_lists": RULE_LISTS, "do_not_disturb": {}})
    for name, value in DAY.items():
        data[name] = [value]
    refused = user.post(PAGE, data=data)
    assert refused.status_code == 400
    assert "changed meanwhile" in shown(refused.text)
    assert "planner" not in stored_handling(engine, "1001")
    again = lxml.html.fromstring(refused.text)
    (version,) = again.xpath('//input[@name="version"]/@value')
    assert again.xpath('//input[@name="period-0-name"]/@value') == ["Day"]  # kept
    assert user.post(PAGE, data={**data, "version": [version]}).status_code == 302
    handling = stored_handling(engine, "1001")
    assert handling["do_not_disturb"] == {} and handling["planner"]["periods"][0]["name"] == "Day"


def test_what_the_page_does_not_show_in_three_lines_is_shown_whole_and_kept(user, engine):
    """A day with more times than three lines hold gets as many lines; a save of the page
    as it stands writes back the same planner."""
    planner = {
        "periods": [
            {"name": "A", "rule_list": "Work", "wed": ["06:00-07:00", "09:00-10:00"]},
            {"name": "B", "rule_list": "Away", "wed": ["07:00-08:00", "10:00-11:00"]},
        ],
        "special_days": {"rule_list": "Away", "dates": ["2027-01-04"]},
    }
    set_handling(engine, "1001", {"rule_lists": RULE_LISTS, "planner": planner})
    values = form_values(user)
    assert [values[f"wed-{k}-start"][0] for k in range(4)] == ["06:00", "07:00", "09:00", "10:00"]
    assert "wed-4-start" not in values
    assert save(user, {}).status_code == 302
    assert stored_handling(engine, "1001")["planner"] == planner


def test_copy_monday_fills_the_week_days_without_saving(user, engine):
    answer = save(user, {**DAY, "copy": "mon"})
    assert answer.status_code == 200
    assert "Monday copied to Tuesday–Friday" in shown(answer.text)
    assert "planner" not in stored_handling(engine, "1001")
    page = lxml.html.fromstring(answer.text)
    for day in ("tue", "fri"):
        (start,) = page.xpath(f'//select[@name="{day}-1-start"]')
        assert start.value == "14:00"
    assert not page.xpath('//select[@name="sat-0-start"]')[0].value


def test_users_reach_their_own_planner_admins_any_of_their_tenant(user, panel, engine):  # noqa: F811
    assert user.get("/panel/lines/1000/planner").status_code == 403
    assert user.post("/panel/lines/1000/planner", data={}).status_code == 403
    user.post("/panel/logout", data={"csrf_token": form_values(user)["csrf_token"][0]})
    log_in(panel, "1000@127.0.0.1", PASSWORDS["1000"])
    assert "You are acting for this user." in shown(panel.get(PAGE).text)
    assert save(panel, DAY).status_code == 302
    assert stored_handling(engine, "1001")["planner"]["periods"][0]["name"] == "Day"
    assert panel.get("/panel/lines/1099/planner").status_code == 404


def test_without_a_rule_list_the_page_says_what_a_period_needs(panel, engine):  # noqa: F811
    log_in(panel, "1001@127.0.0.1", PASSWORDS["1001"])
    page = shown(panel.get(PAGE).text)
    assert "This line has no rule list yet." in page
    answer = save(panel, {**DAY, "period-0-rule_list": "Work"})
    assert answer.status_code == 400
    assert "no rule list named 'Work'" in errors_beside(answer.text, "period-0-rule_list")


def test_forms_without_their_csrf_token_are_refused(user, engine):
    data = form_values(user)
    data.pop("csrf_token")
    assert user.post(PAGE, data={**data, **{k: [v] for k, v in DAY.items()}}).status_code == 400
    assert "planner" not in stored_handling(engine, "1001")


@pytest.mark.parametrize("year", ["\u00b2", "99999999", "1066"])
def test_a_year_no_holiday_table_has_is_refused_beside_its_field(user, engine, year):
    """ "²" passes isdigit() but not int(), and a year far from ours is no date at all:
    both were 500s from a forged form."""
    answer = save(user, {"special-rule_list": "Away", "special-add_year": year})
    assert answer.status_code == 400
    assert errors_beside(answer.text, "special-add_year") == ["Choose a year."]
    assert "special_days" not in (stored_handling(engine, "1001") or {}).get("planner", {})
