"""A week drawn as a grid: one row a day, 24 hours across, each period a coloured bar.

The planner page draws a user's planner with it, the schedules page the tenant's
schedules. Bars sit on a grid of quarter hours (`templates/_week_grid.html`, classes of
`static/week-grid.css`: the panel's pages allow no inline style); a schedule's period
that does not start or end on a quarter is drawn to the nearest one, its exact times in
its text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from babel.dates import get_day_names
from flask_babel import get_locale

from provisioning import calendar as cal

QUARTER = 15
QUARTERS = 24 * 60 // QUARTER
# Colours a grid tells apart (`.tone0`…), then they come round again.
TONES = 3


@dataclass(frozen=True)
class Bar:
    first: int  # the quarter it starts in, 0–95
    last: int  # the quarter after it ends, 1–96
    tone: int
    name: str
    times: str  # as a reader reads it: 08:00–12:00


@dataclass(frozen=True)
class GridDay:
    key: str  # mon…sun
    name: str  # in the user's language
    short: str
    bars: tuple[Bar, ...]
    # The quarter the tenant's clock is in, on today's row.
    now: int | None = None


@dataclass(frozen=True)
class Named:
    """One period (or schedule) of the week: its name, what it does, its times by day."""

    name: str
    detail: str
    days: Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Legend:
    tone: int
    name: str
    detail: str


@dataclass(frozen=True)
class WeekGrid:
    days: tuple[GridDay, ...]
    legend: tuple[Legend, ...]

    @property
    def empty(self) -> bool:
        return not any(day.bars for day in self.days)


def _nearest_quarter(minute: int) -> int:
    return min(QUARTERS, (minute + QUARTER // 2) // QUARTER)


def week_grid(periods: Sequence[Named], now: datetime | None = None) -> WeekGrid:
    """The grid of `periods` (each its own colour, in order; one without a name shows
    its times alone and has no legend); `now`, in the tenant's time, marks today's row.
    Times that do not read are left out (the page's checks say why)."""
    locale = get_locale()
    wide = get_day_names("wide", locale=locale)
    short = get_day_names("abbreviated", locale=locale)
    days = []
    for index, key in enumerate(cal.WEEKDAYS):
        bars = []
        for tone, period in enumerate(periods):
            for text in period.days.get(key, ()):
                try:
                    span = cal.parse_period(str(text))
                except cal.InvalidPeriod:
                    continue
                first = min(_nearest_quarter(span.start), QUARTERS - 1)
                last = max(_nearest_quarter(span.end), first + 1)
                times = str(span).replace("-", "–")
                bars.append(Bar(first, last, tone % TONES, period.name, times))
        bars.sort(key=lambda bar: bar.first)
        today = now is not None and now.weekday() == index
        quarter = (now.hour * 60 + now.minute) // QUARTER if now is not None and today else None
        days.append(
            GridDay(key, wide[index].capitalize(), short[index].capitalize(), tuple(bars), quarter)
        )
    legend = tuple(
        Legend(tone % TONES, period.name, period.detail)
        for tone, period in enumerate(periods)
        if period.name
    )
    return WeekGrid(tuple(days), legend)
