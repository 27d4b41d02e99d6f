"""The event socket of one FreeSWITCH node, kept open. The only module that imports
greenswitch.

greenswitch connects and authenticates; the rest is designed around it (FREESWITCH.md
§9): frames are cut out of whatever the socket gives at a time and events parsed by
`esl.events` (bodies kept, values decoded after lines are split), replies are matched
to commands in order, a command waits for its reply at most `timeout` and
fails when the socket drops, and a dropped or refused connection is retried with
backoff for as long as the listener runs. Events are handed over to a callback that
only queues them, so a slow consumer never stalls the socket.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import gevent
import gevent.event
import greenswitch

from centrex import metrics
from xmlcurl import fsnames as fs

from .events import Event, parse_plain, sendevent_command, sendevent_text, split_frames
from .switch import SwitchError

log = logging.getLogger(__name__)

Told = TypeVar("Told")

# Bytes asked of the socket at a time: a stretch of events comes off in one read.
_READ_SIZE = 256 * 1024


class _Reply:
    """A command's reply as greenswitch hands it over: its envelope and its text (the
    `Reply-Text` of a command/reply, the body of an api/response)."""

    __slots__ = ("data", "headers")

    def __init__(self, headers: dict[str, str], data: str) -> None:
        self.headers, self.data = headers, data


class _Socket(greenswitch.InboundESL):
    def __init__(
        self, host: str, port: int, password: str, timeout: float, on_event: Callable[[Event], None]
    ) -> None:
        super().__init__(host, port, password, timeout=timeout)
        self._on_event = on_event
        self._commands_sent: deque[Any] = deque()  # waiters, in the order sent
        self._run: bool = True  # until closed
        self.closed = gevent.event.Event()

    def connect(self) -> None:
        self.sock = greenswitch.esl.socket.create_connection(
            (self.host, self.port), timeout=self.timeout
        )
        self.connected = True
        self.sock.settimeout(None)
        self.start_event_handlers()
        if not self._auth_request_event.wait(timeout=self.timeout) or not self.connected:
            raise SwitchError("no auth/request from the event socket")
        reply = self.command(f"auth {self.password}", self.timeout)
        if reply != "+OK accepted":
            raise SwitchError(f"event socket refused the password: {reply}")

    def receive_events(self) -> None:
        try:
            self._read_frames()
        finally:
            self.connected = False
            pending = list(self._commands_sent)
            self._commands_sent.clear()
            for result in pending:
                result.set_exception(SwitchError("event socket closed"))
            self.closed.set()

    def _read_frames(self) -> None:
        """Frames are cut out of what the socket gives, as much as it has at a time
        (greenswitch reads them a line at a time, which cost more than the events)."""
        pending = b""
        while self._run:
            try:
                data = self.sock.recv(_READ_SIZE)
            except OSError:
                data = b""
            if not data:
                if pending.strip(b"\n"):
                    log.warning("event socket closed mid-frame")
                self._run = False
                return
            frames, pending = split_frames(pending + data if pending else data)
            for envelope, body in frames:
                self._frame(envelope, body)

    def _frame(self, envelope: dict[str, str], body: bytes) -> None:
        content_type = envelope.get(fs.EV_CONTENT_TYPE)
        if content_type == fs.CT_EVENT_PLAIN:
            self._on_event(parse_plain(body))
        elif content_type == fs.CT_COMMAND_REPLY:
            self._replied(_Reply(envelope, envelope.get(fs.EV_REPLY_TEXT, "")))
        elif content_type == fs.CT_API_RESPONSE:
            self._replied(_Reply(envelope, body.decode("utf-8", "replace")))
        elif content_type == fs.CT_AUTH_REQUEST:
            self._auth_request_event.set()
        elif content_type == fs.CT_DISCONNECT:
            self.connected = False
        elif content_type == fs.CT_RUDE_REJECTION:
            self.connected = False
            self._auth_request_event.set()
        # Frames we never asked for (log/data …) are skipped.

    def _replied(self, reply: _Reply) -> None:
        if self._commands_sent:  # replies come in the order commands were sent
            self._commands_sent.popleft().set(reply)
        else:
            log.warning("event socket reply to no command: %s", reply.data[:80])

    def command(self, line: str, timeout: float) -> str:
        """Send one command; its reply text or body. A reply that does not come in time
        closes the socket: replies are matched in order, so a late one would be taken
        for the answer to the next command."""
        if not self.connected:
            raise SwitchError("not connected")
        result = gevent.event.AsyncResult()
        self._commands_sent.append(result)
        try:
            self.sock.sendall((line + "\n\n").encode())
            reply = result.get(timeout=timeout)
        except gevent.Timeout:
            self.close()
            raise SwitchError(f"no reply to {line.split(' ', 1)[0]} within {timeout} s") from None
        except OSError as exc:
            self.close()
            raise SwitchError(f"event socket write failed: {exc}") from None
        return str(reply.data)

    def send_unanswered(self, commands: Sequence[bytes], on_reply: Callable[[str], None]) -> None:
        """Send encoded commands in one write without waiting: each reply is still
        matched to its command, in order, and handed to `on_reply` when it comes."""
        if not self.connected:
            raise SwitchError("not connected")
        # One waiter for them all, taken once per reply, in order.
        self._commands_sent.extend([_Unanswered(on_reply)] * len(commands))
        try:
            self.sock.sendall(b"".join(commands))
        except OSError as exc:
            self.close()
            raise SwitchError(f"event socket write failed: {exc}") from None

    def close(self) -> None:
        self._run = False
        self.connected = False
        sock = getattr(self, "sock", None)  # None when connecting failed
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.close()
        gevent.killall(
            [g for g in (self._receive_events_greenlet, self._process_events_greenlet) if g],
            block=False,
        )
        self.closed.set()


class _Unanswered:
    """Stands, in the queue of commands sent, for replies nobody waits for: a
    reply is handed on as it comes (cheaper than an AsyncResult for each)."""

    __slots__ = ("_on_reply",)

    def __init__(self, on_reply: Callable[[str], None]) -> None:
        self._on_reply = on_reply

    def set(self, reply: _Reply) -> None:
        self._on_reply(reply.data)

    def set_exception(self, exc: BaseException) -> None:
        self._on_reply(f"-ERR {exc}")


class NodeConnection:
    """One node: connect, subscribe, report, and start again after any failure."""

    def __init__(
        self,
        address: str,
        password: str,
        *,
        events: list[str],
        subclasses: list[str],
        on_event: Callable[[NodeConnection, Event], None],
        on_connect: Callable[[NodeConnection], None],
        timeout: float = 5.0,
        backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        host, _, port = address.rpartition(":")
        self.node = address
        self._host, self._port, self._password = host.strip("[]"), int(port), password
        self._events, self._subclasses = events, subclasses
        self._on_event, self._on_connect = on_event, on_connect
        self._timeout, self._backoff = timeout, backoff
        self._socket: _Socket | None = None
        self._stopped = gevent.event.Event()
        self.connected = gevent.event.Event()
        self.connections = 0  # how many times a session was established

    # The Switch protocol.

    def api(self, command: str, timeout: float = 5.0) -> str:
        return self._live().command(f"api {command}", timeout)

    def sendevent(self, name: str, headers: dict[str, str]) -> None:
        reply = self._live().command(sendevent_text(name, headers), self._timeout)
        if not reply.startswith("+OK"):
            raise SwitchError(f"sendevent {name}: {reply}")

    def sendevents(self, name: str, events: list[dict[str, str]]) -> None:
        """Fire events without waiting for the node's replies (one write for them all);
        a refusal is logged when its reply comes."""
        self.send_unanswered([sendevent_command(name, h) for h in events], f"sendevent {name}")

    def send_unanswered(self, commands: Sequence[bytes], what: str) -> None:
        """Encoded commands (`sendevent_command`) in one write, without waiting for the
        replies; a refusal is logged when its reply comes."""

        def refused(reply: str) -> None:
            if not reply.startswith("+OK"):
                log.warning("%s refused by %s: %s", what, self.node, reply)

        self._live().send_unanswered(commands, refused)

    def _live(self) -> _Socket:
        sock = self._socket
        if sock is None or not sock.connected:
            raise SwitchError(f"{self.node} is not connected")
        return sock

    # Lifetime.

    def run(self) -> None:
        """Stay connected until `stop()`; never raises."""
        delay = self._backoff[0]
        while not self._stopped.is_set():
            try:
                self._session()
                delay = self._backoff[0]
            except (SwitchError, OSError, ConnectionError, ValueError) as exc:
                log.warning("event socket %s: %s", self.node, exc)
            except Exception:
                log.exception("event socket %s failed", self.node)
            self.connected.clear()
            if self._stopped.wait(delay * random.uniform(0.8, 1.2)):
                break
            delay = min(delay * 2, self._backoff[1])

    def _session(self) -> None:
        sock = _Socket(
            self._host, self._port, self._password, self._timeout, lambda e: self._on_event(self, e)
        )
        self._socket = sock
        try:
            sock.connect()
            subscription = " ".join(self._events)
            if self._subclasses:
                subscription += " CUSTOM " + " ".join(self._subclasses)
            reply = sock.command(f"event plain {subscription}", self._timeout)
            if not reply.startswith("+OK"):
                raise SwitchError(f"subscription refused: {reply}")
            self.connections += 1
            metrics.session_started(self.node, self.connections)
            log.info("event socket %s connected", self.node)
            self._on_connect(self)
            self.connected.set()
            gevent.wait([sock.closed, self._stopped], count=1)
            if not self._stopped.is_set():
                log.warning("event socket %s dropped", self.node)
        finally:
            self.connected.clear()
            sock.close()

    def stop(self) -> None:
        self._stopped.set()
        if self._socket is not None:
            self._socket.close()

    def resume(self) -> None:
        """Allow `run()` again after `stop()` (a node this listener holds once more)."""
        self._stopped.clear()


class PerSession(Generic[Told]):
    """What each node was last told, valid for its current event-socket session only: a
    node that reconnected may have restarted and lost it, so it is told again."""

    def __init__(self) -> None:
        self._told: dict[str, tuple[int, Told]] = {}

    def get(self, node: NodeConnection) -> Told | None:
        session, told = self._told.get(node.node, (-1, None))
        return told if session == node.connections else None

    def set(self, node: NodeConnection, told: Told) -> None:
        self._told[node.node] = (node.connections, told)
