"""Event sockets that replay recorded events at a fixed rate, for `bench.esl_bench`.

The fake FreeSWITCH of the tests builds each event as FreeSWITCH does (every header,
URL-encoded), which costs it more than the listener's reading it: paced live, it cannot
send thousands of events per second on a shared 2-core machine, and its own delay would
be counted as the listener's lag. So its events are recorded first (the calls the bench
plays, as frames on the wire), then replayed: each frame sent as recorded, its
`Event-Date-Timestamp` set to the moment it is sent, so that lag is measured from there
as from FreeSWITCH firing it. The socket speaks enough of the event-socket protocol for
the listener: the password, the subscription, an empty node listing, `sendevent`.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Mapping, Sequence

from esl.handlers import SUBSCRIBED_EVENTS, SUBSCRIBED_SUBCLASSES
from tests.fakes.freeswitch import (
    BODY_KEY,
    FakeFreeSWITCH,
    Headers,
    api_response,
    command_reply,
    event_frame,
    header_pairs,
)
from xmlcurl import fsnames as fs

_STAMP = f"\n{fs.EV_TIMESTAMP}: ".encode()
_STAMP_DIGITS = 16  # microseconds since 1970, from 2001 to 2286
_WANTED = set(SUBSCRIBED_EVENTS) | set(SUBSCRIBED_SUBCLASSES)


class Recorder(FakeFreeSWITCH):
    """A fake FreeSWITCH that records the frames it would send a subscriber of the
    listener's events instead of sending them."""

    def __init__(self, password: str) -> None:
        super().__init__(password)
        self.frames: list[tuple[bytes, int]] = []  # frame, offset of its timestamp

    def emit(self, headers: Headers, body: str = "") -> int:
        pairs = header_pairs(headers)
        if not body:
            body = next((value for name, value in pairs if name == BODY_KEY), "")
        pairs = [(name, value) for name, value in pairs if name != BODY_KEY]
        found = dict(reversed(pairs))
        name = found.get(fs.EV_EVENT_NAME, "")
        if name == "CUSTOM":
            name = found.get(fs.EV_EVENT_SUBCLASS, "")
        if name not in _WANTED:
            return 0
        frame = event_frame(pairs, body)
        at = frame.index(_STAMP) + len(_STAMP)
        if not frame[at : at + _STAMP_DIGITS].isdigit():
            raise ValueError("unexpected Event-Date-Timestamp")
        self.frames.append((frame, at))
        return 1


def record(play: Callable[[FakeFreeSWITCH], None], password: str) -> list[tuple[bytes, int]]:
    recorder = Recorder(password)
    play(recorder)
    return recorder.frames


class Replay:
    """One node: accepts the listener, answers its commands, sends `count` events
    (cycling through `frames`) at `rate` per second once `go` is set."""

    def __init__(self, password: str, frames: Sequence[tuple[bytes, int]]) -> None:
        self.password = password
        self.frames = frames
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._write = threading.Lock()
        self._sock: socket.socket | None = None
        self.subscribed = threading.Event()
        self.sent = 0

    def serve(self) -> None:
        """Accept the listener and answer it (a thread of its own)."""
        sock, _ = self.server.accept()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._send(f"{fs.EV_CONTENT_TYPE}: {fs.CT_AUTH_REQUEST}\n\n".encode())
        buffer = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:  # the listener stopped first, at the run's end
                return
            if not data:
                return
            buffer += data
            while b"\n\n" in buffer:
                command, buffer = buffer.split(b"\n\n", 1)
                self._answer(command.decode())

    def _answer(self, command: str) -> None:
        line = command.split("\n", 1)[0]
        if line.startswith("auth "):
            ok = line[5:] == self.password
            self._send(command_reply("+OK accepted" if ok else "-ERR invalid"))
        elif line.startswith("event "):
            self._send(command_reply("+OK event listener enabled plain"))
            self.subscribed.set()
        elif line.startswith("api show "):
            self._send(api_response('{"row_count":0}'))
        elif line == "api switchname":
            self._send(api_response("replay\n"))
        elif line == "api sofia xmlstatus":  # no profile, so no registration to list
            self._send(api_response('<?xml version="1.0"?>\n<profiles>\n</profiles>\n'))
        elif line.startswith("api "):
            self._send(api_response("-ERR not in this replay\n"))
        elif line.startswith("sendevent "):
            self._send(command_reply(f"+OK {uuidlib.uuid4()}"))
        else:
            self._send(command_reply("-ERR command not found"))

    def _send(self, data: bytes) -> None:
        assert self._sock is not None
        with self._write:
            self._sock.sendall(data)

    def play(self, rate: float, count: int, go: threading.Event) -> None:
        """Send `count` events paced to `rate`, a few milliseconds' worth per write."""
        go.wait()
        started = time.monotonic()
        frames, total = self.frames, len(self.frames)
        while self.sent < count:
            due = min(count, int((time.monotonic() - started) * rate) + 1)
            if due <= self.sent:
                time.sleep(0.001)
                continue
            stamp = b"%d" % int(time.time() * 1e6)
            chunk = []
            for index in range(self.sent, due):
                frame, at = frames[index % total]
                chunk.append(frame[:at] + stamp + frame[at + _STAMP_DIGITS :])
            self._send(b"".join(chunk))
            self.sent = due


def replays(
    recordings: Sequence[Sequence[tuple[bytes, int]]], password: str
) -> Mapping[int, Replay]:
    """A replaying node per recording, each answering on a thread of its own."""
    nodes = {}
    for frames in recordings:
        node = Replay(password, frames)
        threading.Thread(target=node.serve, daemon=True).start()
        nodes[node.port] = node
    return nodes
