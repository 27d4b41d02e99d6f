"""The planner page's fields ↔ a user's weekly planner, as the tenant document has it.

The page edits the week day by day: each day has slots (three, or as many as the
stored planner uses that day), each slot a start, an end (15-minute steps, `24:00` ends
a day) and the period it belongs to. The periods themselves (up to three) have a name
and the rule list they apply. Special days have a rule list, the tenant's holidays or
not, and dates (kept, added one by one or as a range, or a year's national holidays).

`read_form` takes what a browser sent, `planner_for` makes the document's `planner`
from it, with the problems only the page can see (a slot without a period, a period
without a name…) by field, and where each part of the planner came from, so that what
the document's checks refuse is put beside the field at fault (`field_of`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _

from provisioning import calendar as cal
from provisioning.call_handling import PLANNER_RESOLUTION, Planner
from provisioning.validation import HOLIDAY_YEARS, whole_number

PERIODS = Planner.model_fields["periods"].metadata[0].max_length
SLOTS_PER_DAY = cal.MAX_PERIODS_PER_DAY  # shown on an empty day
# Every period of every named period on one day: what a stored planner may hold.
MAX_SLOTS = PERIODS * cal.MAX_PERIODS_PER_DAY
MAX_SPECIAL_DAYS = 100
PATH = "call_handling.planner"

_DAY_MINUTES = 24 * 60


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# What the time selects offer: starts 00:00–23:45, ends 00:15–24:00.
STARTS = tuple(_clock(m) for m in range(0, _DAY_MINUTES, PLANNER_RESOLUTION))
ENDS = tuple(_clock(m) for m in range(PLANNER_RESOLUTION, _DAY_MINUTES + 1, PLANNER_RESOLUTION))


@dataclass
class Slot:
    # "" (not used) or the index of the period it belongs to, as text ("0"…"2").
    period: str = ""
    start: str = ""
    end: str = ""

    @property
    def empty(self) -> bool:
        return not (self.period or self.start or self.end)


@dataclass
class PeriodFields:
    name: str = ""
    rule_list: str = ""


@dataclass
class SpecialFields:
    # "": no special days.
    rule_list: str = ""
    tenant_holidays: bool = True
    # ISO dates kept (ticked).
    dates: list[str] = field(default_factory=list)
    # Added by this save: one day or a range, a year's national holidays.
    add_from: str = ""
    add_to: str = ""
    add_year: str = ""


@dataclass
class PlannerFields:
    periods: list[PeriodFields]
    days: dict[str, list[Slot]]
    special: SpecialFields


def slot_name(day: str, k: int, part: str) -> str:
    return f"{day}-{k}-{part}"


def _padded(slots: list[Slot]) -> list[Slot]:
    return [*slots, *(Slot() for _ in range(SLOTS_PER_DAY - len(slots)))]


def fields_of(call_handling: Mapping[str, Any]) -> PlannerFields:
    """The page's fields for a stored call handling: each day's ranges in time order."""
    planner = call_handling.get("planner") or {}
    stored = list(planner.get("periods") or [])[:PERIODS]
    periods = [PeriodFields(p.get("name", ""), p.get("rule_list", "")) for p in stored]
    periods += [PeriodFields() for _ in range(PERIODS - len(periods))]
    days: dict[str, list[Slot]] = {}
    for day in cal.WEEKDAYS:
        ranges = []
        for i, period in enumerate(stored):
            for text in period.get(day) or []:
                start, _sep, end = str(text).partition("-")
                ranges.append((start, end, i))
        ranges.sort()
        days[day] = _padded([Slot(str(i), start, end) for start, end, i in ranges])
    special = planner.get("special_days")
    if special is None:
        fields = SpecialFields()
    else:
        fields = SpecialFields(
            special.get("rule_list", ""),
            bool(special.get("tenant_holidays", True)),
            sorted(str(d) for d in special.get("dates") or []),
        )
    return PlannerFields(periods, days, fields)


def read_form(form: Mapping[str, Any], getlist: Callable[[str], list[str]]) -> PlannerFields:
    """What a browser sent (`form.get`, `getlist` for the ticked dates)."""

    def text(name: str) -> str:
        return str(form.get(name) or "").strip()

    periods = [
        PeriodFields(text(f"period-{i}-name"), text(f"period-{i}-rule_list"))
        for i in range(PERIODS)
    ]
    days = {}
    for day in cal.WEEKDAYS:
        slots = [
            Slot(
                text(slot_name(day, k, "period")),
                text(slot_name(day, k, "start")),
                text(slot_name(day, k, "end")),
            )
            for k in range(MAX_SLOTS)
            if slot_name(day, k, "start") in form or slot_name(day, k, "period") in form
        ]
        days[day] = _padded(slots)
    special = SpecialFields(
        text("special-rule_list"),
        bool(form.get("special-tenant_holidays")),
        [d.strip() for d in getlist("special-date") if d.strip()],
        text("special-add_from"),
        text("special-add_to"),
        text("special-add_year"),
    )
    return PlannerFields(periods, days, special)


@dataclass
class Built:
    """The planner a form asks for, the problems the page found itself (field → messages)
    and, for the document's checks, which field each part of the planner came from."""

    planner: dict[str, Any]
    errors: dict[str, list[str]]
    fields_by_path: dict[str, str]

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def field_of(self, path: str) -> str | None:
        """The field of the longest known part of the planner that holds `path`."""
        holding = [
            known
            for known in self.fields_by_path
            if path == known or path.startswith((f"{known}.", f"{known}["))
        ]
        return self.fields_by_path[max(holding, key=len)] if holding else None


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def planner_for(fields: PlannerFields, national: Callable[[int], list[date]]) -> Built:
    """The document's `planner` the fields ask for; `national(year)` gives a year's
    national holidays of the tenant's country."""
    built = Built({}, {}, {})
    used: dict[int, dict[str, list[tuple[str, str]]]] = {}
    for day in cal.WEEKDAYS:
        for k, slot in enumerate(fields.days[day]):
            if slot.empty:
                continue
            start_field = slot_name(day, k, "start")
            if not (slot.start and slot.end):
                built.fail(start_field, _("Give a start and an end."))
                continue
            if not 0 <= whole_number(slot.period, -1) < PERIODS:
                built.fail(slot_name(day, k, "period"), _("Choose the period of these times."))
                continue
            text = f"{slot.start}-{slot.end}"
            used.setdefault(int(slot.period), {}).setdefault(day, []).append((text, start_field))

    periods: list[dict[str, Any]] = []
    for i, wanted in enumerate(fields.periods):
        days = used.get(i, {})
        if not (wanted.name or wanted.rule_list or days):
            continue
        if not wanted.name:
            built.fail(f"period-{i}-name", _("Give this period a name."))
        if not wanted.rule_list:
            built.fail(f"period-{i}-rule_list", _("Choose the rule list this period applies."))
        path = f"{PATH}.periods[{len(periods)}]"
        built.fields_by_path[path] = f"period-{i}-name"
        built.fields_by_path[f"{path}.name"] = f"period-{i}-name"
        built.fields_by_path[f"{path}.rule_list"] = f"period-{i}-rule_list"
        period: dict[str, Any] = {"name": wanted.name, "rule_list": wanted.rule_list}
        for day, ranges in days.items():
            period[day] = [text for text, _field in ranges]
            built.fields_by_path[f"{path}.{day}"] = f"day-{day}"
            for k, (_text, start_field) in enumerate(ranges):
                built.fields_by_path[f"{path}.{day}[{k}]"] = start_field
        periods.append(period)
    if periods:
        built.planner["periods"] = periods
    built.fields_by_path[f"{PATH}.periods"] = "periods"

    special = _special_days(fields.special, national, built)
    if special is not None:
        built.planner["special_days"] = special
    return built


def _special_days(
    fields: SpecialFields, national: Callable[[int], list[date]], built: Built
) -> dict[str, Any] | None:
    dates: set[date] = set()
    for text in fields.dates:
        day = parse_date(text)
        if day is not None:
            dates.add(day)
    first = parse_date(fields.add_from) if fields.add_from else None
    last = parse_date(fields.add_to) if fields.add_to else first
    if fields.add_from and first is None:
        built.fail("special-add_from", _("Not a date: use the calendar or YYYY-MM-DD."))
    elif fields.add_to and last is None:
        built.fail("special-add_to", _("Not a date: use the calendar or YYYY-MM-DD."))
    elif first is not None and last is not None:
        if last < first:
            built.fail("special-add_to", _("Must not come before the first day."))
        elif (last - first).days >= MAX_SPECIAL_DAYS:
            built.fail(
                "special-add_to",
                _("At most %(max)d special days.", max=MAX_SPECIAL_DAYS),
            )
        else:
            dates.update(first + timedelta(days=n) for n in range((last - first).days + 1))
    if fields.add_year:
        year = whole_number(fields.add_year, -1, digits=4)
        if year in HOLIDAY_YEARS:
            dates.update(national(year))
        else:
            built.fail("special-add_year", _("Choose a year."))
    built.fields_by_path[f"{PATH}.special_days"] = "special-rule_list"
    built.fields_by_path[f"{PATH}.special_days.rule_list"] = "special-rule_list"
    built.fields_by_path[f"{PATH}.special_days.dates"] = "special-add_from"
    if not fields.rule_list:
        if dates:
            built.fail(
                "special-rule_list",
                _("Choose the rule list of special days, or untick every day."),
            )
        return None
    return {
        "rule_list": fields.rule_list,
        "tenant_holidays": fields.tenant_holidays,
        "dates": [d.isoformat() for d in sorted(dates)],
    }
