"""Firing reminders: call the user's line when one is due and play its message.

Every listener may run `fire_due_reminders` as often as it likes: a reminder is claimed
by moving its `next_due_at` on with `UPDATE … WHERE id = ? AND next_due_at = <as read>`,
and only the one whose update changed the row places the call (on SQLite and
PostgreSQL alike). The call goes out in the background; its outcome comes back in a
BACKGROUND_JOB event, which the listener hands to `settle_reminder_call`.

A failed call is tried again RETRY_AFTER later, MAX_ATTEMPTS times in all: a node
that is down for a moment or a phone that is rebooting does not cost a wake-up call,
and a reminder nobody answers does not ring forever. A `once` reminder whose call was
answered is deleted, as users know from operator portals.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Engine, Update, and_, delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from centrex.db import make_session_factory
from provisioning.media import ANNOUNCEMENT
from provisioning.models import Media, Reminder, Tenant, User
from provisioning.reminder_schedule import Kind, next_due, occurs_at
from provisioning.reminders import as_utc, calendar_of, rule_of
from xmlcurl import fsnames as fs
from xmlcurl.safe import UnsafeValue

from .originate import Line, accepted, failure_cause, in_background
from .reminders import reminder_command
from .switch import Switch, SwitchError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=2)
# A reminder found later than this (no listener was running) is skipped, not played late.
TOO_LATE = timedelta(hours=1)
BATCH = 200
# Causes that retrying would not change: the user declined, or the line is gone.
_FINAL_CAUSES = frozenset({fs.CALL_REJECTED, fs.SUBSCRIBER_ABSENT, fs.UNALLOCATED_NUMBER})

SwitchForUser = Callable[[int], Switch | None]


@dataclass(frozen=True)
class ReminderCall:
    """One call placed (or attempted) for a reminder."""

    reminder_id: int
    line: str  # ext@domain
    job_uuid: str | None  # None when the call could not be sent
    error: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class _Due:
    reminder: Reminder
    user: User
    tenant: Tenant
    message_path: str | None  # the announcement's file, relative to the media directory


def _due(session: Session, now: datetime) -> list[_Due]:
    rows = session.execute(
        select(Reminder, User, Tenant, Media.path)
        .join(User, User.id == Reminder.user_id)
        .join(Tenant, Tenant.id == Reminder.tenant_id)
        .outerjoin(
            Media,
            and_(
                Media.tenant_id == Reminder.tenant_id,
                Media.kind == ANNOUNCEMENT,
                Media.name == Reminder.message,
            ),
        )
        .where(Reminder.enabled.is_(True), Reminder.next_due_at <= now)
        .order_by(Reminder.next_due_at)
        .limit(BATCH)
    ).all()
    return [_Due(r.Reminder, r.User, r.Tenant, r.path) for r in rows]


def _rowcount(session: Session, statement: Update | Delete) -> int:
    result = session.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


def _claim(
    sessions: sessionmaker[Session], reminder: Reminder, next_at: datetime | None, **values: object
) -> bool:
    """Move the reminder on, if no one else did since it was read."""
    as_read = (Reminder.id == reminder.id) & (Reminder.next_due_at == reminder.next_due_at)
    with sessions.begin() as session:
        moved = update(Reminder).where(as_read).values(next_due_at=next_at, **values)
        return _rowcount(session, moved) == 1


def _retry_or_give_up(
    sessions: sessionmaker[Session], reminder_id: int, job_uuid: str, why: str, now: datetime
) -> datetime | None:
    """After a failed call: when it is tried again (None: given up). Each statement
    is conditional on the job still being in flight, so a failure reported twice (two
    listeners hear the same event) counts once."""
    retry_at = now + RETRY_AFTER
    in_flight = update(Reminder).where(Reminder.job_uuid == job_uuid)
    with sessions.begin() as session:
        # The row keeps its next regular time (set when claimed) unless a retry comes first.
        retried = why not in _FINAL_CAUSES and _rowcount(
            session,
            in_flight.where(Reminder.attempts < MAX_ATTEMPTS - 1).values(
                attempts=Reminder.attempts + 1, next_due_at=retry_at, job_uuid=None
            ),
        )
        gave_up = not retried and _rowcount(session, in_flight.values(attempts=0, job_uuid=None))
    if retried:
        log.warning("reminder %s: call failed (%s), again at %s", reminder_id, why, retry_at)
        return retry_at
    if gave_up:
        log.warning("reminder %s: call failed (%s), given up", reminder_id, why)
    return None


def _command(due: _Due, media_dir: Path | None) -> str:
    reminder = due.reminder
    line, call_uuid = Line(due.user.extension, due.tenant.domain), str(uuid.uuid4())
    path = None
    if reminder.message:
        if due.message_path and media_dir:
            path = str(media_dir / due.message_path)
        else:
            log.warning("reminder %s: no announcement %r", reminder.id, reminder.message)
    try:
        return reminder_command(line, reminder.id, call_uuid, path)
    except UnsafeValue:
        log.warning("reminder %s: cannot play %r, stock prompt instead", reminder.id, path)
        return reminder_command(line, reminder.id, call_uuid, None)


def _fire(
    sessions: sessionmaker[Session],
    due: _Due,
    switch_for_user: SwitchForUser,
    media_dir: Path | None,
    now: datetime,
) -> ReminderCall | None:
    reminder, user, tenant = due.reminder, due.user, due.tenant
    rule, calendar = rule_of(reminder), calendar_of(tenant)
    due_at = as_utc(reminder.next_due_at)
    assert due_at is not None  # selected as due
    regular = occurs_at(rule, calendar, due_at)
    following = next_due(rule, calendar, now)
    if (not regular and not reminder.attempts) or now - due_at > TOO_LATE:
        # A day that became a holiday, a changed timezone, or nobody running for a while.
        if _claim(sessions, reminder, following, attempts=0, job_uuid=None):
            log.warning("reminder %s due at %s not played; next %s", reminder.id, due_at, following)
        return None
    command = _command(due, media_dir)
    job_uuid = str(uuid.uuid4())
    attempts = 0 if regular else reminder.attempts
    if not _claim(
        sessions, reminder, following, attempts=attempts, job_uuid=job_uuid, last_fired_at=now
    ):
        return None  # another listener has it
    address = f"{user.extension}@{tenant.domain}"
    switch = switch_for_user(user.id)
    try:
        if switch is None:
            raise SwitchError("no FreeSWITCH node is connected")
        reply = switch.api(in_background(command, job_uuid))
        if not accepted(reply, job_uuid):
            raise SwitchError(f"{switch.node} refused: {reply.strip()}")
    except SwitchError as exc:
        retry_at = _retry_or_give_up(sessions, reminder.id, job_uuid, str(exc), now)
        return ReminderCall(reminder.id, address, None, str(exc), retry_at)
    log.info("reminder %s: calling %s on %s (job %s)", reminder.id, address, switch.node, job_uuid)
    return ReminderCall(reminder.id, address, job_uuid)


def fire_due_reminders(
    engine: Engine,
    switch_for_user: SwitchForUser,
    now: datetime,
    media_dir: Path | None = None,
) -> list[ReminderCall]:
    """Place the calls of every reminder due at `now` that no one else has claimed.
    Recorded announcements are played from `media_dir` (settings.effective_media_dir);
    without it, or when one is missing, the stock wake-up prompt is played."""
    now = now.astimezone(UTC)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        due = _due(session, now)
    calls = []
    for item in due:
        call = _fire(sessions, item, switch_for_user, media_dir, now)
        if call is not None:
            calls.append(call)
    return calls


def settle_reminder_call(engine: Engine, job_uuid: str, output: str, now: datetime) -> bool:
    """A BACKGROUND_JOB's outcome (`+OK <uuid>` / `-ERR <cause>`); False when the job
    is not a reminder's call in flight (not ours, or another listener settled it)."""
    now = now.astimezone(UTC)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        reminder_id = session.scalar(select(Reminder.id).where(Reminder.job_uuid == job_uuid))
    if reminder_id is None:
        return False
    cause = failure_cause(output)
    if cause is not None:
        _retry_or_give_up(sessions, reminder_id, job_uuid, cause, now)
        return True
    mine = Reminder.job_uuid == job_uuid
    with sessions.begin() as session:
        # Answered: a reminder that fires once is done, as users know from operator portals.
        done = _rowcount(session, delete(Reminder).where(mine, Reminder.kind == str(Kind.ONCE)))
        done += _rowcount(session, update(Reminder).where(mine).values(job_uuid=None, attempts=0))
    log.info("reminder %s: call answered", reminder_id)
    return bool(done)
