"""FreeSWITCH's call records (mod_xml_cdr) → one leg → the call-log entries it gives.

Pure: no I/O, no database, no clock. `xml_from_body` takes whatever body mod_xml_cdr
posts, `parse_cdr` reads the record into a `Leg`, and `classify` decides, for each user
the leg concerns, one entry of a kind:

  placed     the user called: the A leg that left their phone (or that Centrex
             originated for them, click-to-call), whatever became of the call.
  received   the user took the call: the leg to one of their phones was answered and
             connected; or, read from the caller's A leg, a ring of the user's line was
             answered (by a phone, or by a number ringing with them).
  forwarded  the call was sent on, and taken there: a forward of theirs was answered, or
             their line forwarded it to a colleague (`centrex_forward_chain`).
  transferred the user took the call and handed it on from their phone: a REFER (sofia's
             `endpoint_disposition`) or a DTMF transfer (`centrex_transferring`, the leg
             ending in its consultation).
  rejected   refused, unanswered: Centrex rejected it under the user's rules, or the
             user declined it on the phone (hangup cause CALL_REJECTED).
  missed     anything else: nobody answered, busy, unreachable, the caller hung up while
             it rang, or it ended in the user's voicemail.

With `log-b-leg` FreeSWITCH posts every leg of a call (but a leg of a line the caller's
own leg rang alone that was simply answered: its record is left unmade, the caller's
tells the same; `xmlcurl.render`), and several legs may tell about the same user (the
caller's A leg says the line went to voicemail, the leg to the user's phone says it
rang unanswered, two phones of one user each have a leg). Entries are therefore keyed
by call (the A leg's uuid) and user, and when two disagree the more telling one wins:
kinds rank placed > transferred > received > forwarded > rejected > missed, and at
equal rank what the user's own leg says beats what the caller's A leg says
(`Entry.precedence`). The result does not depend on the order the legs arrive in.

Loopback legs and reminder calls give no entry; nor does a leg whose tenant, or whose
users, the loaded `TenantLines` do not know. Who a leg belongs to is read only from what
a caller cannot choose: the digest-authenticated `user_name`@`domain_name`, the user
Centrex's dial string rang (`dialed_user`@`dialed_domain`, `presence_id`), the dialplan
contexts (Centrex names each tenant's context after its domain; carriers arrive in
`public`, where the public number dialled names the line).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from urllib.parse import unquote_to_bytes

from lxml import etree

from esl.events import decoded, switch_time
from esl.handlers import LineRef
from provisioning.call_kinds import CallDirection
from provisioning.call_kinds import CallKind as Kind
from provisioning.numbering import to_e164
from provisioning.validation import whole_number
from xmlcurl import fsnames as fs
from xmlcurl import handover, route_trail

# Longest value kept from a record; FreeSWITCH's own are far shorter.
_MAX_VALUE = 512
_UUID = re.compile(r"[0-9A-Za-z-]{1,64}")
# FreeSWITCH writes variable names as element names unchecked, and sofia turns the name
# of any X-/P- SIP header into one (`sip_h_X-A!`): such a record is not well-formed.
_TAG = re.compile(rb"<(/?)([^\s<>/?!][^\s<>/]*)(/?)>")
_NAME_CHARS = re.compile(rb"[^A-Za-z0-9_.\-]")
_NOLOCAL = fs.NOLOCAL.encode()
_NOLOCAL_NAMED = _NAME_CHARS.sub(b"_", _NOLOCAL)
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_pis=True
)


class NotACdr(ValueError):
    """The body or file is not a call record mod_xml_cdr could have written."""


# --- the body mod_xml_cdr posts ---------------------------------------------------------
def xml_from_body(body: bytes) -> bytes:
    """The record's XML from any body mod_xml_cdr sends: raw XML (`encode=textxml`), or
    the field `cdr=` holding it as is (encode unset), url-encoded (`encode=true`) or in
    base64 (`encode=base64`). Told apart by content: content types vary across versions."""
    text = body.strip()
    if text.startswith(b"<"):
        return text
    prefix = fs.CDR_FIELD.encode() + b"="
    if not text.startswith(prefix):
        raise NotACdr(f"neither XML nor a {fs.CDR_FIELD}= field")
    value = text[len(prefix) :].strip()
    if value.startswith(b"<"):
        return value
    if value[:3].upper() == b"%3C":
        return percent_decoded(value.replace(b"+", b" ")).strip()
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise NotACdr("the cdr field is neither XML, url-encoded XML nor base64") from None
    if not decoded.strip().startswith(b"<"):
        raise NotACdr("the base64 cdr field does not hold XML")
    return decoded.strip()


def percent_decoded(data: bytes) -> bytes:
    """`urllib.parse.unquote_to_bytes`, done by the codec machinery in C: with every
    backslash doubled and every `%` made `\\x`, `unicode_escape` reads each `%XX` as the
    character XX and nothing else, and latin-1 gives the bytes back. Seven times faster on
    a 30 kB record; anything else (`%` not followed by two hex digits) decoded the slow way."""
    try:
        text = data.replace(b"\\", b"\\\\").replace(b"%", b"\\x").decode("unicode_escape")
    except UnicodeDecodeError:
        return unquote_to_bytes(data)
    return text.encode("latin-1")


# --- one leg ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hop:
    """One dialplan hunt of a leg: in which context, for which destination."""

    context: str
    destination: str


@dataclass(frozen=True)
class Leg:
    uuid: str
    # The call this leg is part of: the A leg's uuid (a B leg's originator, else its own).
    call_uuid: str
    # The leg it was connected to: a B leg's originator, an A leg's bridged leg, the
    # other half of a loopback pair.
    other_uuid: str | None
    direction: str  # FreeSWITCH's: inbound legs were called in, outbound legs called out
    originated: bool  # a B leg: another leg rang it
    loopback: bool
    reminder: bool  # a call Centrex placed to play a reminder
    caller_number: str
    caller_name: str
    hops: tuple[Hop, ...]  # first hunt first; one for a B leg
    # The user whose own call this is (digest-authenticated, or click-to-call).
    calling_user: LineRef | None
    # The user whose phones this leg rang (outbound), or last rang (an A leg).
    rung_user: LineRef | None
    started_at: datetime
    answered_at: datetime | None
    bridged_at: datetime | None
    ended_at: datetime
    duration: int
    billsec: int
    hangup_cause: str
    bridge_channel: str
    stage: str | None  # centrex_stage: what Centrex was doing when the leg was bridged
    forward_chain: tuple[str, ...]  # lines the call was forwarded through
    node: str
    # The leg handed its call on (a REFER from its phone, or a DTMF transfer).
    transferred: bool = False
    # The routing decisions of the leg's fetches, first first (`xmlcurl.route_trail`).
    route: tuple[str, ...] = ()

    @property
    def destination(self) -> str:
        """What was dialled (the first hunt's destination)."""
        return self.hops[0].destination if self.hops else ""


def _parse_xml(xml: bytes) -> etree._Element:
    # Every leg of a line carries `nolocal:centrex_peer_line` (fs.V_OWN_LINE), written as
    # an element whose undeclared prefix lxml refuses: renamed here at the cost of two
    # byte scans, not found by a failed parse and the repair below (a third of a call
    # record's CPU). Values are url-encoded, so `<nolocal:` can only be such a tag.
    xml = xml.replace(b"<" + _NOLOCAL, b"<" + _NOLOCAL_NAMED).replace(
        b"</" + _NOLOCAL, b"</" + _NOLOCAL_NAMED
    )
    try:
        return etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError:
        pass

    def repair(match: re.Match[bytes]) -> bytes:
        return b"<" + match[1] + _NAME_CHARS.sub(b"_", match[2]) + match[3] + b">"

    try:
        return etree.fromstring(_TAG.sub(repair, xml), _PARSER)
    except etree.XMLSyntaxError as exc:
        raise NotACdr(f"not well-formed XML: {exc}") from None


# The variables a leg is read from (parse_cdr): picked out of the record's 200 and more
# in one pass in C, a ninth of the time of looking each one up.
_READ = (
    fs.EV_HOSTNAME, fs.V_ANSWER_UEPOCH, fs.V_BILLSEC, fs.V_BRIDGE_CHANNEL, fs.V_BRIDGE_UEPOCH,
    fs.V_BRIDGE_UUID, fs.V_CHANNEL_NAME, fs.V_DIALED_DOMAIN, fs.V_DIALED_USER, fs.V_DIRECTION,
    fs.V_DOMAIN_NAME, fs.V_DURATION, fs.V_ENDPOINT_DISPOSITION, fs.V_END_UEPOCH,
    fs.V_FORWARD_CHAIN, fs.V_HANGUP_CAUSE, fs.V_IS_LOOPBACK, fs.V_LAST_BRIDGE_TO,
    fs.V_ORIGINATING_LEG_UUID, fs.V_ORIGINATOR, fs.V_OTHER_LOOPBACK_LEG_UUID, fs.V_PRESENCE_ID,
    fs.V_REMINDER, fs.V_ROUTE, fs.V_STAGE, fs.V_START_UEPOCH, fs.V_TRANSFERRING,
    fs.V_USER_NAME, fs.V_UUID,
)  # fmt: skip


class _Variables:
    """Variable values, percent-decoded (FreeSWITCH url-encodes them), each decoded when
    read. An array variable appears once per item: the first is kept."""

    def __init__(self, root: etree._Element) -> None:
        self._element = root.find(fs.CDR_VARIABLES)
        self._raw: dict[str, str | None] = {}
        if self._element is not None:
            for child in self._element.iterchildren(*_READ):
                self._raw.setdefault(child.tag, child.text)

    def get(self, name: str) -> str:
        """The value, "" when the record does not have it (`name`: a plain name of ours)."""
        if name in _READ:
            raw = self._raw.get(name)
        else:  # not picked out beforehand: looked for
            raw = self._element.findtext(name) if self._element is not None else None
        if not raw:
            return ""
        return decoded(raw)[:_MAX_VALUE]


def _profiles(root: etree._Element) -> list[etree._Element]:
    """Caller profiles of the leg's hunts, first hunt first (FreeSWITCH writes the
    latest first)."""
    flows = root.findall(fs.CDR_CALLFLOW)
    profiles = [f.find(fs.CDR_CALLER_PROFILE) for f in reversed(flows)]
    return [p for p in profiles if p is not None]


def _text(profile: etree._Element | None, name: str) -> str:
    if profile is None:
        return ""
    return (profile.findtext(name) or "").strip()[:_MAX_VALUE]


def _seconds(text: str) -> int:
    return whole_number(text, digits=9)


def _line(user: str, domain: str) -> LineRef | None:
    return LineRef.parse(f"{user}@{domain}") if user and domain else None


def parse_cdr(xml: bytes) -> Leg:
    """Read one leg from a record; `NotACdr` if it is not one."""
    root = _parse_xml(xml)
    if root.tag != fs.CDR_ROOT:
        raise NotACdr(f"root element is <{root.tag}>, not <cdr>")
    var = _Variables(root)
    uuid = var.get(fs.V_UUID)
    started, ended = switch_time(var.get(fs.V_START_UEPOCH)), switch_time(var.get(fs.V_END_UEPOCH))
    if not _UUID.fullmatch(uuid) or started is None or ended is None:
        raise NotACdr("a record needs the leg's uuid, start_uepoch and end_uepoch")
    originator = var.get(fs.V_ORIGINATOR) or var.get(fs.V_ORIGINATING_LEG_UUID) or None
    profiles = _profiles(root)
    first = profiles[0] if profiles else None
    direction = var.get(fs.V_DIRECTION)
    rung = _line(var.get(fs.V_DIALED_USER), var.get(fs.V_DIALED_DOMAIN))
    if rung is None and direction == fs.DIRECTION_OUTBOUND:
        rung = LineRef.parse(var.get(fs.V_PRESENCE_ID))
    return Leg(
        uuid=uuid,
        call_uuid=originator or uuid,
        other_uuid=originator
        or var.get(fs.V_BRIDGE_UUID)
        or var.get(fs.V_LAST_BRIDGE_TO)
        or var.get(fs.V_OTHER_LOOPBACK_LEG_UUID)
        or None,
        direction=direction,
        originated=originator is not None,
        loopback=var.get(fs.V_IS_LOOPBACK) in {"1", "true"}
        or var.get(fs.V_CHANNEL_NAME).startswith(fs.LOOPBACK_CHANNEL_PREFIX)
        or _text(first, fs.CP_SOURCE) == fs.SOURCE_LOOPBACK,
        reminder=bool(var.get(fs.V_REMINDER)),
        caller_number=_text(first, fs.CP_CALLER_ID_NUMBER),
        caller_name=_text(first, fs.CP_CALLER_ID_NAME),
        hops=tuple(Hop(_text(p, fs.CP_CONTEXT), _text(p, fs.CP_DESTINATION)) for p in profiles),
        calling_user=None
        if originator
        else _line(var.get(fs.V_USER_NAME), var.get(fs.V_DOMAIN_NAME)),
        rung_user=rung,
        started_at=started,
        answered_at=switch_time(var.get(fs.V_ANSWER_UEPOCH)),
        bridged_at=switch_time(var.get(fs.V_BRIDGE_UEPOCH)),
        ended_at=ended,
        duration=_seconds(var.get(fs.V_DURATION)),
        billsec=_seconds(var.get(fs.V_BILLSEC)),
        hangup_cause=var.get(fs.V_HANGUP_CAUSE)[:64],
        bridge_channel=var.get(fs.V_BRIDGE_CHANNEL),
        stage=var.get(fs.V_STAGE) or None,
        forward_chain=handover.decode_chain(var.get(fs.V_FORWARD_CHAIN)),
        route=route_trail.decode(var.get(fs.V_ROUTE)),
        node=(var.get(fs.EV_HOSTNAME) or root.get(fs.CDR_SWITCHNAME) or "")[:255],
        transferred=var.get(fs.V_ENDPOINT_DISPOSITION) in fs.TRANSFER_DISPOSITIONS
        or (
            # A DTMF transfer: the leg ended while bridged to its consultation (the
            # loopback leg att_xfer rang), not back with its caller.
            handover.decode_flag(var.get(fs.V_TRANSFERRING))
            and var.get(fs.V_BRIDGE_CHANNEL).startswith(fs.LOOPBACK_CHANNEL_PREFIX)
        ),
    )


# --- which tenant ---------------------------------------------------------------------------
@dataclass(frozen=True)
class TenantHints:
    """Where to look for the leg's tenant: domains first, else the public numbers dialled."""

    domains: tuple[str, ...]
    public_destinations: tuple[str, ...]


def tenant_hints(leg: Leg) -> TenantHints:
    domains = [u.domain for u in (leg.calling_user, leg.rung_user) if u is not None]
    publics = []
    if not leg.originated:  # a B leg's hunt is a copy of its originator's
        for hop in leg.hops:
            if hop.context == fs.PUBLIC_CONTEXT:
                publics.append(hop.destination)
            else:
                domains.append(hop.context.lower())
    return TenantHints(_unique(domains), _unique(publics))


def _unique(values: list[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def candidate_extensions(leg: Leg) -> frozenset[str]:
    """Every extension the leg could concern, for the loader to look up."""
    found = {u.extension for u in (leg.calling_user, leg.rung_user) if u is not None}
    numbers = [leg.caller_number, *(h.destination for h in leg.hops), *leg.forward_chain]
    return frozenset(found | {n for n in numbers if n.isdigit() and len(n) <= 8})


# --- the entries ------------------------------------------------------------------------------
_RANK = {
    Kind.MISSED: 1,
    Kind.REJECTED: 2,
    Kind.FORWARDED: 3,
    Kind.RECEIVED: 4,
    Kind.TRANSFERRED: 5,
    Kind.PLACED: 6,
}
OUTGOING = CallDirection.OUTGOING.value
INCOMING = CallDirection.INCOMING.value


@dataclass(frozen=True)
class TenantLines:
    """What classifying a leg needs to know of its tenant."""

    domain: str
    country: str  # reads numbers in national form
    extensions: frozenset[str]  # the tenant's lines among those the leg could concern
    # The line each public number dialled in the leg's hunts reaches.
    public_lines: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Entry:
    extension: str
    kind: Kind
    # Which of two reports about the same call and user wins (module docstring).
    precedence: int
    peer_number: str  # E.164 or an extension; "" when the caller withheld it
    peer_name: str  # the caller-ID name FreeSWITCH had, if any
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    hangup_cause: str
    # The decisions that routed the call (the caller's leg knows them), as the call log
    # shows them: "rule applied".
    route: str = ""

    @property
    def direction(self) -> str:
        return OUTGOING if self.kind is Kind.PLACED else INCOMING

    @property
    def duration(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds())

    @property
    def billsec(self) -> int:
        """Seconds talked: from the answer this entry counts to the end."""
        if self.answered_at is None:
            return 0
        return max(0, int((self.ended_at - self.answered_at).total_seconds()))


def peer_number(number: str, lines: TenantLines) -> str:
    """A number as the call log shows and searches it: an extension as is, a phone
    number in E.164 when it is one, "" when withheld."""
    number = number.strip()
    if number.lower() in fs.WITHHELD_NUMBERS:
        return ""
    if number in lines.extensions:
        return number
    return to_e164(number, lines.country) or number[:64]


def _peer_name(name: str, number: str) -> str:
    name = "".join(c for c in name if c.isprintable()).strip()
    if name.lower() in fs.WITHHELD_NUMBERS or name == number:
        return ""
    return name[:255]


def _entry(
    leg: Leg,
    extension: str,
    kind: Kind,
    *,
    own: bool,
    answered: datetime | None,
    peer: str,
    name: str = "",
) -> Entry:
    """`own`: the report comes from the user's own leg (their phone's, or their call's)."""
    return Entry(
        extension=extension,
        kind=kind,
        precedence=_RANK[kind] * 2 + int(own),
        peer_number=peer,
        peer_name=_peer_name(name, peer),
        started_at=leg.started_at,
        answered_at=answered,
        ended_at=leg.ended_at,
        hangup_cause=leg.hangup_cause,
        route=route_trail.SEPARATOR.join(leg.route),
    )


def _own_user(user: LineRef | None, lines: TenantLines) -> str | None:
    if user is None or user.domain != lines.domain or user.extension not in lines.extensions:
        return None
    return user.extension


def _line_of(leg: Leg, hop: Hop, lines: TenantLines) -> str | None:
    """The line a hunt was for: a public number's line, or an extension of the tenant
    when the hunt ran in the tenant's context or the leg is one of its users' own."""
    if hop.context == fs.PUBLIC_CONTEXT:
        return lines.public_lines.get(hop.destination)
    users = (leg.calling_user, leg.rung_user)
    ours = hop.context == lines.domain or any(u and u.domain == lines.domain for u in users)
    return hop.destination if ours and hop.destination in lines.extensions else None


def _placed(leg: Leg, lines: TenantLines) -> list[Entry]:
    extension = _own_user(leg.calling_user, lines)
    if extension is None:
        return []
    number = peer_number(leg.destination, lines)
    return [_entry(leg, extension, Kind.PLACED, own=True, answered=leg.answered_at, peer=number)]


def _routing_story(leg: Leg, lines: TenantLines) -> list[Entry]:
    """What the caller's A leg tells about the lines it reached: the last one its hunts
    named, and the lines that forwarded it there."""
    final = next((x for h in reversed(leg.hops) if (x := _line_of(leg, h, lines))), None)
    if final is None:
        return []
    taken = (
        leg.bridged_at is not None
        and leg.answered_at is not None
        and not leg.bridge_channel.startswith(fs.LOOPBACK_CHANNEL_PREFIX)
    )
    if taken:
        kind = Kind.FORWARDED if leg.stage == fs.STAGE_FORWARD else Kind.RECEIVED
    elif leg.hangup_cause == fs.CALL_REJECTED and leg.answered_at is None:
        kind = Kind.REJECTED
    else:
        kind = Kind.MISSED
    answered = leg.bridged_at if taken else None
    number = peer_number(leg.caller_number, lines)
    story = {final: kind}
    for extension in leg.forward_chain:
        if extension in lines.extensions and extension != final:
            story.setdefault(extension, Kind.FORWARDED)
    return [
        _entry(leg, ext, k, own=False, answered=answered, peer=number, name=leg.caller_name)
        for ext, k in story.items()
    ]


def _phone_leg(leg: Leg, lines: TenantLines) -> list[Entry]:
    """A leg to a user's phones: answered and connected, declined, or not taken. A leg
    Centrex originated has nothing to connect to: answering it is taking it."""
    extension = _own_user(leg.rung_user, lines)
    if extension is None or leg.direction != fs.DIRECTION_OUTBOUND:
        return []
    taken = leg.answered_at is not None and (leg.bridged_at is not None or not leg.originated)
    if taken:
        kind = Kind.TRANSFERRED if leg.transferred else Kind.RECEIVED
    elif leg.hangup_cause == fs.CALL_REJECTED:
        kind = Kind.REJECTED
    else:
        kind = Kind.MISSED
    number = peer_number(leg.caller_number, lines)
    answered = leg.answered_at if taken else None
    return [
        _entry(leg, extension, kind, own=True, answered=answered, peer=number, name=leg.caller_name)
    ]


def classify(leg: Leg, lines: TenantLines) -> tuple[Entry, ...]:
    """One entry per user of `lines` the leg concerns (the module docstring's rule)."""
    if leg.loopback or leg.reminder:
        return ()
    found = _phone_leg(leg, lines)
    if not leg.originated:
        found = _placed(leg, lines) + _routing_story(leg, lines) + found
    best: dict[str, Entry] = {}
    for entry in found:
        kept = best.get(entry.extension)
        if kept is None or entry.precedence > kept.precedence:
            best[entry.extension] = entry
    return tuple(best.values())
