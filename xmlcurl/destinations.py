"""Where tenant routing hands a call on: a number's route in force, a group's or a
queue's overflow. One compile function per destination kind, all with the same
signature, registered in `DESTINATIONS`.

Pure. Lines, groups and queues are reached by transferring the call to their number in
the tenant's context: the next fetch compiles them with everything they need (the
line's own call handling, the group's members), as if the number had been dialled.
`Handoff.chain` carries the groups and queues a call already went through, so that an
overflow back into one of them ends the call instead of looping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provisioning import media
from provisioning.numbering import (
    DEFAULT_ALLOWED,
    NotANumber,
    allowed,
    classify,
    format_for_carrier,
)
from provisioning.tenant_routing import Destination
from xmlcurl import fsnames as fs
from xmlcurl import handover
from xmlcurl.decisions import (
    Action,
    Answer,
    GatewayEndpoint,
    Hangup,
    PlayFile,
    Prompt,
    Ring,
    SetVariable,
    Transfer,
    Voicemail,
)
from xmlcurl.inputs import TenantData

# How long an external destination rings before the call gives up.
NUMBER_RING_SECONDS = 60

Decision = tuple[str, tuple[Action, ...]]


@dataclass(frozen=True)
class Handoff:
    """What a destination is compiled in: the tenant (with its groups' and queues'
    numbers by name), the units the call already went through, and where the tenant's
    media are (the media directory, and the stored files relative to it)."""

    tenant: TenantData
    chain: tuple[str, ...] = ()
    media_dir: str = ""
    media_paths: frozenset[str] = frozenset()


def _hang_up(why: str) -> Decision:
    return why, (Hangup(fs.NORMAL_CLEARING),)


def to_user(dest: Destination, at: Handoff) -> Decision:
    return f"to line {dest.user}", (Transfer(str(dest.user), at.tenant.domain),)


def _to_unit(kind: str, name: str, at: Handoff) -> Decision:
    number = at.tenant.unit_numbers.get(name.casefold())
    if number is None:
        return _hang_up(f"{kind} {name} no longer exists")
    if number in at.chain:
        return _hang_up(f"{kind} {name} already tried: overflow loop stopped")
    return f"to {kind} {name}", (
        handover.went_through_units((*at.chain, number)),
        Transfer(number, at.tenant.domain),
    )


def to_group(dest: Destination, at: Handoff) -> Decision:
    return _to_unit("group", str(dest.group), at)


def to_queue(dest: Destination, at: Handoff) -> Decision:
    return _to_unit("queue", str(dest.queue), at)


def to_conference(dest: Destination, at: Handoff) -> Decision:
    """Transferred to the room's number: the next fetch joins it, PIN asked."""
    wanted = str(dest.conference).casefold()
    for room in at.tenant.conferences.values():
        if room.name.casefold() == wanted:
            return f"to conference {room.name}", (Transfer(room.extension, at.tenant.domain),)
    return _hang_up(f"conference {dest.conference} no longer exists")


def to_voicemail(dest: Destination, at: Handoff) -> Decision:
    return f"to voicemail {dest.voicemail}", (
        Answer(),
        Voicemail(at.tenant.domain, str(dest.voicemail)),
    )


def to_number(dest: Destination, at: Handoff) -> Decision:
    gateway = at.tenant.gateway
    if gateway is None:
        return _hang_up(f"no trunk to call {dest.number}")
    try:
        found = classify(str(dest.number), at.tenant.country)
    except NotANumber:
        return _hang_up(f"{dest.number} is not a number")
    # Tenant-wide destinations call national numbers only (checked on apply, and again
    # here in case the rules changed since).
    if found.e164 is None or not allowed(found.category, DEFAULT_ALLOWED):
        return _hang_up(f"{dest.number} is not allowed")
    number = format_for_carrier(found.e164, gateway.number_format)
    endpoint = GatewayEndpoint(at.tenant.domain, number)
    return f"to number {found.e164}", (
        SetVariable(fs.V_HANGUP_AFTER_BRIDGE, "true"),
        Ring((endpoint,), NUMBER_RING_SECONDS),
        Hangup(fs.NORMAL_CLEARING),
    )


def to_announcement(dest: Destination, at: Handoff) -> Decision:
    """Answer, play the announcement, hang up; a name with no media uploaded plays the
    stock "no answer" prompt instead."""
    path = media.media_path(at.tenant.domain, media.ANNOUNCEMENT, str(dest.announcement))
    play: Action = Prompt(fs.PROMPT_NO_USER_RESPONSE)
    if path in at.media_paths and at.media_dir:
        play = PlayFile(f"{at.media_dir}/{path}")
    return f"announcement {dest.announcement}", (Answer(), play, Hangup(fs.NORMAL_CLEARING))


def to_hangup(dest: Destination, at: Handoff) -> Decision:
    return _hang_up("hang up")


DestinationCompiler = Callable[[Destination, Handoff], Decision]

DESTINATIONS: dict[str, DestinationCompiler] = {
    "announcement": to_announcement,
    "user": to_user,
    "group": to_group,
    "queue": to_queue,
    "conference": to_conference,
    "voicemail": to_voicemail,
    "number": to_number,
    "hangup": to_hangup,
}


def hand_off(dest: Destination, at: Handoff) -> Decision:
    compile_kind = DESTINATIONS.get(dest.kind)
    if compile_kind is None:
        return _hang_up(f"no route to a {dest.kind}")
    return compile_kind(dest, at)
