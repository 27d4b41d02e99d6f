"""Users' reminders (wake-up calls): validation and use cases.

Every function takes the session (and `now` where the schedule matters) explicitly and
leaves committing to the caller. Problems are reported as for the tenant document:
`DocumentInvalid`, with the path of each offending field and what is wrong with it.
`next_due_at` is computed here whenever a reminder is written, from the rule and the
tenant's timezone and holidays (`esl.reminders.next_due`).
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from provisioning import api_models
from provisioning import calendar as cal
from provisioning import validation as v
from provisioning.calendar import TenantCalendar
from provisioning.document import DocumentInvalid, Problem
from provisioning.lookup import NotFound, find_line, unknown_tenant
from provisioning.media import ANNOUNCEMENT
from provisioning.models import Media, Reminder, Tenant
from provisioning.reminder_schedule import Kind, ReminderRule, next_due

MAX_PER_LINE = 20
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


class ReminderDoc(BaseModel):
    """A reminder as the API reads and writes it."""

    model_config = ConfigDict(extra="forbid")

    label: str
    kind: Kind
    date: datetime.date | None = None  # `once` only
    time: str  # HH:MM in the tenant's timezone
    message: str | None = None  # a recorded announcement's name; none: the stock prompt
    enabled: bool = True


def rule_of(reminder: Reminder) -> ReminderRule:
    return ReminderRule(Kind(reminder.kind), reminder.at_time, reminder.on_date)


def calendar_of(tenant: Tenant) -> TenantCalendar:
    return TenantCalendar(tenant.timezone, cal.holidays_from_document(tenant.holidays))


def as_utc(value: datetime.datetime | None) -> datetime.datetime | None:
    """Database timestamps in UTC (SQLite gives them back without their zone)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=datetime.UTC)


def as_response(reminder: Reminder) -> api_models.Reminder:
    return api_models.Reminder(
        id=reminder.id,
        label=reminder.label,
        kind=Kind(reminder.kind),
        date=reminder.on_date,
        time=reminder.at_time.strftime("%H:%M"),
        message=reminder.message,
        enabled=reminder.enabled,
        next_due_at=as_utc(reminder.next_due_at),
        last_fired_at=as_utc(reminder.last_fired_at),
    )


def _parse(raw: Any) -> ReminderDoc:
    try:
        doc = ReminderDoc.model_validate(raw)
    except PydanticValidationError as exc:
        problems = [
            Problem(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors(include_url=False)
        ]
        raise DocumentInvalid(problems) from None
    problems = []
    try:
        doc.label = v.check_text(doc.label)
    except v.InvalidValue as exc:
        problems.append(Problem("label", str(exc)))
    if not _CLOCK.fullmatch(doc.time):
        problems.append(Problem("time", "must be HH:MM, e.g. 07:30"))
    if doc.kind is Kind.ONCE and doc.date is None:
        problems.append(Problem("date", "a reminder that fires once needs a date"))
    if doc.kind is not Kind.ONCE and doc.date is not None:
        problems.append(
            Problem("date", f"only reminders that fire once take a date, not {doc.kind}")
        )
    if doc.message is not None:
        try:
            doc.message = v.check_text(doc.message, required=False) or None
        except v.InvalidValue as exc:
            problems.append(Problem("message", str(exc)))
    if problems:
        raise DocumentInvalid(problems)
    return doc


def _check_message(session: Session, tenant: Tenant, name: str | None) -> None:
    if name is None:
        return
    found = session.scalar(
        select(Media.id).where(
            Media.tenant_id == tenant.id, Media.kind == ANNOUNCEMENT, Media.name == name
        )
    )
    if found is None:
        raise DocumentInvalid([Problem("message", f"no announcement named {name!r}")])


def _write(
    session: Session, reminder: Reminder, doc: ReminderDoc, tenant: Tenant, now: datetime.datetime
) -> None:
    _check_message(session, tenant, doc.message)
    hour, minute = map(int, doc.time.split(":"))
    reminder.label, reminder.kind, reminder.message = doc.label, str(doc.kind), doc.message
    reminder.on_date, reminder.at_time = doc.date, datetime.time(hour, minute)
    reminder.enabled, reminder.attempts, reminder.job_uuid = doc.enabled, 0, None
    due = next_due(rule_of(reminder), calendar_of(tenant), now)
    if due is None and doc.kind is Kind.ONCE:
        raise DocumentInvalid([Problem("date", f"{doc.date} {doc.time} is in the past")])
    reminder.next_due_at = due if doc.enabled else None


def list_reminders(session: Session, domain: str, extension: str) -> list[Reminder]:
    _, user = find_line(session, domain, extension)
    return list(
        session.scalars(select(Reminder).where(Reminder.user_id == user.id).order_by(Reminder.id))
    )


def get_reminder(session: Session, domain: str, extension: str, reminder_id: int) -> Reminder:
    _, user = find_line(session, domain, extension)
    reminder = session.scalars(
        select(Reminder).where(Reminder.id == reminder_id, Reminder.user_id == user.id)
    ).one_or_none()
    if reminder is None:
        raise NotFound(f"no reminder {reminder_id} for {extension} in {domain}")
    return reminder


def create_reminder(
    session: Session, domain: str, extension: str, raw: Any, now: datetime.datetime
) -> Reminder:
    doc = _parse(raw)
    tenant, user = find_line(session, domain, extension)
    count = session.scalar(select(func.count()).where(Reminder.user_id == user.id))
    if (count or 0) >= MAX_PER_LINE:
        raise DocumentInvalid([Problem("", f"a line has at most {MAX_PER_LINE} reminders")])
    reminder = Reminder(tenant_id=tenant.id, user_id=user.id)
    _write(session, reminder, doc, tenant, now)
    session.add(reminder)
    session.flush()
    return reminder


def replace_reminder(
    session: Session,
    domain: str,
    extension: str,
    reminder_id: int,
    raw: Any,
    now: datetime.datetime,
) -> Reminder:
    doc = _parse(raw)
    reminder = get_reminder(session, domain, extension, reminder_id)
    tenant, _ = find_line(session, domain, extension)
    _write(session, reminder, doc, tenant, now)
    session.flush()
    return reminder


def delete_reminder(session: Session, domain: str, extension: str, reminder_id: int) -> None:
    session.delete(get_reminder(session, domain, extension, reminder_id))
    session.flush()


def reschedule_tenant(session: Session, domain: str, now: datetime.datetime) -> int:
    """Plan the tenant's reminders again after its timezone or holidays changed (a day
    that is no longer a holiday must not stay skipped); reminders already due, with a
    retry pending or a call in flight are left alone. Returns how many moved."""
    tenant = session.scalars(select(Tenant).where(Tenant.domain == domain)).one_or_none()
    if tenant is None:
        raise NotFound(unknown_tenant(domain))
    now = now.astimezone(datetime.UTC)
    calendar, moved = calendar_of(tenant), 0
    idle = session.scalars(
        select(Reminder).where(
            Reminder.tenant_id == tenant.id,
            Reminder.enabled.is_(True),
            Reminder.attempts == 0,
            Reminder.job_uuid.is_(None),
            # Due already: the firing loop plays it (or finds its day no longer fits).
            or_(Reminder.next_due_at.is_(None), Reminder.next_due_at > now),
        )
    )
    for reminder in idle:
        due = next_due(rule_of(reminder), calendar, now)
        if as_utc(reminder.next_due_at) != due:
            reminder.next_due_at, moved = due, moved + 1
    session.flush()
    return moved
