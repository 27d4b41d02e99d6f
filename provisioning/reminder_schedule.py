"""Reminders and wake-up calls ("Rappels"): when one is due next. Pure: no database,
no clock (`after` is given), no I/O.

Times are wall-clock times in the tenant's timezone. A time that a spring-forward skips
fires at the first instant after the gap (02:30 on the day Paris jumps from 02:00 to
03:00 fires at 03:00); a time that a fall-back repeats fires once, at its first
occurrence. Working days are Monday to Friday, except the tenant's holidays.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from provisioning.calendar import TenantCalendar

# Far enough to cross a long closing period; a rule with no day in it never fires.
_SEARCH_DAYS = 2 * 366
_WEEKEND = frozenset({5, 6})


class Kind(enum.StrEnum):
    ONCE = "once"  # on a date, at a time
    WORKING_DAYS = "working_days"
    EVERY_DAY = "every_day"


@dataclass(frozen=True)
class ReminderRule:
    kind: Kind
    at: time
    on: date | None = None  # the date of a `once` reminder


def _fires_on(rule: ReminderRule, calendar: TenantCalendar, day: date) -> bool:
    if rule.kind is Kind.ONCE:
        return day == rule.on
    if rule.kind is Kind.WORKING_DAYS:
        return day.weekday() not in _WEEKEND and not calendar.is_holiday(day)
    return True


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    aware = wall.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def wall_clock_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """`at` on `day` in `zone`, in UTC: the first occurrence of a repeated time, the
    end of the gap for a skipped one."""
    wall = datetime.combine(day, at)
    while not _exists(wall, zone):
        wall += timedelta(minutes=1)  # zones change offset on whole minutes
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def next_due(rule: ReminderRule, calendar: TenantCalendar, after: datetime) -> datetime | None:
    """The first instant strictly after `after` at which the rule fires (UTC), or None
    when it never will again (a `once` reminder in the past)."""
    zone = ZoneInfo(calendar.timezone)
    # From the day before: a skipped time can move into the next local day.
    first = after.astimezone(zone).date() - timedelta(days=1)
    if rule.kind is Kind.ONCE:
        days = [rule.on] if rule.on is not None and rule.on >= first else []
    else:
        days = [first + timedelta(days=n) for n in range(_SEARCH_DAYS)]
    for day in days:
        if _fires_on(rule, calendar, day):
            due = wall_clock_instant(day, rule.at, zone)
            if due > after:
                return due
    return None


def occurs_at(rule: ReminderRule, calendar: TenantCalendar, instant: datetime) -> bool:
    """Whether `instant` is one of the rule's times (not, say, a retry, or a day that
    became a holiday after it was planned)."""
    return next_due(rule, calendar, instant - timedelta(microseconds=1)) == instant
