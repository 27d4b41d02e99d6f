"""Preview a change: what applying a tenant document would do to its calls.

`centrex apply --dry-run` and `PUT /api/v1/tenants/{domain}?dry_run=true` list the items
created, updated and removed; this adds the routing effects. A set of representative
calls from outside — to each public number, each group and queue number, each user's
extension — at each schedule boundary of the next 7 days and on the next holiday, is
explained (`provisioning.explain`, the routing's own loader and compiler) twice: on the
stored data, then on the document applied inside a savepoint that is rolled back. The
calls whose outcome differs are listed side by side. Nothing is written: the caller
rolls its transaction back too, as a dry run always did.
"""

from __future__ import annotations

import time as clock
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from provisioning import calendar as cal
from provisioning import explain
from provisioning.destinations import Destination
from provisioning.document import (
    DEFAULT_SCHEDULE,
    DEFAULT_SCHEDULE_PERIODS,
    TenantDoc,
    dump_document,
)
from provisioning.lookup import NotFound
from provisioning.numbering import to_e164
from provisioning.service import ApplyReport, apply_document, export_document
from provisioning.validation import InvalidValue
from provisioning.week import NamedWeek
from xmlcurl import fsnames as fs

# At most this many calls are explained (each twice): a preview stays a few seconds
# long on a large tenant. The calls of the items the change touches come first.
MAX_CALLS = 500
DAYS_AHEAD = 7
# A boundary is looked at one minute after it: the period that starts is in force.
AFTER_BOUNDARY = timedelta(minutes=1)
# The caller from outside: a number set aside for fiction (Ofcom's London range), so
# that no caller list, contact or selective rule of the tenant recognises it.
OUTSIDE_CALLER = "+442079460000"
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Target:
    """A number called from outside: `kind` number (a public number), group, queue or
    user; `item` the document item it belongs to, as the apply report names it."""

    kind: str
    number: str
    item: str
    # Instants that matter to this number alone (its user's weekly planner).
    own_times: frozenset[datetime] = frozenset()
    # The items whose change routes it otherwise too: the user a number rings, a
    # group's members, a queue's agents.
    related: frozenset[str] = frozenset()

    def touched_by(self, items: set[str]) -> bool:
        return not self.related.isdisjoint(items)


@dataclass(frozen=True)
class Seen:
    """How a call ends, and the rule that decided it (the first fetch's first rule
    that applied after the kind of call)."""

    outcome: str
    summary: str
    rule: str
    route: str
    seconds: int = 0

    def differs(self, other: Seen) -> bool:
        return (self.outcome, self.summary, self.seconds) != (
            other.outcome,
            other.summary,
            other.seconds,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "summary": self.summary,
            "rule": self.rule,
            "route": self.route,
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class Change:
    target: Target
    at: datetime
    label: str
    before: Seen
    after: Seen


@dataclass
class RoutingEffects:
    """The calls considered (`considered`), the ones explained (`explained`, at most
    MAX_CALLS), and those whose outcome changes."""

    timezone: str
    considered: int = 0
    explained: int = 0
    changes: list[Change] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def capped(self) -> bool:
        return self.explained < self.considered

    def as_dict(self) -> dict[str, Any]:
        zone = ZoneInfo(self.timezone)
        return {
            "calls_considered": self.considered,
            "calls_explained": self.explained,
            "capped": self.capped,
            "changes": [
                {
                    "kind": c.target.kind,
                    "to": c.target.number,
                    "caller": OUTSIDE_CALLER,
                    "at": c.at.astimezone(zone).isoformat(),
                    "when": c.label,
                    "before": c.before.as_dict(),
                    "after": c.after.as_dict(),
                }
                for c in self.changes
            ],
        }


def dry_run(
    session: Session, doc: TenantDoc, *, default_country: str, media_dir: str
) -> tuple[ApplyReport, RoutingEffects]:
    """A whole document's dry run, as `centrex apply --dry-run` and the REST PUT's
    `dry_run=true` make it: applied as for real, its routing effects explained now,
    nothing kept (`session`'s transaction rolled back)."""
    found = preview(
        session,
        doc,
        lambda: apply_document(session, doc),
        default_country=default_country,
        media_dir=media_dir,
        now=datetime.now(UTC),
    )
    session.rollback()
    return found


def preview(
    session: Session,
    doc: TenantDoc,
    apply: Callable[[], ApplyReport],
    *,
    default_country: str,
    media_dir: str = "",
    now: datetime,
    max_calls: int = MAX_CALLS,
) -> tuple[ApplyReport, RoutingEffects]:
    """Apply `doc` (by `apply`, the apply the caller would make: its checks and errors)
    inside a savepoint, explain the representative calls on it, roll it back, and
    explain them on the stored data. The caller still rolls its transaction back."""
    started = clock.perf_counter()
    try:
        stored: TenantDoc | None = export_document(session, doc.domain)
    except NotFound:
        stored = None
    savepoint = session.begin_nested()
    try:
        report = apply()
        session.flush()
        probes = _probes(stored, doc, report, now)
        chosen = probes[:max_calls]
        after = [_seen(session, doc, p, default_country, media_dir) for p in chosen]
    finally:
        savepoint.rollback()
    before = [
        _seen(session, stored, p, default_country, media_dir) if stored else _absent(doc.domain)
        for p in chosen
    ]
    effects = RoutingEffects(doc.timezone, considered=len(probes), explained=len(chosen))
    effects.changes = [
        Change(p.target, p.at, p.label, b, a)
        for p, b, a in zip(chosen, before, after, strict=True)
        if b.differs(a)
    ]
    effects.seconds = clock.perf_counter() - started
    return report, effects


# --- which calls ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Probe:
    target: Target
    at: datetime
    label: str


def _probes(
    stored: TenantDoc | None, proposed: TenantDoc, report: ApplyReport, now: datetime
) -> list[_Probe]:
    """Each target at each instant that matters to it, the targets of the items the
    change touches first (so that a capped preview still shows them)."""
    docs = [d for d in (stored, proposed) if d is not None]
    touched = set(report.created + report.updated + report.deleted)
    shared = _instants(docs, now)
    targets = _targets(docs, now)
    # The items changed, then what routes through them, then the rest.
    targets.sort(key=lambda t: 0 if t.item in touched else 1 if t.touched_by(touched) else 2)
    probes = []
    for target in targets:
        instants = dict(shared)
        for at in target.own_times:
            instants.setdefault(at, "planner")
        probes += [_Probe(target, at, label) for at, label in sorted(instants.items())]
    return probes


def _targets(docs: list[TenantDoc], now: datetime) -> list[Target]:
    """The public numbers, group and queue numbers and users of either document."""
    found: dict[tuple[str, str], Target] = {}
    planners: dict[str, set[datetime]] = {}
    for doc in docs:
        for user in doc.users:
            planners.setdefault(user.extension, set()).update(
                _week_instants(user.call_handling.planner.periods, doc.timezone, now)
            )
    for doc in docs:
        for number in doc.numbers:
            e164 = to_e164(number.number, doc.country) or number.number
            times = planners.get(number.user or "", set())
            users = {f"user {number.user}"} if number.user else set()
            for to in [r.to for r in number.routes] + [number.otherwise]:
                if to is not None:
                    users.update(f"{kind} {name}" for kind, name in _units(to) if name)
            found.setdefault(
                ("number", e164),
                Target("number", e164, f"number {e164}", frozenset(times), frozenset(users)),
            )
        for group in doc.groups:
            members = frozenset(f"user {m}" for m in group.members)
            found.setdefault(
                ("group", group.extension),
                Target("group", group.extension, f"group {group.name}", related=members),
            )
        for queue in doc.queues:
            agents = frozenset(f"user {a}" for a in queue.agents)
            found.setdefault(
                ("queue", queue.extension),
                Target("queue", queue.extension, f"queue {queue.name}", related=agents),
            )
        for user in doc.users:
            times = planners.get(user.extension, set())
            found.setdefault(
                ("user", user.extension),
                Target("user", user.extension, f"user {user.extension}", frozenset(times)),
            )
    order = {"number": 0, "group": 1, "queue": 2, "user": 3}
    return sorted(found.values(), key=lambda t: (order[t.kind], t.number))


def _units(to: Destination) -> list[tuple[str, str | None]]:
    return [("user", to.user), ("group", to.group), ("queue", to.queue)]


def _instants(docs: list[TenantDoc], now: datetime) -> dict[datetime, str]:
    """Just after each start and end of every tenant schedule in the next 7 days, and
    the next holiday when it comes within a year: instant → how it reads."""
    found: dict[datetime, str] = {}
    for doc in docs:
        dumped = dump_document(doc)
        schedules = cal.schedules_from_document(
            dumped.get("schedules", []), DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS
        )
        for schedule in schedules.values():
            for at in _boundaries(schedule.week, doc.timezone, now):
                found.setdefault(at, schedule.name)
        holiday = _next_holiday(doc, schedules.values(), now)
        if holiday is not None:
            found.setdefault(holiday[0], holiday[1])
    return found


def _week_instants(weeks: Iterable[NamedWeek], timezone: str, now: datetime) -> set[datetime]:
    instants: set[datetime] = set()
    for week in weeks:
        days = {
            i: tuple(cal.parse_period(p) for p in getattr(week, name))
            for i, name in enumerate(_WEEKDAYS)
        }
        instants.update(_boundaries(days, timezone, now))
    return instants


def _boundaries(
    week: dict[int, tuple[cal.Period, ...]], timezone: str, now: datetime
) -> list[datetime]:
    """Each start and end of the week's periods in the next 7 days, one minute after,
    as UTC instants (a boundary the clocks skip falls on the instant after the gap)."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    out = []
    for offset in range(DAYS_AHEAD + 1):
        day = today + timedelta(days=offset)
        for period in week.get(day.weekday(), ()):
            for minute in (period.start, period.end):
                at = _wall_clock(day, minute, zone) + AFTER_BOUNDARY
                if now < at <= now + timedelta(days=DAYS_AHEAD):
                    out.append(at)
    return out


def _wall_clock(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute >= 1440:
        day, minute = day + timedelta(days=1), minute - 1440
    local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC"))


def _next_holiday(
    doc: TenantDoc, schedules: Iterable[cal.Schedule], now: datetime
) -> tuple[datetime, str] | None:
    """The first day of the next holiday within a year, at the first time any schedule
    would be in force that weekday (the moment a closed day matters), else noon."""
    zone = ZoneInfo(doc.timezone)
    today = now.astimezone(zone).date()
    holidays = cal.holidays_from_document(dump_document(doc).get("holidays", []))
    days = sorted(
        (max(h.first, today), h.name)
        for h in holidays
        if h.last >= today and h.first <= today + timedelta(days=366)
    )
    for day, name in days:
        starts = [
            p.start for s in schedules if not s.opposite for p in s.week.get(day.weekday(), ())
        ]
        minute = min(starts) if starts else 12 * 60
        at = _wall_clock(day, minute, zone) + AFTER_BOUNDARY
        if at > now:
            return at, f"holiday {name}"
    return None


# --- explained -----------------------------------------------------------------------
def _seen(
    session: Session, doc: TenantDoc, probe: _Probe, default_country: str, media_dir: str
) -> Seen:
    conn = session.connection()
    target = probe.target
    try:
        if target.kind == "number":
            asked = explain.ask(
                conn, doc.domain, OUTSIDE_CALLER, target.number, None, None, probe.at
            )
        else:
            asked = _from_outside(doc, target.number, probe.at)
        found = explain.explain(conn, asked, default_country, media_dir)
    except (InvalidValue, NotFound) as exc:
        return Seen("not routed", str(exc), "", "")
    return Seen(
        found.outcome,
        found.summary,
        _decisive(found),
        " → ".join(f.route for f in found.fetches),
        found.seconds,
    )


def _from_outside(doc: TenantDoc, extension: str, at: datetime) -> explain.Asked:
    """A call from outside reaching a number inside the tenant, as FreeSWITCH fetches
    it once a public number has transferred it there: the tenant's context, the outside
    caller's number, no line of the tenant as the caller."""
    fields = {
        fs.UNIQUE_ID: str(uuid.uuid4()),
        fs.HUNT_CONTEXT: doc.domain,
        fs.HUNT_DESTINATION: extension,
        fs.CALLER_ID_NUMBER: OUTSIDE_CALLER,
        fs.CALLER_ID_NAME: OUTSIDE_CALLER,
    }
    return explain.Asked(doc.domain, doc.timezone, OUTSIDE_CALLER, extension, fields, at, {})


def _decisive(found: explain.Explanation) -> str:
    for fetch in found.fetches[:1]:
        for step in fetch.steps:
            if step.applied and step.stage != "call":
                why = f" — {step.why}" if step.why else ""
                return f"[{step.stage}] {step.rule}{why}"
    return found.fetches[0].route if found.fetches else ""


def _absent(domain: str) -> Seen:
    return Seen("not routed", f"{domain} does not exist yet", "", "")


# --- shown ---------------------------------------------------------------------------
def as_text(effects: RoutingEffects) -> str:
    """The routing effects for a terminal: each call that changes the same way at
    several times on one line (its times after it), then before and after: the rule
    that decided, and each fetch's decision in turn."""
    zone = ZoneInfo(effects.timezone)
    head = f"routing: {effects.explained} calls from outside explained before and after"
    if effects.capped:
        head += f" (the first {effects.explained} of {effects.considered}: capped)"
    lines = [f"{head}, {effects.seconds:.1f} s"]
    if not effects.changes:
        lines.append("routing: no call changes")
    alike: dict[tuple[Any, ...], list[Change]] = {}
    for c in effects.changes:
        key = (c.target.kind, c.target.number, c.before, c.after)
        alike.setdefault(key, []).append(c)
    for (kind, number, before, after), changes in alike.items():
        times = ", ".join(f"{c.at.astimezone(zone):%a %Y-%m-%d %H:%M} ({c.label})" for c in changes)
        lines.append(f"changes: {kind} {number}: {before.summary} → {after.summary}")
        lines.append(f"    at: {times}")
        for side, seen in (("before:", before), ("after: ", after)):
            lines.append(f"    {side} {seen.rule or seen.summary}")
            if seen.route:
                lines.append(f"            {seen.route}")
    return "\n".join(lines)
