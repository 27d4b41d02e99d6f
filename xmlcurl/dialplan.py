"""The dialplan compiler: a call request plus the data it names → a `Route`.

Pure: no flask, no database, no clock (`now` is given). The loader is told what to
load by `lookup_for`; `classify_dialled` then says what kind of call this is — to a
line (`xmlcurl.line`), a group, a queue, a feature code (`provisioning.feature_codes`),
or out to the public network — and `compile_call` hands it to that kind's compiler
(`_COMPILE`), which also decides what follows a failure.

How a failed ring is handled: before ringing, the route marks the channel with
`centrex_failover_for=<destination>` and `centrex_stage`, and after the bridge it
transfers back to the same destination. FreeSWITCH evaluates dialplan conditions when
it hunts, before any bridge runs, so the outcome of a bridge can only be acted on by
hunting again: the new fetch carries `originate_disposition` (USER_BUSY, NO_ANSWER,
USER_NOT_REGISTERED, …) and the marker, and the compiler picks what follows. A bridge
that was answered never gets there: `hangup_after_bridge=true` ends the call with the
conversation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers

from provisioning.conferences import ConferenceDoc
from provisioning.feature_codes import Feature, code_prefix, feature_dialled
from provisioning.numbering import (
    Category,
    NotANumber,
    allowed,
    classify,
    format_for_carrier,
    outside_number,
    to_e164,
)
from provisioning.validation import is_dialable
from xmlcurl import fsnames as fs
from xmlcurl import handover, transfer
from xmlcurl.barring import barred_route
from xmlcurl.conference import conference_key, route_adhoc, route_to_room
from xmlcurl.decisions import (
    Action,
    Answer,
    EarlyMedia,
    ExportVariable,
    GatewayEndpoint,
    Hangup,
    Ring,
    Route,
    SetMedia,
    SetVariable,
    Tone,
    Voicemail,
)
from xmlcurl.group import compile_group_call
from xmlcurl.inputs import CallData, LineData, ParkData, QueueData, TenantData
from xmlcurl.line import (
    ANONYMOUS_CALLER,
    NUMBER_PRIVATE_FOR_CARRIER,
    TONE_LOOPS,
    Caller,
    CallToLine,
    after_failure,
    bridge_settings,
    presented_number,
    route_to_line,
    safe_cause,
    tone,
    withholds_outside,
)
from xmlcurl.park import route_park
from xmlcurl.pickup import route_pickup
from xmlcurl.public import route_public_number
from xmlcurl.queue import route_to_queue
from xmlcurl.request import CallRequest
from xmlcurl.speed_dial import speed_dial_number
from xmlcurl.star_codes import SETTING_CODES, ToSettingCode, route_setting_code
from xmlcurl.trace import SILENT, Phrase, Trace, phrase

OUTBOUND_RING_SECONDS = 90


@dataclass(frozen=True)
class TenantLookup:
    domain: str
    extensions: tuple[str, ...]


@dataclass(frozen=True)
class PublicNumberLookup:
    candidates: tuple[str, ...]


Lookup = TenantLookup | PublicNumberLookup


def public_number_candidates(dialled: str, default_country: str) -> tuple[str, ...]:
    """The E.164 forms a number from the public network may stand for: carriers send
    `+33…`, `0033…`, `33…` or the national `0…`."""
    digits = dialled.lstrip("+")
    forms = {"+" + digits}
    if dialled.startswith("00"):
        forms.add("+" + dialled[2:])
    try:
        parsed = phonenumbers.parse(dialled, default_country)
        forms.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
    except phonenumbers.NumberParseException:
        pass
    return tuple(sorted(forms))


def lookup_for(request: CallRequest, default_country: str) -> Lookup | None:
    """What the loader must fetch for this request; None when nothing can match."""
    if not is_dialable(request.destination):
        return None
    if request.context == fs.PUBLIC_CONTEXT:
        return PublicNumberLookup(public_number_candidates(request.destination, default_country))
    extensions = [request.destination]
    if request.via_group and request.group_caller:
        extensions.append(request.group_caller)
    elif request.caller_user and request.caller_user.isdigit():
        extensions.append(request.caller_user)
    # A transferred call may be parked: who parked it is to be rung back.
    extensions += request.parker_candidates
    extensions += transfer.extensions_to_load(request)
    return TenantLookup(request.context, tuple(dict.fromkeys(extensions)))


def _reject(request: CallRequest, cause: str, why: str, country: str = "") -> Route:
    """Refuse the call; a phone's transfer refused rings the caller back to the user
    who transferred them instead (`xmlcurl.transfer`)."""
    back = transfer.ring_back(request, cause, why, tone(country, "unavailable"))
    if back is not None:
        return back
    return Route(request.context, request.destination, f"reject: {why}", (Hangup(cause),))


def _barred(request: CallRequest, country: str, category: Category) -> Route:
    """A barred call (`xmlcurl.barring`); a phone's transfer to what the transferring
    user may not call rings the caller back to them instead."""
    why = f"{category} calls barred"
    back = transfer.ring_back(request, fs.OUTGOING_CALL_BARRED, why, tone(country, "unavailable"))
    return back if back is not None else barred_route(request, country, category)


def _caller_line(request: CallRequest, data: CallData) -> LineData | None:
    if request.via_group and request.group_caller:
        # A member's leg from our own group (loopback): the line that called the group,
        # recognised in the member's caller lists; only ever for a call to a line.
        if request.destination in data.lines:
            return data.lines.get(request.group_caller)
        return None
    if request.caller_user is None or request.caller_domain != data.tenant.domain:
        return None
    return data.lines.get(request.caller_user)


def _caller(request: CallRequest, tenant: TenantData, caller_line: LineData | None) -> Caller:
    """Who calls, as the callee's settings see them. A line of the tenant that
    withholds its number does so towards colleagues too (seed 003: every outgoing call
    is presented withheld): its number matches no caller list then."""
    withheld = request.caller_withheld
    e164 = None
    if caller_line is not None:
        withheld = withheld or caller_line.call_handling.caller_id.withhold
        e164 = None if withheld else presented_number(tenant, caller_line)
    elif not withheld:
        e164 = to_e164(request.caller_id_number, tenant.country)
    return Caller(
        number=request.caller_id_number,
        e164=e164,
        extension=caller_line.extension if caller_line else None,
        withheld=withheld,
    )


# --- what was dialled ----------------------------------------------------------------
# `classify_dialled` says what kind of call a request is, from the request and what was
# loaded for it; `_COMPILE` turns each kind into its route. A new kind of call (a
# feature code, a conference, a park slot) is one target and one entry.
@dataclass(frozen=True)
class Refused:
    cause: str
    why: Phrase


@dataclass(frozen=True)
class Barred:
    """A code or number the calling line may not dial (call barring)."""

    category: Category


@dataclass(frozen=True)
class ToRoutedNumber:
    """A public number routed by schedule (`xmlcurl.public`)."""


@dataclass(frozen=True)
class ToGroup:
    """A hunt group's number, or a log-in code naming one (`xmlcurl.group`)."""

    caller_line: LineData | None


@dataclass(frozen=True)
class ToLine:
    line: LineData
    caller_line: LineData | None
    # The ring this call is back from failed: what follows it.
    failover: bool


@dataclass(frozen=True)
class ToQueue:
    """A queue's number (`xmlcurl.queue`)."""

    queue: QueueData


@dataclass(frozen=True)
class ToParkSlot:
    """One of the tenant's park slots (`xmlcurl.park`)."""

    park: ParkData
    caller_line: LineData | None


@dataclass(frozen=True)
class ToConference:
    """A meet-me conference room's number (`xmlcurl.conference`)."""

    room: ConferenceDoc


@dataclass(frozen=True)
class ToAdhocConference:
    """The conference key pressed during a call by one of the tenant's lines (None:
    by no line the tenant knows, and nothing happens)."""

    caller_line: LineData | None


@dataclass(frozen=True)
class AfterOutbound:
    """Back from a call out that did not connect."""


@dataclass(frozen=True)
class ToOwnVoicemail:
    caller_line: LineData


@dataclass(frozen=True)
class ToPickup:
    picker: LineData


@dataclass(frozen=True)
class ToDtmfTransfer:
    """The transfer code run on a leg whose user pressed the transfer keys
    (`xmlcurl.transfer`): that leg's own line, if it is one."""

    line: LineData | None


@dataclass(frozen=True)
class ToOutside:
    caller_line: LineData
    # What goes out: the number dialled, or the one a speed dial stands for.
    number: str
    # This call only (a caller ID code): withhold the number or show it; None: as set.
    withhold: bool | None = None


Target = (
    Refused
    | Barred
    | ToRoutedNumber
    | ToGroup
    | ToLine
    | ToQueue
    | ToParkSlot
    | ToConference
    | ToAdhocConference
    | AfterOutbound
    | ToOwnVoicemail
    | ToPickup
    | ToDtmfTransfer
    | ToOutside
    | ToSettingCode
)

# The caller ID codes: this call's number withheld or shown.
_CALLER_ID_CODES = {Feature.WITHHOLD_CALLER_ID: True, Feature.SHOW_CALLER_ID: False}


def classify_dialled(request: CallRequest, data: CallData | None) -> Target:
    """What kind of call this is, in precedence order."""
    if not is_dialable(request.destination):
        return Refused(fs.INVALID_NUMBER_FORMAT, phrase("not_dialable", "not a dialable number"))
    if data is None:
        if request.context == fs.PUBLIC_CONTEXT:
            return Refused(
                fs.UNALLOCATED_NUMBER, phrase("not_our_number", "not one of our numbers")
            )
        return Refused(fs.NO_ROUTE_DESTINATION, phrase("unknown_context", "unknown context"))

    public = request.context == fs.PUBLIC_CONTEXT
    if public and data.public_number_routing.configured:
        return ToRoutedNumber()
    line = data.lines.get((data.public_number_line or "") if public else request.destination)
    feature = None if public else feature_dialled(request.destination)
    if feature is not None and feature.feature is Feature.TRANSFER:
        own = handover.decode_line(request.own_line, data.tenant.domain)
        return ToDtmfTransfer(data.lines.get(own) if own else None)
    # A call being transferred is a call from the user who transfers it; a call from
    # outside otherwise stays one, also once handed into the tenant's context.
    by = None if public else transfer.transferor(request, data)
    if by is not None and feature is not None and feature.feature is not Feature.DIRECTORY:
        return Refused(
            fs.UNALLOCATED_NUMBER,
            phrase("code_not_transfer_target", "a feature code is no transfer target"),
        )
    from_outside = public or request.from_public
    caller_line = by or (None if from_outside else _caller_line(request, data))
    failover = request.failover_for is not None and request.failover_for == request.destination
    codes = data.tenant.feature_codes
    feature = feature_dialled(request.destination, codes)
    if (
        feature is not None
        and feature.category is not None
        and caller_line is not None
        and not allowed(feature.category, caller_line.allowed_destinations)
    ):
        return Barred(feature.category)

    if data.group is not None and not public:
        return ToGroup(caller_line)
    if line is not None:
        return ToLine(line, caller_line, failover)
    if data.queue is not None:
        return ToQueue(data.queue)
    park = data.tenant.park
    if not public and park is not None and request.destination in park.slots:
        return ToParkSlot(park, caller_line)
    room = None if public else data.tenant.conferences.get(request.destination)
    if room is not None:
        return ToConference(room)
    if failover:
        return AfterOutbound()
    if public:
        return Refused(fs.NO_ROUTE_DESTINATION, phrase("routed_nowhere", "number routed nowhere"))
    if feature is not None and feature.feature is Feature.CONFERENCE:
        # Pressed on a line's own leg (a call it placed or one ringing it), that line's
        # conference. Never a hang-up: the call goes on whatever happens.
        own = handover.decode_line(request.own_line, data.tenant.domain)
        return ToAdhocConference(data.lines.get(own) if own else caller_line)
    if feature is not None and feature.feature is Feature.VOICEMAIL:
        if caller_line is None or not caller_line.voicemail_enabled:
            return Refused(fs.UNALLOCATED_NUMBER, phrase("no_voicemail_box", "no voicemail box"))
        return ToOwnVoicemail(caller_line)
    if caller_line is None:
        # Only the tenant's own authenticated lines may call out.
        return Refused(fs.UNALLOCATED_NUMBER, phrase("unknown_extension", "unknown extension"))
    if feature is not None and feature.feature in (Feature.PICKUP, Feature.GROUP_PICKUP):
        return ToPickup(caller_line)
    if feature is not None and feature.feature in SETTING_CODES:
        return ToSettingCode(caller_line, feature)
    if feature is not None and feature.feature in _CALLER_ID_CODES:
        number = speed_dial_number(data.tenant, feature.argument) or feature.argument
        return ToOutside(caller_line, number, _CALLER_ID_CODES[feature.feature])
    if feature is None and code_prefix(request.destination, codes) is not None:
        return Refused(
            fs.INVALID_NUMBER_FORMAT,
            phrase("code_with_extra", "a code followed by what it does not take"),
        )
    speed_dial = speed_dial_number(data.tenant, request.destination)
    if speed_dial is not None:
        return ToOutside(caller_line, speed_dial)
    try:
        # With the tenant's outside-line prefix on, `0` + the number: the 0 goes.
        number = outside_number(
            request.destination, data.tenant.country, data.tenant.outside_line_prefix
        )
    except NotANumber as exc:
        return Refused(
            fs.UNALLOCATED_NUMBER, phrase("not_a_phone_number", "%(reason)s", reason=str(exc))
        )
    return ToOutside(caller_line, number)


def _reported_by_caller(request: CallRequest, data: CallData, target: ToLine) -> bool:
    """Whether the caller's leg's record will tell that this line took the call: the
    caller's own leg hunting the line's extension in its tenant's context (its record
    names a line by those; esl.cdr), not a failover's hunt."""
    return (
        request.callers_leg
        and not target.failover
        and request.context == data.tenant.domain
        and request.destination == target.line.extension
    )


def _to_line(
    request: CallRequest, data: CallData, target: ToLine, now: datetime, trace: Trace = SILENT
) -> Route:
    call = CallToLine(
        tenant=data.tenant,
        line=target.line,
        caller=_caller(request, data.tenant, target.caller_line),
        context=request.context,
        destination=request.destination,
        via_group=request.via_group is not None,
        chain=request.forward_chain,
        now=now,
        caller_line=target.caller_line,
        group_hold_music=request.group_hold_music,
        trace=trace,
        reported_by_caller=_reported_by_caller(request, data, target),
    )
    if target.failover:
        name, actions = after_failure(call, request.stage, request.disposition or "")
    else:
        name, actions = route_to_line(call)
        if call.group_hold_music and call.via_group:
            # The member's phone puts the call on hold: its legs take the group's music.
            music = SetMedia(fs.V_HOLD_MUSIC, call.group_hold_music, export=True)
            actions = (music, *actions)
        if request.context == fs.PUBLIC_CONTEXT:
            actions = (*transferable_into(data.tenant), *actions)
        elif target.caller_line is not None and not call.via_group:
            # A colleague's call: `*3` on the caller's phone opens a conference.
            actions = (*conference_key(data.tenant), *actions)
    return Route(request.context, request.destination, name, actions)


def transferable_into(tenant: TenantData) -> tuple[Action, ...]:
    """A call from outside, rung in `public`: the user who takes it may transfer it
    (REFER), and the transfer is then routed in the tenant's context — as a call from
    outside, which never gains the right to call out."""
    return (SetVariable(fs.V_FORCE_TRANSFER_CONTEXT, tenant.domain), handover.from_outside())


def _to_own_voicemail(
    request: CallRequest, data: CallData, target: ToOwnVoicemail, _now: datetime
) -> Route:
    box = target.caller_line.extension
    return Route(
        request.context,
        request.destination,
        f"voicemail of {box}",
        (Answer(), Voicemail(data.tenant.domain, box, check=True)),
    )


# The kinds of call whose compiler notes what it weighs: (request, data, target, now,
# trace) → route.
_TRACED: dict[type, Callable[[CallRequest, CallData, Any, datetime, Trace], Route]] = {
    ToRoutedNumber: lambda request, data, _t, now, trace: route_public_number(
        request, data, now, trace
    ),
    ToGroup: lambda request, data, t, _now, trace: compile_group_call(
        request, data, t.caller_line, trace
    ),
    ToLine: _to_line,
    ToQueue: lambda request, data, t, _now, trace: route_to_queue(
        request, data.tenant, t.queue, data.media_dir, trace
    ),
}

# Each other kind of call → its compiler: (request, data, target, now) → route.
_COMPILE: dict[type, Callable[[CallRequest, CallData, Any, datetime], Route]] = {
    Barred: lambda request, data, t, _now: _barred(request, data.tenant.country, t.category),
    ToParkSlot: lambda request, data, t, _now: route_park(request, data, t.park, t.caller_line),
    ToConference: lambda request, data, t, _now: route_to_room(request, data.tenant, t.room),
    ToAdhocConference: lambda request, data, t, _now: route_adhoc(
        request, data.tenant, t.caller_line
    ),
    AfterOutbound: lambda request, data, _t, _now: _after_failed_outbound(request, data.tenant),
    ToOwnVoicemail: _to_own_voicemail,
    ToPickup: lambda request, data, t, _now: route_pickup(
        request, t.picker, data.ringing_caller_leg, data.tenant.feature_codes
    ),
    ToDtmfTransfer: lambda request, data, t, _now: transfer.dtmf_transfer(
        request, t.line, data.tenant.domain
    ),
    ToOutside: lambda request, data, t, _now: _outbound(
        request, data.tenant, t.caller_line, t.number, t.withhold
    ),
    ToSettingCode: lambda request, data, t, _now: route_setting_code(request, data.tenant, t),
}


def compile_call(
    request: CallRequest, data: CallData | None, now: datetime, trace: Trace = SILENT
) -> Route:
    """Decide what FreeSWITCH does with this call, now; `trace` notes what was weighed."""
    target = classify_dialled(request, data)
    if trace.on:
        trace.note("call", _TARGET_KINDS[type(target)], True, target_said(target))
    if isinstance(target, Refused):
        country = data.tenant.country if data else ""
        return _reject(request, target.cause, str(target.why), country)
    assert data is not None  # every other target was found in loaded data
    traced = _TRACED.get(type(target))
    if traced is not None:
        return traced(request, data, target, now, trace)
    return _COMPILE[type(target)](request, data, target, now)


# The kinds of target, as a trace's first step names them.
_TARGET_KINDS: dict[type, Phrase] = {
    Refused: phrase("target_refused", "Refused"),
    Barred: phrase("target_barred", "Barred"),
    ToRoutedNumber: phrase("target_routed_number", "ToRoutedNumber"),
    ToGroup: phrase("target_group", "ToGroup"),
    ToLine: phrase("target_line", "ToLine"),
    ToQueue: phrase("target_queue", "ToQueue"),
    ToParkSlot: phrase("target_park_slot", "ToParkSlot"),
    ToConference: phrase("target_conference", "ToConference"),
    ToAdhocConference: phrase("target_adhoc_conference", "ToAdhocConference"),
    AfterOutbound: phrase("target_after_outbound", "AfterOutbound"),
    ToOwnVoicemail: phrase("target_own_voicemail", "ToOwnVoicemail"),
    ToPickup: phrase("target_pickup", "ToPickup"),
    ToDtmfTransfer: phrase("target_dtmf_transfer", "ToDtmfTransfer"),
    ToOutside: phrase("target_outside", "ToOutside"),
    ToSettingCode: phrase("target_setting_code", "ToSettingCode"),
}
# The categories of call barring, as a trace names them.
_CATEGORIES = {
    Category.EMERGENCY: phrase("category_emergency", "emergency"),
    Category.LOCAL: phrase("category_local", "local"),
    Category.NATIONAL: phrase("category_national", "national"),
    Category.INTERNATIONAL: phrase("category_international", "international"),
    Category.PREMIUM: phrase("category_premium", "premium"),
    Category.OPERATOR: phrase("category_operator", "operator"),
    Category.DIRECTORY: phrase("category_directory", "directory"),
    Category.ACCESS_CODES: phrase("category_access_codes", "access_codes"),
    Category.SETTING_CODES: phrase("category_setting_codes", "setting_codes"),
}


def target_said(target: Target) -> Phrase | None:
    """A target in a few words (a trace's first step)."""
    if isinstance(target, Refused):
        return phrase("refused", "refused: %(why)s (%(cause)s)", why=target.why, cause=target.cause)
    if isinstance(target, Barred):
        return phrase(
            "calls_barred", "%(category)s calls barred", category=_CATEGORIES[target.category]
        )
    if isinstance(target, ToLine):
        if target.failover:
            return phrase(
                "line_back_from_ring",
                "line %(extension)s, back from its ring",
                extension=target.line.extension,
            )
        return phrase("line", "line %(extension)s", extension=target.line.extension)
    if isinstance(target, ToQueue):
        return phrase("queue", "queue %(name)s", name=target.queue.doc.name)
    if isinstance(target, ToOutside):
        return phrase("out_to", "out to %(number)s", number=target.number)
    return None


def _after_failed_outbound(request: CallRequest, tenant: TenantData) -> Route:
    disposition = request.disposition or ""
    cleanup = handover.clear_failover()
    if disposition in fs.ANSWERED_DISPOSITIONS:
        actions: tuple[Action, ...] = (Hangup(fs.NORMAL_CLEARING),)
    elif disposition == fs.ORIGINATOR_CANCEL:
        actions = (Hangup(fs.ORIGINATOR_CANCEL),)
    else:
        kind = "busy" if disposition == fs.USER_BUSY else "unavailable"
        actions = (
            EarlyMedia(),
            Tone(tone(tenant.country, kind), TONE_LOOPS),
            Hangup(safe_cause(disposition)),
        )
    name = f"after outbound {disposition or '?'}"
    return Route(request.context, request.destination, name, (*cleanup, *actions))


def _caller_id(
    tenant: TenantData, caller: LineData, number_format: str, withhold: bool
) -> tuple[Action, ...]:
    """The caller's name and number as the called party sees them, or nothing (CLIR)
    with the real number in P-Asserted-Identity for the carrier."""
    presented = presented_number(tenant, caller)
    carrier_form = format_for_carrier(presented, number_format) if presented else None
    if withhold:
        actions: tuple[Action, ...] = (*ANONYMOUS_CALLER, *NUMBER_PRIVATE_FOR_CARRIER)
        if carrier_form:
            actions += (
                ExportVariable(fs.H_ASSERTED_IDENTITY, f"<sip:{carrier_form}@{tenant.domain}>"),
            )
        return actions
    actions = (SetVariable(fs.V_EFFECTIVE_CID_NAME, caller.display_name),)
    if carrier_form:
        actions += (SetVariable(fs.V_EFFECTIVE_CID_NUMBER, carrier_form),)
    return actions


def _outbound(
    request: CallRequest,
    tenant: TenantData,
    caller: LineData,
    dialled: str,
    withhold_this_call: bool | None = None,
) -> Route:
    """A call out through the tenant's trunk to `dialled`: what the user dialled, or
    the number a speed dial or directory code stands for (same rules for both).
    `withhold_this_call`: a caller ID code's choice for this call, over the line's."""
    try:
        found = classify(dialled, tenant.country, tenant.main_number)
    except NotANumber:
        return _reject(request, fs.UNALLOCATED_NUMBER, "not a valid phone number", tenant.country)
    if not allowed(found.category, caller.allowed_destinations):
        return _barred(request, tenant.country, found.category)
    gateway = tenant.gateway
    if gateway is None:
        why = "tenant has no outbound gateway"
        return _reject(request, fs.NO_ROUTE_DESTINATION, why, tenant.country)
    # Emergency and short numbers go out as dialled (less a send key); others in the
    # carrier's form.
    number = (
        found.digits
        if found.e164 is None
        else format_for_carrier(found.e164, gateway.number_format)
    )
    # Emergency services always get the caller's number.
    withhold = withholds_outside(caller)
    if withhold_this_call is not None:
        withhold = withhold_this_call
    withhold = withhold and found.category is not Category.EMERGENCY
    caller_id = _caller_id(tenant, caller, gateway.number_format, withhold)
    return Route(
        request.context,
        request.destination,
        f"outbound {number}",
        (
            *caller_id,
            *conference_key(tenant),
            *bridge_settings(request.destination, fs.STAGE_OUTBOUND),
            Ring((GatewayEndpoint(tenant.domain, number),), OUTBOUND_RING_SECONDS),
            *transfer.back_after_ring(request.destination, request.context),
        ),
    )
