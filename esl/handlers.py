"""From one FreeSWITCH event to the changes it makes to Centrex's live state.

Pure: an event, the node it came from and the time in; plain data out. Who a leg
belongs to is read only from what the caller cannot choose: the digest-authenticated
user on legs from a phone (`user_name`), the user Centrex's dial string rang on legs to
a phone (`dialed_user`, `presence_id`). Later events of a leg (call state, hold) name
no user; they update the leg already known.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from lxml import etree

from provisioning.validation import whole_number
from xmlcurl import fsnames as fs

from .events import Event, switch_time
from .groups import GroupAnswered, GroupLogin, on_group_answer, on_group_login
from .keys import Key

INBOUND = fs.DIRECTION_INBOUND  # the leg comes from the user's phone: the user calls
OUTBOUND = fs.DIRECTION_OUTBOUND  # the leg goes to the user's phone: the user is called


@dataclass(frozen=True)
class LineRef:
    extension: str
    domain: str

    @classmethod
    def parse(cls, address: str) -> LineRef | None:
        """`1000@acme.example` → the line; anything else (a `dnd+…`, a name) → None."""
        user, at, domain = address.partition("@")
        if not (at and user.isdigit() and domain) or any(c.isspace() for c in domain):
            return None
        return cls(user, domain.lower())

    @property
    def address(self) -> str:
        return f"{self.extension}@{self.domain}"


@dataclass(frozen=True)
class Registered:
    node: str
    call_id: str
    line: LineRef
    contact: str
    user_agent: str
    network_ip: str
    network_port: int
    expires_at: datetime


@dataclass(frozen=True)
class Unregistered:
    node: str
    call_id: str


@dataclass(frozen=True)
class ChannelSeen:
    node: str
    uuid: str
    # None on later events of a leg: they only update a leg already known.
    line: LineRef | None
    direction: str
    answered: bool
    held: bool
    peer_number: str
    peer_name: str
    at: datetime
    # On a leg to a phone: the caller's leg it was originated from (directed pickup
    # takes that one).
    caller_leg: str = ""


@dataclass(frozen=True)
class ChannelGone:
    node: str
    uuid: str
    at: datetime


@dataclass(frozen=True)
class ProbeAsked:
    """A phone subscribed to a key FreeSWITCH does not light itself (`dnd+600`)."""

    node: str
    key: Key


Change = (
    Registered | Unregistered | ChannelSeen | ChannelGone | ProbeAsked | GroupAnswered | GroupLogin
)


def event_time(event: Event, now: datetime) -> datetime:
    return switch_time(event.get(fs.EV_TIMESTAMP)) or now


def _int(text: str, default: int = 0) -> int:
    # Counts, ports and expiries: nine digits at most (31 years of seconds).
    return whole_number(text, default, digits=9)


def _var(event: Event, name: str) -> str:
    return event.get(fs.VAR_PREFIX + name)


def on_register(event: Event, node: str, now: datetime) -> tuple[Change, ...]:
    line = LineRef.parse(f"{event.get(fs.REG_USERNAME)}@{event.get(fs.REG_REALM)}")
    call_id = event.get(fs.REG_CALL_ID)
    if line is None or not call_id:
        return ()
    expires = _int(event.get(fs.REG_EXPIRES), 3600)
    return (
        Registered(
            node=node,
            call_id=call_id,
            line=line,
            contact=event.get(fs.REG_CONTACT),
            user_agent=event.get(fs.REG_USER_AGENT),
            network_ip=event.get(fs.REG_NETWORK_IP),
            network_port=_int(event.get(fs.REG_NETWORK_PORT)),
            expires_at=event_time(event, now) + timedelta(seconds=expires),
        ),
    )


def on_unregister(event: Event, node: str, now: datetime) -> tuple[Change, ...]:
    call_id = event.get(fs.REG_CALL_ID)
    return (Unregistered(node, call_id),) if call_id else ()


def _leg_owner(event: Event, direction: str) -> LineRef | None:
    if direction == INBOUND:
        user, domain = _var(event, fs.V_USER_NAME), _var(event, fs.V_DOMAIN_NAME)
        return LineRef.parse(f"{user}@{domain}") if user and domain else None
    user, domain = _var(event, fs.V_DIALED_USER), _var(event, fs.V_DIALED_DOMAIN)
    if user and domain:
        return LineRef.parse(f"{user}@{domain}")
    return LineRef.parse(event.get(fs.EV_PRESENCE_ID))


def on_channel(event: Event, node: str, now: datetime) -> tuple[Change, ...]:
    uuid = event.get(fs.UNIQUE_ID)
    direction = event.get(fs.EV_CALL_DIRECTION)
    if not uuid or direction not in (INBOUND, OUTBOUND):
        return ()
    at = event_time(event, now)
    state = event.get(fs.EV_CALL_STATE)
    if state == fs.CALL_STATE_HANGUP:
        return (ChannelGone(node, uuid, at),)
    line = _leg_owner(event, direction) if event.name == fs.EVENT_CHANNEL_CREATE else None
    if direction == INBOUND:
        peer_number, peer_name = event.get(fs.CALLER_DESTINATION), ""
    else:
        peer_number, peer_name = event.get(fs.CALLER_ID_NUMBER), event.get(fs.CALLER_ID_NAME)
    held = state == fs.CALL_STATE_HELD or event.name == fs.EVENT_CHANNEL_HOLD
    answered = held or state == fs.CALL_STATE_ACTIVE or event.get(fs.EV_ANSWER_STATE) == "answered"
    caller_leg = event.get(fs.EV_OTHER_LEG_UUID) if direction == OUTBOUND else ""
    return (
        ChannelSeen(
            node, uuid, line, direction, answered, held, peer_number, peer_name, at, caller_leg
        ),
    )


def on_channel_destroy(event: Event, node: str, now: datetime) -> tuple[Change, ...]:
    uuid = event.get(fs.UNIQUE_ID)
    return (ChannelGone(node, uuid, event_time(event, now)),) if uuid else ()


def on_probe(event: Event, node: str, now: datetime) -> tuple[Change, ...]:
    # sofia answers plain line subscriptions itself; it asks for the others as
    # `to: <proto>+<user>@<host>`.
    key = Key.parse(event.get(fs.PR_PROTO), event.get(fs.PR_TO))
    return (ProbeAsked(node, key),) if key else ()


def on_answer(event: Event, node: str, now: datetime) -> tuple[Change, ...]:
    """A leg answered; a member's leg of a group call also names who answered it."""
    return (*on_channel(event, node, now), *on_group_answer(event, node, now))


Handler = Callable[[Event, str, datetime], tuple[Change, ...]]

HANDLERS: dict[str, Handler] = {
    fs.EVENT_SOFIA_REGISTER: on_register,
    fs.EVENT_SOFIA_UNREGISTER: on_unregister,
    fs.EVENT_SOFIA_EXPIRE: on_unregister,
    fs.EVENT_CHANNEL_CREATE: on_channel,
    fs.EVENT_CHANNEL_CALLSTATE: on_channel,
    fs.EVENT_CHANNEL_ANSWER: on_answer,
    fs.EVENT_CHANNEL_HOLD: on_channel,
    fs.EVENT_CHANNEL_UNHOLD: on_channel,
    fs.EVENT_CHANNEL_DESTROY: on_channel_destroy,
    fs.EVENT_PRESENCE_PROBE: on_probe,
    fs.EVENT_GROUP_LOGIN: on_group_login,
}

# What the listener subscribes to: exactly the events it handles.
SUBSCRIBED_EVENTS = sorted(n for n in HANDLERS if "::" not in n)
SUBSCRIBED_SUBCLASSES = sorted(n for n in HANDLERS if "::" in n)


def changes(event: Event, node: str, now: datetime) -> tuple[Change, ...]:
    handler = HANDLERS.get(event.name)
    return handler(event, node, now) if handler else ()


# Resynchronisation: what a node holds now, from `show … as json`.


def _rows(text: str) -> list[dict[str, str]]:
    try:
        document = json.loads(text)
    except ValueError:
        raise ValueError(f"not a FreeSWITCH JSON listing: {text[:80]!r}") from None
    if not isinstance(document, dict):
        raise ValueError("not a FreeSWITCH JSON listing")
    rows = document.get("rows", [])
    return [
        {str(k): "" if v is None else str(v) for k, v in row.items()}
        for row in rows
        if isinstance(row, dict)
    ]


# `sofia status profile <name> reg`: sofia's own registrations, each a block of
# `Field:<spaces>\t<value>` lines. Sofia's table is the one its bridges read
# (`sofia_contact`), written before the phone gets its 200 OK and keeping every phone of
# a line; FreeSWITCH's core table (`show registrations`) is written later through a
# queue, keeps one phone per line and still lists phones sofia flushed.
_REG_FIELD = re.compile(r"^([A-Za-z-]+):\s*\t(.*)$")
_EXPIRES_IN = re.compile(r"EXPSECS\((-?\d+)\)\s*$")
_PROFILE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_LISTING_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def sofia_profiles(text: str) -> list[str]:
    """The running sofia profiles named in `sofia xmlstatus` (aliases left out)."""
    document = text.strip()
    if not document.startswith("<?xml"):
        raise ValueError(f"not a sofia profile listing: {text[:80]!r}")
    # It declares ISO-8859-1 but reaches us decoded: parsed without the declaration.
    try:
        root = etree.fromstring(document[document.index("?>") + 2 :], parser=_LISTING_XML)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"sofia profile listing unreadable: {exc}") from None
    profiles = root.iterfind("profile")
    names = [p.findtext("name", "") for p in profiles if p.findtext("type") == "profile"]
    # Each name goes into an API command line: one that could carry more is left out.
    return list(dict.fromkeys(n for n in names if _PROFILE_NAME.fullmatch(n)))


def sofia_registrations_listed(
    text: str, node: str, switchname: str, now: datetime
) -> list[Registered]:
    """A profile's registrations held by this node (`switchname`: profiles sharing a
    database with other nodes list theirs too)."""
    if not text.lstrip().startswith("Registrations:"):
        raise ValueError(f"not a sofia registrations listing: {text[:80]!r}")
    blocks: list[dict[str, str]] = []
    # Lines end at \n only: a value holds no \n (SIP header values cannot), while
    # splitlines() would also cut at characters a phone can put in its user agent.
    for text_line in text.split("\n"):
        field = _REG_FIELD.match(text_line)
        if field is None:
            continue
        name, value = field.groups()
        if name == "Call-ID":
            blocks.append({})
        if blocks:
            blocks[-1][name] = value
    listed = []
    for block in blocks:
        line = LineRef.parse(block.get("User", ""))
        call_id = block.get("Call-ID", "")
        expires_in = _EXPIRES_IN.search(block.get("Status", ""))
        if line is None or not call_id or block.get("Host", switchname) != switchname:
            continue
        listed.append(
            Registered(
                node=node,
                call_id=call_id,
                line=line,
                contact=block.get("Contact", ""),
                user_agent=block.get("Agent", ""),
                network_ip=block.get("IP", ""),
                network_port=_int(block.get("Port", "")),
                expires_at=now + timedelta(seconds=int(expires_in[1]) if expires_in else 0),
            )
        )
    return listed


def channels_listed(
    text: str, node: str, owner_of_inbound: Callable[[str], str]
) -> list[ChannelSeen]:
    """Channels of Centrex users on a node. The listing has no authenticated user, so the
    owner of a leg from a phone is asked for (`owner_of_inbound(uuid)` → `user@domain`)."""
    listed = []
    for row in _rows(text):
        uuid, direction = row.get(fs.COL_UUID, ""), row.get(fs.COL_DIRECTION, "")
        if not uuid or direction not in (INBOUND, OUTBOUND):
            continue
        if direction == INBOUND:
            line = LineRef.parse(owner_of_inbound(uuid))
            peer_number, peer_name = row.get(fs.COL_DEST, ""), ""
        else:
            line = LineRef.parse(row.get(fs.COL_PRESENCE_ID, ""))
            peer_number, peer_name = row.get(fs.COL_CID_NUM, ""), row.get(fs.COL_CID_NAME, "")
        if line is None:
            continue
        state = row.get(fs.COL_CALLSTATE, "")
        started = datetime.fromtimestamp(_int(row.get(fs.COL_CREATED_EPOCH, "")), UTC)
        listed.append(
            ChannelSeen(
                node=node,
                uuid=uuid,
                line=line,
                direction=direction,
                answered=state in (fs.CALL_STATE_ACTIVE, fs.CALL_STATE_HELD),
                held=state == fs.CALL_STATE_HELD,
                peer_number=peer_number,
                peer_name=peer_name,
                at=started,
                # The core's `call_uuid` of a leg it originated is its caller's uuid.
                caller_leg=call_uuid
                if (call_uuid := row.get(fs.COL_CALL_UUID, "")) != uuid
                else "",
            )
        )
    return listed
