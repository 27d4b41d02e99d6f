"""The tenant's schedules and holidays (tenant admins, read-only): each schedule drawn as
a week grid with whether it is in force now, the opposite ones said, and the holidays
that close every schedule. They are set in the tenant document (`centrex apply`, the
REST API); forwards, numbers and simultaneous ring bound to a schedule follow them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, render_template
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin.concepts import Audience, Concept, NavEntry
from admin.shared import account_page, admins_only, sessions
from admin.week_grid import Named, WeekGrid, week_grid
from provisioning import calendar as cal
from provisioning.accounts import Account
from provisioning.document import DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS
from provisioning.models import Tenant

blueprint = Blueprint("schedules", __name__)
CONCEPT = Concept(blueprint, (NavEntry(_l("Schedules"), "panel.schedules.page", Audience.ADMINS),))


@dataclass(frozen=True)
class ShownSchedule:
    name: str
    in_force: bool
    # A week schedule's grid; None for an opposite one, said by `opposite_of`.
    grid: WeekGrid | None
    opposite_of: str = ""
    # The default office hours, which the document does not write.
    default: bool = False


@dataclass(frozen=True)
class ShownHoliday:
    name: str
    first: str
    last: str  # "" for one day
    past: bool


def _documents(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tenant's schedules as the document has them, and the default office hours
    first unless the document defines its own."""
    names = {str(s.get("name", "")).casefold() for s in stored}
    if DEFAULT_SCHEDULE.casefold() in names:
        return stored
    default = {"name": DEFAULT_SCHEDULE, **{d: DEFAULT_SCHEDULE_PERIODS for d in cal.WEEKDAYS[:5]}}
    return [default, *stored]


@blueprint.get("/schedules")
@account_page
def page(account: Account) -> Any:
    admins_only(account)
    with sessions().begin() as db:
        tenant = db.execute(
            select(Tenant.timezone, Tenant.schedules, Tenant.holidays).where(
                Tenant.domain == account.domain
            )
        ).one()
    stored = list(tenant.schedules or [])
    holidays = cal.holidays_from_document(tenant.holidays or [])
    calendar = cal.TenantCalendar(
        tenant.timezone,
        holidays,
        cal.schedules_from_document(stored, DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS),
    )
    instant = datetime.now(UTC)
    now = calendar.local(instant)
    schedules = []
    for doc in _documents(stored):
        name = str(doc.get("name", ""))
        opposite = str(doc.get("opposite_of") or "")
        grid = None
        if not opposite:
            days = {day: doc.get(day) or [] for day in cal.WEEKDAYS}
            grid = week_grid([Named("", "", days)], now)  # the name heads it
        schedules.append(
            ShownSchedule(
                name,
                calendar.in_force(name, instant),
                grid,
                opposite,
                default=name == DEFAULT_SCHEDULE and doc not in stored,
            )
        )
    shown_holidays = [
        ShownHoliday(
            h.name,
            format_date(h.first, "full"),
            "" if h.last == h.first else format_date(h.last, "full"),
            h.last < now.date(),
        )
        for h in sorted(holidays, key=lambda h: h.first)
    ]
    return render_template(
        "schedules/list.html",
        account=account,
        schedules=schedules,
        holidays=[h for h in shown_holidays if not h.past],
        past=len([h for h in shown_holidays if h.past]),
        today_closed=calendar.is_holiday(now.date()),
        title=_("Schedules and holidays"),
    )
