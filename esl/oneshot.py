"""A FreeSWITCH node reached for one command at a time, from outside the listener.

The panel has no event-socket session of its own (the listener keeps those); to place
a click-to-call it connects, logs in, runs one command and leaves. Plain blocking
sockets (cooperative under gevent's monkey patching, as the panel's workers run), so
it works in any process. The frames are mod_event_socket's (FREESWITCH.md §9).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from provisioning.models import Registration
from xmlcurl import fsnames as fs

from .switch import SwitchError


def _read_frame(reader: BinaryIO) -> tuple[dict[str, str], bytes]:
    headers: dict[str, str] = {}
    while True:
        line = reader.readline()
        if not line:
            raise SwitchError("the event socket closed")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            if headers:
                break
            continue
        name, _, value = text.partition(":")
        headers[name.strip()] = value.strip()
    length = int(headers.get(fs.EV_CONTENT_LENGTH, "0") or 0)
    body = reader.read(length) if length else b""
    if len(body) < length:
        raise SwitchError("the event socket closed mid-frame")
    return headers, body


def _next(reader: BinaryIO, content_type: str) -> tuple[dict[str, str], bytes]:
    """The next frame of `content_type`, skipping what else the node sends."""
    while True:
        headers, body = _read_frame(reader)
        if headers.get(fs.EV_CONTENT_TYPE) == content_type:
            return headers, body
        if headers.get(fs.EV_CONTENT_TYPE) in (fs.CT_DISCONNECT, fs.CT_RUDE_REJECTION):
            raise SwitchError(body.decode("utf-8", "replace").strip() or "disconnected")


class OneShotSwitch:
    """The `Switch` protocol over one short connection per command."""

    def __init__(self, node: str, password: str, timeout: float = 5.0) -> None:
        host, _, port = node.rpartition(":")
        self._address = (host.strip("[]"), int(port))
        self._node, self._password, self._timeout = node, password, timeout

    @property
    def node(self) -> str:
        return self._node

    def _run(
        self, lines: list[str], reply_type: str, timeout: float
    ) -> tuple[dict[str, str], bytes]:
        if any(c in line for line in lines for c in "\r\n"):
            # A line break would start another command or header.
            raise SwitchError("refusing a command holding a line break")
        try:
            with socket.create_connection(self._address, timeout=timeout) as sock:
                reader = sock.makefile("rb")
                _next(reader, fs.CT_AUTH_REQUEST)
                sock.sendall(f"auth {self._password}\n\n".encode())
                headers, _ = _next(reader, fs.CT_COMMAND_REPLY)
                if headers.get(fs.EV_REPLY_TEXT) != "+OK accepted":
                    raise SwitchError(f"{self._node} refused the event socket password")
                sock.sendall(("\n".join(lines) + "\n\n").encode())
                answer = _next(reader, reply_type)
                sock.sendall(b"exit\n\n")
                return answer
        except (OSError, ValueError) as exc:
            raise SwitchError(f"{self._node}: {exc}") from None

    def api(self, command: str, timeout: float = 5.0) -> str:
        _, body = self._run([f"api {command}"], fs.CT_API_RESPONSE, timeout)
        return body.decode("utf-8", "replace")

    def sendevent(self, name: str, headers: dict[str, str]) -> None:
        if any(":" in key for key in headers):
            raise SwitchError("refusing an event header name holding ':'")
        lines = [f"sendevent {name}", *(f"{k}: {v}" for k, v in headers.items())]
        reply, _ = self._run(lines, fs.CT_COMMAND_REPLY, self._timeout)
        if not reply.get(fs.EV_REPLY_TEXT, "").startswith("+OK"):
            raise SwitchError(f"sendevent {name}: {reply.get(fs.EV_REPLY_TEXT, '')}")


def node_for_user(session: Session, user_id: int, nodes: Iterable[str]) -> str | None:
    """The configured node where the user's phone is registered, else the first one."""
    configured = list(nodes)
    registered_on = set(
        session.scalars(select(Registration.node).where(Registration.user_id == user_id))
    )
    preferred = [n for n in configured if n in registered_on]
    choices = preferred or configured
    return choices[0] if choices else None
