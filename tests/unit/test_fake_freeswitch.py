"""The fake FreeSWITCH speaks mod_event_socket's wire protocol byte for byte.

Raw-socket clients check the bytes; a greenswitch client (gevent, no monkey patching)
checks that a real ESL library is served. Nothing sleeps to synchronise: clients block
on reads with a timeout, the fake is waited on through its wait_for_* methods.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import gevent
import gevent.event
import pytest
from greenswitch.esl import ESLEvent, InboundESL

from esl.events import parse_envelope, parse_plain
from tests.fakes.freeswitch import (
    CHANNEL_COLUMNS,
    REGISTRATION_COLUMNS,
    FakeFreeSWITCH,
    capture_payloads,
    event_frame,
    load_capture,
    parse_payload,
    rewrite,
    serialize_event,
)

GOODBYE_NOTICE = (
    b"Content-Type: text/disconnect-notice\nContent-Length: 67\n\n"
    b"Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"
)


def reply(text: str) -> bytes:
    return f"Content-Type: command/reply\nReply-Text: {text}\n\n".encode()


class RawClient:
    """A bare TCP client: every read blocks until its bytes arrive or 2 s pass."""

    def __init__(self, port: int, timeout: float = 2.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode())

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buffer += chunk

    def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read_frame(self) -> tuple[dict[str, str], bytes]:
        """One frame: its envelope headers and its Content-Length body."""
        while b"\n\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\n\n")
        headers = parse_envelope(head)
        return headers, self.read_exactly(int(headers.get("Content-Length", "0")))

    def read_until_closed(self) -> bytes:
        try:
            while True:
                self._fill()
        except EOFError:
            data, self.buffer = self.buffer, b""
            return data

    def command(self, text: str) -> str:
        self.send(f"{text}\n\n")
        headers, _ = self.read_frame()
        assert headers["Content-Type"] == "command/reply"
        return headers["Reply-Text"]

    def event(self) -> tuple[dict[str, str], str]:
        headers, payload = self.read_frame()
        assert headers["Content-Type"] == "text/event-plain"
        event = parse_plain(payload)
        return dict(event.headers), event.body

    def close(self) -> None:
        self.sock.close()


def _open_sockets() -> set[str]:
    """Socket inodes this process holds (Linux), to prove none leak."""
    fd_dir = "/proc/self/fd"
    if not os.path.isdir(fd_dir):
        return set()
    found = set()
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue  # closed while listing (the listing's own descriptor)
        if target.startswith("socket:"):
            found.add(target)
    return found


@pytest.fixture
def fake() -> Iterator[FakeFreeSWITCH]:
    threads_before = set(threading.enumerate())
    sockets_before = _open_sockets()
    with FakeFreeSWITCH() as server:
        yield server
    assert set(threading.enumerate()) <= threads_before, "threads left running"
    assert _open_sockets() <= sockets_before, "sockets left open"


@pytest.fixture
def connect(fake: FakeFreeSWITCH) -> Iterator[Callable[..., RawClient]]:
    """Open raw clients, authenticated unless asked otherwise; all closed afterwards."""
    clients: list[RawClient] = []

    def open_client(*, authenticate: bool = True, port: int | None = None) -> RawClient:
        client = RawClient(port or fake.port)
        clients.append(client)
        if authenticate:
            assert client.read_frame() == ({"Content-Type": "auth/request"}, b"")
            assert client.command("auth ClueCon") == "+OK accepted"
        return client

    yield open_client
    for client in clients:
        client.close()


def channel_create(uuid: str = "11111111-2222-3333-4444-555555555555") -> list[tuple[str, str]]:
    return [("Event-Name", "CHANNEL_CREATE"), ("Unique-ID", uuid)]


# ------------------------------------------------------------------- connection and auth


def test_connect_then_auth_is_accepted_byte_for_byte(connect: Callable[..., RawClient]) -> None:
    client = connect(authenticate=False)
    assert client.read_exactly(28) == b"Content-Type: auth/request\n\n"
    client.send("auth ClueCon\n\n")
    assert client.read_exactly(len(reply("+OK accepted"))) == reply("+OK accepted")


def test_wrong_password_gets_err_invalid_then_goodbye_and_close(
    connect: Callable[..., RawClient],
) -> None:
    client = connect(authenticate=False)
    client.read_frame()
    client.send("auth guess\n\n")
    assert client.read_until_closed() == reply("-ERR invalid") + GOODBYE_NOTICE


def test_commands_before_auth_are_not_found_and_auth_still_works(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect(authenticate=False)
    client.read_frame()
    assert client.command("api status") == "-ERR command not found"
    assert client.command("auth ClueCon") == "+OK accepted"
    fake.wait_for_connections(1)
    assert [c.name for c in fake.commands] == ["api", "auth"]


def test_exit_says_bye_then_goodbye_then_closes(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    client.send("exit\n\n")
    assert client.read_until_closed() == reply("+OK bye") + GOODBYE_NOTICE
    fake.wait_for_connections(0)


def test_disconnect_sends_a_disconnect_notice_and_closes(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    (connection,) = fake.connections
    fake.disconnect(connection.id, "Bye now.\n")
    expected = b"Content-Type: text/disconnect-notice\nContent-Length: 9\n\nBye now.\n"
    assert client.read_until_closed() == expected
    fake.wait_for_connections(0)


def test_several_clients_are_served_at_once(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    clients = [connect() for _ in range(5)]
    for client in clients:
        assert client.command("event plain CHANNEL_CREATE") == "+OK event listener enabled plain"
    fake.wait_for_connections(5)
    assert fake.emit(channel_create()) == 5
    for client in clients:
        assert client.event()[0]["Event-Name"] == "CHANNEL_CREATE"


def test_inbound_mode_answers_session_commands_like_freeswitch(
    connect: Callable[..., RawClient],
) -> None:
    client = connect()
    assert client.command("linger") == "-ERR not controlling a session"
    assert client.command("nolinger") == "-ERR not controlling a session"
    assert client.command("divert_events on") == "-ERR not controlling a session."
    assert client.command("frobnicate") == "-ERR command not found"


# --------------------------------------------------------------------------- api, bgapi


def test_api_response_is_sized_in_bytes(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    fake.on_api("echo", lambda line: line.partition(" ")[2] + "\n")
    client = connect()
    client.send("api echo Grüße ☎\n\n")
    body = "Grüße ☎\n".encode()
    expected = b"Content-Type: api/response\nContent-Length: %d\n\n" % len(body) + body
    assert len(body) == 12  # 7 characters, 3 of them multi-byte
    assert client.read_exactly(len(expected)) == expected


def test_unknown_api_command_answers_command_not_found(
    connect: Callable[..., RawClient],
) -> None:
    client = connect()
    client.send("api frobnicate now please\n\n")
    assert client.read_frame() == (
        {"Content-Type": "api/response", "Content-Length": "35"},
        b"-ERR frobnicate Command not found!\n",
    )
    client.send("api show\n\n")
    assert client.read_frame()[1].startswith(b"-USAGE: codec|endpoint|application|api|")


def test_api_delay_holds_back_the_answer_and_later_events(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    fake.on_api("reloadxml", "+OK [Success]\n", delay=0.1)
    client = connect()
    client.command("event plain ALL")
    started = time.monotonic()
    client.send("api reloadxml\n\n")
    fake.wait_for_command(lambda c: c.line == "api reloadxml")
    fake.emit(channel_create())  # queued behind the running api, as in FreeSWITCH
    assert client.read_frame() == (
        {"Content-Type": "api/response", "Content-Length": "14"},
        b"+OK [Success]\n",
    )
    assert time.monotonic() - started >= 0.1
    assert client.event()[0]["Event-Name"] == "CHANNEL_CREATE"


def test_an_api_that_never_answers_lets_a_client_time_out(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    fake.on_api("show channels as json", None)
    client = connect()
    client.sock.settimeout(0.2)  # the client's own api timeout
    client.send("api show channels as json\n\n")
    with pytest.raises(TimeoutError):
        client.read_frame()


def test_bgapi_replies_with_job_uuid_then_background_job_carries_output_as_body(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    fake.on_api("originate", "+OK 7f4de4bc\n")
    client = connect()
    client.command("event plain BACKGROUND_JOB")
    client.send("bgapi originate user/1000 &park()\n\n")
    headers, _ = client.read_frame()
    job = headers["Job-UUID"]
    assert headers == {
        "Content-Type": "command/reply",
        "Reply-Text": f"+OK Job-UUID: {job}",
        "Job-UUID": job,
    }
    envelope, payload = client.read_frame()
    assert envelope["Content-Type"] == "text/event-plain"
    assert b"\nJob-Command-Arg: user/1000%20%26park()\nContent-Length: 13\n\n" in payload
    assert payload.endswith(b"\n\n+OK 7f4de4bc\n")
    event = parse_plain(payload)
    assert (event.name, event.body) == ("BACKGROUND_JOB", "+OK 7f4de4bc\n")
    assert event.get("Job-UUID") == job
    assert event.get("Job-Command") == "originate"
    assert event.get("Event-Calling-Function") == "api_exec"
    assert "Job-Owner-UUID" not in event.headers  # empty for inbound: never added


def test_bgapi_uses_the_job_uuid_the_client_chose(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    client.command("event plain BACKGROUND_JOB")
    assert client.command("bgapi status\nJob-UUID: my-job") == "+OK Job-UUID: my-job"
    headers, body = client.event()
    assert (headers["Job-UUID"], body) == ("my-job", "-ERR status Command not found!\n")
    assert "Job-Command-Arg" not in headers


# ------------------------------------------------------------------ events and delivery


def test_emit_builds_event_plain_frames_byte_for_byte(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    client.command("event plain ALL")
    headers = [
        ("Event-Name", "CUSTOM"),
        ("Event-Subclass", "centrex::test"),
        ("Caller-Caller-ID-Name", "Zoë & co: 100%\nX-Forged: yes"),
        ("kept", "%41%4a~/,()!"),
        ("dropped", ""),
    ]
    assert fake.emit(headers, body="first line\nsecond ☎") == 1
    payload = (
        b"Event-Name: CUSTOM\n"
        b"Event-Subclass: centrex%3A%3Atest\n"
        b"Caller-Caller-ID-Name: Zo%C3%AB%20%26%20co%3A%20100%25%0AX-Forged%3A%20yes\n"
        b"kept: %41%254a~/,()!\n"
        b"Content-Length: 21\n\n"
        b"first line\nsecond \xe2\x98\x8e"
    )
    expected = b"Content-Length: %d\nContent-Type: text/event-plain\n\n" % len(payload)
    assert client.read_exactly(len(expected) + len(payload)) == expected + payload
    assert event_frame(headers, "first line\nsecond ☎") == expected + payload


def test_every_captured_event_is_reencoded_byte_for_byte() -> None:
    payloads = capture_payloads()
    assert len(payloads) == 264
    for payload in payloads:
        pairs = parse_payload(payload)
        body = dict(pairs).get("_body", "")
        headers = [(name, value) for name, value in pairs if name != "_body"]
        assert serialize_event(headers, body) == payload


def test_events_go_only_to_connections_subscribed_to_them(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    creates, registers, everything = connect(), connect(), connect()
    assert creates.command("event plain CHANNEL_CREATE") == "+OK event listener enabled plain"
    assert registers.command("event plain CUSTOM sofia::register") == (
        "+OK event listener enabled plain"
    )
    assert everything.command("event plain ALL") == "+OK event listener enabled plain"
    fake.wait_for_subscription("sofia::register", count=2)
    answer = [("Event-Name", "CHANNEL_ANSWER")]
    register = [("Event-Subclass", "sofia::register"), ("Event-Name", "CUSTOM")]
    expire = [("Event-Subclass", "sofia::expire"), ("Event-Name", "CUSTOM")]
    assert [fake.emit(e) for e in (answer, expire, register, channel_create())] == [1, 1, 2, 2]
    assert creates.event()[0]["Event-Name"] == "CHANNEL_CREATE"
    assert registers.event()[0]["Event-Subclass"] == "sofia::register"
    received = [everything.event()[0] for _ in range(4)]
    assert [h["Event-Name"] for h in received] == [
        "CHANNEL_ANSWER",
        "CUSTOM",
        "CUSTOM",
        "CHANNEL_CREATE",
    ]


def test_nixevent_and_noevents(connect: Callable[..., RawClient], fake: FakeFreeSWITCH) -> None:
    client = connect()
    assert client.command("event plain") == "-ERR no keywords supplied"
    assert client.command("noevents") == "-ERR not listening for events"
    assert client.command("event plain ALL") == "+OK event listener enabled plain"
    assert client.command("nixevent CHANNEL_ANSWER") == "+OK events nixed"
    fake.emit([("Event-Name", "CHANNEL_ANSWER")])
    fake.emit(channel_create())
    assert client.event()[0]["Event-Name"] == "CHANNEL_CREATE"
    assert client.command("noevents") == "+OK no longer listening for events"
    assert fake.emit(channel_create()) == 0
    assert client.command("event json ALL") == "+OK event listener enabled json"


def test_filters_follow_freeswitch_rules(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    client.command("event plain ALL")
    assert client.command("filter Unique-ID abc") == "+OK filter added. [Unique-ID]=[abc]"
    assert client.command("filter Event-Name /^CHANNEL_(ANSWER|DESTROY)$/") == (
        "+OK filter added. [Event-Name]=[/^CHANNEL_(ANSWER|DESTROY)$/]"
    )
    assert client.command("filter Unique-ID -vetoed") == ("+OK filter added. [Unique-ID]=[-vetoed]")
    assert client.command("filter Unique-ID") == "-ERR invalid syntax"
    sent = [
        fake.emit(channel_create("xyz")),  # no filter matches
        fake.emit([("Event-Name", "HEARTBEAT")]),  # no Unique-ID, Event-Name not matched
        fake.emit([("Event-Name", "CHANNEL_DESTROY"), ("Unique-ID", "vetoed")]),
        fake.emit(channel_create("ABC")),  # values compare case-insensitively
        fake.emit([("Event-Name", "CHANNEL_ANSWER"), ("Unique-ID", "other")]),
    ]
    assert sent == [0, 0, 0, 1, 1]
    assert client.event()[0]["Unique-ID"] == "ABC"
    assert client.event()[0]["Unique-ID"] == "other"
    assert client.command("filter delete Unique-ID abc") == ("+OK filter deleted. [Unique-ID][abc]")
    assert client.command("filter delete all") == "+OK filter deleted. [all][]"
    assert fake.emit(channel_create("xyz")) == 1


def test_sendevent_is_recorded_answered_and_fired(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    sender, watcher = connect(), connect()
    watcher.command("event plain PRESENCE_IN")
    sender.send(
        "sendevent PRESENCE_IN\nproto: sip\nfrom: 600@example.com\n"
        "answer-state: confirmed\nContent-Length: 5\n\nhello"
    )
    answer = sender.read_frame()[0]["Reply-Text"]
    command = fake.wait_for_command(lambda c: c.name == "sendevent")
    assert command.line == "sendevent PRESENCE_IN"
    assert command.headers == {
        "proto": "sip",
        "from": "600@example.com",
        "answer-state": "confirmed",
        "Content-Length": "5",
    }
    assert command.body == "hello"
    headers, body = watcher.event()
    assert answer == f"+OK {headers['Event-UUID']}"
    assert list(headers)[:5] == ["Command", "proto", "from", "answer-state", "Content-Length"]
    assert headers["Event-Name"] == "PRESENCE_IN"
    assert headers["Event-Calling-Function"] == "parse_command"
    assert (headers["from"], body) == ("600@example.com", "hello")


def test_sendevent_custom_puts_the_subclass_first(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    sender, watcher = connect(), connect()
    watcher.command("event plain CUSTOM centrex::line")
    sender.command("sendevent CUSTOM\nEvent-Subclass: centrex::line\nline: 600")
    headers, _ = watcher.event()
    assert list(headers)[:3] == ["Event-Subclass", "Command", "line"]


def test_sendmsg_needs_a_live_channel(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    uuid = fake.create_channel()
    client = connect()
    assert (
        client.command(f"sendmsg {uuid}\ncall-command: hangup\nhangup-cause: NORMAL_CLEARING")
        == "+OK"
    )
    assert client.command("sendmsg\nsession-id: gone\ncall-command: hangup") == (
        "-ERR invalid session id [gone]"
    )
    command = fake.wait_for_command(lambda c: c.name == "sendmsg")
    assert (command.args, command.headers["call-command"]) == (uuid, "hangup")


def test_wait_for_command_times_out_telling_what_came(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    connect()
    with pytest.raises(TimeoutError, match="auth ClueCon"):
        fake.wait_for_command(lambda c: c.name == "sendevent", timeout=0.05)


# ------------------------------------------------------------------------- state model


def test_show_registrations_as_json_is_freeswitchs_format(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    client.send("api show registrations as json\n\n")
    assert client.read_frame()[1] == b'{"row_count": 0}\n'
    row = fake.register("1000", network_ip="10.0.0.5", network_port="5062", call_id="c1@x")
    other = fake.registration_row("1001")
    other["hostname"] = "another-node"  # the table is shared; show lists this node's
    fake.registrations.append(other)
    client.send("api show registrations as json\n\n")
    expected = (
        '{"row_count":1,"rows":[{"reg_user":"1000","realm":"127.0.0.1","token":"c1@x",'
        '"url":"sofia/internal/sip:1000@10.0.0.5:5062","expires":"' + row["expires"] + '",'
        '"network_ip":"10.0.0.5","network_port":"5062","network_proto":"udp",'
        '"hostname":"vm","metadata":""}]}'
    )
    assert client.read_frame()[1].decode() == expected
    client.send("api show registrations count as json\n\n")
    assert client.read_frame()[1] == b'{"row_count":1,"rows":[]}'
    client.send("api show registrations\n\n")
    lines = client.read_frame()[1].decode().split("\n")
    assert lines[0] == ",".join(REGISTRATION_COLUMNS)
    assert lines[0].startswith("reg_user,realm,token,url,expires,network_ip,")
    assert lines[-3:] == ["", "1 total.", ""]


def test_show_channels_as_json_lists_every_column_as_a_string(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    first = fake.create_channel(caller="1001", destination="1000")
    second = fake.create_channel(direction="outbound", caller="1001", destination="1002")
    fake.answer_channel(first)
    client = connect()
    client.send("api show channels as json\n\n")
    answer = json.loads(client.read_frame()[1])
    assert answer["row_count"] == 2
    rows = answer["rows"]
    assert [list(row) for row in rows] == [list(CHANNEL_COLUMNS)] * 2
    assert all(isinstance(value, str) for row in rows for value in row.values())
    assert [row["uuid"] for row in rows] == [first, second]
    assert (rows[0]["callstate"], rows[0]["read_codec"], rows[0]["dest"]) == (
        "ACTIVE",
        "PCMU",
        "1000",
    )
    assert (rows[1]["callstate"], rows[1]["presence_id"]) == ("RINGING", "1002@127.0.0.1")
    fake.hangup_channel(first)
    client.send("api show channels count as json\n\n")
    assert client.read_frame()[1] == b'{"row_count":1,"rows":[]}'


CAPTURED_INBOUND_LEG = "7a6a6962-0732-4d96-a8ed-e3d1c79f2ce5"


def _names(headers: dict[str, str] | list[tuple[str, str]]) -> list[str]:
    names = list(headers) if isinstance(headers, dict) else [name for name, _ in headers]
    # The fake sends a short variable block and no bridged other leg.
    return [n for n in names if not n.startswith(("variable_", "Other-", "Caller-Callee-"))]


def test_call_events_carry_the_captured_header_sets(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    client.command("event plain ALL")
    uuid = fake.create_channel()
    fake.answer_channel(uuid)
    fake.hangup_channel(uuid)
    sent = [client.event()[0] for _ in range(8)]
    assert [(e["Event-Name"], e["Channel-Call-State"]) for e in sent] == [
        ("CHANNEL_CREATE", "DOWN"),
        ("CHANNEL_CALLSTATE", "RINGING"),
        ("CHANNEL_ANSWER", "RINGING"),
        ("CHANNEL_CALLSTATE", "ACTIVE"),
        ("CHANNEL_HANGUP", "ACTIVE"),
        ("CHANNEL_CALLSTATE", "HANGUP"),
        ("CHANNEL_HANGUP_COMPLETE", "HANGUP"),
        ("CHANNEL_DESTROY", "HANGUP"),
    ]
    captured = [h for h in load_capture() if h.get("Unique-ID") == CAPTURED_INBOUND_LEG]
    for event in sent:
        name = event["Event-Name"]
        same_kind = [
            h
            for h in captured
            if h["Event-Name"] == name
            and (
                name != "CHANNEL_CALLSTATE"
                or h["Channel-Call-State"] == event["Channel-Call-State"]
            )
        ]
        # Names compared without values; a repeated Hangup-Cause shows once in a dict.
        assert _names(event) == _names(same_kind[0]), name


def test_registration_events_carry_the_captured_header_set(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    client.command("event plain CUSTOM sofia::register sofia::unregister sofia::expire")
    fake.register("1000")
    registered, _ = client.event()
    (captured,) = [h for h in load_capture() if h.get("Event-Subclass") == "sofia::register"]
    upto = list(captured).index("user-agent") + 1
    assert list(registered)[:upto] == list(captured)[:upto]
    fake.unregister("1000")
    assert client.event()[0]["Event-Subclass"] == "sofia::unregister"
    fake.register("1001")
    client.event()
    fake.expire("1001")
    expired, _ = client.event()
    assert (expired["Event-Subclass"], expired["user"]) == ("sofia::expire", "1001")
    assert fake.registrations == []


# ----------------------------------------------------------------------- capture, replay


def test_load_capture_and_rewrite_domain_and_users() -> None:
    events = load_capture()
    assert len(events) == 264
    (register,) = [e for e in events if e.get("Event-Subclass") == "sofia::register"]
    moved = rewrite(register, {"1000": "2000", "127.0.0.1": "pbx.example.com"})
    assert moved["from-user"] == "2000"
    assert moved["contact"] == '"" <sip:2000@pbx.example.com:6000>'
    assert moved["effective_caller_id_name"] == "Extension 2000"
    assert moved["Event-Date-Timestamp"] == register["Event-Date-Timestamp"]
    assert moved["FreeSWITCH-IPv4"] == "192.0.2.2"


def test_replay_sends_the_capture_in_order_with_this_runs_core_uuid(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    client.command("event plain CHANNEL_CREATE")
    assert fake.replay(load_capture(), replace={"127.0.0.1": "acme.example.com"}) == 264
    creates = [client.event()[0] for _ in range(7)]
    assert {h["Core-UUID"] for h in creates} == {fake.core_uuid}
    assert creates[0]["Channel-Presence-ID"] == "1001@acme.example.com"


# ---------------------------------------------------------------------- crash, restart


def test_kill_mid_frame_sends_half_a_frame_then_stops_listening(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    client = connect()
    client.command("event plain ALL")
    fake.kill(mid_frame=True)
    data = client.read_until_closed()
    head, _, payload = data.partition(b"\n\n")
    envelope = parse_envelope(head)
    assert envelope["Content-Type"] == "text/event-plain"
    assert 0 < len(payload) < int(envelope["Content-Length"])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", fake.port), timeout=2.0).close()


def test_restart_listens_again_on_the_same_port_as_a_new_freeswitch(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    old_client = connect()
    fake.register("1000")
    fake.create_channel()
    port, core_uuid = fake.port, fake.core_uuid
    fake.restart()
    assert old_client.read_until_closed() == b""
    assert (fake.port, fake.channels, len(fake.registrations)) == (port, [], 1)
    assert fake.core_uuid != core_uuid
    client = connect()
    client.command("event plain HEARTBEAT")
    fake.emit(fake.event_headers("HEARTBEAT"))
    headers, _ = client.event()
    assert (headers["Core-UUID"], headers["Event-Sequence"]) == (fake.core_uuid, "1")


# --------------------------------------------------------------------------- greenswitch


def test_greenswitch_client_is_served(fake: FakeFreeSWITCH) -> None:
    """A real ESL library on gevent, without monkey patching, in this same process."""
    events = load_capture()
    received: list[dict[str, str]] = []
    all_received = gevent.event.Event()

    def on_event(event: ESLEvent) -> None:
        received.append(event.headers)
        if len(received) == len(events):
            all_received.set()

    client = InboundESL("127.0.0.1", fake.port, "ClueCon", timeout=2)
    client.connect()
    try:
        client.register_handle("*", on_event)
        assert client.send("event plain ALL").data == "+OK event listener enabled plain"
        fake.wait_for_connections(1)
        fake.replay(events, replace={"1000": "2000"})
        assert all_received.wait(timeout=5)
        names = [h.get("Event-Subclass") or h["Event-Name"] for h in received]
        assert names.count("CHANNEL_CREATE") == 7
        (register,) = [h for h in received if h.get("Event-Subclass") == "sofia::register"]
        assert register["from-user"] == "2000"
        fake.register("1000")
        response = client.send("api show registrations as json")
        assert json.loads(response.data)["rows"][0]["reg_user"] == "1000"
    finally:
        client.stop()
    fake.wait_for_connections(0)
    assert [c.name for c in fake.commands] == ["auth", "event", "api", "exit"]


def test_sofia_lists_every_phone_of_a_line_like_mod_sofia(
    connect: Callable[..., RawClient], fake: FakeFreeSWITCH
) -> None:
    from esl.handlers import sofia_profiles, sofia_registrations_listed

    client = connect()
    fake.register("1000", network_port="5062", call_id="desk", user_agent="Yealink")
    fake.register("1000", network_port="5064", call_id="soft")
    client.send("api switchname\n\n")
    assert client.read_frame()[1] == b"vm\n"
    client.send("api sofia xmlstatus\n\n")
    assert sofia_profiles(client.read_frame()[1].decode()) == ["external", "internal"]
    client.send("api sofia status profile internal reg\n\n")
    text = client.read_frame()[1].decode()
    assert text.startswith("\nRegistrations:\n" + "=" * 97 + "\nCall-ID:    \tdesk\n")
    assert "Agent:      \tYealink\n" in text and "Total items returned: 2\n" in text
    now = datetime.now(UTC)
    listed = sofia_registrations_listed(text, "fs1", "vm", now)
    assert [(r.call_id, r.network_port) for r in listed] == [("desk", 5062), ("soft", 5064)]
    # The same phone again replaces its row (multiple-registrations=contact)…
    fake.register("1000", network_port="5064", call_id="soft-again")
    client.send("api sofia status profile internal reg\n\n")
    assert "soft-again" in client.read_frame()[1].decode()
    assert [r["token"] for r in fake.registrations] == ["desk", "soft-again"]
    # … while the core table keeps a line's last phone only.
    client.send("api show registrations as json\n\n")
    assert '"token":"soft-again"' in client.read_frame()[1].decode()
    client.send("api sofia status profile nosuch reg\n\n")
    assert client.read_frame()[1] == b"Invalid Profile!\n"
