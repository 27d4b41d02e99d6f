"""When reminders fire: DST both ways in Europe/Paris, midnight, year end, holidays,
leap day, `once` in the past; and the call that plays them."""

from datetime import UTC, date, datetime, time

import pytest

from esl.originate import Line
from esl.reminders import reminder_command
from provisioning.calendar import TenantCalendar, holidays_from_document
from provisioning.reminder_schedule import Kind, ReminderRule, next_due, occurs_at
from xmlcurl.safe import UnsafeValue

PARIS = TenantCalendar("Europe/Paris")
CLOSED = TenantCalendar(
    "Europe/Paris",
    holidays_from_document(
        [
            {"name": "New Year", "date": "2027-01-01"},
            {"name": "Winter closing", "from": "2027-12-24", "to": "2028-01-02"},
        ]
    ),
)


def utc(*fields: int) -> datetime:
    return datetime(*fields, tzinfo=UTC)


def every_day(hh: int, mm: int = 0) -> ReminderRule:
    return ReminderRule(Kind.EVERY_DAY, time(hh, mm))


def working_days(hh: int, mm: int = 0) -> ReminderRule:
    return ReminderRule(Kind.WORKING_DAYS, time(hh, mm))


def once(day: date, hh: int, mm: int = 0) -> ReminderRule:
    return ReminderRule(Kind.ONCE, time(hh, mm), day)


CASES = [
    # (when → then, rule, calendar, after, next due in UTC)
    ("later today", every_day(7), PARIS, utc(2026, 11, 22, 5), utc(2026, 11, 22, 6)),
    ("at the very instant → tomorrow", every_day(7), PARIS, utc(2026, 11, 22, 6),
     utc(2026, 11, 23, 6)),
    ("just before midnight → 00:00", every_day(0), PARIS, utc(2026, 11, 22, 22, 59),
     utc(2026, 11, 22, 23)),
    ("year end: 00:30 on New Year's Day", every_day(0, 30), PARIS, utc(2026, 12, 31, 23),
     utc(2026, 12, 31, 23, 30)),
    ("summer time: CEST", every_day(7), PARIS, utc(2026, 7, 14, 12), utc(2026, 7, 15, 5)),
    ("spring forward: 02:30 skipped → 03:00 CEST", every_day(2, 30), PARIS,
     utc(2026, 3, 28, 12), utc(2026, 3, 29, 1)),
    ("spring forward: the day after, 02:30 CEST again", every_day(2, 30), PARIS,
     utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)),
    ("spring forward: 03:00 itself is 01:00 UTC", every_day(3), PARIS, utc(2026, 3, 28, 12),
     utc(2026, 3, 29, 1)),
    ("fall back: repeated 02:30 fires at its first occurrence", every_day(2, 30), PARIS,
     utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30)),
    ("fall back: ... and once only", every_day(2, 30), PARIS, utc(2026, 10, 25, 0, 30),
     utc(2026, 10, 26, 1, 30)),
    ("working days: Friday evening → Monday", working_days(8), PARIS, utc(2026, 11, 20, 18),
     utc(2026, 11, 23, 7)),
    ("working days: Saturday → Monday", working_days(8), PARIS, utc(2026, 11, 21, 5),
     utc(2026, 11, 23, 7)),
    ("working days: a holiday Friday is skipped", working_days(8), CLOSED,
     utc(2026, 12, 31, 10), utc(2027, 1, 4, 7)),
    ("working days: a closing over year end", working_days(8), CLOSED, utc(2027, 12, 23, 10),
     utc(2028, 1, 3, 7)),
    ("every day ignores holidays", every_day(8), CLOSED, utc(2026, 12, 31, 10),
     utc(2027, 1, 1, 7)),
    ("once, ahead", once(date(2026, 12, 1), 9), PARIS, utc(2026, 11, 22), utc(2026, 12, 1, 8)),
    ("once, on a leap day", once(date(2028, 2, 29), 7), PARIS, utc(2028, 1, 1),
     utc(2028, 2, 29, 6)),
    ("once, in a skipped hour → end of the gap", once(date(2026, 3, 29), 2, 15), PARIS,
     utc(2026, 3, 1), utc(2026, 3, 29, 1)),
    ("once, in the past → never", once(date(2026, 11, 1), 9), PARIS, utc(2026, 11, 22), None),
    ("once, after it fired → never", once(date(2026, 12, 1), 9), PARIS, utc(2026, 12, 1, 8),
     None),
    ("a day the zone skipped entirely fires when it resumes", every_day(9),
     TenantCalendar("Pacific/Apia"), utc(2011, 12, 29, 20), utc(2011, 12, 30, 10)),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "calendar", "after", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_next_due(rule, calendar, after, expected):
    assert next_due(rule, calendar, after) == expected


def test_next_due_is_in_utc_whatever_zone_after_is_given_in():
    from zoneinfo import ZoneInfo

    after = datetime(2026, 11, 22, 6, 0, tzinfo=ZoneInfo("Europe/Paris"))
    due = next_due(every_day(7), PARIS, after)
    assert due == utc(2026, 11, 22, 6) and due.tzinfo is UTC


def test_a_rule_that_never_fires_gives_none():
    always_closed = TenantCalendar(
        "Europe/Paris",
        holidays_from_document([{"name": "Gone", "from": "2026-01-01", "to": "2030-12-31"}]),
    )
    assert next_due(working_days(8), always_closed, utc(2026, 6, 1)) is None


def test_occurs_at_tells_occurrences_from_retries_and_new_holidays():
    assert occurs_at(every_day(7), PARIS, utc(2026, 11, 23, 6))
    assert not occurs_at(every_day(7), PARIS, utc(2026, 11, 23, 6, 2))  # a retry
    assert occurs_at(working_days(8), PARIS, utc(2027, 1, 1, 7))
    assert not occurs_at(working_days(8), CLOSED, utc(2027, 1, 1, 7))  # became a holiday


def test_reminder_call_plays_the_recording_twice_after_a_short_silence():
    command = reminder_command(
        Line("1001", "acme.example"),
        42,
        "0b7c4a3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c",
        "/srv/media/acme.example/announcement/wake/wake.wav",
    )
    assert command == (
        "originate {origination_uuid=0b7c4a3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c,originate_timeout=45,"
        "origination_caller_id_name=Reminder,origination_caller_id_number=Reminder,"
        "centrex_reminder=42}user/1001@acme.example "
        "&playback(file_string://silence_stream://500"
        "!/srv/media/acme.example/announcement/wake/wake.wav!silence_stream://1000"
        "!/srv/media/acme.example/announcement/wake/wake.wav)"
    )


def test_reminder_call_without_recording_plays_the_stock_prompt():
    command = reminder_command(
        Line("1001", "acme.example"), 1, "0b7c4a3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c", None
    )
    assert command.endswith(
        "&playback(file_string://silence_stream://500!ivr/ivr-this_is_your_wakeup_call.wav"
        "!silence_stream://1000!ivr/ivr-this_is_your_wakeup_call.wav)"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/srv/my media/wake.wav",
        "/srv/media/${system(id)}.wav",
        "/srv/media/a.wav) &bridge(sofia/gateway/x/0899",
        "/srv/media/a.wav,b.wav",
    ],
)
def test_a_file_path_that_could_steer_freeswitch_is_refused(path):
    with pytest.raises(UnsafeValue):
        reminder_command(
            Line("1001", "acme.example"), 1, "0b7c4a3e-1d2f-4e5a-9b6c-7d8e9f0a1b2c", path
        )
