"""The configuration summary and the CSV holiday reader, pure."""

import datetime
from datetime import date, time

import pytest

from provisioning.calendar import at
from provisioning.document import DocumentInvalid, HolidayDoc
from provisioning.holiday_csv import merged, parse_holidays_csv
from provisioning.summary import as_html, as_text, summarise
from tests.unit.routing_tenant import tenant_doc

DOC = tenant_doc()
MONDAY_10 = at(date(2026, 11, 23), time(10, 0), "Europe/Paris")
IN_CLOSING = at(date(2026, 12, 28), time(23, 0), "Europe/Paris")


def section(summary, title):
    return next(s for s in summary.sections if s.title == title)


def test_summary_walks_numbers_to_schedules_destinations_groups_and_overflow():
    text = as_text(summarise(DOC, MONDAY_10))
    assert "Rules in force at 2026-11-23 10:00 (Europe/Paris)" in text
    assert "- +33184800100 — Main\n    while office hours: group Sales  ◀ now\n" in text
    assert "    outside every schedule: number +33612345678\n" in text
    assert "- +33184800101\n    always: line 1001 (Alice O'Hara)" in text
    assert "- +33184800102\n    always: nowhere (the call is rejected)" in text
    assert "- Sales (2000, short 200)\n    members: 1000 Reception, 1001 Alice O'Hara" in text
    assert "3 rings (15 s) × 2 cycles\n    if nobody answers: queue Support" in text
    assert "max wait: 120 s\n    then: hang up" in text
    assert "    withholds their number" in text
    assert "- 550 → +33970711058 (Supplier)" in text
    assert "- Plumber & Sons: +33145454545 (##3435)" in text


def test_summary_marks_what_is_in_force_now():
    now = summarise(DOC, MONDAY_10)
    schedules = {e.heading: e.in_force for e in section(now, "Schedules").entries}
    assert schedules == {"office hours": True, "Late": False, "Early": False, "closed": False}
    closing = summarise(DOC, IN_CLOSING)
    schedules = {e.heading: e.in_force for e in section(closing, "Schedules").entries}
    assert schedules["Late"] is False and schedules["closed"] is True
    closures = {e.heading: e.in_force for e in section(closing, "Holidays and closures").entries}
    assert closures == {
        "2026-12-24 to 2027-01-03: Winter closing": True,
        "2026-05-01: Labour day": False,
    }
    assert "outside every schedule: number +33612345678  ◀ now" in as_text(closing)


def test_summary_page_escapes_everything_and_prints_standalone():
    page = as_html(summarise(DOC, MONDAY_10))
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>")
    assert "Plumber &amp; Sons" in page and "O&#x27;Hara" in page
    assert "Plumber & Sons" not in page
    assert "<script" not in page and "@media print" in page and "http" not in page
    assert '<span class="now">office hours (in force)</span>' in page


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "date,name\n2027-05-01,Labour day\n",
            [HolidayDoc(name="Labour day", date=date(2027, 5, 1))],
        ),
        ("Date ; Name\r\n1/5/2027 ; Fête\r\n", [HolidayDoc(name="Fête", date=date(2027, 5, 1))]),
        (
            "name,from,to\nClosing,2027-12-24,02/01/2028\n",
            [
                HolidayDoc.model_validate(
                    {"name": "Closing", "from": "2027-12-24", "to": "2028-01-02"}
                )
            ],
        ),
        ("date,name\n\n", []),
    ],
)
def test_csv_layouts_and_date_forms(text, expected):
    assert parse_holidays_csv(text) == expected


def test_every_bad_csv_row_is_reported_with_its_line():
    text = (
        "from,to,name\n"
        "2027-01-01,2027-01-02,Fine\n"
        "2027-01-05,2027-01-04,Backwards\n"
        "05/13/2027,2027-06-01,American\n"
        "2027-01-01,2027-01-02,\n"
        "2027-01-01,2027-01-02\n"
    )
    with pytest.raises(DocumentInvalid) as caught:
        parse_holidays_csv(text)
    assert [str(p) for p in caught.value.problems] == [
        "line 3: to must not be before from",
        "line 4: dates must be YYYY-MM-DD or DD/MM/YYYY",
        "line 5: name must not be empty",
        "line 6: expected 3 columns",
    ]
    with pytest.raises(DocumentInvalid):
        parse_holidays_csv("")


def test_merge_keeps_known_days_once():
    may = HolidayDoc(name="May", date=datetime.date(2027, 5, 1))
    other_name = HolidayDoc(name="Labour day", date=datetime.date(2027, 5, 1))
    july = HolidayDoc(name="July", date=datetime.date(2027, 7, 14))
    assert merged([may], [other_name, july, july]) == [may, july]
