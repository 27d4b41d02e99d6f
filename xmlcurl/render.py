"""Decisions → FreeSWITCH XML documents, with lxml (which escapes every value).

No policy here: each decision value is spelled as the application, param or variable
FreeSWITCH reads. Dial strings are assembled only from values that pass the same
whitelist again, and a finished document that contains a preprocessor directive
(`$${…}` or `x-pre-process`) is refused: FreeSWITCH would expand or execute it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TypeVar

from lxml import etree

from xmlcurl import fsnames as fs
from xmlcurl.decisions import (
    Action,
    Answer,
    BindConferenceKey,
    CancelWaitLimit,
    CollectDigits,
    CollectNumber,
    ConsultTransfer,
    DirectoryAnswer,
    DirectoryDomain,
    DirectoryUser,
    EarlyMedia,
    Endpoint,
    ExportVariable,
    FireEvent,
    GatewayDefinition,
    GatewayDirectory,
    Hangup,
    Intercept,
    JoinConference,
    JoinQueue,
    LegOptions,
    LineLeg,
    LoopbackEndpoint,
    MoveToConference,
    NotFound,
    Park,
    PlayFile,
    Prompt,
    QueueWaitLimit,
    RecordName,
    ReleaseTransferKeys,
    Retrieve,
    Ring,
    Route,
    SetMedia,
    SetVariable,
    Tone,
    Transfer,
    TransferKeys,
    UnsetVariable,
    UserEndpoint,
    Voicemail,
    Wait,
)
from xmlcurl.safe import (
    DIALABLE,
    LOCAL_STREAM_URL,
    UUID,
    UnsafeValue,
    checked,
    holds_directive,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

_DOMAIN = re.compile(r"[a-z0-9.\-]{1,253}")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}")
_CAUSE = re.compile(r"[A-Z_]{1,40}")
_QUEUE = re.compile(r"[0-9]{1,8}@[a-z0-9.\-]{1,253}")
_LOT = re.compile(r"park@[a-z0-9.\-]{1,253}")
_SLOT = re.compile(r"[0-9]{2,8}")
# Conference rooms are `<kind>-<extension>-<domain>` (xmlcurl.conference): no `@`, `+`
# or `{`, which mod_conference splits the application's data on.
_ROOM = re.compile(r"(meet|adhoc)-[0-9]{2,8}-[a-z0-9.\-]{1,253}")
_CONFERENCE_PROFILE = re.compile(r"[a-z0-9\-]{1,32}")
_CONFERENCE_PIN = re.compile(r"[0-9]{4,8}")
_CONFERENCE_FLAGS = frozenset(
    {fs.CONF_FLAG_MODERATOR, fs.CONF_FLAG_MANDATORY_ENDCONF, fs.CONF_FLAG_WAIT_MOD}
)
_FEATURE_CODE = re.compile(r"[*#0-9]{1,16}")
_SOUND = re.compile(r"[a-z0-9_\-]+/[a-z0-9_\-]+\.wav")
# `set` expands ${…} when it runs: a value must not be able to start an expansion.
_VARIABLE_VALUE = re.compile(r"[^$\x00-\x1f]{0,128}")
# Leg markers and event headers sit inside `[a=b,…]` or `a=b,…` lists: no separators.
_MARKER = re.compile(r"[A-Za-z0-9@._:\-]{1,128}|" + LOCAL_STREAM_URL)
_TONE = re.compile(r"%\([0-9,]+\)")
_META_KEY = re.compile(r"[*#]")
_DIGIT = re.compile(r"[0-9]")
# Media: a tone_stream description, an absolute file path, or a local_stream URL.
_MEDIA = re.compile(r"%\([0-9,]+\)(;%\([0-9,]+\))*|/[A-Za-z0-9._+/\-]{1,510}|" + LOCAL_STREAM_URL)


def _document(section: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element("document", type="freeswitch/xml")
    return root, etree.SubElement(root, "section", name=section, description="Centrex")


def _serialise(root: etree._Element) -> bytes:
    body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    if holds_directive(body):
        raise UnsafeValue("document holds a preprocessor directive")
    return body


def add_each(
    parent: etree._Element,
    items: Iterable[T],
    build: Callable[[T], etree._Element],
    what: Callable[[T], str],
) -> None:
    """Append each item's element to a document that serves every tenant (trunks, hold
    music, queues). An item FreeSWITCH must not read is left out and logged: refusing
    the whole answer would take every other tenant's items with it."""
    for item in items:
        try:
            element = build(item)
            if holds_directive(etree.tostring(element)):
                raise UnsafeValue("it holds a preprocessor directive")
        except ValueError as exc:  # UnsafeValue, or lxml refusing a character
            log.error("%s left out of FreeSWITCH's configuration: %s", what(item), exc)
            continue
        parent.append(element)


def not_found() -> bytes:
    root = etree.Element("document", type="freeswitch/xml")
    section = etree.SubElement(root, "section", name="result")
    etree.SubElement(section, "result", status="not found")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# --- dialplan -------------------------------------------------------------------
def _leg_variables(options: LegOptions) -> str:
    """Per-leg variables: `[name=value,…]`; values here are ours, never typed ones."""
    variables = []
    if options.timeout:
        variables.append(f"{fs.V_LEG_TIMEOUT}={int(options.timeout)}")
    if options.confirm or options.screening:
        prompt = fs.PROMPT_ACCEPT
        if options.screening:
            # The bridge data is expanded on the caller's channel: ${uuid} is theirs,
            # the name recorded by RecordName.
            prompt = f"file_string://{fs.SCREENING_RECORDING}!{fs.PROMPT_ACCEPT}"
        variables += [
            f"{fs.V_CONFIRM_KEY}=1",
            f"{fs.V_CONFIRM_FILE}={prompt}",
            f"{fs.V_CONFIRM_CANCEL_TIMEOUT}=1",
        ]
    variables += [
        f"{checked(_VARIABLE_NAME, name)}={checked(_MARKER, value)}"
        for name, value in options.variables
    ]
    return f"[{','.join(variables)}]" if variables else ""


def _endpoint(endpoint: Endpoint) -> str:
    legs = _leg_variables(endpoint.options)
    if isinstance(endpoint, UserEndpoint):
        user = checked(DIALABLE, endpoint.extension)
        return f"{legs}user/{user}@{checked(_DOMAIN, endpoint.domain)}"
    if isinstance(endpoint, LoopbackEndpoint):
        extension, context = checked(DIALABLE, endpoint.extension), endpoint.context
        return f"{legs}{fs.LOOPBACK_ENDPOINT}{extension}/{checked(_DOMAIN, context)}"
    gateway = checked(_DOMAIN, endpoint.gateway)
    return f"{legs}sofia/gateway/{gateway}/{checked(DIALABLE, endpoint.number)}"


# What a `{^^|…}` block passes on unchanged: FreeSWITCH splits it at `|`, then each
# variable at its first `=`, and both splits drop quotes and backslashes, trim spaces
# and end at the closing brace; `:_:` anywhere would make the bridge an enterprise
# originate. A line whose values do not pass is rung through `user/` as before.
_BRACKET_VALUE = re.compile(r"[^\\|{}\[\]$^\x00-\x1f\x7f]{1,256}")
# An apostrophe ("Standard d'accueil") would open a quote in each split. Both splits
# together turn `\\\'` into `'`, but that cannot be written in the data: FreeSWITCH
# refuses any application data holding a backslash before a quote, and the data's
# expansion would halve the backslashes. So it is the result of a function the
# expansion calls (switch_channel_expand_variables inserts a result as it is).
_APOSTROPHE_IN_BLOCK = "${url_decode(%5C%5C%5C%27)}"


# On a leg the caller's record reports (`UserEndpoint.reported_by_caller`): once its
# bridge ends, its call record is left unmade if it was simply answered and the
# conversation simply ended — its disposition still the core's ANSWER (a REFER replaces
# it before the other party is moved), no DTMF transfer of its own started, and its
# phone hung up (BYE received) or the caller did (normal clearing). Anything else, a
# value not foreseen included, leaves `process_cdr=true`: the record is made. Evaluated
# on the leg then, so every `$` is escaped from the expansion of the bridge's data on
# the caller's leg; cond's left operands hold no space (url_encode).
_ANSWERED = f"x${{url_encode(${{{fs.V_ENDPOINT_DISPOSITION}}})}}${{{fs.V_TRANSFERRING}}}"
_RECORD_UNLESS_SIMPLY_ANSWERED = (
    f"set {fs.V_PROCESS_CDR}="
    f"${{cond({_ANSWERED}-${{{fs.V_SIP_HANGUP_DISPOSITION}}}"
    f" == x{fs.DISPOSITION_ANSWER}-{fs.RECEIVED_BYE} ? false : "
    f"${{cond({_ANSWERED}-${{{fs.V_LAST_BRIDGE_HANGUP_CAUSE}}}"
    f" == x{fs.DISPOSITION_ANSWER}-{fs.NORMAL_CLEARING} ? false : true)}})}}"
).replace("$", "\\$")


def _in_block(value: str) -> str:
    return value.replace("'", _APOSTROPHE_IN_BLOCK)


def _passes_brackets(value: str) -> bool:
    return bool(_BRACKET_VALUE.fullmatch(value)) and value == value.strip() and ":_:" not in value


def _line_dialled_itself(endpoints: tuple[Endpoint, ...]) -> list[tuple[str, str]] | None:
    """A ring of one line alone, whose `LineLeg` is known, without the `user/` lookup:
    the bridge dials the line's registered contacts (`fs.LINE_CONTACTS`, what the
    directory's dial string finds) and sets on each leg what `user/` would
    (mod_dptools user_outgoing_channel): the entry's variables, `dialed_user`,
    `dialed_domain` and `presence_id`, and the context its blind transfers hunt in
    (`user/` gives the leg the entry's `user_context`); `dialed_user` and
    `dialed_domain` on the caller's leg too; on a ring the caller's record reports, what
    leaves a simply answered leg's record unmade. None when `user/` must do it: several
    endpoints (each line's contacts need their own variables), a leg to confirm or
    screen, or a value the bracket block would alter."""
    if len(endpoints) != 1:
        return None
    (endpoint,) = endpoints
    if not isinstance(endpoint, UserEndpoint) or endpoint.leg is None:
        return None
    options = endpoint.options
    if options.confirm or options.screening:
        return None
    extension = checked(DIALABLE, endpoint.extension)
    domain = checked(_DOMAIN, endpoint.domain)
    variables: dict[str, str] = {}
    if options.timeout:
        variables[fs.V_LEG_TIMEOUT] = str(int(options.timeout))
    for name, value in options.variables:
        variables[checked(_VARIABLE_NAME, name)] = checked(_MARKER, value)
    variables |= {
        fs.V_SIP_INVITE_DOMAIN: domain,
        fs.V_PRESENCE_ID: f"{extension}@{domain}",
        fs.V_DIALED_USER: extension,
        fs.V_DIALED_DOMAIN: domain,
        fs.V_FORCE_TRANSFER_CONTEXT: checked(_DOMAIN, endpoint.leg.context),
    }
    variables |= dict(_line_leg_variables(endpoint.leg))
    if not all(_passes_brackets(value) for value in variables.values()):
        return None
    block = "|".join(f"{name}={_in_block(value)}" for name, value in variables.items())
    if endpoint.reported_by_caller:
        # originate refuses to set a value holding `${` unless told to: every other
        # value of this block passed _BRACKET_VALUE, which has no `$`.
        block += f"|{fs.V_NESTED_VARS}=true"
        block += f"|{fs.V_POST_BRIDGE_RECORD}={_RECORD_UNLESS_SIMPLY_ANSWERED}"
    contacts = fs.LINE_CONTACTS.format(extension=extension, domain=domain)
    return [
        (fs.APP_SET, f"{fs.V_DIALED_USER}={extension}"),
        (fs.APP_SET, f"{fs.V_DIALED_DOMAIN}={domain}"),
        (fs.APP_BRIDGE, f"{{^^|{block}}}{contacts}"),
    ]


def _conference(room: str, profile: str, pin: str | None, flags: tuple[str, ...]) -> str:
    """`<room>@<profile>[+<pin>][+flags{a|b}]`, as mod_conference splits it."""
    data = f"{checked(_ROOM, room)}@{checked(_CONFERENCE_PROFILE, profile)}"
    if pin is not None:
        data += "+" + checked(_CONFERENCE_PIN, pin)
    unknown = set(flags) - _CONFERENCE_FLAGS
    if unknown:
        raise UnsafeValue(f"unknown conference flags {sorted(unknown)}")
    if flags:
        data += "+flags{" + "|".join(flags) + "}"
    return data


def _applications(action: Action) -> list[tuple[str, str]]:
    match action:
        case SetVariable(name, value):
            return [
                (fs.APP_SET, f"{checked(_VARIABLE_NAME, name)}={checked(_VARIABLE_VALUE, value)}")
            ]
        case UnsetVariable(name):
            return [(fs.APP_UNSET, checked(_VARIABLE_NAME, name))]
        case ExportVariable(name, value):
            name, value = checked(_VARIABLE_NAME, name), checked(_VARIABLE_VALUE, value)
            return [(fs.APP_EXPORT, f"nolocal:{name}={value}")]
        case Ring(endpoints, timeout, sequential):
            # A `|` leg that rings out its leg_timeout ends the whole bridge unless told
            # to go on to the next one (switch_ivr_originate.c).
            go_on = [(fs.APP_SET, f"{fs.V_CONTINUE_ON_TIMEOUT}=true")] if sequential else []
            bridge = _line_dialled_itself(endpoints) or [
                (fs.APP_BRIDGE, ("|" if sequential else ",").join(map(_endpoint, endpoints)))
            ]
            return [
                *go_on,
                (fs.APP_SET, f"{fs.V_CALL_TIMEOUT}={int(timeout)}"),
                (fs.APP_EXPORT, f"{fs.V_NO_THROTTLE_LIMITS}=true"),
                *bridge,
            ]
        case Prompt(sound):
            return [(fs.APP_PLAYBACK, checked(_SOUND, sound))]
        case RecordName():
            return [
                (fs.APP_PLAYBACK, fs.PROMPT_SAY_NAME),
                (fs.APP_PLAYBACK, "tone_stream://%(500,0,800)"),
                # At most 5 s, ending after 2 s of silence.
                (fs.APP_RECORD, f"{fs.SCREENING_RECORDING} 5 200 2"),
            ]
        case Transfer(destination, context):
            return [
                (
                    fs.APP_TRANSFER,
                    f"{checked(DIALABLE, destination)} XML {checked(_DOMAIN, context)}",
                )
            ]
        case Answer():
            return [(fs.APP_ANSWER, "")]
        case EarlyMedia():
            return [(fs.APP_PRE_ANSWER, "")]
        case Tone(spec, loops):
            return [(fs.APP_PLAYBACK, f"tone_stream://{spec};loops={int(loops)}")]
        case Voicemail(domain, extension, check):
            args = [fs.VOICEMAIL_PROFILE, checked(_DOMAIN, domain), checked(DIALABLE, extension)]
            return [(fs.APP_VOICEMAIL, " ".join((["check"] if check else []) + args))]
        case PlayFile(path):
            return [(fs.APP_PLAYBACK, checked(_MEDIA, path))]
        case Intercept(leg):
            return [
                (fs.APP_SET, f"{fs.V_INTERCEPT_UNANSWERED_ONLY}=true"),
                (fs.APP_INTERCEPT, checked(UUID, leg)),
            ]
        case SetMedia(name, source, export):
            assignment = f"{checked(_VARIABLE_NAME, name)}={checked(_MEDIA, source)}"
            if export:
                return [(fs.APP_EXPORT, f"nolocal:{assignment}")]
            return [(fs.APP_SET, assignment)]
        case FireEvent(subclass, headers):
            fields = [(fs.EV_EVENT_NAME, fs.EVENT_CUSTOM), (fs.EV_EVENT_SUBCLASS, subclass)]
            return [
                (
                    fs.APP_EVENT,
                    ",".join(
                        f"{checked(_MARKER, k)}={checked(_MARKER, v)}"
                        for k, v in [*fields, *headers]
                    ),
                )
            ]
        case JoinConference(room, profile, pin, flags):
            return [(fs.APP_CONFERENCE, _conference(room, profile, pin, flags))]
        case MoveToConference(room, profile, partner, flags):
            # The inline dialplan: `app:data` as the destination, no fetch, no comma.
            target = f"{fs.APP_CONFERENCE}:{_conference(room, profile, None, flags)}"
            which = ["-bleg"] if partner else []
            return [(fs.APP_TRANSFER, " ".join([*which, target, fs.INLINE_DIALPLAN]))]
        case BindConferenceKey(digit, code, domain):
            if not (len(digit) == 1 and digit.isdigit()):
                raise UnsafeValue(f"not a DTMF digit: {digit!r}")
            # Listen to this channel's own phone (a), run on this channel (s).
            run = f"{fs.APP_EXECUTE_EXTENSION}::{checked(_FEATURE_CODE, code)} XML"
            return [(fs.APP_BIND_META_APP, f"{digit} a s {run} {checked(_DOMAIN, domain)}")]
        case JoinQueue(queue):
            return [(fs.APP_CALLCENTER, checked(_QUEUE, queue))]
        case CollectDigits(prompt, prefix, context, max_digits):
            # At least nothing, at most max_digits, one try of 10 s, `#` ends it; what
            # was typed is expanded into the transfer (digits only: DTMF is 0-9*#A-D,
            # and the next fetch refuses anything but a whole code).
            variable = fs.V_STAR_DIGITS
            sound = checked(_SOUND, prompt)
            collect = f"0 {int(max_digits)} 1 10000 # {sound} silence_stream://250 {variable}"
            again = f"{checked(DIALABLE, prefix)}${{{variable}}} XML {checked(_DOMAIN, context)}"
            return [(fs.APP_PLAY_AND_GET_DIGITS, collect), (fs.APP_TRANSFER, again)]
        case QueueWaitLimit(seconds, destination, context, channel):
            channel = checked(UUID, channel)
            hooks = {
                fs.V_API_ON_ANSWER_CANCEL_WAIT: f"{fs.API_SCHED_DEL} {channel}",
                fs.V_API_ON_ANSWER_CLEAR_STAGE: f"{fs.API_UUID_SETVAR} {channel} {fs.V_STAGE}",
            }
            target = f"{checked(DIALABLE, destination)} XML {checked(_DOMAIN, context)}"
            return [
                *[(fs.APP_SET, f"{name}={value}") for name, value in hooks.items()],
                (fs.APP_SET, f"{fs.V_CC_EXPORT_VARS}={','.join(hooks)}"),
                (fs.APP_SCHED_TRANSFER, f"+{int(seconds)} {target}"),
            ]
        case CancelWaitLimit():
            return [(fs.APP_SCHED_CANCEL, "")]
        case Park(lot, slot, timeout):
            lot, slot = checked(_LOT, lot), checked(_SLOT, slot)
            return [
                (fs.APP_SET, f"{fs.V_VALET_PARKING_TIMEOUT}={int(timeout)}"),
                (fs.APP_SET, f"{fs.V_VALET_HOLD_MUSIC}={fs.VALET_SILENCE}"),
                (fs.APP_SET, f"{fs.V_VALET_ANNOUNCE_SLOT}=false"),
                (fs.APP_UNSET, fs.V_SIGNAL_BOND),
                (fs.APP_UNSET, fs.V_ORIGINATE_SIGNAL_BOND),
                (fs.APP_VALET_PARK, f"{lot} {fs.VALET_AUTO_IN} {slot} {slot}"),
            ]
        case Retrieve(lot, slot):
            lot, slot = checked(_LOT, lot), checked(_SLOT, slot)
            return [
                (fs.APP_SET, f"{fs.V_VALET_PARKING_TIMEOUT}={fs.VALET_RETRIEVER_TIMEOUT}"),
                (fs.APP_SET, f"{fs.V_VALET_HOLD_MUSIC}={fs.VALET_SILENCE}"),
                (fs.APP_VALET_PARK, f"{lot} {fs.VALET_AUTO_OUT} {slot} {slot}"),
            ]
        case Hangup(cause):
            return [(fs.APP_HANGUP, checked(_CAUSE, cause))]
        case Wait(ms):
            return [(fs.APP_SLEEP, str(int(ms)))]
        case ReleaseTransferKeys():
            # Without a key: the meta key itself is released too.
            return [(fs.APP_UNBIND_META_APP, "")]
        case CollectNumber(tone, name, max_digits, timeout_ms):
            # read <min> <max> <prompt> <variable> <timeout ms> <terminators>
            return [
                (
                    fs.APP_READ,
                    f"1 {int(max_digits)} tone_stream://{checked(_TONE, tone)} "
                    f"{checked(_VARIABLE_NAME, name)} {int(timeout_ms)} #",
                )
            ]
        case ConsultTransfer(variable, context, line):
            # The number is expanded when att_xfer runs: `read` put DTMF digits there.
            number = "${" + checked(_VARIABLE_NAME, variable) + "}"
            return [
                (
                    fs.APP_ATT_XFER,
                    f"{{{fs.V_PEER_LINE}={checked(_MARKER, line)},{fs.V_CONSULTATION}=true,"
                    f"{fs.V_LOOPBACK_BOWOUT}=false}}"
                    f"{fs.LOOPBACK_ENDPOINT}{number}/{checked(_DOMAIN, context)}",
                )
            ]
    raise TypeError(f"unknown action {action!r}")


# Rendering is pure and decisions are frozen: the same route (same destination, same
# settings) renders to the same bytes, so recent answers are kept.
@lru_cache(maxsize=8192)
def dialplan(route: Route) -> bytes:
    root, section = _document("dialplan")
    context = etree.SubElement(section, "context", name=route.context)
    extension = etree.SubElement(context, "extension", name=route.name)
    if DIALABLE.fullmatch(route.destination):
        condition = etree.SubElement(
            extension,
            "condition",
            field="destination_number",
            expression=f"^{re.escape(route.destination)}$",
        )
    else:
        condition = etree.SubElement(extension, "condition")
    for action in route.actions:
        for application, data in _applications(action):
            element = etree.SubElement(condition, "action", application=application)
            if data:
                element.set("data", data)
    return _serialise(root)


# --- directory ------------------------------------------------------------------
def _params(parent: etree._Element, tag: str, values: list[tuple[str, str]]) -> None:
    container = etree.SubElement(parent, tag + "s")
    for name, value in values:
        etree.SubElement(container, tag, name=name, value=value)


def _user(parent: etree._Element, user: DirectoryUser) -> None:
    element = etree.SubElement(parent, "user", id=checked(DIALABLE, user.extension))
    if user.pin_change_accepted is not None:
        etree.SubElement(element, "result", success="true" if user.pin_change_accepted else "false")
    params = [
        (fs.P_A1_HASH, user.a1_hash),
        (fs.P_VM_ENABLED, "true" if user.voicemail_enabled else "false"),
    ]
    if user.voicemail_pin_hash:
        params.append((fs.P_VM_A1_HASH, user.voicemail_pin_hash))
    if user.voicemail_emails:
        params += [
            (fs.P_VM_MAILTO, ",".join(user.voicemail_emails)),
            (fs.P_VM_EMAIL_ALL, "true"),
            (fs.P_VM_ATTACH_FILE, "true"),
            (fs.P_VM_KEEP_LOCAL, "true"),
        ]
    _params(element, "param", params)
    _params(element, "variable", _line_leg_variables(user.leg))


def _line_leg_variables(leg: LineLeg) -> list[tuple[str, str]]:
    """The variables every leg of a line carries (`LineLeg`)."""
    return [
        (fs.V_USER_CONTEXT, leg.context),
        (fs.V_EFFECTIVE_CID_NAME, leg.caller_id_name),
        (fs.V_EFFECTIVE_CID_NUMBER, leg.caller_id_number),
        (fs.V_TIMEZONE, leg.timezone),
        *(
            [
                (fs.V_OWN_LINE, checked(_MARKER, leg.line_identity)),
                (fs.V_BRIDGE_EXPORT_VARS, fs.V_OWN_LINE),
            ]
            if leg.line_identity
            else []
        ),
        *(_transfer_keys(leg.transfer_keys) if leg.transfer_keys else []),
        *(
            [(fs.V_BIND_CONFERENCE_KEY, _bind_key(leg.conference_key))]
            if leg.conference_key
            else []
        ),
    ]


def _bind_key(keys: TransferKeys) -> str:
    """`bind_meta_app` of a key: listen to this leg's own phone, run on this same leg."""
    digit = checked(_DIGIT, keys.digit)
    run = (
        f"{digit} a s {fs.APP_EXECUTE_EXTENSION}::{checked(DIALABLE, keys.code)} "
        f"XML {checked(_DOMAIN, keys.context)}"
    )
    return f"{fs.APP_BIND_META_APP} {run}"


def _transfer_keys(keys: TransferKeys) -> list[tuple[str, str]]:
    """bind_meta_app when a bridge of the leg starts, unbind when it ends (FreeSWITCH
    runs every `execute_on_pre_bridge*` / `execute_on_post_bridge*` variable)."""
    return [
        (fs.V_BIND_META_KEY, checked(_META_KEY, keys.meta_key)),
        (fs.V_BIND_TRANSFER_KEYS, _bind_key(keys)),
        # Without a key: the meta key too, so that `#` is a plain key again.
        (fs.V_UNBIND_TRANSFER_KEYS, fs.APP_UNBIND_META_APP),
    ]


def _gateway(gw: GatewayDefinition) -> etree._Element:
    # sofia reads gateways from domain/groups/group/users/user/gateways (or a user
    # directly under the domain), never from domain/users/user; one domain per tenant.
    domain = etree.Element("domain", name=checked(_DOMAIN, gw.name))
    users = etree.SubElement(
        etree.SubElement(etree.SubElement(domain, "groups"), "group", name="trunks"), "users"
    )
    user = etree.SubElement(users, "user", id="centrex-trunk")
    gateway = etree.SubElement(
        etree.SubElement(user, "gateways"), "gateway", name=checked(_DOMAIN, gw.name)
    )
    params = [
        ("proxy", gw.proxy),
        ("username", gw.username),
        ("register", "true" if gw.register else "false"),
        ("register-transport", gw.transport),
        ("caller-id-in-from", "true"),
        # Calls the carrier sends to a registration carry the DID in To, not in the
        # Request-URI (which holds our username).
        ("extension", "auto_to_user"),
        ("context", gw.context),
    ]
    if gw.password:
        params.insert(2, ("password", gw.password))
    for name, value in params:
        etree.SubElement(gateway, "param", name=name, value=value)
    return domain


def _gateways(section: etree._Element, answer: GatewayDirectory) -> None:
    # Every tenant's trunk in one answer: one that cannot be served must not stop the rest.
    add_each(section, answer.gateways, _gateway, lambda gw: f"trunk {gw.name!r}")


@lru_cache(maxsize=8192)
def directory(answer: DirectoryAnswer) -> bytes:
    if isinstance(answer, NotFound):
        return not_found()
    root, section = _document("directory")
    if isinstance(answer, GatewayDirectory):
        _gateways(section, answer)
        return _serialise(root)
    assert isinstance(answer, DirectoryDomain)
    domain = etree.SubElement(section, "domain", name=checked(_DOMAIN, answer.domain))
    _params(
        domain,
        "param",
        [(fs.P_DIAL_STRING, fs.USER_DIAL_STRING), (fs.P_ALLOW_EMPTY_PASSWORD, "false")],
    )
    users = etree.SubElement(
        etree.SubElement(etree.SubElement(domain, "groups"), "group", name="default"), "users"
    )
    for user in answer.users:
        _user(users, user)
    return _serialise(root)
