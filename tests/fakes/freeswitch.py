"""A fake FreeSWITCH event socket (mod_event_socket, inbound mode) on a real TCP socket.

It listens on 127.0.0.1 (port 0 unless restarted), asks clients for a password and
answers what they send the way FreeSWITCH 1.10.12 does: the reply texts of
mod_event_socket.c, `api/response` sized in bytes, `bgapi` results as the *body* of a
`BACKGROUND_JOB` event, disconnect notices, `event`/`nixevent`/`noevents`/`filter`
with their delivery rules. Events leave as real `text/event-plain` frames, values
encoded like `switch_url_encode`, header order kept.

Tests program API answers (`on_api`), keep a small state model (`registrations`,
`channels`) from which `show registrations|channels [count] [as json]`, `switchname`,
`sofia xmlstatus` and `sofia status profile <name> reg` are answered in FreeSWITCH's
format, emit events (by hand, from the captured stream, or from the
state-model methods), and wait for what a client did (`wait_for_command`,
`wait_for_connections`, `wait_for_subscription`) instead of sleeping. `kill()` and
`restart()` play a crash and a restart on the same port.

Only OS threads and blocking sockets are used, so any client works against it, a
gevent one without monkey patching included; nothing a test calls blocks on a client.

Not modelled: outbound mode, `userauth` (every user is unknown), `myevents`, `log`,
`getvar`, json/xml event delivery (the reply is FreeSWITCH's, but only `plain`
subscribers get events), and API commands nobody programmed (they answer like an
unknown command does).
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import threading
import time
import uuid as uuidlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote

from tests.fsrequests import fixtures_dir
from xmlcurl import fsnames as fs

Headers = Mapping[str, str] | Sequence[tuple[str, str]]
ApiAnswer = str | Callable[[str], str] | None

CAPTURE = fixtures_dir() / "esl" / "events-register-and-calls.txt"
DEFAULT_PASSWORD = "ClueCon"
# The messages of mod_event_socket's send_disconnect(): at the end of every session
# (exit, wrong password, client gone) and when the module shuts down.
GOODBYE = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
SHUTTING_DOWN = "The system is being shut down.\n"
# A frame's body may carry its own body; FreeSWITCH's JSON events call it `_body`.
BODY_KEY = "_body"

# fmt: off
# EVENT_NAMES of switch_event.c, in the order of switch_event_types_t.
EVENT_NAMES = (
    "CUSTOM", "CLONE", "CHANNEL_CREATE", "CHANNEL_DESTROY", "CHANNEL_STATE",
    "CHANNEL_CALLSTATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HOLD", "CHANNEL_UNHOLD",
    "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_APPLICATION",
    "CHANNEL_ORIGINATE", "CHANNEL_UUID", "API", "LOG", "INBOUND_CHAN", "OUTBOUND_CHAN",
    "STARTUP", "SHUTDOWN", "PUBLISH", "UNPUBLISH", "TALK", "NOTALK", "SESSION_CRASH",
    "MODULE_LOAD", "MODULE_UNLOAD", "DTMF", "MESSAGE", "PRESENCE_IN", "NOTIFY_IN",
    "PRESENCE_OUT", "PRESENCE_PROBE", "MESSAGE_WAITING", "MESSAGE_QUERY", "ROSTER",
    "CODEC", "BACKGROUND_JOB", "DETECTED_SPEECH", "DETECTED_TONE", "PRIVATE_COMMAND",
    "HEARTBEAT", "TRAP", "ADD_SCHEDULE", "DEL_SCHEDULE", "EXE_SCHEDULE", "RE_SCHEDULE",
    "RELOADXML", "NOTIFY", "PHONE_FEATURE", "PHONE_FEATURE_SUBSCRIBE", "SEND_MESSAGE",
    "RECV_MESSAGE", "REQUEST_PARAMS", "CHANNEL_DATA", "GENERAL", "COMMAND",
    "SESSION_HEARTBEAT", "CLIENT_DISCONNECTED", "SERVER_DISCONNECTED", "SEND_INFO",
    "RECV_INFO", "RECV_RTCP_MESSAGE", "SEND_RTCP_MESSAGE", "CALL_SECURE", "NAT",
    "RECORD_START", "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP", "CALL_UPDATE",
    "FAILURE", "SOCKET_DATA", "MEDIA_BUG_START", "MEDIA_BUG_STOP",
    "CONFERENCE_DATA_QUERY", "CONFERENCE_DATA", "CALL_SETUP_REQ", "CALL_SETUP_RESULT",
    "CALL_DETAIL", "DEVICE_STATE", "TEXT", "SHUTDOWN_REQUESTED", "ALL",
)

# Columns of the core database tables, in CREATE TABLE order (switch_core_sqldb.c):
# `show … as json` returns every column of every row, each as a string ("" for NULL).
REGISTRATION_COLUMNS = (
    "reg_user", "realm", "token", "url", "expires", "network_ip", "network_port",
    "network_proto", "hostname", "metadata",
)
CHANNEL_COLUMNS = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name",
    "cid_num", "ip_addr", "dest", "application", "application_data", "dialplan",
    "context", "read_codec", "read_rate", "read_bit_rate", "write_codec", "write_rate",
    "write_bit_rate", "secure", "hostname", "presence_id", "presence_data", "accountcode",
    "callstate", "callee_name", "callee_num", "callee_direction", "call_uuid",
    "sent_callee_name", "sent_callee_num", "initial_cid_name", "initial_cid_num",
    "initial_ip_addr", "initial_dest", "initial_dialplan", "initial_context",
)

# switch_channel_state_t and switch_channel_callstate_t, as numbered in events.
CHANNEL_STATE_NUMBERS = {
    "CS_NEW": 0, "CS_INIT": 1, "CS_ROUTING": 2, "CS_SOFT_EXECUTE": 3, "CS_EXECUTE": 4,
    "CS_EXCHANGE_MEDIA": 5, "CS_PARK": 6, "CS_CONSUME_MEDIA": 7, "CS_HIBERNATE": 8,
    "CS_RESET": 9, "CS_HANGUP": 10, "CS_REPORTING": 11, "CS_DESTROY": 12,
}
CALLSTATE_NUMBERS = {
    "DOWN": 0, "DIALING": 1, "RINGING": 2, "EARLY": 3, "ACTIVE": 4, "HELD": 5,
    "RING_WAIT": 6, "HANGUP": 7, "UNHELD": 8,
}
# fmt: on

# Where FreeSWITCH 1.10.12 creates each event (Event-Calling-File/-Function/-Line-Number),
# as seen in the capture or read in its source.
Calling = tuple[str, str, int]
AT_SENDEVENT: Calling = ("mod_event_socket.c", "parse_command", 2275)
AT_BACKGROUND_JOB: Calling = ("mod_event_socket.c", "api_exec", 1572)
AT_HEARTBEAT: Calling = ("switch_core.c", "send_heartbeat", 95)
AT_REGISTER: Calling = ("sofia_reg.c", "sofia_reg_handle_register_token", 2059)
AT_UNREGISTER: Calling = ("sofia_reg.c", "sofia_reg_handle_register_token", 2213)
AT_EXPIRE: Calling = ("sofia_reg.c", "sofia_reg_del_callback", 726)
AT_EXPIRE_PRESENCE: Calling = ("sofia_reg.c", "sofia_reg_del_callback", 741)
AT_CREATE: Calling = ("switch_core_state_machine.c", "switch_core_session_run", 626)
AT_CALLSTATE: Calling = ("switch_channel.c", "switch_channel_perform_set_callstate", 301)
AT_ANSWER: Calling = ("switch_channel.c", "switch_channel_perform_mark_answered", 3846)
AT_HANGUP: Calling = ("switch_channel.c", "switch_channel_perform_hangup", 3445)
AT_HANGUP_COMPLETE: Calling = (
    "switch_core_state_machine.c",
    "switch_core_session_reporting_state",
    943,
)
AT_DESTROY: Calling = ("switch_core_session.c", "switch_core_session_perform_destroy", 1584)

# What `show` answers without a table (SHOW_SYNTAX, mod_commands.c).
SHOW_USAGE = (
    "-USAGE: codec|endpoint|application|api|dialplan|file|timer|calls [count]|"
    "channels [count|like <match string>]|calls|detailed_calls|bridged_calls|"
    "detailed_bridged_calls|aliases|complete|chat|management|modules|nat_map|say|"
    "interfaces|interface_types|tasks|limits|status\n"
)

# SWITCH_URL_UNSAFE (switch_utils.h).
_URL_UNSAFE = frozenset(b'\r\n #%&+:;<=>?@[\\]^`{|}"')
_UPPER_HEX = b"0123456789ABCDEF"
_END_OF_HEADERS = re.compile(rb"\n\r*\n")
_CAPTURE_ENVELOPE = re.compile(rb"Content-Length: \d+\nContent-Type: text/event-plain\n\n")


# ---------------------------------------------------------------------------- wire format


def url_encode(value: str) -> str:
    """`switch_url_encode`: every byte outside ' '..'~' or in SWITCH_URL_UNSAFE becomes
    %XX (upper case), except a '%' already followed by two upper-case hex digits."""
    data = value.encode("utf-8")
    out = bytearray()
    for index, byte in enumerate(data):
        already_encoded = (
            byte == 0x25
            and index + 2 < len(data)
            and data[index + 1] in _UPPER_HEX
            and data[index + 2] in _UPPER_HEX
        )
        if not already_encoded and (byte < 0x20 or byte > 0x7E or byte in _URL_UNSAFE):
            out += b"%%%02X" % byte
        else:
            out.append(byte)
    return out.decode("ascii")


def header_pairs(headers: Headers) -> list[tuple[str, str]]:
    """Headers as (name, value) pairs in order; empty values are left out because
    FreeSWITCH deletes a header instead of storing an empty value."""
    pairs = list(headers.items()) if isinstance(headers, Mapping) else list(headers)
    return [(name, value) for name, value in pairs if value != ""]


def serialize_event(headers: Headers, body: str = "") -> bytes:
    """`switch_event_serialize`: encoded `Name: value` lines, then the event's own body
    sized by an inner Content-Length, or just a blank line when it has none."""
    lines = "".join(
        f"{name}: {url_encode(value) or '_undef_'}\n" for name, value in header_pairs(headers)
    )
    if not body:
        return (lines + "\n").encode("utf-8")
    raw = body.encode("utf-8")
    return lines.encode("utf-8") + b"%s: %d\n\n" % (fs.EV_CONTENT_LENGTH.encode(), len(raw)) + raw


def event_frame(headers: Headers, body: str = "") -> bytes:
    """One `text/event-plain` frame as mod_event_socket sends it (outer length in bytes)."""
    payload = serialize_event(headers, body)
    envelope = (
        f"{fs.EV_CONTENT_LENGTH}: {len(payload)}\n{fs.EV_CONTENT_TYPE}: {fs.CT_EVENT_PLAIN}\n\n"
    )
    return envelope.encode("ascii") + payload


def command_reply(text: str) -> bytes:
    return f"{fs.EV_CONTENT_TYPE}: {fs.CT_COMMAND_REPLY}\n{fs.EV_REPLY_TEXT}: {text}\n\n".encode()


def api_response(output: str) -> bytes:
    data = output.encode("utf-8")
    head = f"{fs.EV_CONTENT_TYPE}: {fs.CT_API_RESPONSE}\n{fs.EV_CONTENT_LENGTH}: {len(data)}\n\n"
    return head.encode("ascii") + data


def disconnect_notice(message: str = GOODBYE) -> bytes:
    data = message.encode("utf-8")
    head = f"{fs.EV_CONTENT_TYPE}: {fs.CT_DISCONNECT}\n{fs.EV_CONTENT_LENGTH}: {len(data)}\n\n"
    return head.encode("ascii") + data


# ------------------------------------------------------------------------------- capture


def capture_payloads(path: Path | str | None = None) -> list[bytes]:
    """The event payloads of a raw capture, cut on the envelope lines (the capture's
    outer lengths are not trusted: paths in it were rewritten after capture)."""
    data = Path(path or CAPTURE).read_bytes()
    envelopes = list(_CAPTURE_ENVELOPE.finditer(data))
    ends = [match.start() for match in envelopes[1:]] + [len(data)]
    return [data[match.end() : end] for match, end in zip(envelopes, ends, strict=True)]


def parse_payload(payload: bytes) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs of one payload; its body, if any, as `_body`."""
    head, _, rest = payload.partition(b"\n\n")
    pairs: list[tuple[str, str]] = []
    for line in head.decode("utf-8").split("\n"):
        name, colon, value = line.partition(": ")
        if colon:
            pairs.append((name, unquote(value)))
    lengths = [value for name, value in pairs if name == fs.EV_CONTENT_LENGTH]
    if lengths:
        pairs = [(name, value) for name, value in pairs if name != fs.EV_CONTENT_LENGTH]
        pairs.append((BODY_KEY, rest[: int(lengths[0])].decode("utf-8")))
    return pairs


def load_capture(path: Path | str | None = None) -> list[dict[str, str]]:
    """Each captured event as a header dict in wire order (a repeated header is kept
    once, first value), its body under `_body`, ready for `FakeFreeSWITCH.replay`."""
    events = []
    for payload in capture_payloads(path):
        headers: dict[str, str] = {}
        for name, value in parse_payload(payload):
            headers.setdefault(name, value)
        events.append(headers)
    return events


def rewrite(headers: Mapping[str, str], replace: Mapping[str, str]) -> dict[str, str]:
    """The same event with each key of `replace` replaced in every value (and the body)
    wherever it stands alone: "1000" in "1000@127.0.0.1" or "Extension 1000", never
    inside a longer number, word, UUID or dotted address."""
    if not replace:
        return dict(headers)
    alternatives = "|".join(re.escape(old) for old in sorted(replace, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-]|\.\w)")
    return {
        name: pattern.sub(lambda match: replace[match.group(0)], value)
        for name, value in headers.items()
    }


# --------------------------------------------------------------------------- subscription


def event_type(name: str) -> str | None:
    """`switch_name_event`: the event type a name means (any case, with or without the
    SWITCH_EVENT_ prefix), or None when FreeSWITCH knows no such event."""
    upper = name.upper()
    for known in EVENT_NAMES:
        if (len(upper) > 13 and upper[13:] == known) or upper == known:
            return known
    return None


def _same_ascii_case_insensitive(left: str, right: str) -> bool:
    # strcasecmp folds ASCII letters only.
    return left.encode("utf-8").lower() == right.encode("utf-8").lower()


def _regex_matches(value: str, expression: str) -> bool:
    """`switch_regex_perform` with a "/pattern/flags" expression."""
    pattern, slash, flags = expression[1:].rpartition("/")
    if not slash:
        return False  # FreeSWITCH logs "missing ending '/'" and matches nothing
    options = (re.IGNORECASE if "i" in flags else 0) | (re.DOTALL if "s" in flags else 0)
    try:
        return re.search(pattern, value, options) is not None
    except re.error:
        return False


def _tokens(command: str, skip: int) -> list[str]:
    # mod_event_socket takes the words after the first space past the keyword,
    # split on single spaces (so "a  b" has an empty word between a and b).
    rest = command[skip:]
    space = rest.find(" ")
    return rest[space + 1 :].split(" ") if space >= 0 else []


class _Subscription:
    """One listener's `event`, `nixevent`, `noevents` and `filter` state, with the
    delivery rule of mod_event_socket's event_handler()."""

    def __init__(self) -> None:
        self.enabled = False  # LFLAG_EVENTS
        self.format = "plain"
        self.types: set[str] = set()  # the event_list; "ALL" when `event ALL` was asked
        self.custom: set[str] = set()
        # `event ALL` also takes every CUSTOM subclass; these were nixed since.
        self.all_custom = False
        self.nixed_custom: set[str] = set()
        self.filters: list[tuple[str, str]] = []

    def subscribe(self, words: list[str]) -> str:
        keywords = 0
        custom = False
        for index, word in enumerate(words):
            if index == 0 and word.lower() in ("plain", "json", "xml"):
                self.format = word.lower()
                continue
            if custom:
                self.custom.add(word)
                self.nixed_custom.discard(word)
                continue
            kind = event_type(word)
            if kind is None:
                continue
            keywords += 1
            if kind == "ALL":
                self.types.update(EVENT_NAMES)
                self.all_custom = True
            self.types.add(kind)
            custom = custom or kind == "CUSTOM"
        if not keywords:
            return "-ERR no keywords supplied"
        self.enabled = True
        return f"+OK event listener enabled {self.format}"

    def unsubscribe(self, words: list[str]) -> str:
        keywords = 0
        custom = False
        for word in words:
            if custom:
                self.custom.discard(word)
                self.nixed_custom.add(word)
                continue
            kind = event_type(word)
            if kind is None:
                continue
            keywords += 1
            if kind == "CUSTOM":
                custom = True
            elif kind == "ALL":
                self.types.clear()
            else:
                if "ALL" in self.types:
                    self.types.update(EVENT_NAMES)
                    self.types.discard("ALL")
                self.types.discard(kind)
        if not keywords:
            return "-ERR no keywords supplied"
        self.enabled = True
        return "+OK events nixed"

    def stop(self) -> str:
        if not self.enabled:
            return "-ERR not listening for events"
        self.enabled = False
        self.types.clear()
        self.custom.clear()
        self.all_custom = False
        self.nixed_custom.clear()
        return "+OK no longer listening for events"

    def filter(self, rest: str) -> str:
        name, space, value_text = rest.lstrip(" ").partition(" ")
        value = value_text if space else None
        if name.lower() == "delete" and value is not None:
            name, space, value_text = value.partition(" ")
            value = value_text if space else None
            if name.lower() == "all":
                self.filters.clear()
            else:
                self._drop_filters(name, value)
            return f"+OK filter deleted. [{name}][{value or ''}]"
        if value is None:
            return "-ERR invalid syntax"
        if name.lower() == "add":
            name, space, value_text = value.partition(" ")
            value = value_text if space else None
        if value is None:
            return f"+OK filter added. [{name}]=[(null)]"  # printf of a NULL value
        if value == "":
            self._drop_filters(name, None)  # adding an empty value deletes the header
        else:
            self.filters.append((name, value))
        return f"+OK filter added. [{name}]=[{value}]"

    def _drop_filters(self, name: str, value: str | None) -> None:
        self.filters = [
            (known, known_value)
            for known, known_value in self.filters
            if not (known.lower() == name.lower() and (not value or known_value == value))
        ]

    def wants(self, kind: str | None, subclass: str | None) -> bool:
        if not self.enabled or self.format != "plain":
            return False
        if "ALL" in self.types:
            return True
        if kind is None or kind not in self.types:
            return False
        if kind != "CUSTOM" or not subclass:
            return True
        return subclass in self.custom or (self.all_custom and subclass not in self.nixed_custom)

    def passes_filters(self, lookup: Mapping[str, str]) -> bool:
        """Positive filters are OR-ed; a matching negative one ('-' prefix) vetoes."""
        if not self.filters:
            return True
        send = False
        for name, raw in self.filters:
            value = lookup.get(name.lower())
            if value is None:
                continue
            positive = True
            start = 0
            while start < len(raw) and raw[start] in "+- ":
                if raw[start] != " ":
                    positive = raw[start] == "+"
                start += 1
            expected = raw[start:]
            if send and positive:
                continue
            if raw.startswith("/"):
                matched = _regex_matches(value, expected)
            else:
                matched = _same_ascii_case_insensitive(value, expected)
            if matched:
                if not positive:
                    return False
                send = True
        return send


# -------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Command:
    """One command as a client sent it: first line, headers (first of a repeated name
    wins, as FreeSWITCH reads them), body, and the raw bytes."""

    connection: int
    line: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    raw: bytes = b""

    @property
    def name(self) -> str:
        """The command word in lower case: "api", "sendevent", "event", "auth", …"""
        return self.line.split(" ", 1)[0].lower()

    @property
    def args(self) -> str:
        return self.line.split(" ", 1)[1] if " " in self.line else ""

    def header(self, name: str, default: str = "") -> str:
        """A header by name in any case, as FreeSWITCH looks them up."""
        for known, value in self.headers.items():
            if known.lower() == name.lower():
                return value
        return default


@dataclass(frozen=True)
class ConnectionInfo:
    id: int
    authenticated: bool
    format: str
    events: frozenset[str]
    custom: frozenset[str]
    filters: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Programmed:
    answer: ApiAnswer
    delay: float


@dataclass
class _Outgoing:
    data: bytes = b""
    is_event: bool = False
    ready: bool = True  # False while an `api` answer is still being worked out
    close: bool = False  # close the socket once `data` is written


@dataclass
class _Call:
    """What the channels table does not hold but channel events carry."""

    domain: str
    profile: str
    created_us: int
    answered_us: int = 0
    hangup_us: int = 0
    answer_state: str = "ringing"
    hangup_cause: str = ""
    variables: dict[str, str] = field(default_factory=dict)


class _Life:
    """One run of the fake between start/restart and stop/kill."""

    def __init__(self) -> None:
        self.core_uuid = str(uuidlib.uuid4())
        self.ended = threading.Event()
        self.sequence = 0


# ----------------------------------------------------------------------------- connection


class _Connection:
    """One client: a reader thread that parses and answers commands in order (like
    mod_event_socket's listener thread) and a writer thread that sends whole frames
    from an outbox, so emitting never blocks the caller on a slow client."""

    def __init__(self, server: FakeFreeSWITCH, sock: socket.socket, conn_id: int) -> None:
        self.server = server
        self.sock = sock
        self.id = conn_id
        self.authenticated = False
        self.subscription = _Subscription()
        self.closed = threading.Event()
        self._outbox: deque[_Outgoing] = deque()
        self._closing = False
        self._outbox_changed = threading.Condition()
        self._buffer = b""
        self._reader = threading.Thread(
            target=self._read_loop, name=f"fake-freeswitch-read-{conn_id}", daemon=True
        )
        self._writer = threading.Thread(
            target=self._write_loop, name=f"fake-freeswitch-write-{conn_id}", daemon=True
        )

    def start(self) -> None:
        self._writer.start()
        self._reader.start()

    def join(self, timeout: float) -> None:
        self._reader.join(timeout)
        if self._reader.is_alive():
            # The writer is stuck on a client that reads nothing: break the socket.
            self.force_shutdown()
            self._reader.join()

    # -- outgoing

    def send(self, data: bytes, *, is_event: bool = False) -> bool:
        with self._outbox_changed:
            if self._closing:
                return False
            self._outbox.append(_Outgoing(data, is_event=is_event))
            self._outbox_changed.notify_all()
            return True

    def reply(self, text: str) -> None:
        self.send(command_reply(text))

    def hold_place(self) -> _Outgoing:
        """A place in the outbox for an answer still to come: what is queued after it
        waits, as events wait while FreeSWITCH's listener thread runs an `api`."""
        place = _Outgoing(ready=False)
        with self._outbox_changed:
            if not self._closing:
                self._outbox.append(place)
        return place

    def fill_place(self, place: _Outgoing, data: bytes) -> None:
        with self._outbox_changed:
            place.data = data
            place.ready = True
            self._outbox_changed.notify_all()

    def drop_queued_events(self) -> None:
        with self._outbox_changed:
            self._outbox = deque(item for item in self._outbox if not item.is_event)

    def close_after(self, data: bytes) -> None:
        """Send what is queued, then `data`, then close."""
        with self._outbox_changed:
            if not self._closing:
                self._closing = True
                self._outbox.append(_Outgoing(data, close=True))
                self._outbox_changed.notify_all()

    def abort(self, data: bytes = b"") -> None:
        """Drop what is queued, send `data` (a notice, half a frame, nothing), close."""
        with self._outbox_changed:
            self._closing = True
            self._outbox.clear()
            self._outbox.append(_Outgoing(data, close=True))
            self._outbox_changed.notify_all()

    def force_shutdown(self) -> None:
        # It may already be shut down, or reset by the client.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)

    def _write_loop(self) -> None:
        try:
            while True:
                with self._outbox_changed:
                    self._outbox_changed.wait_for(lambda: self._outbox and self._outbox[0].ready)
                    item = self._outbox.popleft()
                if item.data:
                    self.sock.sendall(item.data)
                if item.close:
                    break
        except OSError:
            pass  # the client went away; the reader sees it too
        finally:
            self.force_shutdown()
            self.closed.set()

    # -- incoming

    def _read_loop(self) -> None:
        try:
            self.send(f"{fs.EV_CONTENT_TYPE}: {fs.CT_AUTH_REQUEST}\n\n".encode())
            while True:
                command = self._read_command()
                if command is None:
                    break
                self.server._record(command)
                if not self._handle(command):
                    break
        except OSError:
            pass  # socket shut down under us: kill(), stop() or a reset
        finally:
            # Whatever ended the session, FreeSWITCH says goodbye before closing.
            self.close_after(disconnect_notice(GOODBYE))
            self._writer.join()
            self.sock.close()
            self.server._forget(self)

    def _read_command(self) -> Command | None:
        while True:
            # Line ends before a command are skipped, as read_packet() does.
            self._buffer = self._buffer.lstrip(b"\r\n")
            end = _END_OF_HEADERS.search(self._buffer)
            if end:
                break
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self._buffer += chunk
        head = self._buffer[: end.start()]
        self._buffer = self._buffer[end.end() :]
        lines = [line.rstrip("\r") for line in head.decode("utf-8", "replace").split("\n")]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            if colon and name:
                headers.setdefault(name, value.lstrip(" "))
        length = _atoi(next((v for k, v in headers.items() if k.lower() == "content-length"), ""))
        body = b""
        while len(self._buffer) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self._buffer += chunk
        if length > 0:
            body, self._buffer = self._buffer[:length], self._buffer[length:]
        raw = head + end.group(0) + body
        return Command(self.id, lines[0], headers, body.decode("utf-8", "replace"), raw)

    def _handle(self, command: Command) -> bool:
        """Answer one command like parse_command(); False ends the session."""
        line = command.line
        lower = line.lower()
        if lower.startswith(("exit", "...")):
            self.reply("+OK bye")
            return False
        if not self.authenticated:
            return self._handle_unauthenticated(line, lower)
        server = self.server
        if lower.startswith("filter "):
            self._change_subscription(lambda sub: sub.filter(line[7:]))
        elif lower.startswith("divert_events"):
            self.reply("-ERR not controlling a session.")
        elif lower.startswith("sendmsg"):
            self.reply(server._sendmsg(command))
        elif lower.startswith("sendevent"):
            self.reply(server._sendevent(command))
        elif lower.startswith("api "):
            self._api(line[4:])
        elif lower.startswith("bgapi "):
            self._bgapi(command)
        elif lower.startswith(("linger", "nolinger")):
            self.reply("-ERR not controlling a session")  # inbound: no session
        elif lower.startswith("event"):
            self._change_subscription(lambda sub: sub.subscribe(_tokens(line, 5)))
        elif lower.startswith("nixevent"):
            self._change_subscription(lambda sub: sub.unsubscribe(_tokens(line, 8)))
        elif lower.startswith("noevents"):
            self.drop_queued_events()  # flush_listener(): queued events are lost
            self._change_subscription(_Subscription.stop)
        else:
            self.reply("-ERR command not found")
        return True

    def _change_subscription(self, change: Callable[[_Subscription], str]) -> None:
        # Under the server's lock: emit() reads subscriptions from other threads.
        with self.server._changed:
            self.reply(change(self.subscription))
            self.server._changed.notify_all()

    def _handle_unauthenticated(self, line: str, lower: str) -> bool:
        if lower.startswith("auth "):
            if line[5:] != self.server.password:
                self.reply("-ERR invalid")
                return False
            with self.server._changed:
                self.authenticated = True
                self.reply("+OK accepted")
                self.server._changed.notify_all()
            return True
        if lower.startswith("userauth "):
            self.reply("-ERR invalid")  # no directory here: the user is unknown
            return False
        self.reply("-ERR command not found")
        return True

    def _api(self, text: str) -> None:
        place = self.hold_place()
        output = self.server._run_api(text, until=self.closed)
        if output is not None:
            # An empty output is replaced, as api_exec() does.
            self.fill_place(place, api_response(output or "-ERR no reply\n"))

    def _bgapi(self, command: Command) -> None:
        text = command.line[6:]
        # The UUID buffer holds 36 characters; a longer Job-UUID is cut.
        job = (command.header("Job-UUID") or str(uuidlib.uuid4()))[:36]
        reply = f"{fs.EV_CONTENT_TYPE}: {fs.CT_COMMAND_REPLY}\n"
        reply += f"{fs.EV_REPLY_TEXT}: +OK Job-UUID: {job}\n{fs.EV_JOB_UUID}: {job}\n\n"
        self.send(reply.encode())
        self.server._start_job(job, text)


def _atoi(text: str) -> int:
    digits = re.match(r"\s*([+-]?\d+)", text)
    return int(digits.group(1)) if digits else 0


def _now_us() -> int:
    return time.time_ns() // 1000


def _local_date(epoch_us: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch_us // 1_000_000))


# ------------------------------------------------------------------------------- the fake


class FakeFreeSWITCH:
    """FreeSWITCH's event socket for tests (see the module docstring)."""

    host = "127.0.0.1"

    def __init__(
        self,
        password: str = DEFAULT_PASSWORD,
        *,
        hostname: str = "vm",
        ipv4: str = "192.0.2.2",
        ipv6: str = "fd00::2",
        strict_sessions: bool = True,
    ) -> None:
        self.password = password
        self.hostname = hostname
        self.switchname = hostname
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        # FreeSWITCH answers sendmsg for a UUID it has no channel for with an error;
        # False accepts any UUID.
        self.strict_sessions = strict_sessions
        self.port = 0
        self.registrations: list[dict[str, str]] = []
        self.channels: list[dict[str, str]] = []
        self._calls: dict[str, _Call] = {}
        self._programmed: dict[str, _Programmed] = {}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._commands: list[Command] = []
        self._connections: dict[int, _Connection] = {}
        self._next_connection = 1
        self._jobs: set[threading.Thread] = set()
        self._life = _Life()
        self._listener: socket.socket | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._acceptor: threading.Thread | None = None

    # -- lifecycle

    def __enter__(self) -> FakeFreeSWITCH:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def core_uuid(self) -> str:
        """Core-UUID of the current run; a restart makes a new one."""
        return self._life.core_uuid

    @property
    def running(self) -> bool:
        return self._listener is not None

    def start(self) -> FakeFreeSWITCH:
        """Listen on 127.0.0.1 (a free port the first time, the same port after)."""
        if self.running:
            raise RuntimeError("already listening")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
            listener.listen(16)
        except OSError:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._wake = socket.socketpair()
        self._acceptor = threading.Thread(
            target=self._accept_loop,
            args=(listener, self._wake[0]),
            name="fake-freeswitch-accept",
            daemon=True,
        )
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Shut down like FreeSWITCH does: every client gets a disconnect notice, then
        the socket closes. Every thread is joined and every socket closed."""
        self._shut_down(disconnect_notice(SHUTTING_DOWN))

    def kill(self, *, mid_frame: bool = False) -> None:
        """Crash: stop listening and drop every connection without a word; with
        `mid_frame`, each client first gets the first half of an event frame."""
        partial = b""
        if mid_frame:
            frame = event_frame(self.event_headers("HEARTBEAT", calling=AT_HEARTBEAT))
            partial = frame[: len(frame) // 2]
        self._shut_down(partial)

    def restart(self, *, keep_registrations: bool = True) -> None:
        """Come back on the same port as a new FreeSWITCH: new Core-UUID, event
        sequence from 1, no channels (registrations survive in the core database
        unless told otherwise). Kills the current run first if there is one."""
        if self.running:
            self.kill()
        with self._lock:
            self._life = _Life()
            self.channels.clear()
            self._calls.clear()
            if not keep_registrations:
                self.registrations.clear()
        self.start()

    def disconnect(self, connection: int | None = None, message: str = GOODBYE) -> None:
        """Send a `text/disconnect-notice` with `message` and close, as
        kill_listener() does; None does it to every connection."""
        for conn in self._snapshot(connection):
            conn.abort(disconnect_notice(message))
        for conn in self._snapshot(connection):
            conn.join(timeout=1.0)

    def _shut_down(self, last_words: bytes) -> None:
        listener, wake, acceptor = self._listener, self._wake, self._acceptor
        self._listener = self._wake = self._acceptor = None
        self._life.ended.set()
        if listener is not None and wake is not None and acceptor is not None:
            wake[1].send(b"x")
            acceptor.join()
            listener.close()
            wake[0].close()
            wake[1].close()
        connections = self._snapshot(None)
        for conn in connections:
            conn.abort(last_words)
        for conn in connections:
            conn.join(timeout=1.0)
        with self._lock:
            jobs = list(self._jobs)
        for job in jobs:
            job.join()

    def _accept_loop(self, listener: socket.socket, wake: socket.socket) -> None:
        while True:
            readable, _, _ = select.select([listener, wake], [], [])
            if wake in readable:
                return
            try:
                sock, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                conn = _Connection(self, sock, self._next_connection)
                self._next_connection += 1
                self._connections[conn.id] = conn
            conn.start()

    def _snapshot(self, connection: int | None) -> list[_Connection]:
        with self._lock:
            if connection is None:
                return list(self._connections.values())
            found = self._connections.get(connection)
            return [found] if found else []

    def _forget(self, conn: _Connection) -> None:
        with self._changed:
            self._connections.pop(conn.id, None)
            self._changed.notify_all()

    # -- what clients did

    def _record(self, command: Command) -> None:
        with self._changed:
            self._commands.append(command)
            self._changed.notify_all()

    @property
    def commands(self) -> list[Command]:
        """Every command received since the fake was made, restarts included."""
        with self._lock:
            return list(self._commands)

    @property
    def connections(self) -> list[ConnectionInfo]:
        with self._lock:
            return [
                ConnectionInfo(
                    conn.id,
                    conn.authenticated,
                    conn.subscription.format,
                    frozenset(conn.subscription.types),
                    frozenset(conn.subscription.custom),
                    tuple(conn.subscription.filters),
                )
                for conn in self._connections.values()
            ]

    def wait_for_command(
        self, predicate: Callable[[Command], bool] = lambda _: True, timeout: float = 2.0
    ) -> Command:
        """The first command (ever received) that matches; TimeoutError if none comes."""
        return self.wait_for_commands(predicate, 1, timeout)[0]

    def wait_for_commands(
        self, predicate: Callable[[Command], bool], count: int, timeout: float = 2.0
    ) -> list[Command]:
        """The first `count` matching commands, once that many have been received."""

        def matching() -> list[Command]:
            return [command for command in self._commands if predicate(command)]

        with self._changed:
            if not self._changed.wait_for(lambda: len(matching()) >= count, timeout):
                received = [command.line for command in self._commands]
                raise TimeoutError(
                    f"{count} matching command(s) not received in {timeout}s; got {received}"
                )
            return matching()[:count]

    def wait_for_connections(self, count: int, timeout: float = 2.0) -> None:
        """Until exactly `count` authenticated clients are connected."""

        def authenticated() -> int:
            return sum(conn.authenticated for conn in self._connections.values())

        with self._changed:
            if not self._changed.wait_for(lambda: authenticated() == count, timeout):
                raise TimeoutError(
                    f"{authenticated()} authenticated connection(s), not {count}, after {timeout}s"
                )

    def wait_for_subscription(
        self, name: str, *, count: int = 1, timeout: float = 2.0
    ) -> list[int]:
        """Until `count` connections would receive event `name` ("CHANNEL_CREATE", or a
        CUSTOM subclass such as "sofia::register"); returns their ids. Filters aside."""
        kind, subclass = ("CUSTOM", name) if "::" in name else (event_type(name), None)

        def subscribed() -> list[int]:
            return [
                conn.id
                for conn in self._connections.values()
                if conn.authenticated and conn.subscription.wants(kind, subclass)
            ]

        with self._changed:
            if not self._changed.wait_for(lambda: len(subscribed()) >= count, timeout):
                raise TimeoutError(f"no {count} subscriber(s) to {name} after {timeout}s")
            return subscribed()

    # -- events

    def event_headers(
        self,
        name: str,
        headers: Headers = (),
        *,
        subclass: str | None = None,
        calling: Calling = AT_SENDEVENT,
    ) -> list[tuple[str, str]]:
        """A new event as FreeSWITCH fills it in (switch_event_prep_for_delivery) for
        this run, then `headers`. A subclass comes first, as events reach listeners."""
        life = self._life
        with self._lock:
            life.sequence += 1
            sequence = life.sequence
        now = _now_us()
        file, function, line = calling
        pairs = [(fs.EV_EVENT_SUBCLASS, subclass)] if subclass else []
        pairs += [
            (fs.EV_EVENT_NAME, name),
            (fs.EV_CORE_UUID, life.core_uuid),
            (fs.EV_HOSTNAME, self.hostname),
            ("FreeSWITCH-Switchname", self.switchname),
            ("FreeSWITCH-IPv4", self.ipv4),
            ("FreeSWITCH-IPv6", self.ipv6),
            ("Event-Date-Local", _local_date(now)),
            ("Event-Date-GMT", formatdate(now / 1_000_000, usegmt=True)),
            (fs.EV_TIMESTAMP, str(now)),
            ("Event-Calling-File", file),
            ("Event-Calling-Function", function),
            ("Event-Calling-Line-Number", str(line)),
            ("Event-Sequence", str(sequence)),
        ]
        return pairs + header_pairs(headers)

    def emit(self, headers: Headers, body: str = "") -> int:
        """Send one event, exactly these headers in this order, to every connection
        whose subscription and filters take it; returns how many it was queued for.
        A `_body` header is the event's body when `body` is not given."""
        pairs = header_pairs(headers)
        if not body:
            body = next((value for name, value in pairs if name == BODY_KEY), "")
        pairs = [(name, value) for name, value in pairs if name != BODY_KEY]
        lookup: dict[str, str] = {}
        for name, value in pairs:
            lookup.setdefault(name.lower(), value)
        kind = event_type(lookup.get(fs.EV_EVENT_NAME.lower(), ""))
        subclass = lookup.get(fs.EV_EVENT_SUBCLASS.lower()) if kind == "CUSTOM" else None
        frame = event_frame(pairs, body)
        queued = 0
        with self._lock:
            for conn in self._connections.values():
                subscription = conn.subscription
                if (
                    conn.authenticated
                    and subscription.wants(kind, subclass)
                    and subscription.passes_filters(lookup)
                    and conn.send(frame, is_event=True)
                ):
                    queued += 1
        return queued

    def replay(
        self,
        events: Iterable[Mapping[str, str]],
        *,
        replace: Mapping[str, str] | None = None,
        transform: Callable[[dict[str, str]], dict[str, str] | None] | None = None,
        keep_core_uuid: bool = False,
    ) -> int:
        """Emit recorded events in order: values rewritten with `replace` (see
        `rewrite`), then `transform` (None drops the event), Core-UUID made this
        run's unless kept. Returns how many events were emitted."""
        emitted = 0
        for recorded in events:
            headers: dict[str, str] | None = rewrite(recorded, replace or {})
            if headers is not None and transform is not None:
                headers = transform(headers)
            if headers is None:
                continue
            if not keep_core_uuid and fs.EV_CORE_UUID in headers:
                headers[fs.EV_CORE_UUID] = self.core_uuid
            self.emit(headers)
            emitted += 1
        return emitted

    # -- api / bgapi

    def on_api(self, command: str, answer: ApiAnswer, *, delay: float = 0.0) -> None:
        """Program `api`/`bgapi` answers. `command` is a whole command ("show
        registrations as json") or a command word ("uuid_kill"): the whole line is
        looked up first. `answer` is the output, a function of the whole command line,
        or None to never answer. `delay` seconds pass before the answer."""
        with self._lock:
            self._programmed[command.strip()] = _Programmed(answer, delay)

    def _run_api(self, text: str, *, until: threading.Event) -> str | None:
        """The output of one API command, or None if `until` is set first."""
        name, _, arg = text.partition(" ")
        with self._lock:
            programmed = self._programmed.get(text.strip()) or self._programmed.get(name)
        if programmed is None:
            output = self._builtin_api(name, arg)
            return output if output is not None else f"-ERR {name} Command not found!\n"
        if programmed.delay and until.wait(programmed.delay):
            return None
        if programmed.answer is None:
            until.wait()
            return None
        if callable(programmed.answer):
            return programmed.answer(text)
        return programmed.answer

    def _start_job(self, job: str, text: str) -> None:
        life = self._life
        thread = threading.Thread(
            target=self._run_job, args=(life, job, text), name=f"fake-freeswitch-job-{job}"
        )
        with self._lock:
            self._jobs.add(thread)
        thread.start()

    def _run_job(self, life: _Life, job: str, text: str) -> None:
        try:
            output = self._run_api(text, until=life.ended)
            if output is None or life.ended.is_set():
                return
            name, space, arg = text.partition(" ")
            headers = [("Job-UUID", job), ("Job-Command", name)]
            if space and arg:
                headers.append(("Job-Command-Arg", arg))
            self.emit(
                self.event_headers("BACKGROUND_JOB", headers, calling=AT_BACKGROUND_JOB), output
            )
        finally:
            with self._lock:
                self._jobs.discard(threading.current_thread())

    def _builtin_api(self, name: str, arg: str) -> str | None:
        if name.lower() == "bgapi":
            return self._bgapi_api(arg)
        if name.lower() == "switchname":
            return f"{self.switchname}\n"
        if name.lower() == "sofia":
            return self._sofia_api(arg.split())
        if name.lower() != "show":
            return None
        args = arg.split()
        table = args[0].lower() if args else ""
        if not table:
            return SHOW_USAGE
        if table == "registrations":
            # The core table keeps a line's last phone only (switch.conf's
            # `multiple-registrations` is off by default), where sofia keeps them all.
            last = {
                (row.get("reg_user"), row.get("realm")): row
                for row in self.registrations
                if row.get("hostname") == self.switchname
            }
            return _show(args, REGISTRATION_COLUMNS, list(last.values()))
        if table == "channels":
            rows = [row for row in self.channels if row.get("hostname") == self.switchname]
            rows.sort(key=lambda row: _atoi(row.get("created_epoch", "")))
            return _show(args, CHANNEL_COLUMNS, rows)
        return None

    def _sofia_api(self, args: list[str]) -> str | None:
        """mod_sofia's `xmlstatus` (the profile list) and `status profile <name> reg`
        (cmd_status, show_reg_callback), from the registration rows: sofia lists every
        row of the profile, whatever its host (a profile may share its database)."""
        with self._lock:
            rows = list(self.registrations)
        profiles = list(dict.fromkeys(["external", "internal", *map(_profile_of, rows)]))
        if args == ["xmlstatus"]:
            return _sofia_profiles_xml(profiles)
        if len(args) == 4 and [args[0], args[1], args[3]] == ["status", "profile", "reg"]:
            if args[2] not in profiles:
                return "Invalid Profile!\n"
            return _sofia_registrations_text([r for r in rows if _profile_of(r) == args[2]])
        return None

    def _bgapi_api(self, arg: str) -> str:
        """mod_commands' `bgapi [uuid:<job> ]<command>` API (bgapi_function): the job
        runs in a thread and its output comes back as a BACKGROUND_JOB event."""
        job = ""
        if arg[:5].lower() == "uuid:":
            job, _, arg = arg[5:].partition(" ")
        if not arg:
            return "-ERR Invalid syntax\n"
        job = job or str(uuidlib.uuid4())
        self._start_job(job, arg)
        return f"+OK Job-UUID: {job}\n"

    # -- sendevent / sendmsg

    def _session_exists(self, uuid: str) -> bool:
        return any(row.get("uuid") == uuid for row in list(self.channels))

    def _sendmsg(self, command: Command) -> str:
        uuid = command.line[7:].lstrip(" ") or command.header("session-id")
        if uuid and (self._session_exists(uuid) or not self.strict_sessions):
            return "+OK"
        return f"-ERR invalid session id [{uuid}]"

    def _sendevent(self, command: Command) -> str:
        """Fire the event the way parse_command() does and answer `+OK <Event-UUID>`."""
        event_uuid = str(uuidlib.uuid4())
        name = command.line[9:].lstrip(" \t")
        kind = event_type(name) if name else None
        pairs = [("Command", command.line), *command.headers.items(), ("Event-UUID", event_uuid)]
        subclass = command.header(fs.EV_EVENT_SUBCLASS) if kind == "CUSTOM" else ""
        if subclass:
            pairs = [(k, v) for k, v in pairs if k.lower() != fs.EV_EVENT_SUBCLASS.lower()]
        prepared = self.event_headers(kind or "CLONE", subclass=subclass, calling=AT_SENDEVENT)
        # The Event-Subclass goes first, the core's own headers after the client's.
        head = prepared[:1] if subclass else []
        headers = head + pairs + prepared[len(head) :]
        # An event naming a live channel is queued to that session, not broadcast.
        if not self._session_exists(command.header("unique-id")):
            self.emit(headers, command.body)
        return f"+OK {event_uuid}"

    # -- state model: registrations

    def registration_row(
        self,
        user: str,
        realm: str = "127.0.0.1",
        *,
        network_ip: str = "127.0.0.1",
        network_port: str = "5060",
        network_proto: str = "udp",
        call_id: str | None = None,
        expires: int = 600,
        profile: str = "internal",
        metadata: str = "",
    ) -> dict[str, str]:
        """A row of the core `registrations` table as switch_core_add_registration()
        writes it for a phone that registered now (sofia's row of the phone is read
        from it too)."""
        return {
            "reg_user": user,
            "realm": realm,
            "token": call_id or f"{uuidlib.uuid4()}@{network_ip}",
            "url": f"sofia/{profile}/sip:{user}@{network_ip}:{network_port}",
            # Absolute expiry: now + expires + sofia's late margin (60 s by default).
            "expires": str(int(time.time()) + expires + 60),
            "network_ip": network_ip,
            "network_port": network_port,
            "network_proto": network_proto,
            "hostname": self.switchname,
            "metadata": metadata,
        }

    def register(
        self,
        user: str,
        realm: str = "127.0.0.1",
        *,
        network_ip: str = "127.0.0.1",
        network_port: str = "5060",
        network_proto: str = "udp",
        call_id: str | None = None,
        expires: int = 600,
        profile: str = "internal",
        user_agent: str = "unknown",
        variables: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """A phone registers: its row replaces the one of the same phone (user and
        address: sofia's `multiple-registrations=contact`, as `freeswitch-conf/` sets
        it) and `sofia::register` is emitted with sofia's headers (then `variables`, the
        directory's). Returns the row."""
        new_row = self.registration_row(
            user,
            realm,
            network_ip=network_ip,
            network_port=network_port,
            network_proto=network_proto,
            call_id=call_id,
            expires=expires,
            profile=profile,
        )
        new_row["user_agent"] = user_agent  # sofia's column; the core table has none
        with self._lock:
            self.registrations[:] = [
                old
                for old in self.registrations
                if not (
                    old.get("reg_user") == user
                    and old.get("realm") == realm
                    and old.get("url") == new_row["url"]
                )
            ]
            self.registrations.append(new_row)
        profile, contact = _profile_and_contact(new_row)
        headers = [
            ("profile-name", profile),
            ("from-user", user),
            ("from-host", realm),
            ("presence-hosts", "n/a"),
            ("contact", contact),
            ("call-id", new_row["token"]),
            ("rpid", "unknown"),
            ("status", f"Registered({new_row['network_proto'].upper()})"),
            ("expires", str(expires)),
            ("to-user", user),
            ("to-host", realm),
            ("network-ip", new_row["network_ip"]),
            ("network-port", new_row["network_port"]),
            ("username", user),
            ("realm", realm),
            ("user-agent", user_agent),
            ("sip_auth_username", user),
            ("sip_auth_realm", realm),
            ("user_name", user),
            ("domain_name", realm),
            *(variables or {}).items(),
        ]
        self.emit(
            self.event_headers("CUSTOM", headers, subclass="sofia::register", calling=AT_REGISTER)
        )
        return new_row

    def unregister(
        self, user: str, realm: str = "127.0.0.1", *, user_agent: str = "unknown"
    ) -> None:
        """A phone unregisters (Expires: 0): its rows go, `sofia::unregister` is emitted."""
        row = self._take_registration(user, realm)
        profile, contact = _profile_and_contact(row)
        headers = [
            ("profile-name", profile),
            ("username", user),
            ("from-user", user),
            ("from-host", realm),
            ("contact", contact),
            ("call-id", row["token"]),
            ("rpid", "unknown"),
            ("realm", realm),
            ("network-ip", row["network_ip"]),
            ("network-port", row["network_port"]),
            ("user-agent", user_agent),
            ("expires", "0"),
        ]
        self.emit(
            self.event_headers(
                "CUSTOM", headers, subclass="sofia::unregister", calling=AT_UNREGISTER
            )
        )

    def expire(self, user: str, realm: str = "127.0.0.1", *, user_agent: str = "unknown") -> None:
        """A registration runs out: its rows go, `sofia::expire` is emitted, then the
        PRESENCE_IN `Unregistered` sofia sends with it."""
        row = self._take_registration(user, realm)
        profile, contact = _profile_and_contact(row)
        status = f"Registered({row['network_proto'].upper()})"
        expire_headers = [
            ("profile-name", profile),
            ("call-id", row["token"]),
            ("user", user),
            ("username", user),
            ("host", realm),
            ("contact", contact),
            ("expires", row["expires"]),
            ("user-agent", user_agent),
            ("realm", realm),
            ("network-ip", row["network_ip"]),
            ("network-port", row["network_port"]),
        ]
        self.emit(
            self.event_headers(
                "CUSTOM", expire_headers, subclass="sofia::expire", calling=AT_EXPIRE
            )
        )
        presence = [
            ("proto", "sip"),
            ("rpid", "away"),
            ("login", f"sip:mod_sofia@{self.ipv4}:5060"),
            # sofia_reg_del_callback() passes the status column as the user agent.
            ("user-agent", status),
            ("from", f"{user}@{realm}"),
            ("status", "Unregistered"),
            ("event_type", "presence"),
        ]
        self.emit(self.event_headers("PRESENCE_IN", presence, calling=AT_EXPIRE_PRESENCE))

    def _take_registration(self, user: str, realm: str) -> dict[str, str]:
        """The user's latest phone leaves (its event names that one Call-ID)."""
        with self._lock:
            mine = [
                row
                for row in self.registrations
                if row.get("reg_user") == user and row.get("realm") == realm
            ]
            if mine:
                self.registrations.remove(mine[-1])
        return mine[-1] if mine else self.registration_row(user, realm)

    # -- state model: channels

    def channel_row(
        self,
        uuid: str | None = None,
        *,
        direction: str = "inbound",
        caller: str = "1001",
        caller_name: str | None = None,
        destination: str = "1000",
        domain: str = "127.0.0.1",
        network_addr: str = "127.0.0.1",
        context: str = "default",
        profile: str = "internal",
        call_uuid: str | None = None,
    ) -> dict[str, str]:
        """A row of the core `channels` table for a sofia channel created now."""
        uuid = uuid or str(uuidlib.uuid4())
        now = _now_us()
        party = caller if direction == "inbound" else destination
        row = dict.fromkeys(CHANNEL_COLUMNS, "")
        row.update(
            uuid=uuid,
            direction=direction,
            created=_local_date(now),
            created_epoch=str(now // 1_000_000),
            name=f"sofia/{profile}/{party}@{domain}",
            state="CS_INIT",
            cid_name=caller_name or caller,
            cid_num=caller,
            ip_addr=network_addr,
            dest=destination,
            dialplan="XML",
            context=context,
            hostname=self.switchname,
            presence_id=f"{party}@{domain}",
            callstate="DOWN",
            call_uuid=call_uuid or uuid,
            initial_cid_name=caller_name or caller,
            initial_cid_num=caller,
            initial_ip_addr=network_addr,
            initial_dest=destination,
            initial_dialplan="XML",
            initial_context=context,
        )
        return row

    def create_channel(
        self,
        *,
        ringing: bool = True,
        variables: Mapping[str, str] | None = None,
        **row: str,
    ) -> str:
        """A channel appears: row added, CHANNEL_CREATE emitted, then (`ringing`) the
        CHANNEL_CALLSTATE to RINGING that follows it. Returns its UUID."""
        new_row = self.channel_row(**row)
        uuid = new_row["uuid"]
        domain = new_row["presence_id"].partition("@")[2]
        profile = new_row["name"].split("/")[1]
        with self._lock:
            self.channels.append(new_row)
            self._calls[uuid] = _Call(domain, profile, _now_us(), variables=dict(variables or {}))
        self._emit_channel("CHANNEL_CREATE", new_row, "CS_INIT", 2, AT_CREATE)
        if ringing:
            self.set_callstate(uuid, "RINGING")
        return uuid

    def set_callstate(self, uuid: str, callstate: str) -> None:
        """CHANNEL_CALLSTATE from the channel's call state to `callstate`."""
        row = self._channel(uuid)
        previous = row["callstate"]
        if row["state"] == "CS_INIT":
            row["state"] = "CS_ROUTING"  # it rings while the dialplan is being looked up
        if callstate == "HANGUP":
            row["state"] = "CS_HANGUP"
        row["callstate"] = callstate
        before = [
            ("Original-Channel-Call-State", previous),
            ("Channel-Call-State-Number", str(CALLSTATE_NUMBERS.get(callstate, 0))),
        ]
        state = row["state"]
        self._emit_channel(
            "CHANNEL_CALLSTATE",
            row,
            state,
            CHANNEL_STATE_NUMBERS.get(state, 0),
            AT_CALLSTATE,
            before=before,
            variables=False,
        )

    def answer_channel(self, uuid: str) -> None:
        """CHANNEL_ANSWER (media negotiated, PCMU), then CHANNEL_CALLSTATE to ACTIVE."""
        row = self._channel(uuid)
        call = self._call(uuid, row)
        call.answered_us = _now_us()
        call.answer_state = "answered"
        row.update(
            state="CS_EXECUTE",
            read_codec="PCMU",
            read_rate="8000",
            read_bit_rate="64000",
            write_codec="PCMU",
            write_rate="8000",
            write_bit_rate="64000",
        )
        self._emit_channel("CHANNEL_ANSWER", row, "CS_EXECUTE", 4, AT_ANSWER)
        self.set_callstate(uuid, "ACTIVE")

    def hangup_channel(self, uuid: str, cause: str = fs.NORMAL_CLEARING) -> None:
        """The channel hangs up: CHANNEL_HANGUP, CHANNEL_CALLSTATE to HANGUP,
        CHANNEL_HANGUP_COMPLETE, CHANNEL_DESTROY; the row goes."""
        row = self._channel(uuid)
        call = self._call(uuid, row)
        call.hangup_us = _now_us()
        call.answer_state = "hangup"
        call.hangup_cause = cause
        call.variables["hangup_cause"] = cause
        self._emit_channel("CHANNEL_HANGUP", row, row["state"], 10, AT_HANGUP)
        self.set_callstate(uuid, "HANGUP")
        self._emit_channel(
            "CHANNEL_HANGUP_COMPLETE",
            row,
            "CS_REPORTING",
            11,
            AT_HANGUP_COMPLETE,
            before=[("Hangup-Cause", cause)],
        )
        self._emit_channel("CHANNEL_DESTROY", row, "CS_REPORTING", 12, AT_DESTROY)
        with self._lock:
            self.channels[:] = [known for known in self.channels if known.get("uuid") != uuid]
            self._calls.pop(uuid, None)

    def _channel(self, uuid: str) -> dict[str, str]:
        with self._lock:
            for row in self.channels:
                if row.get("uuid") == uuid:
                    return row
        raise KeyError(f"no channel {uuid}")

    def _call(self, uuid: str, row: Mapping[str, str]) -> _Call:
        # Rows a test added by hand get their event-only details on first use.
        with self._lock:
            if uuid not in self._calls:
                self._calls[uuid] = _Call(
                    row.get("presence_id", "").partition("@")[2],
                    [*row.get("name", "").split("/"), "", ""][1],
                    _atoi(row.get("created_epoch", "")) * 1_000_000,
                )
            return self._calls[uuid]

    def _emit_channel(
        self,
        name: str,
        row: Mapping[str, str],
        state: str,
        state_number: int,
        calling: Calling,
        *,
        before: Sequence[tuple[str, str]] = (),
        variables: bool = True,
    ) -> None:
        call = self._call(row["uuid"], row)
        headers = [*before, *_channel_data(row, call, state, state_number)]
        headers += _caller_profile(row, call)
        if variables:
            headers += _channel_variables(row, call)
        self.emit(self.event_headers(name, headers, calling=calling))


# ------------------------------------------------------------------ show / event builders


def _show(args: list[str], columns: Sequence[str], rows: list[dict[str, str]]) -> str | None:
    """`show registrations|channels [count] [as json|delim [sep]]` as mod_commands
    prints it; None for forms not modelled here."""
    if len(args) > 1 and args[1].lower() == "like":
        return None
    count_only = len(args) > 1 and args[1].lower() == "count"
    as_at = 2 if count_only else 1
    form = args[as_at + 1].lower() if len(args) > as_at + 1 and args[as_at].lower() == "as" else ""
    if form == "json":
        if count_only:
            return json.dumps({"row_count": len(rows), "rows": []}, separators=(",", ":"))
        if not rows:
            return '{"row_count": 0}\n'
        table = [{column: row.get(column, "") for column in columns} for row in rows]
        document = {"row_count": len(table), "rows": table}
        return json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    if form in ("", "delim", "csv"):
        if count_only:
            return f"\n{len(rows)} total.\n"
        separator = args[as_at + 2] if form and len(args) > as_at + 2 else ","
        lines = [separator.join(columns)] if rows else []
        lines += [separator.join(row.get(column, "") for column in columns) for row in rows]
        return "".join(f"{line}\n" for line in lines) + f"\n{len(rows)} total.\n"
    return None


def _profile_of(row: Mapping[str, str]) -> str:
    return _profile_and_contact(row)[0]


def _sofia_profiles_xml(profiles: Iterable[str]) -> str:
    """`sofia xmlstatus`: the profile list, an alias and a gateway among them."""
    entries = [
        "<alias>\n<name>127.0.0.1</name>\n<type>alias</type>\n<data>internal</data>\n"
        "<state>ALIASED</state>\n</alias>\n"
    ]
    for name in profiles:
        entries.append(
            f"<profile>\n<name>{name}</name>\n<type>profile</type>\n"
            f"<data>sip:mod_sofia@127.0.0.1:5060</data>\n<state>RUNNING (0)</state>\n</profile>\n"
        )
    entries.append(
        "<gateway>\n<name>carrier</name>\n<type>gateway</type>\n"
        "<data>sip:trunk@192.0.2.7</data>\n<state>NOREG</state>\n</gateway>\n\n"
    )
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<profiles>\n'
        + "".join(entries)
        + "</profiles>\n"
    )


_SOFIA_RULE = "=" * 97


def _sofia_registrations_text(rows: Iterable[Mapping[str, str]]) -> str:
    """`sofia status profile <name> reg` (show_reg_callback's blocks)."""
    now = int(time.time())
    blocks = []
    for row in rows:
        expires = _atoi(row.get("expires", ""))
        at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(expires))
        user = f"{row.get('reg_user', '')}@{row.get('realm', '')}"
        blocks.append(
            f"Call-ID:    \t{row.get('token', '')}\n"
            f"User:       \t{user}\n"
            f"Contact:    \t{_profile_and_contact(row)[1]}\n"
            f"Agent:      \t{row.get('user_agent', 'unknown')}\n"
            f"Status:     \tRegistered({row.get('network_proto', 'udp').upper()})(unknown) "
            f"EXP({at}) EXPSECS({expires - now})\n"
            f"Ping-Status:\tReachable\n"
            f"Ping-Time:\t0.00\n"
            f"Host:       \t{row.get('hostname', '')}\n"
            f"IP:         \t{row.get('network_ip', '')}\n"
            f"Port:       \t{row.get('network_port', '')}\n"
            f"Auth-User:  \t{row.get('reg_user', '')}\n"
            f"Auth-Realm: \t{row.get('realm', '')}\n"
            f"MWI-Account:\t{user}\n\n"
        )
    return (
        f"\nRegistrations:\n{_SOFIA_RULE}\n{''.join(blocks)}"
        f"Total items returned: {len(blocks)}\n{_SOFIA_RULE}\n"
    )


def _profile_and_contact(row: Mapping[str, str]) -> tuple[str, str]:
    # url is "sofia/<profile>/sip:<user>@<ip>:<port>"; sofia's events carry the
    # Contact header the phone sent.
    _, profile, address = [*row.get("url", "").split("/", 2), "", ""][:3]
    return profile, f'"" <{address}>'


def _channel_data(
    row: Mapping[str, str], call: _Call, state: str, state_number: int
) -> list[tuple[str, str]]:
    """switch_channel_event_set_basic_data(), in the order of the capture."""
    direction = row["direction"]
    headers = [
        ("Channel-State", state),
        ("Channel-Call-State", row["callstate"]),
        ("Channel-State-Number", str(state_number)),
        ("Channel-Name", row["name"]),
        (fs.UNIQUE_ID, row["uuid"]),
        ("Call-Direction", direction),
        ("Presence-Call-Direction", direction),
        ("Channel-HIT-Dialplan", "true" if direction == "inbound" else "false"),
        ("Channel-Presence-ID", row["presence_id"]),
        ("Channel-Call-UUID", row["call_uuid"]),
        ("Answer-State", call.answer_state),
    ]
    if call.hangup_cause:
        headers.append(("Hangup-Cause", call.hangup_cause))
    if row["read_codec"]:
        headers += [
            ("Channel-Read-Codec-Name", row["read_codec"]),
            ("Channel-Read-Codec-Rate", row["read_rate"]),
            ("Channel-Read-Codec-Bit-Rate", row["read_bit_rate"]),
            ("Channel-Write-Codec-Name", row["write_codec"]),
            ("Channel-Write-Codec-Rate", row["write_rate"]),
            ("Channel-Write-Codec-Bit-Rate", row["write_bit_rate"]),
        ]
    return headers


def _caller_profile(row: Mapping[str, str], call: _Call) -> list[tuple[str, str]]:
    """switch_caller_profile_event_set_data() with the "Caller" prefix."""
    created = str(call.created_us)
    headers = [
        ("Caller-Direction", row["direction"]),
        ("Caller-Logical-Direction", row["direction"]),
        ("Caller-Username", row["initial_cid_num"]),
        ("Caller-Dialplan", row["dialplan"]),
        (fs.CALLER_ID_NAME, row["cid_name"]),
        (fs.CALLER_ID_NUMBER, row["cid_num"]),
        ("Caller-Orig-Caller-ID-Name", row["initial_cid_name"]),
        ("Caller-Orig-Caller-ID-Number", row["initial_cid_num"]),
    ]
    if row["callee_name"] or row["callee_num"]:
        headers += [
            ("Caller-Callee-ID-Name", row["callee_name"]),
            ("Caller-Callee-ID-Number", row["callee_num"]),
        ]
    headers += [
        ("Caller-Network-Addr", row["ip_addr"]),
        ("Caller-ANI", row["cid_num"]),
        (fs.CALLER_DESTINATION, row["dest"]),
        ("Caller-Unique-ID", row["uuid"]),
        ("Caller-Source", "mod_sofia"),
        (fs.CALLER_CONTEXT, row["context"]),
        ("Caller-Channel-Name", row["name"]),
        ("Caller-Profile-Index", "1"),
        ("Caller-Profile-Created-Time", created),
        ("Caller-Channel-Created-Time", created),
        ("Caller-Channel-Answered-Time", str(call.answered_us)),
        ("Caller-Channel-Progress-Time", "0"),
        ("Caller-Channel-Progress-Media-Time", "0"),
        ("Caller-Channel-Hangup-Time", str(call.hangup_us)),
        ("Caller-Channel-Transfer-Time", "0"),
        ("Caller-Channel-Resurrect-Time", "0"),
        ("Caller-Channel-Bridged-Time", "0"),
        ("Caller-Channel-Last-Hold", "0"),
        ("Caller-Channel-Hold-Accum", "0"),
        ("Caller-Screen-Bit", "true"),
        ("Caller-Privacy-Hide-Name", "false"),
        ("Caller-Privacy-Hide-Number", "false"),
    ]
    return headers


def _channel_variables(row: Mapping[str, str], call: _Call) -> list[tuple[str, str]]:
    """A short `variable_*` block with the names the capture's sofia channels carry
    for routing (FreeSWITCH sends a hundred more)."""
    party = row["presence_id"].partition("@")[0]
    if row["direction"] == "inbound":
        values = {
            "direction": "inbound",
            "uuid": row["uuid"],
            "call_uuid": row["call_uuid"],
            "sip_from_user": row["initial_cid_num"],
            "sip_from_uri": f"{row['initial_cid_num']}@{call.domain}",
            "sip_from_host": call.domain,
            "channel_name": row["name"],
            "sip_network_ip": row["ip_addr"],
            "user_name": party,
            "domain_name": call.domain,
            "sofia_profile_name": call.profile,
            "sip_req_user": row["initial_dest"],
            "sip_to_user": row["initial_dest"],
            "sip_to_host": call.domain,
            "presence_id": row["presence_id"],
        }
    else:
        values = {
            "direction": "outbound",
            "is_outbound": "true",
            "uuid": row["uuid"],
            "channel_name": row["name"],
            "call_uuid": row["call_uuid"],
            "dialed_user": party,
            "dialed_domain": call.domain,
            "presence_id": row["presence_id"],
            "sofia_profile_name": call.profile,
        }
    values.update(call.variables)
    return [(f"{fs.VAR_PREFIX}{name}", value) for name, value in values.items()]
