"""Calls to a line: the user's call handling, compiled for one call. Pure.

Precedence — the first that applies decides (README "Call handling precedence"):

  1. selective reject           the caller is in the reject list: rejected, no voicemail
  2. anonymous rejection        the caller withholds their number: rejected
  3. forward always             in force (its schedule, if any, is in force now)
  4. do not disturb             priority callers ring through; others go to the busy
                                forward, else voicemail, else busy tone
  5. selective forward          the caller is in a forward list
  6. planner                    a planner period or special day is in force: the first
                                rule of its list that matches the caller, else the
                                list's default action ("ring" goes on below)
  7. busy now                   concurrent-call limit reached, or call waiting off and
                                on a call: busy handling
  8. no-answer to voicemail     after 0 s: straight to voicemail (to the unreachable
                                handling instead when the line's live state says no
                                phone is registered: the phone is never rung to ask)
  9. ring                       own phones, with simultaneous or sequential extra numbers
                                when their criteria match; distinctive ring, screening
                                and hidden caller ID as set

Whether a phone is registered is FreeSWITCH's to say, not the event listener's (which
may be stopped or behind): the ring goes out whatever the live state says, and a line
without a phone fails it at once with USER_NOT_REGISTERED. After a failed ring,
FreeSWITCH's disposition picks the handling: busy or declined → busy handling, not
registered → unreachable handling, anything else → no-answer handling. Each handling
uses its forward if set, else voicemail, else the matching tone. A forward that fails
ends in voicemail, or a tone: never silence.

Forwards marked direct-only ignore calls that came through a group, and such calls
never end in the member's voicemail (the group decides what follows). A forward into a
line the call already went through is a loop and is not followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from provisioning import calendar as cal
from provisioning.call_handling import (
    SECONDS_PER_RING,
    Callers,
    Forward,
    NoAnswerForward,
    RuleAction,
)
from provisioning.caller_id_policy import presented, withheld_by_policy
from provisioning.destinations import VOICEMAIL, forward_destination
from provisioning.line_status import is_busy
from provisioning.numbering import NotANumber, allowed, classify, format_for_carrier
from xmlcurl import fsnames as fs
from xmlcurl import handover, transfer
from xmlcurl.decisions import (
    Action,
    Answer,
    EarlyMedia,
    Endpoint,
    ExportVariable,
    GatewayEndpoint,
    Hangup,
    LegOptions,
    Prompt,
    RecordName,
    Ring,
    SetVariable,
    Tone,
    Transfer,
    UserEndpoint,
    Voicemail,
)
from xmlcurl.directory import line_leg
from xmlcurl.inputs import LineData, TenantData
from xmlcurl.trace import SILENT, Phrase, Trace, phrase

NO_ANSWER_SECONDS = 20
FORWARD_RING_SECONDS = 60
MAX_FORWARD_HOPS = 5
TONE_LOOPS = 5

# Tones by country (ITU-T E.180): busy, and "unavailable" (congestion) for every other
# failure. Most of the world uses 425 Hz; North America 480+620 Hz; the UK 400 Hz.
_TONES = {
    "default": {"busy": "%(500,500,425)", "unavailable": "%(250,250,425)"},
    "US": {"busy": "%(500,500,480,620)", "unavailable": "%(250,250,480,620)"},
    "CA": {"busy": "%(500,500,480,620)", "unavailable": "%(250,250,480,620)"},
    "GB": {"busy": "%(375,375,400)", "unavailable": "%(400,350,400,450)"},
}
_BUSY_DISPOSITIONS = frozenset({fs.USER_BUSY, fs.CALL_REJECTED})
_UNREACHABLE_DISPOSITIONS = frozenset({fs.USER_NOT_REGISTERED, fs.SUBSCRIBER_ABSENT})
# RFC 5806 Diversion reasons.
_DIVERSION_REASON = {
    "always": "unconditional",
    "busy": "user-busy",
    "no_answer": "no-answer",
    "unreachable": "unavailable",
    "dnd": "do-not-disturb",
    "selective": "deflection",
}

Decision = tuple[str, tuple[Action, ...]]

# The rows of the precedence table above, as a trace names them.
PRECEDENCE = (
    "selective reject",
    "anonymous rejection",
    "forward always",
    "do not disturb",
    "selective forward",
    "planner",
    "busy now",
    "no-answer to voicemail",
    "ring",
)
# The rows as a trace names them (the same words, as phrases the panel translates).
_ROWS = (
    phrase("row_selective_reject", "1 selective reject"),
    phrase("row_anonymous_rejection", "2 anonymous rejection"),
    phrase("row_forward_always", "3 forward always"),
    phrase("row_do_not_disturb", "4 do not disturb"),
    phrase("row_selective_forward", "5 selective forward"),
    phrase("row_planner", "6 planner"),
    phrase("row_busy_now", "7 busy now"),
    phrase("row_no_answer_voicemail", "8 no-answer to voicemail"),
    phrase("row_ring", "9 ring"),
)
# The kinds of forward, as a trace names them.
_FORWARD_KINDS = {
    "always": phrase("forward_kind_always", "always"),
    "selective": phrase("forward_kind_selective", "selective"),
    "dnd": phrase("forward_kind_dnd", "dnd"),
    "busy": phrase("forward_kind_busy", "busy"),
    "unreachable": phrase("forward_kind_unreachable", "unreachable"),
    "no_answer": phrase("forward_kind_no_answer", "no_answer"),
}
_WEEKDAYS = (
    phrase("weekday_mon", "mon"),
    phrase("weekday_tue", "tue"),
    phrase("weekday_wed", "wed"),
    phrase("weekday_thu", "thu"),
    phrase("weekday_fri", "fri"),
    phrase("weekday_sat", "sat"),
    phrase("weekday_sun", "sun"),
)
_STAGES = {
    fs.STAGE_RING: phrase("stage_ring", "ring"),
    fs.STAGE_FORWARD: phrase("stage_forward", "forward"),
}


# What a called party is shown of a caller who withholds their number.
ANONYMOUS_CALLER: tuple[Action, ...] = (
    SetVariable(fs.V_EFFECTIVE_CID_NAME, fs.ANONYMOUS_NAME),
    SetVariable(fs.V_EFFECTIVE_CID_NUMBER, fs.ANONYMOUS_NUMBER),
)
# And what tells a carrier to keep the number from the called party (RFC 3323).
NUMBER_PRIVATE_FOR_CARRIER: tuple[Action, ...] = (
    ExportVariable(fs.V_SIP_CID_TYPE, "none"),
    ExportVariable(fs.H_PRIVACY, "id"),
)


@dataclass(frozen=True)
class Caller:
    number: str
    e164: str | None
    extension: str | None  # set when a line of the same tenant calls
    withheld: bool


@dataclass(frozen=True)
class CallToLine:
    tenant: TenantData
    line: LineData
    caller: Caller
    # Where this hunt happened and for what: a failed ring transfers back there.
    context: str
    destination: str
    via_group: bool
    chain: tuple[str, ...]
    now: datetime
    # The calling line, when a user of the tenant calls (its number presents outside).
    caller_line: LineData | None = None
    # A group's hold music, when the group hands the call to this line's call handling.
    group_hold_music: str | None = None
    # Where the rules weighed are noted (`xmlcurl.trace`); FreeSWITCH's fetches keep none.
    trace: Trace = SILENT
    # This hunt is the caller's own leg's, for this line (not a failover): what its call
    # record says of the line is what the line's answered leg would say.
    reported_by_caller: bool = False

    @property
    def looped(self) -> bool:
        return self.line.extension in self.chain or len(self.chain) >= MAX_FORWARD_HOPS


def tone(country: str, kind: str) -> str:
    return _TONES.get(country, _TONES["default"])[kind]


def caller_matches(callers: Callers | None, call: CallToLine) -> bool:
    """Whether the caller is one of `callers` (None: every caller; a list switched off:
    none)."""
    if callers is None:
        return True
    if not callers.enabled:
        return False
    caller = call.caller
    if caller.withheld:
        return callers.anonymous
    if caller.extension is not None and caller.extension in callers.extensions:
        return True
    if caller.e164 is None:
        return False
    if caller.e164 in callers.numbers:
        return True
    return any(
        caller.e164 in call.line.contacts.get(name.casefold(), ()) for name in callers.contacts
    )


def _schedule_in_force(call: CallToLine, name: str | None) -> bool:
    if name is None:
        return True
    in_force = call.tenant.calendar.in_force(name, call.now)
    if call.trace.on:
        schedule = phrase("schedule", "%(name)s", name=name)
        call.trace.note("schedule", schedule, in_force, when_said(call.tenant, call.now))
    return in_force


def when_said(tenant: TenantData, now: datetime) -> Phrase:
    """The tenant's wall-clock time of `now`, and the holiday it falls on (a trace's
    words for why a schedule is or is not in force)."""
    local = tenant.calendar.local(now)
    day, time, zone = _WEEKDAYS[local.weekday()], f"{local:%Y-%m-%d %H:%M}", tenant.timezone
    holidays = [h.name for h in tenant.calendar.holidays if h.covers(local.date())]
    if holidays:
        return phrase(
            "time_on_holiday",
            "%(day)s %(time)s %(zone)s, holiday %(holiday)s",
            day=day,
            time=time,
            zone=zone,
            holiday=holidays[0],
        )
    return phrase("time", "%(day)s %(time)s %(zone)s", day=day, time=time, zone=zone)


def _row(call: CallToLine, row: int, applied: bool, because: Phrase | None = None) -> None:
    """Note a row of the precedence table weighed for this call."""
    if call.trace.on:
        call.trace.note("precedence", _ROWS[row - 1], applied, because)


def _why_not_applied(call: CallToLine, forward: Forward | None) -> Phrase:
    if forward is None:
        return phrase("not_set", "not set")
    if forward.direct_only and call.via_group:
        return phrase("direct_calls_only", "direct calls only, and this call came through a group")
    return phrase(
        "forward_schedule_not_in_force",
        "its schedule %(schedule)s is not in force",
        schedule=str(forward.schedule),
    )


def _to(target: str) -> Phrase:
    return phrase("to_target", "to %(target)s", target=_target(target))


def _target(target: str) -> Phrase | str:
    """A forward's target as the document keeps it: `voicemail` is a word to translate,
    an extension or a number is shown as it is."""
    return phrase("voicemail_target", "voicemail") if target == VOICEMAIL else target


def _applies(call: CallToLine, forward: Forward | None) -> bool:
    return (
        forward is not None
        and not (forward.direct_only and call.via_group)
        and _schedule_in_force(call, forward.schedule)
    )


# --- outcomes ---------------------------------------------------------------------
def _voicemail_or_tone(call: CallToLine, kind: str, cause: str) -> Decision:
    if call.line.voicemail_enabled and not call.via_group:
        return f"voicemail of {call.line.extension}", (
            Answer(),
            Voicemail(call.tenant.domain, call.line.extension),
        )
    return f"{kind} tone", (
        EarlyMedia(),
        Tone(tone(call.tenant.country, kind), TONE_LOOPS),
        Hangup(cause),
    )


def bridge_settings(destination: str, stage: str) -> tuple[Action, ...]:
    """Ring, then on failure come back to Centrex with what failed (module docstring
    of `xmlcurl.dialplan`)."""
    return (
        SetVariable(fs.V_HANGUP_AFTER_BRIDGE, "true"),
        SetVariable(fs.V_CONTINUE_ON_FAIL, "true"),
        *handover.mark_failover(destination, stage),
    )


def presented_number(tenant: TenantData, line: LineData | None) -> str | None:
    """What a line shows outside: its chosen number, the tenant's policy's, its own,
    else the tenant's (`provisioning.caller_id_policy`)."""
    if line is not None:
        return presented(
            chosen=line.call_handling.caller_id.outgoing_number,
            policy=line.caller_id_policy,
            public_number=line.public_number,
            main_number=tenant.main_number,
        )
    return tenant.main_number


def withholds_outside(line: LineData) -> bool:
    """The line's outside calls present no number: its user's CLIR, or the tenant's
    policy (unless the user chose a number to present)."""
    caller_id = line.call_handling.caller_id
    return caller_id.withhold or withheld_by_policy(
        caller_id.outgoing_number, line.caller_id_policy
    )


def _external(call: CallToLine, number: str, options: LegOptions) -> GatewayEndpoint | None:
    """A leg to an outside number, if the line may call it and the tenant has a trunk."""
    gateway = call.tenant.gateway
    if gateway is None:
        return None
    try:
        found = classify(number, call.tenant.country, call.tenant.main_number)
    except NotANumber:
        return None
    if found.e164 is None or not allowed(found.category, call.line.allowed_destinations):
        return None
    number = format_for_carrier(found.e164, gateway.number_format)
    return GatewayEndpoint(call.tenant.domain, number, options)


def _forward(call: CallToLine, target: str, why: str, confirm: bool = False) -> Decision | None:
    """Send the call on to `target` (a forward's target as the document keeps it);
    None when that cannot be done (loop, no trunk, destination no longer allowed), so
    that the next rule applies."""
    line = call.line
    trace = call.trace
    destination = forward_destination(target, line.extension)
    if destination.kind == "voicemail":
        if not line.voicemail_enabled or call.via_group:
            reason = (
                phrase("came_through_group", "came through a group")
                if call.via_group
                else phrase("no_voicemail", "the line has no voicemail")
            )
            to_voicemail = phrase(
                "forward_to_voicemail", "%(kind)s to voicemail", kind=_FORWARD_KINDS[why]
            )
            trace.note("forward", to_voicemail, False, reason)
            return None
        return f"{why} forward to voicemail", (
            Answer(),
            Voicemail(call.tenant.domain, line.extension),
        )
    if call.looped:
        trace.note(
            "forward",
            _forward_to(why, target),
            False,
            phrase("loop_through", "loop: already through %(chain)s", chain=", ".join(call.chain)),
        )
        return None
    if destination.kind == "user":  # a company extension: its own call handling applies
        if target in call.chain or target == line.extension:
            trace.note(
                "forward",
                _forward_to(why, target),
                False,
                phrase("loop_there_already", "loop: the call was there already"),
            )
            return None
        return f"{why} forward to {target}", (
            handover.forwarded_through((*call.chain, line.extension)),
            Transfer(target, call.tenant.domain),
        )
    endpoint = _external(call, target, LegOptions(confirm=confirm))
    if endpoint is None:
        reason = phrase("not_callable", "no trunk, or a number the line may not call")
        trace.note("forward", _forward_to(why, target), False, reason)
        return None
    actions: list[Action] = []
    caller_line = call.caller_line if call.caller.extension is not None else None
    if call.caller.withheld or (caller_line is not None and withholds_outside(caller_line)):
        actions += [*ANONYMOUS_CALLER, *NUMBER_PRIVATE_FOR_CARRIER]
    elif call.caller.extension is not None:
        # An internal caller's extension means nothing outside: present their number.
        shown = presented_number(call.tenant, call.caller_line)
        if shown:
            actions.append(SetVariable(fs.V_EFFECTIVE_CID_NUMBER, shown))
    diverting = presented_number(call.tenant, line)
    if diverting:
        actions.append(
            ExportVariable(
                fs.H_DIVERSION,
                f"<sip:{diverting}@{call.tenant.domain}>;reason={_DIVERSION_REASON[why]}",
            )
        )
    return f"{why} forward to {target}", (
        *actions,
        *bridge_settings(call.destination, fs.STAGE_FORWARD),
        Ring((endpoint,), FORWARD_RING_SECONDS),
        *transfer.back_after_ring(call.destination, call.context),
    )


def _forward_to(kind: str, target: str) -> Phrase:
    return phrase("forward_to", "%(kind)s to %(target)s", kind=_FORWARD_KINDS[kind], target=target)


def _handling(call: CallToLine, kind: str, cause: str) -> Decision:
    """Busy, unreachable or no-answer handling: its forward, else voicemail, else tone."""
    ch = call.line.call_handling
    forward: Forward | None = {
        "busy": ch.forward_busy,
        "unreachable": ch.forward_unreachable,
        "no_answer": ch.forward_no_answer,
    }[kind]
    if _applies(call, forward):
        assert forward is not None
        decided = _forward(call, forward.to, kind, forward.confirm)
        if decided is not None:
            if call.trace.on:
                call.trace.note("handling", _kind_forward(kind), True, _to(forward.to))
            return decided
    elif call.trace.on:
        call.trace.note("handling", _kind_forward(kind), False, _why_not_applied(call, forward))
    return _voicemail_or_tone(call, "busy" if kind == "busy" else "unavailable", cause)


def _kind_forward(kind: str) -> Phrase:
    return phrase("kind_forward", "%(kind)s forward", kind=_FORWARD_KINDS[kind])


# --- ringing ----------------------------------------------------------------------
@dataclass(frozen=True)
class _RingPlan:
    extra: tuple[str, ...] = ()
    sequential: bool = False
    own_rings: int = 3
    step_rings: tuple[int, ...] = ()
    screening: bool = False
    confirm: bool = False


def _no_answer_forward(call: CallToLine) -> NoAnswerForward | None:
    forward = call.line.call_handling.forward_no_answer
    return forward if _applies(call, forward) else None


_SIMULTANEOUS = phrase("simultaneous_ring", "simultaneous ring")
_SEQUENTIAL = phrase("sequential_ring", "sequential ring")


def _numbers(numbers: list[str] | tuple[str, ...]) -> Phrase:
    return phrase("numbers", "%(numbers)s", numbers=", ".join(numbers))


def _ring_plan(call: CallToLine) -> _RingPlan:
    ch = call.line.call_handling
    screening = ch.selective.screening is not None and caller_matches(ch.selective.screening, call)
    on_call = call.line.active_calls > 0
    sim = ch.simultaneous_ring
    if (
        sim is not None
        and sim.enabled
        and _schedule_in_force(call, sim.schedule)
        and caller_matches(sim.callers, call)
        and not (sim.skip_when_on_call and on_call)
    ):
        call.trace.note("ring", _SIMULTANEOUS, True, _numbers(sim.numbers))
        return _RingPlan(tuple(sim.numbers), screening=screening, confirm=sim.confirm)
    if sim is not None:
        held = phrase("simultaneous_held", "caller, schedule or on a call")
        call.trace.note("ring", _SIMULTANEOUS, False, held)
    seq = ch.sequential_ring
    if (
        seq is not None
        and seq.enabled
        and _schedule_in_force(call, seq.schedule)
        and caller_matches(seq.callers, call)
    ):
        call.trace.note("ring", _SEQUENTIAL, True, _numbers([s.number for s in seq.steps]))
        return _RingPlan(
            tuple(s.number for s in seq.steps),
            sequential=True,
            own_rings=seq.own_rings,
            step_rings=tuple(s.rings for s in seq.steps),
            screening=screening,
            confirm=seq.confirm,
        )
    if seq is not None:
        held = phrase("sequential_held", "caller or schedule")
        call.trace.note("ring", _SEQUENTIAL, False, held)
    return _RingPlan(screening=screening)


def _plan_for_action(action: RuleAction, call: CallToLine) -> _RingPlan:
    base = _ring_plan(call)
    if action.action == "screen":
        return _RingPlan(
            base.extra, base.sequential, base.own_rings, base.step_rings, True, base.confirm
        )
    if action.action == "ring_all":
        return _RingPlan(tuple(action.numbers), screening=base.screening)
    if action.action == "ring_sequence":
        return _RingPlan(
            tuple(action.numbers),
            sequential=True,
            own_rings=action.rings,
            step_rings=(action.rings,) * len(action.numbers),
            screening=base.screening,
        )
    return base


def _ring(call: CallToLine, plan: _RingPlan) -> Decision:
    line, tenant = call.line, call.tenant
    forward = _no_answer_forward(call)
    timeout = forward.after if forward is not None and forward.after else NO_ANSWER_SECONDS
    own_timeout = plan.own_rings * SECONDS_PER_RING if plan.sequential else None
    endpoints: list[Endpoint] = [
        UserEndpoint(
            line.extension,
            tenant.domain,
            LegOptions(own_timeout, False, plan.screening),
            leg=line_leg(tenant, line),
            reported_by_caller=call.reported_by_caller,
        )
    ]
    rings = plan.step_rings or (0,) * len(plan.extra)
    for number, count in zip(plan.extra, rings, strict=True):
        options = LegOptions(
            count * SECONDS_PER_RING if plan.sequential else None, plan.confirm, plan.screening
        )
        if number.isdigit():
            if number != line.extension:
                endpoints.append(UserEndpoint(number, tenant.domain, options))
        else:
            leg = _external(call, number, options)
            if leg is not None:
                endpoints.append(leg)
    if plan.sequential:
        timeout = max(e.options.timeout or 0 for e in endpoints)

    ch = line.call_handling
    actions: list[Action] = []
    if plan.screening:
        actions += [Answer(), RecordName()]
    for ring in ch.selective.distinctive_ring:
        if caller_matches(ring.callers, call):
            actions.append(
                ExportVariable(fs.V_ALERT_INFO, f"<http://127.0.0.1/{ring.ring}>;info={ring.ring}")
            )
            break
    if ch.caller_id.hide_incoming or call.caller.withheld:
        # Colleagues too see a caller who withholds their number as anonymous (their
        # phone would otherwise show the name and extension the directory gives it).
        actions += ANONYMOUS_CALLER
    name = f"ring {line.extension}" + (f" + {len(endpoints) - 1}" if len(endpoints) > 1 else "")
    if call.trace.on:
        legs = ", ".join(_leg_said(e) for e in endpoints)
        how = (
            phrase(
                "ring_in_turn",
                "%(legs)s one after the other, %(seconds)d s before no answer",
                legs=legs,
                seconds=timeout,
            )
            if plan.sequential
            else phrase(
                "ring_together",
                "%(legs)s together, %(seconds)d s before no answer",
                legs=legs,
                seconds=timeout,
            )
        )
        call.trace.note("timing", phrase("ring", "ring"), True, how)
    return name, (
        *actions,
        *bridge_settings(call.destination, fs.STAGE_RING),
        Ring(tuple(endpoints), timeout, sequential=plan.sequential),
        *transfer.back_after_ring(call.destination, call.context),
    )


def _leg_said(endpoint: Endpoint) -> str:
    timeout = f" ({endpoint.options.timeout} s)" if endpoint.options.timeout else ""
    if isinstance(endpoint, GatewayEndpoint):
        return f"{endpoint.number}{timeout}"
    return f"{endpoint.extension}{timeout}"


# --- the planner --------------------------------------------------------------------
def _planner_rule_list(call: CallToLine) -> str | None:
    planner = call.line.call_handling.planner
    now = call.tenant.calendar.local(call.now)
    special = planner.special_days
    if special is not None and (
        now.date() in special.dates
        or (special.tenant_holidays and call.tenant.calendar.is_holiday(now.date()))
    ):
        special_day = phrase("special_day", "special day")
        call.trace.note("planner", special_day, True, when_said(call.tenant, call.now))
        return special.rule_list
    day = cal.WEEKDAYS[now.weekday()]
    minute = now.hour * 60 + now.minute
    for period in planner.periods:
        for text in getattr(period, day):
            span = cal.parse_period(text)
            if span.start <= minute < span.end:
                call.trace.note(
                    "planner",
                    phrase("period", "period %(period)s", period=text),
                    True,
                    phrase("rule_list", "rule list %(name)s", name=period.rule_list),
                )
                return period.rule_list
    return None


def _rule_action(call: CallToLine) -> RuleAction | None:
    name = _planner_rule_list(call)
    if name is None:
        return None
    for rule_list in call.line.call_handling.rule_lists:
        if rule_list.name.casefold() == name.casefold():
            for rule in rule_list.rules:
                if caller_matches(rule.callers, call):
                    return rule
            return rule_list.default
    return None


# --- entry points -------------------------------------------------------------------
def _reject(why: str, prompt: str = fs.PROMPT_REJECTED) -> Decision:
    """Refused with a spoken message, in early media (the caller is not charged)."""
    return why, (EarlyMedia(), Prompt(prompt), Hangup(fs.CALL_REJECTED))


def forwarded_now(tenant: TenantData, line: LineData, now: datetime) -> str | None:
    """Where the line's forward always sends a direct call from outside, now: its target
    as the document keeps it (`voicemail`, an extension, an E.164 number), or None when
    the forward is off, outside its schedule, or cannot be followed (voicemail off, a
    number the line may no longer call, no trunk). Routing's own rule, for the
    switchboard (`esl.activity`), so that what it shows is what calls do."""
    always = line.call_handling.forward_always
    call = CallToLine(
        tenant=tenant,
        line=line,
        caller=Caller(number="", e164=None, extension=None, withheld=False),
        context=tenant.domain,
        destination=line.extension,
        via_group=False,
        chain=(),
        now=now,
    )
    if always is None or not _applies(call, always):
        return None
    return always.to if _forward(call, always.to, "always", always.confirm) else None


def route_to_line(call: CallToLine) -> Decision:
    """The first hunt of a call to a line: the first row of the precedence table that
    applies decides (each row weighed is noted in the call's trace)."""
    line = call.line
    ch = line.call_handling
    sel = ch.selective
    trace = call.trace

    if sel.reject is not None and caller_matches(sel.reject, call):
        _row(call, 1, True, _IN_REJECT_LIST)
        return _reject("selective reject")
    _row(
        call,
        1,
        False,
        (_NO_REJECT_LIST if sel.reject is None else _NOT_IN_REJECT_LIST),
    )
    if sel.reject_anonymous and call.caller.withheld:
        _row(call, 2, True, _WITHHOLDS_NUMBER)
        return _reject("anonymous caller rejected", fs.PROMPT_NO_ANONYMOUS)
    _row(
        call,
        2,
        False,
        (_OFF if not sel.reject_anonymous else _SHOWS_NUMBER),
    )

    always = ch.forward_always
    if always is not None and not call.looped and _applies(call, always):
        decided = _forward(call, always.to, "always", always.confirm)
        if decided is not None:
            _row(call, 3, True, _to(always.to))
            return decided
        _row(call, 3, False, _CANNOT_BE_FOLLOWED)
    elif trace.on:
        looped = call.looped and always is not None
        why = _LOOP_FORWARDED_HERE if looped else None
        _row(call, 3, False, why or _why_not_applied(call, always))

    dnd = ch.do_not_disturb if ch.dnd_on else None
    if dnd is not None and not caller_matches_priority(dnd.priority_callers, call):
        _row(call, 4, True, _DND_ON)
        return _do_not_disturb(call)
    _row(
        call,
        4,
        False,
        _OFF if dnd is None else _PRIORITY_CALLER,
    )

    if not call.looped:
        for fwd in sel.forward:
            if caller_matches(fwd.callers, call):
                decided = _forward(call, fwd.to, "selective", fwd.confirm)
                if decided is not None:
                    _row(
                        call,
                        5,
                        True,
                        phrase(
                            "in_forward_list",
                            "the caller is in a list forwarded to %(target)s",
                            target=_target(fwd.to),
                        ),
                    )
                    return decided
    if trace.on:
        _row(
            call,
            5,
            False,
            (_NO_LIST_SET if not sel.forward else _IN_NO_LIST),
        )

    plan = _ring_plan(call)
    action = _rule_action(call)
    if action is not None:
        if action.action == "reject":
            _row(call, 6, True, _RULE_LIST_REJECT)
            return _reject("rule list: reject")
        if action.action == "voicemail":
            decided = _forward(call, VOICEMAIL, "selective")
            if decided is not None:
                _row(call, 6, True, _RULE_LIST_VOICEMAIL)
                return decided
        if action.action == "forward" and action.to is not None and not call.looped:
            decided = _forward(call, action.to, "selective")
            if decided is not None:
                _row(
                    call,
                    6,
                    True,
                    phrase(
                        "rule_list_forward", "rule list: forward to %(target)s", target=action.to
                    ),
                )
                return decided
        _row(
            call,
            6,
            False,
            phrase(
                "rule_list_goes_on",
                "rule list: %(action)s, the call goes on",
                action=_RULE_ACTIONS.get(action.action) or action.action,
            ),
        )
        plan = _plan_for_action(action, call)
    else:
        _row(call, 6, False, _NO_PLANNER_PERIOD)

    if is_busy(line.active_calls, line.max_concurrent_calls, line.call_waiting):
        _row(call, 7, True, _AT_LIMIT)
        return _handling(call, "busy", fs.USER_BUSY)
    _row(call, 7, False, _BELOW_LIMIT)
    forward = _no_answer_forward(call)
    if forward is not None and forward.to == VOICEMAIL and forward.after == 0:
        if line.registered is False:
            _row(
                call,
                8,
                True,
                _VOICEMAIL_UNREGISTERED,
            )
            return _handling(call, "unreachable", fs.USER_NOT_REGISTERED)
        decided = _forward(call, VOICEMAIL, "no_answer")
        if decided is not None:
            _row(
                call,
                8,
                True,
                _VOICEMAIL_AT_ONCE,
            )
            return decided
    _row(call, 8, False)
    _row(
        call,
        9,
        True,
        _REGISTRATION_UNKNOWN if line.registered is None else None,
    )
    return _ring(call, plan)


# The reasons of the rows that take no value, made once: weighing a row costs nothing
# more when nobody traces it.
_OFF = phrase("off", "off")
_IN_REJECT_LIST = phrase("in_reject_list", "the caller is in the reject list")
_NO_REJECT_LIST = phrase("no_reject_list", "no reject list")
_NOT_IN_REJECT_LIST = phrase("not_in_reject_list", "caller not in the list")
_WITHHOLDS_NUMBER = phrase("withholds_number", "the caller withholds their number")
_SHOWS_NUMBER = phrase("shows_number", "the caller shows their number")
_CANNOT_BE_FOLLOWED = phrase("cannot_be_followed", "cannot be followed")
_LOOP_FORWARDED_HERE = phrase("loop_forwarded_here", "loop: the call was forwarded here")
_DND_ON = phrase("dnd_on", "on, and the caller is not a priority caller")
_PRIORITY_CALLER = phrase("priority_caller", "the caller is a priority caller")
_NO_LIST_SET = phrase("no_list_set", "no list set")
_IN_NO_LIST = phrase("in_no_list", "the caller is in no list")
_RULE_LIST_REJECT = phrase("rule_list_reject", "rule list: reject")
_RULE_LIST_VOICEMAIL = phrase("rule_list_voicemail", "rule list: voicemail")
_NO_PLANNER_PERIOD = phrase("no_planner_period", "no planner period or special day in force")
_AT_LIMIT = phrase("at_limit", "calls in progress at the line's limit")
_BELOW_LIMIT = phrase("below_limit", "below the line's limit of calls in progress")
_VOICEMAIL_UNREGISTERED = phrase(
    "voicemail_unregistered", "to voicemail after 0 s, and no phone registered"
)
_VOICEMAIL_AT_ONCE = phrase("voicemail_at_once", "forward on no answer to voicemail after 0 s")
_REGISTRATION_UNKNOWN = phrase("registration_unknown", "registration unknown")
# What a rule of a rule list does, as a trace names it when the call goes on.
_RULE_ACTIONS = {
    "ring": phrase("rule_action_ring", "ring"),
    "screen": phrase("rule_action_screen", "screen"),
    "ring_all": phrase("rule_action_ring_all", "ring_all"),
    "ring_sequence": phrase("rule_action_ring_sequence", "ring_sequence"),
    "reject": phrase("rule_action_reject", "reject"),
    "voicemail": phrase("rule_action_voicemail", "voicemail"),
    "forward": phrase("rule_action_forward", "forward"),
}


def caller_matches_priority(callers: Callers, call: CallToLine) -> bool:
    """Priority callers of do not disturb: an empty list lets nobody through."""
    return callers != Callers() and caller_matches(callers, call)


def _do_not_disturb(call: CallToLine) -> Decision:
    ch = call.line.call_handling
    if _applies(call, ch.forward_busy) and not call.looped:
        assert ch.forward_busy is not None
        decided = _forward(call, ch.forward_busy.to, "dnd", ch.forward_busy.confirm)
        if decided is not None:
            return decided
    name, actions = _voicemail_or_tone(call, "busy", fs.USER_BUSY)
    return f"do not disturb: {name}", actions


def after_failure(call: CallToLine, stage: str | None, disposition: str) -> Decision:
    """The hunt after a failed ring or forward of this line."""
    if call.trace.on:
        stage_said = _STAGES.get(stage or fs.STAGE_RING) or stage or ""
        after = phrase("after_stage", "after %(stage)s", stage=stage_said)
        call.trace.note("failover", after, True, _disposition(disposition))
    cleanup = handover.clear_failover()
    actions: tuple[Action, ...]
    if disposition in fs.ANSWERED_DISPOSITIONS:
        name, actions = "answered", (Hangup(fs.NORMAL_CLEARING),)
    elif disposition == fs.ORIGINATOR_CANCEL:
        name, actions = "caller hung up", (Hangup(fs.ORIGINATOR_CANCEL),)
    elif stage == fs.STAGE_FORWARD:
        kind = "busy" if disposition in _BUSY_DISPOSITIONS else "unavailable"
        name, actions = _voicemail_or_tone(call, kind, safe_cause(disposition))
    elif disposition in _BUSY_DISPOSITIONS:
        name, actions = _handling(call, "busy", safe_cause(disposition))
    elif disposition in _UNREACHABLE_DISPOSITIONS:
        name, actions = _handling(call, "unreachable", safe_cause(disposition))
    else:
        name, actions = _handling(call, "no_answer", safe_cause(disposition))
    return f"after {stage or 'ring'} {disposition or '?'}: {name}", (*cleanup, *actions)


def _disposition(disposition: str) -> Phrase:
    """A FreeSWITCH disposition as a trace names it: its own name, said the same way
    in every language."""
    return phrase("disposition", "%(disposition)s", disposition=disposition or "?")


def safe_cause(disposition: str) -> str:
    """A disposition is FreeSWITCH's, but it comes back through the request: only a
    cause name may reach the `hangup` application."""
    if disposition and disposition.replace("_", "").isalpha() and disposition.isupper():
        return disposition[:40]
    return fs.NORMAL_TEMPORARY_FAILURE
