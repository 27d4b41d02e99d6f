"""Weekly periods as documents write them (`mon: ["08:00-12:00", …]`), shared by
tenant schedules and users' planner periods, and their validation. Pure."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

from provisioning import calendar as cal
from provisioning.errors import Message


class NamedWeek(BaseModel):
    """A name, and up to 3 non-overlapping periods on each day of the week (the name
    comes first so that documents read in that order)."""

    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    name: str
    mon: list[str] = Field(default_factory=list, max_length=cal.MAX_PERIODS_PER_DAY)
    tue: list[str] = Field(default_factory=list, max_length=cal.MAX_PERIODS_PER_DAY)
    wed: list[str] = Field(default_factory=list, max_length=cal.MAX_PERIODS_PER_DAY)
    thu: list[str] = Field(default_factory=list, max_length=cal.MAX_PERIODS_PER_DAY)
    fri: list[str] = Field(default_factory=list, max_length=cal.MAX_PERIODS_PER_DAY)
    sat: list[str] = Field(default_factory=list, max_length=cal.MAX_PERIODS_PER_DAY)
    sun: list[str] = Field(default_factory=list, max_length=cal.MAX_PERIODS_PER_DAY)

    def has_periods(self) -> bool:
        return any(getattr(self, day) for day in cal.WEEKDAYS)


def check_week(
    week: NamedWeek, path: str, fail: Callable[[str, Message], None], *, resolution: int = 1
) -> None:
    """Parse and order every day's periods in place; report each bad one by path."""
    for day in cal.WEEKDAYS:
        periods = []
        for k, text in enumerate(getattr(week, day)):
            try:
                periods.append(cal.parse_period(text, resolution=resolution))
            except cal.InvalidPeriod as exc:
                fail(f"{path}.{day}[{k}]", exc.said)
        try:
            setattr(week, day, [str(p) for p in cal.check_day(periods)])
        except cal.InvalidPeriod as exc:
            fail(f"{path}.{day}", exc.said)
