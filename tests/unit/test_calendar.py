"""Schedules and holidays at the edges: midnight, DST changes, year end, leap day."""

from datetime import UTC, date, datetime, time

import pytest

from provisioning.calendar import (
    Holiday,
    InvalidPeriod,
    at,
    check_day,
    holidays_from_document,
    in_force,
    parse_period,
    schedules_from_document,
)

PARIS = "Europe/Paris"
SCHEDULES = schedules_from_document(
    [
        {
            "name": "Shop",
            "mon": ["09:00-12:30", "14:00-19:00"],
            "sat": ["09:00-24:00"],
            "sun": ["00:00-02:00"],
        },
        {"name": "non-Shop", "opposite_of": "Shop"},
        {"name": "Night", "fri": ["22:00-24:00"], "sat": ["00:00-06:00"]},
    ],
    "office hours",
    ["08:00-12:00", "14:00-18:00"],
)
HOLIDAYS = holidays_from_document(
    [
        {"name": "Winter closing", "from": "2026-12-24", "to": "2027-01-03"},
        {"name": "Leap", "date": "2028-02-29"},
    ]
)


@pytest.mark.parametrize(
    "schedule, day, clock, expected",
    [
        # Default office hours: Monday to Friday, lunch break.
        ("office hours", date(2026, 11, 23), time(7, 59), False),
        ("office hours", date(2026, 11, 23), time(8, 0), True),
        ("office hours", date(2026, 11, 23), time(11, 59), True),
        ("office hours", date(2026, 11, 23), time(12, 0), False),  # end is excluded
        ("office hours", date(2026, 11, 23), time(14, 0), True),
        ("office hours", date(2026, 11, 22), time(10, 0), False),  # a Sunday
        # Periods that meet at midnight across two days.
        ("Night", date(2026, 11, 27), time(23, 59), True),
        ("Night", date(2026, 11, 28), time(0, 0), True),
        ("Night", date(2026, 11, 28), time(6, 0), False),
        ("Shop", date(2026, 11, 28), time(23, 59), True),
        ("Shop", date(2026, 11, 29), time(1, 59), True),
        # The opposite schedule is exactly the complement.
        ("non-Shop", date(2026, 11, 23), time(13, 0), True),
        ("non-Shop", date(2026, 11, 23), time(10, 0), False),
        # Holidays close schedules, across year end, and open the opposite one.
        ("office hours", date(2026, 12, 23), time(10, 0), True),
        ("office hours", date(2026, 12, 24), time(10, 0), False),
        ("office hours", date(2026, 12, 31), time(10, 0), False),
        ("office hours", date(2027, 1, 1), time(10, 0), False),
        ("office hours", date(2027, 1, 4), time(10, 0), True),
        ("Shop", date(2026, 12, 28), time(10, 0), False),
        ("non-Shop", date(2026, 12, 28), time(10, 0), True),
        ("office hours", date(2028, 2, 29), time(10, 0), False),
        ("office hours", date(2028, 3, 1), time(10, 0), True),
    ],
)
def test_in_force_at_wall_clock_time(schedule, day, clock, expected):
    assert (
        in_force(SCHEDULES[schedule.casefold()], HOLIDAYS, at(day, clock, PARIS), PARIS) is expected
    )


@pytest.mark.parametrize(
    "utc, expected",
    [
        # 2026-03-29: Paris goes from 02:00 CET to 03:00 CEST (UTC+1 → UTC+2).
        (datetime(2026, 3, 30, 5, 59, tzinfo=UTC), False),  # 07:59 CEST
        (datetime(2026, 3, 30, 6, 0, tzinfo=UTC), True),  # 08:00 CEST
        (datetime(2026, 3, 27, 6, 59, tzinfo=UTC), False),  # Friday before: 07:59 CET
        (datetime(2026, 3, 27, 7, 0, tzinfo=UTC), True),  # 08:00 CET
        # 2026-10-25: back to CET; Monday 26th 08:00 CET = 07:00 UTC.
        (datetime(2026, 10, 26, 6, 59, tzinfo=UTC), False),
        (datetime(2026, 10, 26, 7, 0, tzinfo=UTC), True),
    ],
)
def test_office_hours_follow_the_tenant_zone_across_dst(utc, expected):
    assert in_force(SCHEDULES["office hours"], (), utc, PARIS) is expected


def test_same_instant_differs_by_zone():
    monday_9_utc = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert in_force(SCHEDULES["office hours"], (), monday_9_utc, PARIS)  # 10:00
    assert not in_force(SCHEDULES["office hours"], (), monday_9_utc, "America/New_York")  # 04:00


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        in_force(SCHEDULES["shop"], (), datetime(2026, 1, 1, 10), PARIS)


@pytest.mark.parametrize(
    "text, why",
    [
        ("8:00-12:00", "HH:MM"),
        ("12:00-08:00", "after it starts"),
        ("22:00-02:00", "after it starts"),
        ("24:00-24:00", "HH:MM"),
        ("08:00-24:01", "24:00 at the latest"),
        ("08:10-09:00", "15-minute"),
    ],
)
def test_bad_periods(text, why):
    with pytest.raises(InvalidPeriod, match=why):
        parse_period(text, resolution=15)


def test_at_most_three_non_overlapping_periods_a_day():
    with pytest.raises(InvalidPeriod, match="overlap"):
        check_day([parse_period("08:00-12:00"), parse_period("11:00-13:00")])
    with pytest.raises(InvalidPeriod, match="at most 3"):
        check_day(
            [parse_period(p) for p in ["01:00-02:00", "03:00-04:00", "05:00-06:00", "07:00-08:00"]]
        )
    assert [
        str(p) for p in check_day([parse_period("14:00-18:00"), parse_period("08:00-12:00")])
    ] == ["08:00-12:00", "14:00-18:00"]


def test_holiday_covers_both_ends():
    h = Holiday("x", date(2026, 12, 24), date(2027, 1, 3))
    assert h.covers(date(2026, 12, 24)) and h.covers(date(2027, 1, 3))
    assert not h.covers(date(2027, 1, 4))
