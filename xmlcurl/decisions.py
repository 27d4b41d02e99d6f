"""Routing decisions: what the compiler concludes, as plain frozen data.

Everything that is policy (timeouts, what a failure leads to, which tone) is already
decided in these values; the renderer only spells them in FreeSWITCH's XML. Values
that reach dial strings (extensions, numbers, domains, gateway names) were validated
by the compiler; the renderer checks them again before it writes a dial string.
"""

from __future__ import annotations

from dataclasses import dataclass, field


# --- what to ring ---------------------------------------------------------------
@dataclass(frozen=True)
class LegOptions:
    """How one leg of a ring behaves: its own ring time (sequential ringing), whether
    the answering party must press 1 to take the call (so that a mobile's voicemail
    cannot swallow it), and whether they first hear the caller's recorded name."""

    timeout: int | None = None
    confirm: bool = False
    screening: bool = False
    # Markers the leg carries (name, value): ours, never typed by a user.
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class UserEndpoint:
    """Every registered phone of a line (the directory's dial-string does the fan-out).
    With the line's `leg` at hand, a bridge to it alone dials its phones itself and sets
    what the directory entry would: FreeSWITCH then makes no `user/` lookup."""

    extension: str
    domain: str
    options: LegOptions = LegOptions()
    leg: LineLeg | None = None
    # The caller's own leg rings the line it dialled: its call record tells that the
    # line took the call, so a leg of the line's that was simply answered need not post
    # its own (esl.cdr; a leg that did anything else still does).
    reported_by_caller: bool = False


@dataclass(frozen=True)
class GatewayEndpoint:
    """A number sent to a tenant's carrier trunk, already in the carrier's format."""

    gateway: str
    number: str
    options: LegOptions = LegOptions()


@dataclass(frozen=True)
class LoopbackEndpoint:
    """The call handed to `extension` in `context` as if dialled there: the leg runs
    that extension's own dialplan (mod_loopback), its call handling included."""

    extension: str
    context: str
    options: LegOptions = LegOptions()


Endpoint = UserEndpoint | GatewayEndpoint | LoopbackEndpoint


# --- dialplan actions, in execution order ---------------------------------------
@dataclass(frozen=True)
class SetVariable:
    name: str
    value: str


@dataclass(frozen=True)
class UnsetVariable:
    name: str


@dataclass(frozen=True)
class ExportVariable:
    """Set on the legs this call rings (not on the caller's own channel)."""

    name: str
    value: str


@dataclass(frozen=True)
class Ring:
    """Bridge to the endpoints for at most `timeout` seconds: all together, or one after
    the other (`sequential`, each for its own leg timeout, then the next). If nobody answers, the
    actions after it run (`continue_on_fail`); if somebody does, the call ends with the
    conversation (`hangup_after_bridge`) — both set by the compiler before."""

    endpoints: tuple[Endpoint, ...]
    timeout: int
    sequential: bool = False


@dataclass(frozen=True)
class Transfer:
    """Hunt again: FreeSWITCH fetches a new dialplan for `destination` in `context`."""

    destination: str
    context: str


@dataclass(frozen=True)
class Answer:
    pass


@dataclass(frozen=True)
class EarlyMedia:
    """Open the audio path without answering (the caller is not charged)."""


@dataclass(frozen=True)
class Tone:
    """A tone_stream description such as `%(500,500,425)`, played `loops` times."""

    spec: str
    loops: int


@dataclass(frozen=True)
class Prompt:
    """Play one of FreeSWITCH's standard prompts (a name from `fsnames`)."""

    sound: str


@dataclass(frozen=True)
class RecordName:
    """Call screening: ask the caller to say who they are and record it; the legs of
    the next ring play it to the callee (`LegOptions.screening`)."""


@dataclass(frozen=True)
class Voicemail:
    """Leave a message in the box of `extension`; `check` = listen to one's own box."""

    domain: str
    extension: str
    check: bool = False


@dataclass(frozen=True)
class Intercept:
    """Take a call still ringing a colleague's phone: bridge to its caller's leg, whose
    ringing leg then ends. A call answered meanwhile is left alone."""

    caller_leg: str


@dataclass(frozen=True)
class PlayFile:
    """Play a tenant's media file (an absolute path on the FreeSWITCH node)."""

    path: str


@dataclass(frozen=True)
class SetMedia:
    """Set a channel variable naming media: a tone (`%(…)`), a file path or a
    `local_stream://` URL. `export`: set it on the legs this call rings instead."""

    name: str
    source: str
    export: bool = False


@dataclass(frozen=True)
class FireEvent:
    """Fire a CUSTOM event (the `event` application) for the event listener."""

    subclass: str
    headers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class JoinQueue:
    """Wait in a mod_callcenter queue (answered, with its hold music) until an agent
    takes the call; the actions after it run only if the caller leaves unanswered."""

    queue: str


@dataclass(frozen=True)
class CollectDigits:
    """Play `prompt` and collect what the caller types (up to `max_digits`, `#` ends
    it), then hunt `prefix` + those digits again in `context`: the next fetch judges
    them, typed or not."""

    prompt: str
    prefix: str
    context: str
    max_digits: int = 20


@dataclass(frozen=True)
class QueueWaitLimit:
    """At `seconds` from now, hunt `destination` in `context` again (the queue's number,
    marked as a wait that is over), unless an agent answered first: the agents' legs
    offered this call (the caller's channel `channel`) cancel it when they answer."""

    seconds: int
    destination: str
    context: str
    channel: str


@dataclass(frozen=True)
class CancelWaitLimit:
    """The caller left the queue by itself: its `QueueWaitLimit` no longer applies."""


@dataclass(frozen=True)
class Park:
    """Wait in slot `slot` of lot `lot` (mod_valet_parking) until a colleague takes the
    call, at most `timeout` seconds; the actions after it run when the slot was taken
    already or the time is up."""

    lot: str
    slot: str
    timeout: int


@dataclass(frozen=True)
class Retrieve:
    """Take the call parked in slot `slot` of lot `lot`; the actions after it run when
    nobody waits there."""

    lot: str
    slot: str


@dataclass(frozen=True)
class JoinConference:
    """Join (or open) a mod_conference room. `pin`: asked of callers who come in
    (mod_conference prompts for it); `flags`: member and room flags. The actions after
    it run when the caller leaves the room."""

    room: str
    profile: str
    pin: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class MoveToConference:
    """Move a channel of this call straight into a room (`transfer` to the inline
    dialplan, no fetch): the other party of the bridge (`partner`) or this channel."""

    room: str
    profile: str
    partner: bool
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class BindConferenceKey:
    """During the call, `*<digit>` from this channel's phone runs the feature code
    `code` on this channel (`bind_meta_app … execute_extension`): a new fetch."""

    digit: str
    code: str
    domain: str


@dataclass(frozen=True)
class Hangup:
    cause: str


@dataclass(frozen=True)
class Wait:
    """Do nothing for `ms` milliseconds (an API or another leg may take the call
    meanwhile: a uuid_bridge ends the wait)."""

    ms: int


@dataclass(frozen=True)
class ReleaseTransferKeys:
    """Make the transfer keys plain digits again on this leg (they come back with its
    next bridge): the `#` that ends the number must reach `CollectNumber`."""


@dataclass(frozen=True)
class CollectNumber:
    """Play `tone` and collect up to `max_digits` DTMF digits (ended by `#` or
    `timeout_ms` of silence) into the variable `name`: DTMF only, so the value can
    only hold digits, `*`, `#` and A–D."""

    tone: str
    name: str
    max_digits: int
    timeout_ms: int


@dataclass(frozen=True)
class ConsultTransfer:
    """att_xfer: call the number collected into `variable` in `context` (through
    loopback, so it is routed as a call from `line`, which the leg carries as its peer
    line), the other party on hold; the transferor hanging up hands them over, `#`
    takes them back."""

    variable: str
    context: str
    line: str


Action = (
    SetVariable
    | UnsetVariable
    | ExportVariable
    | Ring
    | Transfer
    | Answer
    | EarlyMedia
    | Tone
    | Prompt
    | RecordName
    | Voicemail
    | PlayFile
    | SetMedia
    | FireEvent
    | JoinQueue
    | QueueWaitLimit
    | CancelWaitLimit
    | Park
    | Retrieve
    | Wait
    | ReleaseTransferKeys
    | CollectNumber
    | ConsultTransfer
    | Intercept
    | CollectDigits
    | JoinConference
    | MoveToConference
    | BindConferenceKey
    | Hangup
)


# --- settings changed from a phone (star codes) -----------------------------------
@dataclass(frozen=True)
class ForwardChange:
    """A forward (`always`, `busy`, `no_answer`) on — to `to`, or without it to the
    number it was last set to — or off."""

    kind: str
    on: bool
    to: str | None = None


@dataclass(frozen=True)
class DoNotDisturbChange:
    on: bool


@dataclass(frozen=True)
class QueueLogInChange:
    """Log the line in to (or out of) the queue of number `queue` as its agent."""

    queue: str
    logged_in: bool


@dataclass(frozen=True)
class QueuePauseChange:
    """Put the line, as the agent of its queues, on a break (or back)."""

    paused: bool


@dataclass(frozen=True)
class SettingChange:
    """A line's setting a call changes (a star code): made by the xml_curl endpoint
    through the provisioning use case, with its rules, before the route is rendered.
    Refused by those rules, the call gets `refused` instead of the route's actions."""

    domain: str
    extension: str
    change: ForwardChange | DoNotDisturbChange | QueueLogInChange | QueuePauseChange
    refused: tuple[Action, ...]


@dataclass(frozen=True)
class Route:
    """The whole answer to one dialplan fetch: one extension in the hunted context."""

    context: str
    destination: str
    name: str
    actions: tuple[Action, ...]
    # A setting this call changes before its actions run (`SettingChange`).
    change: SettingChange | None = None

    @property
    def refused(self) -> bool:
        """The call is released at once, nothing rung or played."""
        return len(self.actions) == 1 and isinstance(self.actions[0], Hangup)


# --- directory ------------------------------------------------------------------
@dataclass(frozen=True)
class TransferKeys:
    """While a line's leg is bridged, `meta_key` then `digit` from its phone runs the
    transfer code `code` (dialplan of `context`) on that leg, the other party on hold
    (bind_meta_app at each bridge's start, unbound at its end, so that the keys stay
    plain digits in voicemail and menus)."""

    meta_key: str
    digit: str
    code: str
    context: str


@dataclass(frozen=True)
class LineLeg:
    """What every leg of a line carries, whoever rings it: its tenant's context, its
    name and number for the calls it places from that leg, its timezone, and the keys
    bound while it is in a conversation. The directory entry gives them to the legs
    `user/` rings; a bridge that dials the line's phones itself sets them on the legs."""

    context: str
    caller_id_name: str
    caller_id_number: str
    timezone: str
    # The line's name on every leg of its (`handover.line_identity`): copied onto the
    # other party at each bridge, it tells a transfer who made it.
    line_identity: str = ""
    # The keys that start a DTMF transfer while one of its legs is in a conversation.
    transfer_keys: TransferKeys | None = None
    # The key that makes that conversation an ad-hoc conference (the same meta key),
    # on the line's every leg: calls it receives as well as those it places.
    conference_key: TransferKeys | None = None


@dataclass(frozen=True)
class DirectoryUser:
    extension: str
    a1_hash: str
    leg: LineLeg
    voicemail_enabled: bool
    voicemail_pin_hash: str | None
    voicemail_emails: tuple[str, ...]
    # Answer to a PIN change from the phone's voicemail menu: mod_voicemail reads
    # <result success="…"/> and, on false, tells the caller and asks for another PIN.
    pin_change_accepted: bool | None = None


@dataclass(frozen=True)
class DirectoryDomain:
    domain: str
    users: tuple[DirectoryUser, ...] = ()


@dataclass(frozen=True)
class GatewayDefinition:
    """A sofia gateway, named after its tenant's domain (names are global in sofia)."""

    name: str
    proxy: str
    username: str
    password: str | None
    register: bool
    transport: str
    context: str


@dataclass(frozen=True)
class GatewayDirectory:
    """Answer to the domain-less `purpose=gateways` lookup sofia makes at profile start."""

    gateways: tuple[GatewayDefinition, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class NotFound:
    """Let FreeSWITCH fall back to its static XML (which lets nobody in)."""

    reason: str


DirectoryAnswer = DirectoryDomain | GatewayDirectory | NotFound
