"""mod_xml_curl request bodies → small typed requests.

FreeSWITCH posts `application/x-www-form-urlencoded` with the five base fields first
(unencoded) and every header of the params event after them, values percent-encoded
with its own unsafe set (which includes `+` and space). So values are decoded with
plain percent-decoding, never form decoding (a `+` stays a `+`), and the first
occurrence of a name wins (no event header can override a base field). Only the
fields Centrex reads are decoded: a dialplan fetch carries ~170 of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from xmlcurl import fsnames as fs
from xmlcurl import handover

_WANTED = frozenset(
    {
        fs.SECTION,
        fs.TAG_NAME,
        fs.KEY_NAME,
        fs.KEY_VALUE,
        fs.HOSTNAME,
        fs.ACTION,
        fs.PURPOSE,
        fs.USER,
        fs.DOMAIN,
        fs.KEY,
        fs.EVENT_CALLING_FUNCTION,
        fs.EVENT_DATE_TIMESTAMP,
        fs.EVENT_SUBCLASS,
        fs.VM_ACTION,
        fs.VM_USER_PASSWORD,
        fs.VM_USER,
        fs.VM_DOMAIN,
        fs.SIP_AUTH_METHOD,
        fs.SIP_TO_HOST,
        fs.HUNT_DESTINATION,
        fs.HUNT_CONTEXT,
        fs.HUNT_CALLER_ID_NUMBER,
        fs.HUNT_CALLER_ID_NAME,
        fs.CALLER_DESTINATION,
        fs.CALLER_CONTEXT,
        fs.CALLER_ID_NUMBER,
        fs.CALLER_ID_NAME,
        fs.HUNT_PRIVACY_HIDE_NUMBER,
        fs.CALLER_PRIVACY_HIDE_NUMBER,
        fs.UNIQUE_ID,
        fs.EV_CALL_DIRECTION,
        fs.EV_CHANNEL_NAME,
        fs.HUNT_RDNIS,
        fs.CALLER_RDNIS,
        fs.VAR_PREFIX + fs.V_REFERRED_BY,
        fs.VAR_PREFIX + fs.V_DIALED_USER,
        fs.VAR_PREFIX + fs.V_USER_NAME,
        fs.VAR_PREFIX + fs.V_DOMAIN_NAME,
        fs.VAR_PREFIX + fs.V_ORIGINATE_DISPOSITION,
        fs.VAR_PREFIX + fs.V_FAILOVER_FOR,
        fs.VAR_PREFIX + fs.V_STAGE,
        fs.VAR_PREFIX + fs.V_ROUTE,
        fs.VAR_PREFIX + fs.V_FORWARD_CHAIN,
        fs.VAR_PREFIX + fs.V_VIA_GROUP,
        fs.VAR_PREFIX + fs.V_GROUP_HOLD_MUSIC,
        fs.VAR_PREFIX + fs.V_GROUP_CALLER,
        fs.VAR_PREFIX + fs.V_FROM_PUBLIC,
        fs.VAR_PREFIX + fs.V_UNIT_CHAIN,
        fs.VAR_PREFIX + fs.V_STAR_ASKED,
        fs.VAR_PREFIX + fs.V_PEER_LINE,
        fs.VAR_PREFIX + fs.V_OWN_LINE,
        fs.VAR_PREFIX + fs.V_BRIDGE_TO,
        fs.VAR_PREFIX + fs.V_CONSULTATION,
        fs.VAR_PREFIX + fs.V_SIP_REFER_TO,
        fs.CC_QUEUE,
    }
)

# Longest value kept; FreeSWITCH's own fields are far shorter, anything longer is junk.
_MAX_VALUE = 512


_WANTED_BYTES = {name.encode(): name for name in _WANTED}


def _trie(words: list[bytes]) -> bytes:
    """A regular expression matching exactly `words` (sorted), branching on one
    character at a time: a name is told from the others in a few comparisons."""
    heads: dict[bytes, list[bytes]] = {}
    for word in words:
        if word:
            heads.setdefault(word[:1], []).append(word[1:])
    if not heads:
        return b""
    branches = [re.escape(head) + _trie(rest) for head, rest in heads.items()]
    either = branches[0] if len(branches) == 1 else b"(?:" + b"|".join(branches) + b")"
    return b"(?:" + either + b")?" if b"" in words else either


# A wanted field: its name between `&` (put before the body) and `=`, `&` or the end;
# its value up to the next `&`. The body is scanned in C: a Python loop over the ~170
# fields of a dialplan fetch cost a quarter of the fetch.
_FIELD = re.compile(b"&(" + _trie(sorted(_WANTED_BYTES)) + b")(?:=([^&]*))?(?=&|\\Z)")


def parse_fields(body: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    for raw_name, raw_value in _FIELD.findall(b"&" + body):
        name = _WANTED_BYTES[raw_name]
        if name not in fields:
            raw_value = raw_value[: _MAX_VALUE * 3]
            if b"%" in raw_value:
                raw_value = unquote_to_bytes(raw_value)
            fields[name] = raw_value.decode("utf-8", "replace")[:_MAX_VALUE]
    return fields


@dataclass(frozen=True)
class CallRequest:
    """A dialplan fetch: who calls what, in which context, and what happened so far."""

    context: str
    destination: str
    caller_id_number: str
    caller_id_name: str
    # Set by sofia after digest authentication; remote parties cannot forge them.
    caller_user: str | None
    caller_domain: str | None
    # After a failed bridge and a transfer back: what the bridge ended with, and for
    # which destination Centrex asked to be consulted again.
    disposition: str | None
    failover_for: str | None
    unique_id: str
    # The caller withholds their number (privacy flag, or an anonymous caller ID).
    caller_withheld: bool = False
    stage: str | None = None
    forward_chain: tuple[str, ...] = ()
    via_group: str | None = None
    # A group's hold music handed to this member's call (a local_stream URL).
    group_hold_music: str | None = None
    # The tenant line that called the group handing this call to its member.
    group_caller: str | None = None
    # Came in from the public network (then handed into the tenant's context).
    from_public: bool = False
    # Numbers of the groups and queues the call went through (overflow loops).
    unit_chain: tuple[str, ...] = ()
    # A forwarding code dialled alone already asked for the number (star codes).
    star_code_asked: bool = False
    # The number the call was at before it was transferred here (None: not transferred).
    transferred_from: str | None = None
    # Who may have transferred it, best first (REFER's Referred-By, the line last rung):
    # extensions to be checked against the tenant's lines.
    transferred_by: tuple[str, ...] = ()

    @property
    def parker_candidates(self) -> tuple[str, ...]:
        """Extensions that may be the user who transferred this call, best first."""
        if self.transferred_from is None:
            return ()
        found = (*self.transferred_by, handover.decode_extension(self.transferred_from))
        return tuple(dict.fromkeys(ext for ext in found if ext))

    # The line this channel was last bridged to (`fs.V_PEER_LINE`, as FreeSWITCH copied
    # it at the bridge): the user who transfers it. Raw `ext@domain`, checked against
    # the context's tenant by the compiler.
    peer_line: str | None = None
    # The line whose own leg this is (its phone's call, or a leg ringing it).
    own_line: str | None = None
    # The channel is bridged to another now (a DTMF transfer asked from within a call).
    bridged: bool = False
    # A phone handed this channel on by REFER (sofia's hunt of the Refer-To number).
    referred: bool = False
    # A DTMF transfer's consultation leg (the number the transferring user dialled).
    consultation: bool = False
    # The decisions of this channel's earlier fetches (`xmlcurl.route_trail`).
    route_trail: str = ""
    # The channel is a caller's own: a SIP leg that called in (a phone's, a carrier's),
    # not a leg Centrex rang nor one of a loopback pair.
    callers_leg: bool = False


def call_request(fields: dict[str, str]) -> CallRequest:
    def get(*names: str) -> str:
        for name in names:
            if fields.get(name):
                return fields[name]
        return ""

    def var(name: str) -> str | None:
        return fields.get(fs.VAR_PREFIX + name) or None

    return CallRequest(
        context=get(fs.HUNT_CONTEXT, fs.CALLER_CONTEXT),
        destination=get(fs.HUNT_DESTINATION, fs.CALLER_DESTINATION),
        caller_id_number=get(fs.HUNT_CALLER_ID_NUMBER, fs.CALLER_ID_NUMBER),
        caller_id_name=get(fs.HUNT_CALLER_ID_NAME, fs.CALLER_ID_NAME),
        caller_user=var(fs.V_USER_NAME),
        caller_domain=var(fs.V_DOMAIN_NAME),
        disposition=var(fs.V_ORIGINATE_DISPOSITION),
        failover_for=var(fs.V_FAILOVER_FOR),
        unique_id=get(fs.UNIQUE_ID),
        caller_withheld=get(fs.HUNT_PRIVACY_HIDE_NUMBER, fs.CALLER_PRIVACY_HIDE_NUMBER) == "true"
        or get(fs.HUNT_CALLER_ID_NUMBER, fs.CALLER_ID_NUMBER).lower() in fs.WITHHELD_NUMBERS,
        stage=var(fs.V_STAGE),
        forward_chain=handover.decode_chain(var(fs.V_FORWARD_CHAIN)),
        via_group=var(fs.V_VIA_GROUP),
        group_hold_music=handover.decode_hold_music(var(fs.V_GROUP_HOLD_MUSIC)),
        group_caller=handover.decode_extension(var(fs.V_GROUP_CALLER)),
        from_public=handover.decode_flag(var(fs.V_FROM_PUBLIC)),
        unit_chain=handover.decode_chain(var(fs.V_UNIT_CHAIN)),
        star_code_asked=handover.decode_flag(var(fs.V_STAR_ASKED)),
        transferred_from=get(fs.HUNT_RDNIS, fs.CALLER_RDNIS) or None,
        transferred_by=tuple(
            ext
            for ext in (
                _sip_user(var(fs.V_REFERRED_BY)),
                handover.decode_extension(var(fs.V_DIALED_USER)),
            )
            if ext
        ),
        peer_line=var(fs.V_PEER_LINE),
        own_line=var(fs.V_OWN_LINE),
        bridged=var(fs.V_BRIDGE_TO) is not None,
        referred=var(fs.V_SIP_REFER_TO) is not None,
        consultation=handover.decode_flag(var(fs.V_CONSULTATION)),
        route_trail=var(fs.V_ROUTE) or "",
        callers_leg=get(fs.EV_CALL_DIRECTION) == fs.DIRECTION_INBOUND
        and get(fs.EV_CHANNEL_NAME).startswith(fs.SOFIA_CHANNEL_PREFIX),
    )


_SIP_USER = re.compile(r"sips?:([0-9]{2,8})@")


def _sip_user(header: str | None) -> str | None:
    """The extension in a header such as `"Bob" <sip:1001@acme.example>;tag=x`."""
    found = _SIP_USER.search(header or "")
    return found.group(1) if found else None


@dataclass(frozen=True)
class DirectoryRequest:
    action: str
    purpose: str
    domain: str
    user: str
    # Voicemail PIN changed from the phone menu (mod_voicemail's vm::maintenance lookup).
    new_voicemail_pin: str | None
    # For digest authentication: the SIP method, and the To host of the request.
    auth_method: str = ""
    to_host: str = ""


def directory_request(fields: dict[str, str]) -> DirectoryRequest:
    new_pin = None
    if (
        fields.get(fs.EVENT_SUBCLASS) == fs.VM_MAINTENANCE
        and fields.get(fs.VM_ACTION) == fs.VM_CHANGE_PASSWORD
    ):
        new_pin = fields.get(fs.VM_USER_PASSWORD, "")
    return DirectoryRequest(
        action=fields.get(fs.ACTION, ""),
        purpose=fields.get(fs.PURPOSE, ""),
        domain=(fields.get(fs.DOMAIN) or fields.get(fs.KEY_VALUE, "")).lower(),
        user=fields.get(fs.USER) or fields.get(fs.VM_USER, ""),
        new_voicemail_pin=new_pin,
        auth_method=fields.get(fs.SIP_AUTH_METHOD, ""),
        to_host=fields.get(fs.SIP_TO_HOST, "").lower(),
    )
