"""Calls to a hunt group, and its members' log-in codes. Pure.

Who rings: members logged in and not busy (calls in progress below their limit, or
none when call waiting is off). Whether a member's phone is registered is FreeSWITCH's
to say: a `user/` leg of a member without a phone fails at once, so the listener's
view (maybe stopped or behind) does not leave out a phone registered a moment ago.
With `members_call_handling` the member's own handling would answer for an absent
phone (tones, forwards): there, members known to be unregistered are left out, and so
are those whose do-not-disturb would only end the group's call in a tone. A busy
member is skipped before the ring, so the caller never waits on a leg that cannot be
answered. Nobody available:
the overflow, at once.

In which order (`distribution`): cyclic starts after the member who answered the
group's last call; hierarchical is list order; least active puts the member idle for
longest first (never called first of all); random is shuffled from the call's unique
id (the same call always gets the same order). Each member rings `rings` × 5 s
(`leg_timeout` on their leg of a `|` sequence; FreeSWITCH restarts its timer for each
leg) and the sequence is repeated `cycles` times. Simultaneous: every member in one
`,` bridge for rings × 5 s × cycles (`call_timeout`).

How: `members_call_handling` false rings the members' phones (`user/`: every
registered phone of the line). True hands each member the call through mod_loopback
into the tenant's context, so that the member's own call handling (forwards, DND)
compiles it, marked `centrex_via_group` (direct-only forwards and the member's
voicemail do not apply). mod_loopback pre-answers the caller and passes a member's
early media on (a forward's ringing, a refusal tone): the group therefore sets
`ignore_early_media=true` so that the caller hears the group's ringback, and a leg
that fails ends with the member's cause (loopback hangs its other half up with it).

After the ring the call comes back here (`centrex_stage=group`): answered → the call
is over; caller gone → hang up; anything else → the overflow (`xmlcurl.destinations`),
with the groups and queues already tried in `centrex_unit_chain` so that overflows
cannot loop.

Log-in codes: `*55<group number>` logs the calling member in, `*56<group number>` out.
The dialplan cannot write to Centrex, so the answer fires a CUSTOM event that the
event listener stores, and plays a confirmation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from provisioning import media
from provisioning.call_handling import Callers
from provisioning.feature_codes import CODES, Feature, FeatureCode, feature_dialled
from provisioning.line_status import is_busy
from provisioning.tenant_routing import RING_SECONDS, Distribution, GroupDoc
from xmlcurl import fsnames as fs
from xmlcurl import handover, transfer
from xmlcurl.decisions import (
    Action,
    Answer,
    EarlyMedia,
    Endpoint,
    FireEvent,
    Hangup,
    LegOptions,
    LoopbackEndpoint,
    Prompt,
    Ring,
    Route,
    SetMedia,
    SetVariable,
    UserEndpoint,
)
from xmlcurl.destinations import Handoff, hand_off
from xmlcurl.inputs import CallData, GroupData, LineData, MemberData, TenantData
from xmlcurl.line import bridge_settings
from xmlcurl.local_stream import hold_music_url
from xmlcurl.request import CallRequest
from xmlcurl.trace import SILENT, Phrase, Trace, phrase

# The members' log-in and log-out codes (`provisioning.feature_codes`).
_LOG_IN_OUT = {Feature.GROUP_LOG_IN: True, Feature.GROUP_LOG_OUT: False}
# FreeSWITCH's originate takes at most this many legs in one bridge (MAX_PEERS).
MAX_LEGS = 128

_NEVER = datetime.min.replace(tzinfo=UTC)

# Ringback by country (ITU-T E.180), as FreeSWITCH's vars.xml spells them.
_RINGBACK = {
    "default": "%(1000,4000,425)",
    "FR": "%(1500,3500,440)",
    "US": "%(2000,4000,440,480)",
    "CA": "%(2000,4000,440,480)",
    "GB": "%(400,200,400,450);%(400,2000,400,450)",
}

Decision = tuple[str, tuple[Action, ...]]


@dataclass(frozen=True)
class CallToGroup:
    tenant: TenantData
    group: GroupData
    # As dialled (extension or short number): a failed ring hunts it again.
    destination: str
    context: str
    unique_id: str
    # Group and queue numbers the call already went through.
    unit_chain: tuple[str, ...] = ()
    media_dir: str = ""
    # The tenant line calling the group, if one does (its members' caller lists see it).
    caller_extension: str | None = None
    # Where the members weighed are noted (`xmlcurl.trace`).
    trace: Trace = SILENT


def number_to_load(
    destination: str, dialled_group: bool, codes: tuple[FeatureCode, ...] = CODES
) -> str | None:
    """The group number a call names: the group dialled, or the one a log-in code is for."""
    if dialled_group:
        return destination
    feature = feature_dialled(destination, codes)
    return feature.argument if feature is not None and feature.feature in _LOG_IN_OUT else None


def _refuses_group_calls(member: MemberData) -> bool:
    """Do not disturb with nobody let through and no forward for group calls: the
    member's own handling could only end the call in a tone."""
    ch = member.call_handling
    dnd = ch.do_not_disturb if ch.dnd_on else None
    if dnd is None or (dnd.priority_callers != Callers() and dnd.priority_callers.enabled):
        return False
    forward = ch.forward_busy
    return forward is None or forward.direct_only


def unavailable_because(member: MemberData, members_call_handling: bool) -> Phrase | None:
    """Why the member is not rung (None: they are)."""
    if not member.logged_in:
        return phrase("logged_out", "logged out")
    if members_call_handling and member.registered is False:
        return phrase("no_phone_registered", "no phone registered")
    if is_busy(member.active_calls, member.max_concurrent_calls, member.call_waiting):
        return phrase(
            "member_busy", "busy (%(calls)d call(s) in progress)", calls=member.active_calls
        )
    if members_call_handling and _refuses_group_calls(member):
        return phrase("member_dnd", "do not disturb, with no forward for group calls")
    return None


def available(member: MemberData, members_call_handling: bool) -> bool:
    return unavailable_because(member, members_call_handling) is None


def ring_order(group: GroupData, unique_id: str) -> list[MemberData]:
    """Every member, in the order the distribution rings them."""
    members = list(group.members)
    distribution = group.doc.distribution
    if distribution is Distribution.CYCLIC:
        extensions = [m.extension for m in members]
        if group.last_answerer in extensions:
            start = extensions.index(group.last_answerer) + 1
            members = members[start:] + members[:start]
    elif distribution is Distribution.LEAST_ACTIVE:
        # Stable: members idle since the same time keep their list order.
        members.sort(key=lambda m: m.last_call_end or _NEVER)
    elif distribution is Distribution.RANDOM:
        random.Random(unique_id).shuffle(members)
    return members


def _legs(call: CallToGroup, members: list[MemberData], timeout: int | None) -> list[Endpoint]:
    """A leg for each of `members`, in order: marked with the group and the member, and
    when members' own handling applies, handed to it through loopback."""
    group = call.group.doc
    handed: tuple[tuple[str, str], ...] = ()
    if group.members_call_handling:
        handed = handover.group_hand_over(group.extension, _hold_music(call), call.caller_extension)
    extensions = tuple(m.extension for m in members)
    legs = _member_legs(
        extensions,
        call.tenant.domain,
        group.extension,
        timeout,
        handed,
        group.members_call_handling,
    )
    return list(legs)


@lru_cache(maxsize=4096)
def _member_legs(
    extensions: tuple[str, ...],
    domain: str,
    group: str,
    timeout: int | None,
    handed: tuple[tuple[str, str], ...],
    through_loopback: bool,
) -> tuple[Endpoint, ...]:
    # Built once for each set of members rung (frozen, shared between calls): a call to
    # a group otherwise builds ten legs and their options again, and the renderer's
    # cache compares them field by field instead of by identity.
    tag = (fs.V_GROUP, f"{group}@{domain}")
    endpoint = LoopbackEndpoint if through_loopback else UserEndpoint
    return tuple(
        endpoint(
            extension,
            domain,
            LegOptions(timeout, variables=(tag, (fs.V_GROUP_MEMBER, extension), *handed)),
        )
        for extension in extensions
    )


def _media(call: CallToGroup) -> tuple[Action, ...]:
    """The group's ringback (its tone, else the country's) and hold music. Hold music is
    read from the channel that puts the call on hold: the member's, so it is exported."""
    doc, domain, paths = call.group.doc, call.tenant.domain, call.group.media_paths
    ringback = _RINGBACK.get(call.tenant.country, _RINGBACK["default"])
    if doc.ringback and media.media_path(domain, media.RINGBACK, doc.ringback) in paths:
        ringback = f"{call.media_dir}/{media.media_path(domain, media.RINGBACK, doc.ringback)}"
    actions: tuple[Action, ...] = (SetMedia(fs.V_RINGBACK, ringback),)
    music = _hold_music(call)
    if music:
        actions += (SetMedia(fs.V_HOLD_MUSIC, music, export=True),)
    return actions


def _hold_music(call: CallToGroup) -> str | None:
    """The group's hold music, if uploaded."""
    doc, domain = call.group.doc, call.tenant.domain
    music = doc.music_on_hold
    if music and media.media_path(domain, media.MUSIC, music) in call.group.media_paths:
        return hold_music_url(domain, music)
    return None


def _overflow(call: CallToGroup, why: str) -> Decision:
    doc = call.group.doc
    chain = call.unit_chain
    if doc.extension not in chain:
        chain = (*chain, doc.extension)
    at = Handoff(call.tenant, chain, call.media_dir, call.group.media_paths)
    name, actions = hand_off(doc.overflow, at)
    return f"group {doc.name}: {why}, overflow {name}", actions


# How a trace names a member rung, a group, its distribution and its timing.
_RUNG = phrase("rung", "rung")
_DISTRIBUTIONS = {
    Distribution.CYCLIC: phrase("cyclic_ring", "cyclic ring"),
    Distribution.HIERARCHICAL: phrase("hierarchical_ring", "hierarchical ring"),
    Distribution.SIMULTANEOUS: phrase("simultaneous_group_ring", "simultaneous ring"),
    Distribution.LEAST_ACTIVE: phrase("least_active_ring", "least_active ring"),
    Distribution.RANDOM: phrase("random_ring", "random ring"),
}


def _extension(extension: str) -> Phrase:
    return phrase("extension", "%(extension)s", extension=extension)


def _group(name: str) -> Phrase:
    return phrase("group", "%(name)s", name=name)


def _group_timing(doc: GroupDoc, seconds: int) -> Phrase:
    values = {"rings": doc.rings, "seconds": seconds, "cycles": doc.cycles}
    if doc.distribution is Distribution.SIMULTANEOUS:
        if doc.members_call_handling:
            return phrase(
                "group_together_handed",
                "together, %(rings)d rings (%(seconds)d s) × %(cycles)d cycle(s), each through "
                "their own call handling",
                **values,
            )
        return phrase(
            "group_together",
            "together, %(rings)d rings (%(seconds)d s) × %(cycles)d cycle(s)",
            **values,
        )
    if doc.members_call_handling:
        return phrase(
            "group_in_turn_handed",
            "each in turn, %(rings)d rings (%(seconds)d s) × %(cycles)d cycle(s), each through "
            "their own call handling",
            **values,
        )
    return phrase(
        "group_in_turn",
        "each in turn, %(rings)d rings (%(seconds)d s) × %(cycles)d cycle(s)",
        **values,
    )


def route_to_group(call: CallToGroup) -> Decision:
    """The first hunt of a call to the group."""
    doc = call.group.doc
    trace = call.trace
    members = []
    for member in ring_order(call.group, call.unique_id):
        skipped = unavailable_because(member, doc.members_call_handling)
        if skipped is None:
            members.append(member)
        if trace.on:
            trace.note("member", _extension(member.extension), skipped is None, skipped or _RUNG)
    if not members:
        none_available = phrase("no_member_available", "no member available: overflow")
        trace.note("group", _group(doc.name), False, none_available)
        return _overflow(call, "no member available")
    seconds = doc.rings * RING_SECONDS
    if trace.on:
        trace.note("timing", _DISTRIBUTIONS[doc.distribution], True, _group_timing(doc, seconds))
    if doc.distribution is Distribution.SIMULTANEOUS:
        ring = Ring(tuple(_legs(call, members, None)), seconds * doc.cycles)
    else:
        legs = _legs(call, members, seconds) * doc.cycles
        ring = Ring(tuple(legs[:MAX_LEGS]), seconds, sequential=True)
    name = f"group {doc.name}: {doc.distribution.value} {', '.join(m.extension for m in members)}"
    return name, (
        *bridge_settings(call.destination, fs.STAGE_GROUP),
        SetVariable(fs.V_IGNORE_EARLY_MEDIA, "true"),
        *_media(call),
        ring,
        *transfer.back_after_ring(call.destination, call.context),
    )


def after_group_failure(call: CallToGroup, disposition: str) -> Decision:
    """The hunt after the group's ring: an answered call never overflows."""
    cleanup = handover.clear_failover()
    doc = call.group.doc
    actions: tuple[Action, ...]
    if disposition in fs.ANSWERED_DISPOSITIONS:
        name, actions = f"group {doc.name}: answered", (Hangup(fs.NORMAL_CLEARING),)
    elif disposition == fs.ORIGINATOR_CANCEL:
        name, actions = f"group {doc.name}: caller hung up", (Hangup(fs.ORIGINATOR_CANCEL),)
    else:
        nobody = phrase(
            "nobody_answered", "nobody answered (%(disposition)s)", disposition=disposition or "?"
        )
        call.trace.note("group", _group(doc.name), False, nobody)
        name, actions = _overflow(call, f"nobody answered ({disposition or '?'})")
    return name, (*cleanup, *actions)


def log_in_or_out(
    group: GroupData, domain: str, caller: LineData | None, logged_in: bool
) -> Decision:
    """A member's log-in code: only from the member's own authenticated phone."""
    doc = group.doc
    if caller is None or caller.extension not in {m.extension for m in group.members}:
        return f"group {doc.name}: log-in code from a non-member", (
            EarlyMedia(),
            Prompt(fs.PROMPT_REJECTED),
            Hangup(fs.CALL_REJECTED),
        )
    event = FireEvent(
        fs.EVENT_GROUP_LOGIN,
        (
            (fs.EV_GROUP_DOMAIN, domain),
            (fs.EV_GROUP_NUMBER, doc.extension),
            (fs.EV_GROUP_MEMBER, caller.extension),
            (fs.EV_GROUP_LOGGED_IN, "true" if logged_in else "false"),
        ),
    )
    prompt = fs.PROMPT_LOGGED_IN if logged_in else fs.PROMPT_LOGGED_OUT
    state = "in" if logged_in else "out"
    return f"group {doc.name}: {caller.extension} logs {state}", (
        Answer(),
        event,
        Prompt(prompt),
        Hangup(fs.NORMAL_CLEARING),
    )


def compile_group_call(
    request: CallRequest, data: CallData, caller_line: LineData | None, trace: Trace = SILENT
) -> Route:
    """A call naming a group (`data.group` is loaded): its log-in codes, its first
    hunt, or the hunt after its ring."""
    assert data.group is not None
    feature = feature_dialled(request.destination, data.tenant.feature_codes)
    if not data.dialled_group and feature is not None and feature.feature in _LOG_IN_OUT:
        logged_in = _LOG_IN_OUT[feature.feature]
        name, actions = log_in_or_out(data.group, data.tenant.domain, caller_line, logged_in)
        return Route(request.context, request.destination, name, actions)
    call = CallToGroup(
        data.tenant,
        data.group,
        request.destination,
        request.context,
        request.unique_id,
        request.unit_chain,
        data.media_dir,
        caller_line.extension if caller_line else None,
        trace,
    )
    failover = request.failover_for == request.destination and request.stage == fs.STAGE_GROUP
    if failover:
        name, actions = after_group_failure(call, request.disposition or "")
    else:
        name, actions = route_to_group(call)
    return Route(request.context, request.destination, name, actions)
