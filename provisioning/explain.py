"""Explain a call before it happens: what the routing would do, and why.

The call is built as FreeSWITCH would fetch it (the same request fields mod_xml_curl
posts), parsed by `xmlcurl.request`, loaded by the real loader and compiled by the real
compiler with a `Trace` (`xmlcurl.trace`): the decision and the rules weighed on the
way come from the very functions that answer FreeSWITCH. Then the call is followed the
way FreeSWITCH runs the answer: channel variables the route sets ride along, a ring
ends as the lines' live state (or what is assumed) says, and each transfer back or on
(a failed ring, a forward, an overflow, a queue's wait that is over) is the next fetch,
explained in turn, until the call ends: answered, voicemail, an announcement, a
rejection with its cause.

Live state is the database's (as the event listener keeps it) unless assumed:
`1001=busy`, `1002=unregistered`, `1003=free` (registered, idle, does not answer),
`1004=answers`, `1005=declines` (idle, but the phone answers 486 busy); an outside
number may be assumed to answer or be busy too.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from provisioning.errors import said
from provisioning.lookup import NotFound, unknown_tenant
from provisioning.numbering import to_e164
from provisioning.validation import InvalidValue, is_dialable
from xmlcurl import fsnames as fs
from xmlcurl import loader
from xmlcurl.call_loader import load_call
from xmlcurl.decisions import (
    Answer,
    CollectDigits,
    CollectNumber,
    ConsultTransfer,
    EarlyMedia,
    Endpoint,
    GatewayEndpoint,
    Hangup,
    Intercept,
    JoinConference,
    JoinQueue,
    LoopbackEndpoint,
    MoveToConference,
    Park,
    PlayFile,
    Prompt,
    QueueWaitLimit,
    RecordName,
    Retrieve,
    Ring,
    Route,
    SetVariable,
    Tone,
    Transfer,
    UnsetVariable,
    Voicemail,
)
from xmlcurl.dialplan import compile_call, lookup_for, public_number_candidates
from xmlcurl.inputs import CallData, LineData, MemberData
from xmlcurl.request import call_request
from xmlcurl.trace import Phrase, Step, Trace, phrase

# What a line (or an outside number) may be assumed to do. `busy`: its calls in progress
# reach its limit (the live state says so); `declines`: registered and idle, but the
# phone answers the ring 486 busy (its own do-not-disturb, a user who rejects it).
BUSY, UNREGISTERED, FREE, ANSWERS, DECLINES = "busy", "unregistered", "free", "answers", "declines"
STATES = (BUSY, UNREGISTERED, FREE, ANSWERS, DECLINES)
# A call is followed through at most this many fetches (forwards stop at 5 hops, and
# overflows at the first unit seen twice: a real call never gets this far).
MAX_FETCHES = 16
# Legs handed to a member's own call handling are explained one level down, the first
# few of a ring (the others as their live state says).
MAX_DEPTH = 2
MAX_LEGS_EXPLAINED = 8
_ASSUMPTION = re.compile(r"\s*(\+?[0-9]{2,16})\s*=\s*([a-z_]+)\s*")
_LOCAL_TIME = re.compile(
    r"\s*(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?::00)?\s*([+-]\d{2}:?\d{2}|Z)?\s*"
)


class ExplainRefused(InvalidValue):
    """The call cannot be explained as asked: the message says what to give instead."""


# --- what is asked -------------------------------------------------------------------
def parse_assumptions(text: str | None) -> dict[str, str]:
    """`1001=busy,1002=unregistered` → {extension or number: state}."""
    found: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        matched = _ASSUMPTION.fullmatch(part)
        if matched is None or matched.group(2) not in STATES:
            raise ExplainRefused(
                said(
                    "explain_assumption",
                    "%(part)s: an assumption is EXTENSION=STATE, the state one of %(states)s",
                    part=part.strip()[:40],
                    states=", ".join(STATES),
                ),
                path="assume",
            )
        found[matched.group(1)] = matched.group(2)
    return found


def parse_local_time(text: str, timezone: str) -> datetime:
    """`2026-12-24 12:45` on the tenant's wall clock (an explicit `+01:00` picks one of
    the two instants a fall-back hour has). A time the clocks skip, or one that comes
    twice without its offset, is refused with the choices."""
    matched = _LOCAL_TIME.fullmatch(text)
    if matched is None:
        raise ExplainRefused(
            said("explain_time", "%(text)s: give a time as 2026-12-24 12:45", text=text[:40]),
            path="at",
        )
    day, clock, offset = matched.groups()
    zone = ZoneInfo(timezone)
    try:
        naive = datetime.fromisoformat(f"{day}T{int(clock[:-3]):02d}:{clock[-2:]}")
    except ValueError:
        raise ExplainRefused(
            said("explain_time", "%(text)s: give a time as 2026-12-24 12:45", text=text[:40]),
            path="at",
        ) from None
    readings = []
    for fold in (0, 1):
        local = naive.replace(tzinfo=zone, fold=fold)
        back = local.astimezone(UTC).astimezone(zone)
        if back.replace(tzinfo=None) == naive:
            readings.append(local)
    offsets = sorted({_offset(r) for r in readings})
    if offset is not None:
        wanted = "+00:00" if offset == "Z" else f"{offset[:3]}:{offset[-2:]}"
        for reading in readings:
            if _offset(reading) == wanted:
                return reading.astimezone(UTC)
        raise ExplainRefused(
            said(
                "explain_time_offset",
                "%(text)s: %(timezone)s is not at %(offset)s then",
                text=text.strip()[:40],
                timezone=timezone,
                offset=wanted,
            ),
            path="at",
        )
    if not readings:
        raise ExplainRefused(
            said(
                "explain_time_skipped",
                "%(text)s does not exist in %(timezone)s: the clocks skip that hour",
                text=text.strip()[:40],
                timezone=timezone,
            ),
            path="at",
        )
    if len(offsets) > 1:
        raise ExplainRefused(
            said(
                "explain_time_twice",
                "%(text)s comes twice in %(timezone)s (clocks go back): add %(first)s or "
                "%(second)s",
                text=text.strip()[:40],
                timezone=timezone,
                first=offsets[1],
                second=offsets[0],
            ),
            path="at",
        )
    return readings[0].astimezone(UTC)


def _offset(when: datetime) -> str:
    minutes = int((when.utcoffset() or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# --- what is answered ----------------------------------------------------------------
@dataclass(frozen=True)
class Fetch:
    """One dialplan fetch of the call: where it hunted, at how many seconds into the
    call, what the compiler decided (`route`) and weighed (`steps`), what the route
    does (`doing`, phrases as the trace's are: `xmlcurl.trace`; `does` in English), and
    the member legs a group handed to their own call handling (`legs`: each explained
    as its own call)."""

    context: str
    destination: str
    at_seconds: int
    route: str
    steps: tuple[Step, ...]
    doing: tuple[Phrase, ...]
    legs: tuple[Explanation, ...] = ()

    @property
    def does(self) -> tuple[str, ...]:
        return tuple(str(does) for does in self.doing)


@dataclass(frozen=True)
class Explanation:
    """How the call ends (`outcome`: answered, voicemail, announcement, rejected,
    busy, unavailable, queue, conference, park, setting, outbound, other), how in a
    phrase (`ending`; `summary` in English), the cause it ends with, who answers, and
    every fetch on the way."""

    caller: str
    dialled: str
    at: datetime
    outcome: str
    ending: Phrase
    fetches: tuple[Fetch, ...]
    cause: str | None = None
    answered_by: str | None = None
    seconds: int = 0

    @property
    def summary(self) -> str:
        return str(self.ending)

    def as_dict(self, timezone: str) -> dict[str, Any]:
        return {
            "caller": self.caller,
            "dialled": self.dialled,
            "at": self.at.astimezone(ZoneInfo(timezone)).isoformat(),
            "outcome": self.outcome,
            "summary": self.summary,
            "cause": self.cause,
            "answered_by": self.answered_by,
            "seconds": self.seconds,
            "fetches": [
                {
                    "context": f.context,
                    "destination": f.destination,
                    "at_seconds": f.at_seconds,
                    "route": f.route,
                    "steps": [
                        {"stage": s.stage, "rule": s.rule, "applied": s.applied, "why": s.why}
                        for s in f.steps
                    ],
                    "does": list(f.does),
                    "legs": [leg.as_dict(timezone) for leg in f.legs],
                }
                for f in self.fetches
            ],
        }


def as_text(found: Explanation, timezone: str, indent: str = "") -> str:
    """The explanation for a terminal: each fetch, its rules, then the outcome."""
    local = found.at.astimezone(ZoneInfo(timezone))
    lines = [
        f"{indent}Call from {found.caller} to {found.dialled}, "
        f"{local:%a %Y-%m-%d %H:%M} ({timezone}, {_offset(local)})"
    ]
    for number, fetch in enumerate(found.fetches, 1):
        lines.append(
            f"{indent}{number}. +{fetch.at_seconds} s  {fetch.context} → {fetch.destination}: "
            f"{fetch.route}"
        )
        for step in fetch.steps:
            mark = "✔" if step.applied else "·"
            why = f" — {step.why}" if step.why else ""
            lines.append(f"{indent}     {mark} [{step.stage}] {step.rule}{why}")
        for does in fetch.does:
            lines.append(f"{indent}     → {does}")
        for leg in fetch.legs:
            lines.append(as_text(leg, timezone, indent + "       "))
    lines.append(f"{indent}Outcome: {found.summary}")
    return "\n".join(lines)


# --- following the call --------------------------------------------------------------
@dataclass
class _Call:
    """The channel as it goes from fetch to fetch."""

    base: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Ended:
    outcome: str
    ending: Phrase
    cause: str | None = None
    answered_by: str | None = None


@dataclass(frozen=True)
class _Next:
    destination: str
    context: str
    after_seconds: int


@dataclass(frozen=True)
class Asked:
    """A call to explain, checked: the tenant's domain and timezone, the request fields
    of its first fetch, the instant, and the states assumed."""

    domain: str
    timezone: str
    caller: str
    dialled: str
    fields: dict[str, str]
    at: datetime
    assumed: Mapping[str, str]


def ask(
    conn: Connection,
    domain: str,
    caller: str,
    dialled: str,
    at: str | None,
    assume: str | None,
    now: datetime,
) -> Asked:
    """Check what is asked against the tenant; the first fetch's request fields."""
    data = loader.load_tenant(conn, domain, [caller.strip()])
    if data is None:
        raise NotFound(unknown_tenant(domain))
    tenant = data.tenant
    assumed = parse_assumptions(assume)
    when = now if not at else parse_local_time(at, tenant.timezone)
    caller, dialled = caller.strip(), dialled.strip()
    if not is_dialable(dialled):
        raise ExplainRefused(
            said("explain_not_dialable", "%(number)s cannot be dialled", number=dialled[:40]),
            path="to",
        )
    call_id = str(uuid.uuid4())
    fields = {fs.UNIQUE_ID: call_id, fs.CALLER_ID_NAME: caller}
    if caller in data.lines:
        line = data.lines[caller]
        fields.update(
            {
                fs.HUNT_CONTEXT: domain,
                fs.HUNT_DESTINATION: dialled,
                fs.CALLER_ID_NUMBER: caller,
                fs.CALLER_ID_NAME: line.display_name,
                fs.VAR_PREFIX + fs.V_USER_NAME: caller,
                fs.VAR_PREFIX + fs.V_DOMAIN_NAME: domain,
            }
        )
        return Asked(domain, tenant.timezone, caller, dialled, fields, when, assumed)
    # A caller who withholds their number arrives as FreeSWITCH names them.
    withheld = caller.lower() in fs.WITHHELD_NUMBERS
    number = caller if withheld else to_e164(caller, tenant.country)
    if number is None:
        raise ExplainRefused(
            said(
                "explain_unknown_caller",
                "%(caller)s is neither a line of %(domain)s nor a phone number",
                caller=caller[:40],
                domain=domain,
            ),
            path="from",
        )
    public = loader.load_public_number(conn, public_number_candidates(dialled, tenant.country))
    if public is None or public.tenant.domain != domain:
        raise ExplainRefused(
            said(
                "explain_not_our_number",
                "%(number)s is not one of %(domain)s's numbers: a caller from outside "
                "dials one of them",
                number=dialled[:40],
                domain=domain,
            ),
            path="to",
        )
    fields.update(
        {
            fs.HUNT_CONTEXT: fs.PUBLIC_CONTEXT,
            fs.HUNT_DESTINATION: public.public_number or dialled,
            fs.CALLER_ID_NUMBER: number,
        }
    )
    return Asked(domain, tenant.timezone, caller, dialled, fields, when, assumed)


def explain(
    conn: Connection, asked: Asked, default_country: str, media_dir: str = ""
) -> Explanation:
    """The call asked, followed fetch by fetch until it ends."""
    found = _follow(conn, asked, dict(asked.fields), default_country, media_dir, 0)
    return replace(found, dialled=asked.dialled)


def _follow(
    conn: Connection,
    asked: Asked,
    fields: dict[str, str],
    default_country: str,
    media_dir: str,
    depth: int,
) -> Explanation:
    channel = _Call(base=dict(fields))
    fetches: list[Fetch] = []
    elapsed = 0
    ended: _Ended | None = None
    for _ in range(MAX_FETCHES):
        request_fields = {**channel.base}
        request_fields.update({fs.VAR_PREFIX + k: v for k, v in channel.variables.items()})
        request = call_request(request_fields)
        lookup = lookup_for(request, default_country)
        data = None
        if lookup is not None:
            data = load_call(conn, lookup, request.destination, media_dir, request.caller_user)
        data = _assume(data, asked.assumed)
        trace = Trace()
        route = compile_call(request, data, asked.at + timedelta(seconds=elapsed), trace)
        does: list[Phrase] = []
        legs: list[Explanation] = []
        result = _run(
            conn, asked, route, data, channel, does, legs, default_country, media_dir, depth
        )
        fetches.append(
            Fetch(
                request.context,
                request.destination,
                elapsed,
                route.name,
                tuple(trace.steps),
                tuple(does),
                tuple(legs),
            )
        )
        if isinstance(result, _Ended):
            ended = result
            break
        elapsed += result.after_seconds
        channel.base[fs.HUNT_RDNIS] = request.destination
        channel.base[fs.HUNT_DESTINATION] = result.destination
        channel.base[fs.HUNT_CONTEXT] = result.context
    if ended is None:
        ended = _Ended(
            "other",
            phrase("still_routing", "still routing after %(fetches)d fetches", fetches=MAX_FETCHES),
        )
    return Explanation(
        caller=asked.caller,
        dialled=fields.get(fs.HUNT_DESTINATION, asked.dialled),
        at=asked.at,
        outcome=ended.outcome,
        ending=ended.ending,
        fetches=tuple(fetches),
        cause=ended.cause,
        answered_by=ended.answered_by,
        seconds=elapsed,
    )


def _run(
    conn: Connection,
    asked: Asked,
    route: Route,
    data: CallData | None,
    channel: _Call,
    does: list[Phrase],
    legs: list[Explanation],
    default_country: str,
    media_dir: str,
    depth: int,
) -> _Ended | _Next:
    """Run the route's actions as FreeSWITCH does, in order, until the call ends or is
    transferred (the next fetch)."""
    if route.change is not None:
        change = route.change.change
        does.append(
            phrase(
                "does_change",
                "changes %(setting)s of %(extension)s (not done)",
                setting=type(change).__name__,
                extension=route.change.extension,
            )
        )
        return _Ended("setting", phrase("star_code", "a star code: %(route)s", route=route.name))
    wait_limit: QueueWaitLimit | None = None
    rang = 0
    answered = False
    for action in route.actions:
        match action:
            case SetVariable(name, value):
                channel.variables[name] = value
            case UnsetVariable(name):
                channel.variables.pop(name, None)
            case Ring():
                ring = _ring(
                    conn, asked, action, data, channel, legs, default_country, media_dir, depth
                )
                does.append(ring.said)
                if ring.answered_by is not None:
                    answered_after = phrase(
                        "answered_after",
                        "answered by %(extension)s after %(seconds)d s of ringing",
                        extension=ring.answered_by,
                        seconds=rang + ring.seconds,
                    )
                    return _Ended("answered", answered_after, fs.NORMAL_CLEARING, ring.answered_by)
                rang += ring.seconds
                channel.variables[fs.V_ORIGINATE_DISPOSITION] = ring.disposition
            case Transfer(destination, context):
                does.append(
                    phrase(
                        "does_transfer",
                        "transfer to %(destination)s in %(context)s",
                        destination=destination,
                        context=context,
                    )
                )
                return _Next(destination, context, rang)
            case Answer():
                answered = True
                does.append(phrase("does_answer", "answer"))
            case EarlyMedia():
                does.append(phrase("does_early_media", "early media (the caller is not charged)"))
            case Tone(spec, loops):
                does.append(
                    phrase("does_tone", "tone %(tone)s × %(loops)d", tone=spec, loops=loops)
                )
            case Prompt(sound):
                does.append(phrase("does_prompt", "prompt %(sound)s", sound=sound))
            case PlayFile(path):
                does.append(phrase("does_play", "play %(file)s", file=path.rsplit("/", 1)[-1]))
            case RecordName():
                does.append(phrase("does_record_name", "ask the caller's name (screening)"))
            case Voicemail(_, extension, check):
                if check:
                    listens = phrase(
                        "listens_to_voicemail",
                        "listens to the voicemail box %(extension)s",
                        extension=extension,
                    )
                    return _Ended("voicemail", listens)
                does.append(
                    phrase("does_voicemail", "voicemail box %(extension)s", extension=extension)
                )
                return _Ended(
                    "voicemail",
                    phrase("voicemail_of", "voicemail of %(extension)s", extension=extension),
                )
            case QueueWaitLimit():
                wait_limit = action
            case JoinQueue(queue):
                queued = _queue(data, asked.assumed)
                does.append(
                    phrase(
                        "does_queue",
                        "wait in queue %(queue)s: %(what)s",
                        queue=queue,
                        what=queued.said,
                    )
                )
                if queued.answered_by is not None:
                    by_agent = phrase(
                        "answered_by_agent",
                        "answered by agent %(extension)s",
                        extension=queued.answered_by,
                    )
                    return _Ended("answered", by_agent, None, queued.answered_by)
                if queued.waits:
                    if wait_limit is not None:
                        return _Next(
                            wait_limit.destination, wait_limit.context, rang + wait_limit.seconds
                        )
                    waits = phrase(
                        "waits_in_queue",
                        "waits in queue %(queue)s until an agent answers",
                        queue=queue,
                    )
                    return _Ended("queue", waits)
            case Hangup(cause):
                return _hangup(route, cause, answered, does)
            case Park(_, slot, timeout):
                parked = phrase(
                    "parked",
                    "parked in slot %(slot)s for at most %(seconds)d s",
                    slot=slot,
                    seconds=timeout,
                )
                return _Ended("park", parked)
            case Retrieve(_, slot):
                takes = phrase("takes_parked", "takes the call parked in slot %(slot)s", slot=slot)
                return _Ended("park", takes)
            case JoinConference(room) | MoveToConference(room):
                joins = phrase("joins_conference", "joins conference %(room)s", room=room)
                return _Ended("conference", joins)
            case CollectDigits() | CollectNumber():
                asks = phrase(
                    "asks_for_digits", "%(route)s: asks the caller for digits", route=route.name
                )
                return _Ended("other", asks)
            case ConsultTransfer() | Intercept():
                return _Ended("other", _as_decided(route))
            case _:
                pass
    return _Ended("other", _as_decided(route))


def _as_decided(route: Route) -> Phrase:
    """A call that ends as the route says, in its own name."""
    return phrase("as_decided", "%(route)s", route=route.name)


def _hangup(route: Route, cause: str, answered: bool, does: list[Phrase]) -> _Ended:
    does.append(phrase("does_hang_up", "hang up (%(cause)s)", cause=cause))
    if any(isinstance(a, PlayFile | Prompt) for a in route.actions) and answered:
        announced = phrase("then_hang_up", "%(route)s, then hang up", route=route.name)
        return _Ended("announcement", announced, cause)
    if cause == fs.NORMAL_CLEARING:
        return _Ended("ended", _as_decided(route), cause)
    ended = phrase("ended_with", "%(route)s (%(cause)s)", route=route.name, cause=cause)
    if cause == fs.USER_BUSY:
        return _Ended("busy", ended, cause)
    return _Ended("rejected", ended, cause)


# --- live state ----------------------------------------------------------------------
def _assume(data: CallData | None, assumed: Mapping[str, str]) -> CallData | None:
    """The loaded data with the assumed states in place of the live ones."""
    if data is None or not assumed:
        return data
    lines = {ext: _line_state(line, assumed.get(ext)) for ext, line in data.lines.items()}
    group = data.group
    if group is not None:
        members = tuple(_member_state(m, assumed.get(m.extension)) for m in group.members)
        group = replace(group, members=members)
    return replace(data, lines=lines, group=group)


def _line_state(line: LineData, state: str | None) -> LineData:
    if state is None:
        return line
    if state == BUSY:
        return replace(line, registered=True, active_calls=line.max_concurrent_calls)
    return replace(line, registered=state != UNREGISTERED, active_calls=0)


def _member_state(member: MemberData, state: str | None) -> MemberData:
    if state is None:
        return member
    if state == BUSY:
        return replace(member, registered=True, active_calls=member.max_concurrent_calls)
    return replace(member, registered=state != UNREGISTERED, active_calls=0)


@dataclass(frozen=True)
class _Rang:
    said: Phrase
    seconds: int
    disposition: str
    answered_by: str | None = None


def _leg_state(endpoint: Endpoint, data: CallData | None, assumed: Mapping[str, str]) -> str:
    """What a rung leg does: as assumed, else unregistered when the live state says so
    (FreeSWITCH answers USER_NOT_REGISTERED), else it rings unanswered."""
    if isinstance(endpoint, GatewayEndpoint):
        return (
            assumed.get(endpoint.number) or assumed.get("+" + endpoint.number.lstrip("+")) or FREE
        )
    state = assumed.get(endpoint.extension)
    if state is not None:
        return state
    registered: bool | None = None
    if data is not None and endpoint.extension in data.lines:
        registered = data.lines[endpoint.extension].registered
    elif data is not None and data.group is not None:
        for member in data.group.members:
            if member.extension == endpoint.extension:
                registered = member.registered
    return UNREGISTERED if registered is False else FREE


_CAUSES = {
    BUSY: fs.USER_BUSY,
    DECLINES: fs.USER_BUSY,
    UNREGISTERED: fs.USER_NOT_REGISTERED,
    FREE: fs.NO_ANSWER,
}


def _ring(
    conn: Connection,
    asked: Asked,
    ring: Ring,
    data: CallData | None,
    channel: _Call,
    legs: list[Explanation],
    default_country: str,
    media_dir: str,
    depth: int,
) -> _Rang:
    """How a ring ends: the first leg that answers takes the call (in a sequence, the
    first in turn); otherwise every leg fails with its cause (busy and unregistered at
    once, the others at their timeout), and FreeSWITCH's disposition is the last one."""
    causes: list[str] = []
    seconds = 0
    names = []
    for endpoint in ring.endpoints:
        timeout = endpoint.options.timeout or ring.timeout
        name = endpoint.number if isinstance(endpoint, GatewayEndpoint) else endpoint.extension
        names.append(name)
        if isinstance(endpoint, LoopbackEndpoint):
            if depth + 1 >= MAX_DEPTH or len(legs) >= MAX_LEGS_EXPLAINED:
                state = _leg_state(endpoint, data, asked.assumed)
            else:
                leg = _handed_leg(conn, asked, endpoint, channel, default_country, media_dir, depth)
                legs.append(leg)
                state = (
                    ANSWERS
                    if leg.outcome == "answered"
                    else BUSY
                    if leg.outcome == "busy"
                    else FREE
                )
        else:
            state = _leg_state(endpoint, data, asked.assumed)
        if state == ANSWERS:
            answers = phrase(
                "ring_answered",
                "ring %(legs)s: %(extension)s answers",
                legs=", ".join(dict.fromkeys(names)),
                extension=name,
            )
            return _Rang(answers, seconds, "SUCCESS", name)
        causes.append(_CAUSES[state])
        if ring.sequential and state == FREE:
            seconds += timeout
    if not ring.sequential and fs.NO_ANSWER in causes:
        seconds = ring.timeout
    disposition = causes[-1] if causes else fs.NO_ANSWER
    if not ring.sequential and fs.NO_ANSWER in causes:
        disposition = fs.NO_ANSWER
    values = {"legs": ", ".join(dict.fromkeys(names)), "disposition": disposition}
    if ring.sequential:
        nobody = phrase(
            "ring_in_turn_unanswered",
            "ring %(legs)s in turn: nobody answers (%(disposition)s, %(seconds)d s)",
            seconds=seconds,
            **values,
        )
    else:
        nobody = phrase(
            "ring_together_unanswered",
            "ring %(legs)s together: nobody answers (%(disposition)s, %(seconds)d s)",
            seconds=seconds,
            **values,
        )
    return _Rang(nobody, seconds, disposition)


def _handed_leg(
    conn: Connection,
    asked: Asked,
    endpoint: LoopbackEndpoint,
    channel: _Call,
    default_country: str,
    media_dir: str,
    depth: int,
) -> Explanation:
    """A group's leg handed to a member's own call handling: a call of its own in the
    tenant's context, marked as a group's (mod_loopback runs that extension's dialplan)."""
    fields = {
        fs.UNIQUE_ID: str(uuid.uuid4()),
        fs.HUNT_CONTEXT: endpoint.context,
        fs.HUNT_DESTINATION: endpoint.extension,
        fs.CALLER_ID_NUMBER: channel.base.get(fs.CALLER_ID_NUMBER, ""),
        fs.CALLER_ID_NAME: channel.base.get(fs.CALLER_ID_NAME, ""),
    }
    fields.update({fs.VAR_PREFIX + k: v for k, v in endpoint.options.variables})
    return _follow(conn, asked, fields, default_country, media_dir, depth + 1)


@dataclass(frozen=True)
class _Queued:
    said: Phrase
    waits: bool
    answered_by: str | None = None


def _queue(data: CallData | None, assumed: Mapping[str, str]) -> _Queued:
    """mod_callcenter: an agent logged in and not on a break is offered the call; with
    none, the caller leaves the queue at once (its overflow runs)."""
    queue = data.queue if data else None
    agents = [a for a in queue.agents if a.logged_in and not a.paused] if queue else []
    for agent in agents:
        if assumed.get(agent.extension) == ANSWERS:
            answers = phrase(
                "agent_answers", "agent %(extension)s answers", extension=agent.extension
            )
            return _Queued(answers, True, agent.extension)
    if not agents:
        leaves = phrase("no_agent", "no agent logged in: the caller leaves the queue")
        return _Queued(leaves, False)
    names = ", ".join(a.extension for a in agents)
    offered = phrase(
        "agents_offered", "agents %(agents)s offered the call, none answers", agents=names
    )
    return _Queued(offered, True)


def explain_call(
    conn: Connection,
    domain: str,
    caller: str,
    dialled: str,
    *,
    at: str | None = None,
    assume: str | None = None,
    default_country: str = "FR",
    media_dir: str = "",
    now: datetime,
) -> tuple[Explanation, str]:
    """What every surface asks (the CLI, the REST API, the panel): the call checked and
    explained, and the tenant's timezone to show its times in."""
    asked = ask(conn, domain, caller, dialled, at, assume, now)
    return explain(conn, asked, default_country, media_dir), asked.timezone
