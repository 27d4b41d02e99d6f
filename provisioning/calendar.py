"""Schedules ("plages horaires") and holidays, and whether one is in force at an instant.

Pure: `in_force(schedule, holidays, when)` takes an aware datetime and reads it in the
tenant's timezone, so DST changes, midnight and year end need no special case: a
period is wall-clock time on the day it names. Holidays and vacations close every
schedule for the whole day; an opposite schedule ("non-…") is in force exactly when
its schedule is not, holidays included.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from provisioning.errors import DomainError, said

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_PERIODS_PER_DAY = 3
_PERIOD = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])")


class InvalidPeriod(DomainError, ValueError):
    pass


@dataclass(frozen=True, order=True)
class Period:
    """[start, end) in minutes of the day; end may be 1440 (midnight at the end)."""

    start: int
    end: int

    def __str__(self) -> str:
        return (
            f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"
        )


def parse_period(text: str, *, resolution: int = 1) -> Period:
    """`08:00-12:00` → Period. `24:00` may end a period; a period never wraps midnight
    (write 22:00-24:00 and 00:00-06:00 on the next day)."""
    match = _PERIOD.fullmatch(text.strip())
    if not match:
        raise InvalidPeriod(said("period_format", "must be HH:MM-HH:MM, e.g. 08:00-12:00"))
    h1, m1, h2, m2 = map(int, match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end > 1440:
        raise InvalidPeriod(said("period_past_midnight", "must end at 24:00 at the latest"))
    if start >= end:
        raise InvalidPeriod(said("period_reversed", "must end after it starts, on the same day"))
    if start % resolution or end % resolution:
        raise InvalidPeriod(
            said(
                "period_boundary",
                "must start and end on a %(minutes)d-minute boundary",
                minutes=resolution,
            )
        )
    return Period(start, end)


def check_day(periods: list[Period]) -> list[Period]:
    """1 to 3 periods that do not overlap, in order."""
    if len(periods) > MAX_PERIODS_PER_DAY:
        raise InvalidPeriod(
            said("periods_per_day", "at most %(max)d periods a day", max=MAX_PERIODS_PER_DAY)
        )
    ordered = sorted(periods)
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            raise InvalidPeriod(
                said(
                    "periods_overlap",
                    "periods %(first)s and %(second)s overlap",
                    first=str(a),
                    second=str(b),
                )
            )
    return ordered


@dataclass(frozen=True)
class Holiday:
    """A closed day, or a closed range of days (both ends included)."""

    name: str
    first: date
    last: date

    def covers(self, day: date) -> bool:
        return self.first <= day <= self.last


@dataclass(frozen=True)
class Schedule:
    name: str
    # Weekday (0 = Monday) → periods of that day.
    week: dict[int, tuple[Period, ...]]
    # An opposite schedule ("non-…") is in force when `week` is not (holidays included).
    opposite: bool = False


def local(when: datetime, timezone: str) -> datetime:
    if when.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    return when.astimezone(ZoneInfo(timezone))


def is_holiday(holidays: tuple[Holiday, ...], day: date) -> bool:
    return any(h.covers(day) for h in holidays)


def in_force(
    schedule: Schedule, holidays: tuple[Holiday, ...], when: datetime, timezone: str
) -> bool:
    now = local(when, timezone)
    minute = now.hour * 60 + now.minute
    open_now = not is_holiday(holidays, now.date()) and any(
        p.start <= minute < p.end for p in schedule.week.get(now.weekday(), ())
    )
    return open_now != schedule.opposite


@dataclass(frozen=True)
class TenantCalendar:
    """A tenant's time: its timezone, holidays, and schedules by case-folded name.
    Routing, the number-routing API, the summary, the activity view and reminders all
    read it, so that they agree on what is in force."""

    timezone: str
    holidays: tuple[Holiday, ...] = ()
    schedules: Mapping[str, Schedule] = field(default_factory=dict)

    def local(self, when: datetime) -> datetime:
        return local(when, self.timezone)

    def is_holiday(self, day: date) -> bool:
        return is_holiday(self.holidays, day)

    def in_force(self, name: str, when: datetime) -> bool:
        """A schedule the tenant no longer has is never in force: a setting bound to it
        is then off, not on at all times."""
        schedule = self.schedules.get(name.casefold())
        return schedule is not None and in_force(schedule, self.holidays, when, self.timezone)


def at(day: date, clock: time, timezone: str) -> datetime:
    """A wall-clock instant in a zone (tests and examples)."""
    return datetime.combine(day, clock, tzinfo=ZoneInfo(timezone))


def schedules_from_document(
    documents: list[dict[str, Any]], default_name: str, default_periods: list[str]
) -> dict[str, Schedule]:
    """The tenant's schedules by case-folded name, from their canonical document form,
    with the default schedule every tenant has unless the document redefines it."""
    week_of: dict[str, dict[int, tuple[Period, ...]]] = {
        default_name.casefold(): {
            day: tuple(parse_period(p) for p in default_periods) for day in range(5)
        }
    }
    for doc in documents:
        if not doc.get("opposite_of"):
            week_of[doc["name"].casefold()] = {
                i: tuple(parse_period(p) for p in doc.get(day, ()))
                for i, day in enumerate(WEEKDAYS)
            }
    out = {name: Schedule(name, week) for name, week in week_of.items()}
    for doc in documents:
        if doc.get("opposite_of"):
            base = out[doc["opposite_of"].casefold()]
            out[doc["name"].casefold()] = Schedule(doc["name"], base.week, opposite=True)
    return out


def holidays_from_document(documents: list[dict[str, Any]]) -> tuple[Holiday, ...]:
    out = []
    for doc in documents:
        first = date.fromisoformat(doc.get("date") or doc["from"])
        last = date.fromisoformat(doc.get("date") or doc["to"])
        out.append(Holiday(doc["name"], first, last))
    return tuple(out)
