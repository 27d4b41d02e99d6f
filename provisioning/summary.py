"""The configuration summary: every rule in force for a tenant, printable.

Pure. `summarise(doc, now)` reads the tenant document into a small structure — numbers
→ schedules → destinations → groups → overflow, then users, speed dials, directory —
marking what is in force at `now`; `as_text` and `as_html` only lay it out. The HTML
page stands alone: every value escaped, no script, a print stylesheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from provisioning.calendar import WEEKDAYS, TenantCalendar
from provisioning.call_handling import CallHandling, Forward
from provisioning.destinations import Destination, describe
from provisioning.document import DEFAULT_SCHEDULE, DEFAULT_SCHEDULE_PERIODS, NumberDoc, TenantDoc
from provisioning.feature_codes import codes_for
from provisioning.number_routing import calendar_of, route_in_force
from provisioning.numbering import DEFAULT_BARRED, Category
from provisioning.tenant_routing import RING_SECONDS


@dataclass(frozen=True)
class Entry:
    """One rule: a heading, its details, and whether it is in force at the summary's
    time (schedules, holidays; a number's route in force is marked in its details)."""

    heading: str
    details: tuple[str, ...] = ()
    in_force: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    entries: tuple[Entry, ...]


@dataclass(frozen=True)
class Summary:
    tenant: str
    domain: str
    at: str
    sections: tuple[Section, ...]


def _number(
    number: NumberDoc, calendar: TenantCalendar, now: datetime, names: dict[str, str]
) -> Entry:
    heading = number.number + (f" — {number.label}" if number.label else "")
    if not number.routes and number.otherwise is None:
        target = Destination(user=number.user) if number.user else None
        return Entry(heading, (f"always: {describe(target, names)}",))
    chosen = route_in_force(number.routes, number.otherwise, calendar, now)
    details = [
        _marked(f"while {r.schedule}: {describe(r.to, names)}", chosen.index == i)
        for i, r in enumerate(number.routes)
    ]
    otherwise = f"outside every schedule: {describe(number.otherwise, names)}"
    details.append(_marked(otherwise, chosen.index is None))
    return Entry(heading, tuple(details))


def _marked(text: str, now: bool) -> str:
    return f"{text}  ◀ now" if now else text


def _week(days: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(f"{day}: {', '.join(days[day])}" for day in WEEKDAYS if days.get(day))


def _schedules(doc: TenantDoc, calendar: TenantCalendar, now: datetime) -> tuple[Entry, ...]:
    entries = []
    if DEFAULT_SCHEDULE.casefold() not in {s.name.casefold() for s in doc.schedules}:
        week = _week({day: DEFAULT_SCHEDULE_PERIODS for day in WEEKDAYS[:5]})
        entries.append(Entry(DEFAULT_SCHEDULE, week, calendar.in_force(DEFAULT_SCHEDULE, now)))
    for s in doc.schedules:
        if s.opposite_of is not None:
            details: tuple[str, ...] = (f"whenever {s.opposite_of} is not (holidays included)",)
        else:
            details = _week({day: getattr(s, day) for day in WEEKDAYS}) or ("never",)
        entries.append(Entry(s.name, details, calendar.in_force(s.name, now)))
    return tuple(entries)


def _holidays(doc: TenantDoc, now: datetime) -> tuple[Entry, ...]:
    today = now.astimezone(ZoneInfo(doc.timezone)).date()
    entries = []
    for h in doc.holidays:
        first, last = (h.date, h.date) if h.date else (h.first, h.last)
        when = str(first) if first == last else f"{first} to {last}"
        covers = first is not None and last is not None and first <= today <= last
        entries.append(Entry(f"{when}: {h.name}", (), covers))
    return tuple(entries)


def _forward(label: str, fwd: Forward | None) -> list[str]:
    if fwd is None:
        return []
    condition = f" while {fwd.schedule}" if fwd.schedule else ""
    return [f"{label} to {fwd.to}{condition}"]


def _call_handling(ch: CallHandling) -> tuple[str, ...]:
    lines = [
        *_forward("forward always", ch.forward_always),
        *_forward("forward on no answer", ch.forward_no_answer),
        *_forward("forward when busy", ch.forward_busy),
        *_forward("forward when unreachable", ch.forward_unreachable),
    ]
    if ch.dnd_on:
        lines.append("do not disturb")
    if ch.simultaneous_ring is not None and ch.simultaneous_ring.enabled:
        lines.append(f"also rings {', '.join(ch.simultaneous_ring.numbers)}")
    if ch.sequential_ring is not None and ch.sequential_ring.enabled:
        lines.append(f"then rings {', '.join(s.number for s in ch.sequential_ring.steps)}")
    if ch.caller_id.withhold:
        lines.append("withholds their number")
    return tuple(lines)


def _barring(barred: list[Category]) -> tuple[str, ...]:
    if sorted(barred) == sorted(DEFAULT_BARRED):
        return ()
    return (f"calls barred: {', '.join(c.value.replace('_', ' ') for c in barred) or 'none'}",)


def _outgoing(doc: TenantDoc, names: dict[str, str]) -> tuple[Entry, ...]:
    """The dialling policy: the outside-line prefix, and who presents which number."""
    prefix = "dial 0 for an outside line" if doc.outside_line_prefix else "no outside-line prefix"
    entries = [Entry(prefix)]
    for rule in doc.outgoing_caller_ids:
        who = [_people(rule.users, names)] if rule.users else []
        who += [f"members of {g}" for g in rule.groups]
        entries.append(Entry(f"present {rule.present}", (", ".join(who),)))
    return tuple(entries)


def _units(doc: TenantDoc, names: dict[str, str]) -> tuple[Section, Section]:
    groups = tuple(
        Entry(
            f"{g.name} ({_numbers(g.extension, g.short_number)})",
            (
                f"members: {_people(g.members, names)}",
                f"distribution: {g.distribution.value.replace('_', ' ')}",
                f"{g.rings} rings ({g.rings * RING_SECONDS} s) × {g.cycles} cycles",
                f"if nobody answers: {describe(g.overflow, names)}",
            ),
        )
        for g in doc.groups
    )
    queues = tuple(
        Entry(
            f"{q.name} ({_numbers(q.extension, q.short_number)})",
            (
                f"agents: {_people(q.agents, names)}",
                f"strategy: {q.strategy.value.replace('_', ' ')}",
                f"max wait: {f'{q.max_wait} s' if q.max_wait else 'no limit'}",
                f"then: {describe(q.overflow, names)}",
            ),
        )
        for q in doc.queues
    )
    return Section("Hunt groups", groups), Section("Queues", queues)


def _numbers(extension: str, short: str | None) -> str:
    return f"{extension}, short {short}" if short else extension


def _people(extensions: list[str], names: dict[str, str]) -> str:
    return ", ".join(f"{e} {names.get(e, '?')}" for e in extensions) or "none"


def summarise(doc: TenantDoc, now: datetime) -> Summary:
    calendar = calendar_of(doc)
    names = {u.extension: u.name for u in doc.users}
    users = tuple(
        Entry(
            f"{u.extension} {u.name}" + (f" — {u.public_number}" if u.public_number else ""),
            _call_handling(u.call_handling) + _barring(u.call_barring),
        )
        for u in doc.users
    )
    groups, queues = _units(doc, names)
    speed_dials = tuple(
        Entry(f"{d.code} → {d.number}" + (f" ({d.name})" if d.name else ""))
        for d in doc.speed_dials
    )
    directory = tuple(
        Entry(f"{e.name}: {e.number}" + (f" (##{e.code})" if e.code else "")) for e in doc.directory
    )
    star_codes = tuple(
        Entry(
            f"{code.prefix}{' + number' if code.argument is not None else ''}: "
            + code.feature.value.replace("_", " ")
            + (" (the tenant's own code)" if code.feature.value in doc.feature_codes else "")
        )
        for code in codes_for(doc.feature_codes)
    )
    local = now.astimezone(ZoneInfo(doc.timezone))
    return Summary(
        doc.name,
        doc.domain,
        f"{local:%Y-%m-%d %H:%M} ({doc.timezone})",
        (
            Section("Numbers", tuple(_number(n, calendar, now, names) for n in doc.numbers)),
            Section("Schedules", _schedules(doc, calendar, now)),
            Section("Holidays and closures", _holidays(doc, now)),
            groups,
            queues,
            Section("Outgoing calls", _outgoing(doc, names)),
            Section("Users", users),
            Section("Speed dials", speed_dials),
            Section("Company directory", directory),
            Section("Star codes", star_codes),
            *_park(doc),
        ),
    )


def _park(doc: TenantDoc) -> tuple[Section, ...]:
    """Shown for tenants that park calls only."""
    if doc.park is None:
        return ()
    park = doc.park
    entry = Entry(
        f"slots {park.first_slot}–{park.last_slot}",
        (f"a call nobody takes rings back who parked it after {park.timeout} s",),
    )
    return (Section("Call park", (entry,)),)


def as_text(summary: Summary) -> str:
    out = [f"{summary.tenant} ({summary.domain})", f"Rules in force at {summary.at}", ""]
    for section in summary.sections:
        out += [section.title, "=" * len(section.title)]
        for entry in section.entries or (Entry("(none)"),):
            mark = "  [in force]" if entry.in_force else ""
            out.append(f"- {entry.heading}{mark}")
            out += [f"    {d}" for d in entry.details]
        out.append("")
    return "\n".join(out)


_STYLE = """
body { font-family: sans-serif; font-size: 11pt; margin: 2em; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; border-bottom: 1px solid #888; }
ul { list-style: none; padding-left: 0; } li { margin-bottom: .5em; }
.details { margin: .2em 0 0 1.5em; color: #333; }
.now { font-weight: bold; }
@media print {
  body { margin: 0; font-size: 10pt; }
  h2 { break-after: avoid; } li { break-inside: avoid; }
}
"""


def as_html(summary: Summary) -> str:
    title = escape(f"{summary.tenant} ({summary.domain})")
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Configuration of {title}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Configuration of {title}</h1>",
        f"<p>Rules in force at {escape(summary.at)}</p>",
    ]
    for section in summary.sections:
        out.append(f"<h2>{escape(section.title)}</h2>")
        if not section.entries:
            out.append("<p>(none)</p>")
            continue
        out.append("<ul>")
        for entry in section.entries:
            css = ' class="now"' if entry.in_force else ""
            mark = " (in force)" if entry.in_force else ""
            out.append(f"<li><span{css}>{escape(entry.heading)}{mark}</span>")
            if entry.details:
                rows = "".join(f"<div>{escape(d)}</div>" for d in entry.details)
                out.append(f'<div class="details">{rows}</div>')
            out.append("</li>")
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)
