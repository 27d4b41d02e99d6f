"""Conference rooms on mod_conference: meet-me rooms and the ad-hoc conference.

Pure. A room's name in FreeSWITCH is `meet-<extension>-<domain>`, built from the
tenant the call is routed in, never from what the caller sent: mod_conference's room
names are global to the node, and the domain in them keeps tenant A out of tenant B's
rooms. The caller is answered and joins with
`conference meet-<ext>-<domain>@centrex+<pin>+flags{…}`: mod_conference asks callers
coming in for the PIN (its `pin-sound`, three tries), takes the moderator PIN from
`conference_moderator_pin`, and the room's size from `conference_max_members` when the
room opens. When the caller leaves, the call ends.

The ad-hoc conference (seed 002 §2): every call a user's phone makes binds `#3` on
the user's channel (`bind_meta_app 3 a s execute_extension::*3 XML <domain>`; `#` is the
lines' meta key, set by the directory with the DTMF transfer's `#1`).
Pressing it fetches `*3` on that channel, and the route moves the other party, then
the user's own channel, into the user's ad-hoc room `adhoc-<ext>-<domain>` (at most
six members, profile `centrex-adhoc`). The user is moderator with
`mandatory_member_endconf`: the room ends — everyone is hung up — when the user's last
channel in it leaves. To add a party: hold the conference, call them, and press `#3`
again on that call: it joins the same room.
"""

from __future__ import annotations

from provisioning.conferences import ConferenceDoc
from provisioning.feature_codes import CODES, Feature
from xmlcurl import fsnames as fs
from xmlcurl import transfer
from xmlcurl.decisions import (
    Action,
    Answer,
    BindConferenceKey,
    Hangup,
    JoinConference,
    MoveToConference,
    Route,
    SetVariable,
    TransferKeys,
)
from xmlcurl.inputs import LineData, TenantData
from xmlcurl.request import CallRequest

# The key pressed after FreeSWITCH's meta key `*`, and the code it runs.
ADHOC_KEY = "3"
ADHOC_CODE = next(code.prefix for code in CODES if code.feature is Feature.CONFERENCE)
# What the user is in the room that opens from their call.
INITIATOR_FLAGS = (fs.CONF_FLAG_MODERATOR, fs.CONF_FLAG_MANDATORY_ENDCONF)


def meet_me_room(extension: str, domain: str) -> str:
    return f"meet-{extension}-{domain}"


def adhoc_room(extension: str, domain: str) -> str:
    return f"adhoc-{extension}-{domain}"


def route_to_room(request: CallRequest, tenant: TenantData, room: ConferenceDoc) -> Route:
    actions: list[Action] = [
        Answer(),
        SetVariable(fs.V_CONFERENCE_MAX_MEMBERS, str(room.max_members)),
    ]
    if room.moderator_pin is not None:
        actions.append(SetVariable(fs.V_CONFERENCE_MODERATOR_PIN, room.moderator_pin))
    flags = (fs.CONF_FLAG_WAIT_MOD,) if room.wait_for_moderator else ()
    name = meet_me_room(room.extension, tenant.domain)
    actions += [
        JoinConference(name, fs.CONFERENCE_PROFILE, room.pin, flags),
        Hangup(fs.NORMAL_CLEARING),
    ]
    return Route(request.context, request.destination, f"conference {room.name}", tuple(actions))


def conference_key(tenant: TenantData) -> tuple[Action, ...]:
    """Bound on a user's own channel before their call rings."""
    return (BindConferenceKey(ADHOC_KEY, ADHOC_CODE, tenant.domain),)


def conference_keys(context: str) -> TransferKeys:
    """`#3` on any leg of a line in a conversation (directory: bound at each bridge, as
    the DTMF transfer's `#1`), so that calls a user receives become conferences too."""
    return TransferKeys(transfer.META_KEY, ADHOC_KEY, ADHOC_CODE, context)


def route_adhoc(request: CallRequest, tenant: TenantData, user: LineData | None) -> Route:
    """`*3` pressed by `user` during a call (or dialled): the other party, then the
    user, into the user's ad-hoc room. With nobody on the other end FreeSWITCH only
    logs it, and the user waits alone in the room. Pressed on a channel of no line of
    the tenant: nothing happens, the call goes on."""
    if user is None:
        return Route(request.context, request.destination, "conference key: no line", ())
    room = adhoc_room(user.extension, tenant.domain)
    actions = (
        MoveToConference(room, fs.CONFERENCE_ADHOC_PROFILE, partner=True),
        MoveToConference(room, fs.CONFERENCE_ADHOC_PROFILE, partner=False, flags=INITIATOR_FLAGS),
    )
    return Route(
        request.context, request.destination, f"ad-hoc conference of {user.extension}", actions
    )
